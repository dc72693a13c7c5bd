package bench

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vdsproject/vds/transport"
)

// transportOf serves the services over the named transport ("inproc",
// "http" on 127.0.0.1, "unix") and returns a client; the servers stop when
// the benchmark ends.
func transportOf(b *testing.B, kind string, services []*transport.Service) transport.Transport {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	b.Cleanup(func() { cancel(); <-done })
	var t transport.Transport
	var err error
	switch kind {
	case "inproc":
		close(done)
		return transport.NewInProc(services)
	case "http":
		srv, lerr := transport.ListenHTTP("127.0.0.1:0", transport.NewHTTPHandler(services))
		if lerr != nil {
			b.Fatal(lerr)
		}
		go func() { _ = srv.Serve(ctx); close(done) }()
		t, err = transport.Dial("http://" + srv.Addr())
	case "unix":
		srv, lerr := transport.ListenUnix(filepath.Join(b.TempDir(), "b.sock"), services)
		if lerr != nil {
			b.Fatal(lerr)
		}
		go func() { _ = srv.Serve(ctx); close(done) }()
		t, err = transport.Dial("unix://" + srv.Addr())
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { t.Close() })
	return t
}

var transportKinds = []string{"inproc", "http", "unix"}

// BenchmarkRoundTrip is one small call (the storage server's health) over
// each transport; every transport encodes and decodes through the codec.
func BenchmarkRoundTrip(b *testing.B) {
	ctx := context.Background()
	l, _ := rangeSystem(b, 1024, 1)
	services := []*transport.Service{transport.StorageService(l.Server)}
	for _, kind := range transportKinds {
		b.Run("transport="+kind, func(b *testing.B) {
			c := transport.StorageClient{T: transportOf(b, kind, services)}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Health(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifiedQuery is a range-sum query over a batch of 1024 rows
// asked of the storage server and checked by the verifier service, both
// over transport T: the data consumer's round trip of SPEC §8.
func BenchmarkVerifiedQuery(b *testing.B) {
	ctx := context.Background()
	l, q := rangeSystem(b, 1024, 1)
	services := []*transport.Service{transport.StorageService(l.Server), transport.VerifierService(l.Verifier)}
	for _, kind := range transportKinds {
		b.Run("transport="+kind+"/n=1024", func(b *testing.B) {
			t := transportOf(b, kind, services)
			s, v := transport.StorageClient{T: t}, transport.VerifierClient{T: t}
			b.ReportAllocs()
			for b.Loop() {
				ans, err := s.Answer(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := v.Verify(ctx, q, ans); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
