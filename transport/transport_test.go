package transport_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/internal/devpki"
	"github.com/vdsproject/vds/internal/testkit"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/transport"
)

func testCRS(t testing.TB) *commitment.CRS { return testkit.CRS(t, 16) }

// system is an owner in this process talking to a storage server through a
// transport, and a verifier catching up through the same transport.
type system struct {
	owner    *roles.DataOwner
	storage  transport.StorageClient
	verifier *roles.Verifier
}

// serve starts the storage server behind the named transport and returns a
// client transport to it.
func serve(t *testing.T, kind string, services []*transport.Service, opts ...transport.Option) transport.Transport {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	switch kind {
	case "inproc":
		return transport.NewInProc(services)
	case "http":
		srv, err := transport.ListenHTTP("127.0.0.1:0", transport.NewHTTPHandler(services))
		require.NoError(t, err)
		wg.Add(1)
		go func() { defer wg.Done(); _ = srv.Serve(ctx) }()
		c, err := transport.Dial("http://"+srv.Addr(), opts...)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	case "unix":
		path := filepath.Join(t.TempDir(), "s.sock")
		srv, err := transport.ListenUnix(path, services)
		require.NoError(t, err)
		wg.Add(1)
		go func() { defer wg.Done(); _ = srv.Serve(ctx) }()
		c, err := transport.Dial("unix://"+path, opts...)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	}
	t.Fatalf("unknown transport %s", kind)
	return nil
}

func newSystem(t *testing.T, kind string) *system {
	ctx := context.Background()
	// The owner's keys decide the server's configuration: create the owner
	// first against a client whose transport is set once the server runs.
	late := &lateTransport{}
	owner, err := roles.NewDataOwner(ctx, testCRS(t), memory.NewOwnerStore(), transport.StorageClient{T: late})
	require.NoError(t, err)
	srv, err := roles.NewStorageServer(testCRS(t), owner.Keys(), memory.NewServerStore())
	require.NoError(t, err)
	late.Transport = serve(t, kind, []*transport.Service{transport.StorageService(srv)})
	require.NoError(t, owner.Sync(ctx))
	sc := transport.StorageClient{T: late.Transport}
	v, err := roles.NewVerifier(testCRS(t).VerifierKey(), owner.Keys(), roles.WithTrustedSource(owner), roles.WithStateSource(sc))
	require.NoError(t, err)
	owner.Subscribe(v, roles.DeliverInline())
	return &system{owner: owner, storage: sc, verifier: v}
}

type lateTransport struct{ transport.Transport }

func batch(rows int) *roles.Batch {
	b := &roles.Batch{Stream: "s", Timestamps: make([]uint64, rows)}
	c := roles.Column{Name: "v", Values: make([]int64, rows)}
	for i := range rows {
		b.Timestamps[i] = uint64(100 + 10*i)
		c.Values[i] = int64(i*i) - 7
	}
	b.Columns = []roles.Column{c}
	return b
}

var kinds = []string{"inproc", "http", "unix"}

func TestStorageOverTransports(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := newSystem(t, kind)
			h, err := s.storage.Health(ctx)
			require.NoError(t, err)
			require.Equal(t, transport.ServiceStorage, h.Service)
			require.True(t, h.HasEpoch)

			sh, err := s.owner.CreateBatch(ctx, batch(8))
			require.NoError(t, err)
			id, _ := sh.Header.Digest()
			got, err := s.storage.Header(ctx, id)
			require.NoError(t, err)
			require.Equal(t, sh.Sig, got.Sig)
			list, err := s.storage.ListBatches(ctx, "s")
			require.NoError(t, err)
			require.Len(t, list, 1)

			for _, q := range []*roles.Query{
				{Batch: id, Kind: roles.QueryRange, Columns: []string{"v"}, From: 2, To: 7},
				{Batch: id, Kind: roles.QueryWindow, Columns: []string{"v"}, TimeFrom: 115, TimeTo: 160},
				{Batch: id, Kind: roles.QueryAudit, Columns: []string{"v"}, Nonce: []byte("n")},
			} {
				ans, err := s.storage.Answer(ctx, q)
				require.NoError(t, err, q.Kind)
				_, err = s.verifier.Verify(ctx, q, ans)
				require.NoError(t, err, q.Kind)
			}

			// Errors keep their sentinels and evidence across the wire.
			_, err = s.storage.Header(ctx, roles.BatchID{1})
			require.ErrorIs(t, err, roles.ErrUnknownBatch)
			_, err = s.storage.Answer(ctx, &roles.Query{Batch: id, Kind: roles.QueryAudit, Columns: []string{"v"}})
			var ie *roles.InputError
			require.ErrorAs(t, err, &ie)
			require.ErrorIs(t, err, roles.ErrInvalidInput)
			_, err = s.owner.Revoke(ctx, id)
			require.NoError(t, err)
			_, err = s.storage.Answer(ctx, &roles.Query{Batch: id, Kind: roles.QueryPoint, Columns: []string{"v"}, Row: 1})
			var re *roles.RevokedError
			require.ErrorAs(t, err, &re)
			require.Equal(t, id, re.Batch)
			require.EqualValues(t, 1, re.Epoch)
			_, err = s.storage.States(ctx, 0, 9)
			var ms *roles.MissingStatesError
			require.ErrorAs(t, err, &ms)
			require.Equal(t, roles.MissingStatesError{From: 2, To: 9}, *ms)
			// A query of the wrong kind for an endpoint.
			err = s.storage.T.Call(ctx, transport.ServiceStorage, "generate_da_proof", &roles.Query{Batch: id, Kind: roles.QueryPoint, Columns: []string{"v"}, Row: 1}, &roles.Answer{})
			require.ErrorIs(t, err, roles.ErrInvalidInput)
			// Unsigned mutations are refused.
			st, err := s.storage.LatestState(ctx)
			require.NoError(t, err)
			st.Sig = make([]byte, len(st.Sig))
			require.ErrorIs(t, s.storage.ApplyState(ctx, st), roles.ErrBadSignature)
			forged := &roles.StoreBatchRequest{Header: *sh}
			forged.Header.Sig = bytes.Repeat([]byte{7}, 64)
			require.ErrorIs(t, s.storage.StoreBatch(ctx, forged), roles.ErrBadSignature)
			// Unknown method.
			err = s.storage.T.Call(ctx, transport.ServiceStorage, "init", &transport.Empty{}, &transport.Empty{})
			require.ErrorIs(t, err, roles.ErrNotFound)
		})
	}
}

func TestHTTPEdgeCases(t *testing.T) {
	srv, err := roles.NewStorageServer(testCRS(t), mustOwner(t).Keys(), memory.NewServerStore())
	require.NoError(t, err)
	h := transport.NewHTTPHandler([]*transport.Service{transport.StorageService(srv)}, transport.WithMaxBody(1024))
	ls, err := transport.ListenHTTP("127.0.0.1:0", h)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ls.Serve(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()
	base := "http://" + ls.Addr() + "/v1/storage/health"

	res, err := http.Get(base)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
	res, err = http.Post(base, "application/json", bytes.NewReader([]byte("{}")))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusUnsupportedMediaType, res.StatusCode)
	res, err = http.Post("http://"+ls.Addr()+"/v1/storage/store_batch", transport.ContentType, bytes.NewReader(make([]byte, 4096)))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)

	c, err := transport.NewHTTPClient("http://" + ls.Addr())
	require.NoError(t, err)
	err = c.Call(context.Background(), "storage", "list_batches", &transport.StreamRef{Stream: strings.Repeat("x", 2000)}, &transport.BatchList{})
	require.ErrorIs(t, err, roles.ErrTooLarge)
	err = c.Call(context.Background(), "nope", "health", &transport.Empty{}, &transport.Empty{})
	require.ErrorIs(t, err, roles.ErrNotFound)
}

func mustOwner(t *testing.T) *roles.DataOwner {
	o, err := roles.NewDataOwner(context.Background(), testCRS(t), memory.NewOwnerStore(), transport.StorageClient{T: transport.NewInProc(nil)})
	require.NoError(t, err)
	return o
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	pki, err := devpki.Write(dir)
	require.NoError(t, err)
	srv, err := roles.NewStorageServer(testCRS(t), mustOwner(t).Keys(), memory.NewServerStore())
	require.NoError(t, err)
	stc, err := transport.ServerTLS(pki.Certs["storage"], pki.Keys["storage"], pki.CA)
	require.NoError(t, err)
	ls, err := transport.ListenHTTP("127.0.0.1:0", transport.NewHTTPHandler([]*transport.Service{transport.StorageService(srv)}), transport.WithTLS(stc))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ls.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	url := "https://" + ls.Addr()

	withCert, err := transport.ClientTLS(pki.CA, pki.Certs["verifier"], pki.Keys["verifier"])
	require.NoError(t, err)
	good, err := transport.NewHTTPClient(url, transport.WithTLS(withCert))
	require.NoError(t, err)
	_, err = transport.StorageClient{T: good}.Health(context.Background())
	require.NoError(t, err)

	noCert, err := transport.ClientTLS(pki.CA, "", "")
	require.NoError(t, err)
	bad, err := transport.NewHTTPClient(url, transport.WithTLS(noCert), transport.WithRetries(0, 0))
	require.NoError(t, err)
	_, err = transport.StorageClient{T: bad}.Health(context.Background())
	require.ErrorIs(t, err, roles.ErrUnavailable)

	plain, err := transport.NewHTTPClient("http://"+ls.Addr(), transport.WithRetries(0, 0))
	require.NoError(t, err)
	_, err = transport.StorageClient{T: plain}.Health(context.Background())
	require.Error(t, err)
}

func TestUnixCancelAndConcurrency(t *testing.T) {
	s := newSystem(t, "unix")
	ctx := context.Background()
	sh, err := s.owner.CreateBatch(ctx, batch(16))
	require.NoError(t, err)
	id, _ := sh.Header.Digest()
	q := &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: []string{"v"}, From: 1, To: 16}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ans, err := s.storage.Answer(ctx, q)
			if err == nil {
				_, err = s.verifier.Verify(ctx, q, ans)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.storage.Answer(cctx, q)
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
	tctx, cancel2 := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel2()
	time.Sleep(time.Millisecond)
	_, err = s.storage.Answer(tctx, q)
	require.Error(t, err)
}
