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

// BenchmarkFailover is the fail-over time a client sees with two storage
// replicas over HTTP on one store: one health call, by a client that has
// just called the first replica (its connection is pooled), to
// "live" — the first replica up (the baseline); "refused" — nothing
// listens at the first address any more; "killed" — the first replica
// was shut down after the client's last call (its pooled connection is
// closed). The difference with "live" is the fail-over's cost: the failed
// attempt and the move to the second replica.
func BenchmarkFailover(b *testing.B) {
	ctx := context.Background()
	l, _ := rangeSystem(b, 1024, 1)
	services := []*transport.Service{transport.StorageService(l.Server)}
	h := transport.NewHTTPHandler(services)
	second, err := transport.ListenHTTP("127.0.0.1:0", h)
	if err != nil {
		b.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = second.Serve(sctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	for _, mode := range []string{"live", "refused", "killed"} {
		b.Run("to="+mode, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				first, err := transport.ListenHTTP("127.0.0.1:0", h)
				if err != nil {
					b.Fatal(err)
				}
				fctx, fcancel := context.WithCancel(ctx)
				fdone := make(chan struct{})
				go func() { _ = first.Serve(fctx); close(fdone) }()
				f, err := transport.DialFailover([]string{"http://" + first.Addr(), "http://" + second.Addr()})
				if err != nil {
					b.Fatal(err)
				}
				c := transport.StorageClient{T: f}
				if _, err := c.Health(ctx); err != nil {
					b.Fatal(err)
				}
				if mode != "live" {
					fcancel()
					<-fdone
					if mode == "refused" {
						f.Close() // no pooled connection: the next call dials
					}
				}
				b.StartTimer()
				if _, err := c.Health(ctx); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if want := map[bool]int{true: 0, false: 1}[mode == "live"]; f.Current() != f.Addrs()[want] {
					b.Fatalf("%s: the call went to %s", mode, f.Current())
				}
				fcancel()
				<-fdone
				f.Close()
				b.StartTimer()
			}
		})
	}
}
