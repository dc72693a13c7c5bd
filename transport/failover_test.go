package transport_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/transport"
)

// replica is one storage server of a replicated deployment, served over
// HTTP or a Unix socket on its own address, until killed.
type replica struct {
	addr string
	srv  *roles.StorageServer
	stop context.CancelFunc
	done chan struct{}
}

// kill stops the replica: it refuses connections from now on.
func (r *replica) kill() {
	r.stop()
	<-r.done
}

// cluster is an owner pushing to storage replicas that share one store, a
// verifier fetching states from them, and the Failover both use.
type cluster struct {
	owner      *roles.DataOwner
	ownerStore roles.OwnerStore
	pushes     *recorder // every push of the owner
	replicas   []*replica
	client     *transport.Failover
	storage    transport.StorageClient
	verifier   *roles.Verifier
	// failovers records every fail-over the client reports.
	mu        sync.Mutex
	failovers [][2]string
}

func (c *cluster) moves() [][2]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][2]string(nil), c.failovers...)
}

// serveReplica starts a storage server behind kind ("http", "unix"), at
// the address at (host:port or socket path) or, if empty, a new one.
func serveReplica(t *testing.T, kind string, srv *roles.StorageServer, at string) *replica {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{srv: srv, stop: cancel, done: make(chan struct{})}
	svcs := []*transport.Service{transport.StorageService(srv)}
	var serveFn func(context.Context) error
	switch kind {
	case "http":
		if at == "" {
			at = "127.0.0.1:0"
		}
		ls, err := transport.ListenHTTP(at, transport.NewHTTPHandler(svcs), transport.WithShutdownGrace(time.Second))
		require.NoError(t, err)
		r.addr, serveFn = "http://"+ls.Addr(), ls.Serve
	case "unix":
		if at == "" {
			at = filepath.Join(t.TempDir(), "s.sock")
		}
		ls, err := transport.ListenUnix(at, svcs, transport.WithShutdownGrace(time.Second))
		require.NoError(t, err)
		r.addr, serveFn = "unix://"+at, ls.Serve
	default:
		t.Fatalf("unknown transport %s", kind)
	}
	go func() { defer close(r.done); _ = serveFn(ctx) }()
	t.Cleanup(r.kill)
	return r
}

// newCluster starts n replicas over one shared store (memory unless
// withStore gives another).
func newCluster(t *testing.T, kind string, n int, opts ...transport.Option) *cluster {
	return newClusterOn(t, kind, n, memory.NewServerStore(), opts...)
}

func newClusterOn(t *testing.T, kind string, n int, store roles.ServerStore, opts ...transport.Option) *cluster {
	t.Helper()
	ctx := context.Background()
	late := &lateTransport{}
	c := &cluster{ownerStore: memory.NewOwnerStore(), pushes: &recorder{StorageClient: transport.StorageClient{T: late}}}
	owner, err := roles.NewDataOwner(ctx, testCRS(t), c.ownerStore, c.pushes)
	require.NoError(t, err)
	c.owner = owner
	var addrs []string
	for range n {
		srv, err := roles.NewStorageServer(testCRS(t), owner.Keys(), store)
		require.NoError(t, err)
		r := serveReplica(t, kind, srv, "")
		c.replicas = append(c.replicas, r)
		addrs = append(addrs, r.addr)
	}
	opts = append([]transport.Option{transport.WithRetries(3, 5*time.Millisecond), transport.WithOnFailover(func(from, to string, err error) {
		require.ErrorIs(t, err, roles.ErrUnavailable)
		c.mu.Lock()
		c.failovers = append(c.failovers, [2]string{from, to})
		c.mu.Unlock()
	})}, opts...)
	c.client, err = transport.DialFailover(addrs, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { c.client.Close() })
	late.Transport = c.client
	c.storage = transport.StorageClient{T: c.client}
	require.NoError(t, owner.Sync(ctx))
	c.verifier, err = roles.NewVerifier(testCRS(t).VerifierKey(), owner.Keys(), roles.WithTrustedSource(owner), roles.WithStateSource(c.storage))
	require.NoError(t, err)
	require.NoError(t, c.verifier.Sync(ctx))
	return c
}

// batchAt is batch(rows) starting at time t0.
func batchAt(rows int, t0 uint64) *roles.Batch {
	b := batch(rows)
	for i := range b.Timestamps {
		b.Timestamps[i] += t0
	}
	return b
}

// TestFailoverKillFirstReplica kills the replica the client uses in the
// middle of a sequence of pushes, queries and state fetches: every call
// succeeds on the other replica, and the client reports the fail-over once.
func TestFailoverKillFirstReplica(t *testing.T) {
	for _, kind := range []string{"http", "unix"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			c := newCluster(t, kind, 2)
			a, b := c.replicas[0], c.replicas[1]
			require.Equal(t, a.addr, c.client.Current())
			var ids []roles.BatchID
			for step := range 8 {
				if step == 3 {
					a.kill()
					start := time.Now()
					_, err := c.storage.LatestState(ctx)
					require.NoError(t, err)
					t.Logf("fail-over: the first call after the kill was answered by the second replica in %v", time.Since(start))
				}
				sh, err := c.owner.CreateBatch(ctx, batchAt(8, uint64(1000*step)))
				require.NoError(t, err, "step %d: push", step)
				id, _ := sh.Header.Digest()
				ids = append(ids, id)
				q := &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: []string{"v"}, From: 1, To: 8}
				ans, err := c.storage.Answer(ctx, q)
				require.NoError(t, err, "step %d: answer", step)
				_, err = c.verifier.Verify(ctx, q, ans)
				require.NoError(t, err, "step %d: verify", step)
				st, err := c.storage.LatestState(ctx)
				require.NoError(t, err, "step %d: latest state", step)
				ost, _ := c.owner.LatestState(ctx)
				require.Equal(t, ost.State.Epoch, st.State.Epoch)
			}
			require.Equal(t, b.addr, c.client.Current())
			require.Equal(t, [][2]string{{a.addr, b.addr}}, c.moves(), "one fail-over, sticky afterwards")
			// Every push landed once in the shared store: all batches listed.
			l, err := c.storage.ListBatches(ctx, "s")
			require.NoError(t, err)
			require.Len(t, l, len(ids))
			// A revocation pushed through the survivor is seen by the verifier.
			_, err = c.owner.Revoke(ctx, ids[0])
			require.NoError(t, err)
			_, err = c.storage.Answer(ctx, &roles.Query{Batch: ids[0], Kind: roles.QueryPoint, Columns: []string{"v"}, Row: 1})
			require.ErrorIs(t, err, roles.ErrRevoked)
			require.Len(t, c.moves(), 1, "an application error is not a fail-over")
		})
	}
}

// TestFailoverConcurrentKill runs clients in parallel while the replica
// they use dies: every call either succeeds or returns a typed error (here:
// all succeed, since the other replica is up).
func TestFailoverConcurrentKill(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t, "http", 2)
	sh, err := c.owner.CreateBatch(ctx, batch(8))
	require.NoError(t, err)
	id, _ := sh.Header.Digest()
	q := &roles.Query{Batch: id, Kind: roles.QueryPoint, Columns: []string{"v"}, Row: 3}
	var wg sync.WaitGroup
	var calls, ok atomic.Int64
	start := make(chan struct{})
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range 6 {
				calls.Add(1)
				ans, err := c.storage.Answer(ctx, q)
				if err == nil {
					_, err = c.verifier.Verify(ctx, q, ans)
				}
				if err != nil {
					t.Errorf("call failed: %v", err)
					return
				}
				ok.Add(1)
			}
		}()
	}
	close(start)
	c.replicas[0].kill()
	wg.Wait()
	require.Equal(t, calls.Load(), ok.Load())
	require.Equal(t, c.replicas[1].addr, c.client.Current())
}

// fakeStorage serves a storage service whose methods return err and count
// their calls.
func fakeStorage(t *testing.T, err error) (addr string, calls *atomic.Int64) {
	t.Helper()
	calls = new(atomic.Int64)
	m := func(name string) *transport.Method {
		return &transport.Method{Name: name, Idempotent: true,
			NewRequest: func() any { return new(transport.StreamRef) },
			Serve: func(context.Context, any) (any, error) {
				calls.Add(1)
				if err != nil {
					return nil, err
				}
				return &transport.BatchList{}, nil
			}}
	}
	svc := transport.NewService(transport.ServiceStorage, m("list_batches"))
	ls, lerr := transport.ListenHTTP("127.0.0.1:0", transport.NewHTTPHandler([]*transport.Service{svc}))
	require.NoError(t, lerr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = ls.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ls.Addr(), calls
}

// TestFailoverNotOnApplicationErrors: a method's own error — a bad proof,
// invalid input, a revoked batch — comes back at once and is never retried
// on another replica; an unavailable replica is.
func TestFailoverNotOnApplicationErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error // what the first replica answers
		is   error // the sentinel the client sees (nil: none)
	}{
		{"bad_proof", roles.ErrBadProof, roles.ErrBadProof},
		{"invalid_input", &roles.InputError{Field: "query", Reason: "no", Err: roles.ErrInvalidInput}, roles.ErrInvalidInput},
		{"revoked", &roles.RevokedError{Epoch: 3}, roles.ErrRevoked},
		{"stale_state", &roles.StaleStateError{Have: 2, Got: 1}, roles.ErrStaleState},
		{"missing_states", &roles.MissingStatesError{From: 1, To: 2}, roles.ErrUnknownState},
		{"conflict", roles.ErrConflict, roles.ErrConflict},
		{"internal", errors.New("boom"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, ca := fakeStorage(t, tc.err)
			b, cb := fakeStorage(t, nil)
			var moved atomic.Int64
			f, err := transport.DialFailover([]string{a, b}, transport.WithOnFailover(func(string, string, error) { moved.Add(1) }))
			require.NoError(t, err)
			defer f.Close()
			_, err = transport.StorageClient{T: f}.ListBatches(context.Background(), "s")
			require.Error(t, err)
			if tc.is != nil {
				require.ErrorIs(t, err, tc.is)
			}
			require.NotErrorIs(t, err, roles.ErrUnavailable)
			require.EqualValues(t, 1, ca.Load())
			require.EqualValues(t, 0, cb.Load(), "not retried elsewhere")
			require.EqualValues(t, 0, moved.Load())
			require.Equal(t, a, f.Current())
		})
	}
	t.Run("unavailable", func(t *testing.T) {
		a, ca := fakeStorage(t, roles.ErrUnavailable)
		b, cb := fakeStorage(t, nil)
		f, err := transport.DialFailover([]string{a, b})
		require.NoError(t, err)
		defer f.Close()
		_, err = transport.StorageClient{T: f}.ListBatches(context.Background(), "s")
		require.NoError(t, err)
		require.EqualValues(t, 1, ca.Load())
		require.EqualValues(t, 1, cb.Load())
		require.Equal(t, b, f.Current())
	})
}

// TestFailoverNonIdempotent: a method that is not idempotent (the owner's
// create_batch) moves to the next address only when it certainly was not
// applied: the connection was refused, or the owner answered not_leader
// (a standby). A connection that broke after it was made (the request may
// have arrived), or any other answer, ends the call, with no second send.
func TestFailoverNonIdempotent(t *testing.T) {
	owner := func(t *testing.T, err error) (string, *atomic.Int64) {
		var calls atomic.Int64
		svc := transport.NewService(transport.ServiceOwner, &transport.Method{Name: "create_batch",
			NewRequest: func() any { return new(transport.Empty) },
			Serve: func(context.Context, any) (any, error) {
				calls.Add(1)
				if err != nil {
					return nil, err
				}
				return &transport.Empty{}, nil
			}})
		ls, lerr := transport.ListenHTTP("127.0.0.1:0", transport.NewHTTPHandler([]*transport.Service{svc}))
		require.NoError(t, lerr)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = ls.Serve(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		return "http://" + ls.Addr(), &calls
	}
	call := func(addrs ...string) error {
		f, err := transport.DialFailover(addrs)
		require.NoError(t, err)
		defer f.Close()
		return f.Call(context.Background(), transport.ServiceOwner, "create_batch", &transport.Empty{}, &transport.Empty{})
	}
	t.Run("refused", func(t *testing.T) {
		live, calls := owner(t, nil)
		require.NoError(t, call("http://"+deadAddr(t), live))
		require.EqualValues(t, 1, calls.Load())
	})
	t.Run("not_leader", func(t *testing.T) {
		standby, sc := owner(t, fmt.Errorf("standby: %w", roles.ErrNotLeader))
		live, calls := owner(t, nil)
		require.NoError(t, call(standby, live))
		require.EqualValues(t, 1, sc.Load())
		require.EqualValues(t, 1, calls.Load())
	})
	t.Run("broken", func(t *testing.T) {
		live, calls := owner(t, nil)
		err := call("http://"+hangUp(t), live)
		require.ErrorIs(t, err, roles.ErrUnavailable)
		require.EqualValues(t, 0, calls.Load())
	})
	t.Run("unavailable", func(t *testing.T) {
		busy, bc := owner(t, roles.ErrUnavailable)
		live, calls := owner(t, nil)
		err := call(busy, live)
		require.ErrorIs(t, err, roles.ErrUnavailable)
		require.EqualValues(t, 1, bc.Load())
		require.EqualValues(t, 0, calls.Load())
	})
	t.Run("all standbys", func(t *testing.T) {
		a, ac := owner(t, roles.ErrNotLeader)
		b, bcalls := owner(t, roles.ErrNotLeader)
		err := call(a, b)
		require.ErrorIs(t, err, roles.ErrNotLeader)
		// Both are asked, in bounded rounds (while a takeover completes).
		require.Positive(t, ac.Load())
		require.Positive(t, bcalls.Load())
		require.LessOrEqual(t, ac.Load()+bcalls.Load(), int64(2*(1+3)), "DialFailover makes 1+3 rounds by default")
	})
}

// deadAddr returns a 127.0.0.1 address nothing listens on.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	a := ln.Addr().String()
	ln.Close()
	return a
}

// hangUp returns the address of a TCP server that accepts connections and
// closes them at once: end of file before any response (and a failed TLS
// handshake for an https client).
func hangUp(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// TestFailoverConnectionErrors: refused connections, connections closed
// before a response and failed TLS handshakes all move the call on.
func TestFailoverConnectionErrors(t *testing.T) {
	live, _ := fakeStorage(t, nil)
	for name, first := range map[string]string{
		"refused":   "http://" + deadAddr(t),
		"eof":       "http://" + hangUp(t),
		"handshake": "https://" + hangUp(t),
	} {
		t.Run(name, func(t *testing.T) {
			var moves atomic.Int64
			f, err := transport.DialFailover([]string{first, live}, transport.WithOnFailover(func(from, to string, err error) {
				require.Equal(t, first, from)
				require.Equal(t, live, to)
				require.ErrorIs(t, err, roles.ErrUnavailable)
				moves.Add(1)
			}))
			require.NoError(t, err)
			defer f.Close()
			_, err = transport.StorageClient{T: f}.ListBatches(context.Background(), "s")
			require.NoError(t, err)
			require.EqualValues(t, 1, moves.Load())
			// Sticky: the next call goes straight to the live replica.
			_, err = transport.StorageClient{T: f}.ListBatches(context.Background(), "s")
			require.NoError(t, err)
			require.EqualValues(t, 1, moves.Load())
		})
	}
}

// TestFailoverAllDown: with every replica down a call makes its bounded
// attempts and fails with ErrUnavailable; cancelling the context stops the
// backoff at once.
func TestFailoverAllDown(t *testing.T) {
	addrs := []string{"http://" + deadAddr(t), "http://" + deadAddr(t)}
	f, err := transport.DialFailover(addrs, transport.WithRetries(2, time.Millisecond))
	require.NoError(t, err)
	_, err = transport.StorageClient{T: f}.LatestState(context.Background())
	require.ErrorIs(t, err, roles.ErrUnavailable)
	f.Close()

	// A backoff of an hour: only the context can end the call.
	f, err = transport.DialFailover(addrs, transport.WithRetries(5, time.Hour), transport.WithMaxBackoff(time.Hour))
	require.NoError(t, err)
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() { _, err := transport.StorageClient{T: f}.LatestState(ctx); done <- err }()
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the call did not end with its context")
	}
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, roles.ErrUnavailable, "the last failure is kept")
}

// TestFailoverDownIsRetriedLater: after the second replica dies too, the
// client goes back to the first one, which was restarted on its address.
func TestFailoverDownIsRetriedLater(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t, "unix", 2, transport.WithDownFor(time.Millisecond))
	a, b := c.replicas[0], c.replicas[1]
	a.kill()
	_, err := c.storage.LatestState(ctx)
	require.NoError(t, err)
	require.Equal(t, b.addr, c.client.Current())
	// Restart the first replica on its socket, then kill the second.
	serveReplica(t, "unix", a.srv, transport.UnixPath(a.addr))
	b.kill()
	_, err = c.storage.LatestState(ctx)
	require.NoError(t, err)
	require.Equal(t, a.addr, c.client.Current())
	require.Equal(t, [][2]string{{a.addr, b.addr}, {b.addr, a.addr}}, c.moves())
}

// recorder passes an owner's pushes on and keeps them to replay.
type recorder struct {
	roles.StorageClient
	mu    sync.Mutex
	calls []func(context.Context, roles.StorageClient) error
}

func (r *recorder) keep(f func(context.Context, roles.StorageClient) error) {
	r.mu.Lock()
	r.calls = append(r.calls, f)
	r.mu.Unlock()
}

func (r *recorder) reset() []func(context.Context, roles.StorageClient) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

func (r *recorder) StoreBatch(ctx context.Context, req *roles.StoreBatchRequest) error {
	r.keep(func(ctx context.Context, s roles.StorageClient) error { return s.StoreBatch(ctx, req) })
	return r.StorageClient.StoreBatch(ctx, req)
}

func (r *recorder) ApplyState(ctx context.Context, st *roles.SignedState) error {
	r.keep(func(ctx context.Context, s roles.StorageClient) error { return s.ApplyState(ctx, st) })
	return r.StorageClient.ApplyState(ctx, st)
}

func (r *recorder) UpdateBatch(ctx context.Context, req *roles.UpdateBatchRequest) error {
	r.keep(func(ctx context.Context, s roles.StorageClient) error { return s.UpdateBatch(ctx, req) })
	return r.StorageClient.UpdateBatch(ctx, req)
}

// offline is a storage client that accepts everything and holds nothing.
type offline struct{}

func (offline) StoreBatch(context.Context, *roles.StoreBatchRequest) error   { return nil }
func (offline) ApplyState(context.Context, *roles.SignedState) error         { return nil }
func (offline) UpdateBatch(context.Context, *roles.UpdateBatchRequest) error { return nil }
func (offline) LatestState(context.Context) (*roles.SignedState, error) {
	return nil, roles.ErrUnknownState
}

// listed is what a listing says of the batches, without the proof tables
// that precomputation adds in the background.
func listed(l []roles.BatchInfo) []roles.BatchInfo {
	out := make([]roles.BatchInfo, len(l))
	for i, b := range l {
		b.ProofColumns, b.ProofBytes = 0, 0
		out[i] = b
	}
	return out
}

// TestDuplicatePushesSucceed replays every push the owner made — batches
// with their states, a revocation, an update — to every replica, in order
// and after later states: each replay is a success and changes nothing,
// except that a batch revoked since is answered ErrRevoked (and stays
// revoked). A different batch at a live place, or a different state for a
// held epoch, signed with the same keys, stays an error.
func TestDuplicatePushesSucceed(t *testing.T) {
	for _, name := range []string{"memory", "bolt"} {
		t.Run(name, func(t *testing.T) {
			store := roles.ServerStore(memory.NewServerStore())
			if name == "bolt" {
				b, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"))
				require.NoError(t, err)
				t.Cleanup(func() { b.Close() })
				store = b
			}
			testDuplicatePushes(t, newClusterOn(t, "http", 2, store))
		})
	}
}

func testDuplicatePushes(t *testing.T, c *cluster) {
	ctx := context.Background()
	c.pushes.reset()
	// replay sends pushes again to every replica, twice, and checks each
	// answer.
	replay := func(pushes []func(context.Context, roles.StorageClient) error, check func(i int, err error)) {
		for range 2 {
			for _, r := range c.replicas {
				direct, err := transport.Dial(r.addr, transport.WithRetries(0, 0))
				require.NoError(t, err)
				for i, push := range pushes {
					check(i, push(ctx, transport.StorageClient{T: direct}))
				}
				direct.Close()
			}
		}
	}

	sh1, err := c.owner.CreateBatch(ctx, batchAt(8, 0))
	require.NoError(t, err)
	id1, _ := sh1.Header.Digest()
	sh2, err := c.owner.CreateBatch(ctx, batchAt(8, 1000))
	require.NoError(t, err)
	id2, _ := sh2.Header.Digest()
	stores := c.pushes.reset()
	require.Len(t, stores, 2)
	before, err := c.storage.ListBatches(ctx, "")
	require.NoError(t, err)
	replay(stores, func(i int, err error) { require.NoError(t, err, "store %d replayed", i) })
	after, err := c.storage.ListBatches(ctx, "")
	require.NoError(t, err)
	require.Equal(t, listed(before), listed(after))

	_, err = c.owner.Revoke(ctx, id1)
	require.NoError(t, err)
	upd := batchAt(8, 1000)
	upd.Columns[0].Values[0] = 99
	_, _, err = c.owner.Update(ctx, id2, upd)
	require.NoError(t, err)
	changes := c.pushes.reset()
	require.Len(t, changes, 2, "one revocation, one update")
	before, err = c.storage.ListBatches(ctx, "")
	require.NoError(t, err)
	latest, err := c.storage.LatestState(ctx)
	require.NoError(t, err)
	// The revocation and the update again, and the first state again
	// after them: successes.
	replay(append(changes, changes[0]), func(i int, err error) { require.NoError(t, err, "change %d replayed", i) })
	// A store of a batch revoked since is answered ErrRevoked, a typed
	// error that names it (the owner counts it as acknowledged), and
	// brings nothing back.
	replay(stores, func(i int, err error) {
		var re *roles.RevokedError
		require.ErrorAs(t, err, &re, "store %d replayed after its revocation", i)
		require.Equal(t, []roles.BatchID{id1, id2}[i], re.Batch)
	})
	after, err = c.storage.ListBatches(ctx, "")
	require.NoError(t, err)
	require.Equal(t, listed(before), listed(after))
	now, err := c.storage.LatestState(ctx)
	require.NoError(t, err)
	require.Equal(t, latest.State, now.State)

	// Another owner with the same keys signs a different batch for the
	// live place s/1, and a different state for epoch 1: both refused.
	sec, err := c.ownerStore.Secrets(ctx)
	require.NoError(t, err)
	ts := memory.NewOwnerStore()
	require.NoError(t, ts.InitSecrets(ctx, sec))
	trec := &recorder{StorageClient: offline{}}
	twin, err := roles.NewDataOwner(ctx, testCRS(t), ts, trec)
	require.NoError(t, err)
	ok, tk := c.owner.Keys(), twin.Keys()
	require.Equal(t, ok.ID(), tk.ID())
	_, err = twin.CreateBatch(ctx, batchAt(8, 0))
	require.NoError(t, err)
	other := batchAt(8, 1000)
	other.Columns[0].Values[3] = 1234
	trec.reset()
	osh, err := twin.CreateBatch(ctx, other)
	require.NoError(t, err)
	oid, _ := osh.Header.Digest()
	_, err = twin.Revoke(ctx, oid)
	require.NoError(t, err)
	forged := trec.reset()
	require.Len(t, forged, 2)
	for i, push := range forged {
		err := push(ctx, c.storage)
		require.ErrorIs(t, err, roles.ErrConflict, "twin push %d", i)
	}
	after, err = c.storage.ListBatches(ctx, "")
	require.NoError(t, err)
	require.Equal(t, listed(before), listed(after))
	require.Empty(t, c.moves())
}

// TestFailoverPushAppliedThenLost: the first replica applies each push to
// the shared store, then drops the connection before it answers. The
// client fails over and the second replica answers the same push with
// success: every push lands once.
func TestFailoverPushAppliedThenLost(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t, "http", 1)
	// A replica in front of the same store that loses the answers of
	// mutations after serving them.
	h := transport.NewHTTPHandler([]*transport.Service{transport.StorageService(c.replicas[0].srv)})
	var lost atomic.Int64
	lossy := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch path.Base(r.URL.Path) {
		case "store_batch", "add_revoked_item", "update_batch":
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				t.Errorf("%s: HTTP %d", r.URL.Path, rec.Code)
			}
			lost.Add(1)
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		h.ServeHTTP(w, r)
	})
	ls, err := transport.ListenHTTP("127.0.0.1:0", lossy)
	require.NoError(t, err)
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = ls.Serve(sctx) }()
	defer func() { cancel(); <-done }()

	// Before each operation, a fresh client whose first choice is the
	// lossy replica (a client sticks to the replica that answered).
	var moves atomic.Int64
	fresh := func() {
		f, err := transport.DialFailover([]string{"http://" + ls.Addr(), c.replicas[0].addr},
			transport.WithOnFailover(func(string, string, error) { moves.Add(1) }))
		require.NoError(t, err)
		t.Cleanup(func() { f.Close() })
		c.pushes.StorageClient = transport.StorageClient{T: f}
	}
	fresh()
	sh, err := c.owner.CreateBatch(ctx, batchAt(8, 0))
	require.NoError(t, err)
	id, _ := sh.Header.Digest()
	fresh()
	_, err = c.owner.Revoke(ctx, id)
	require.NoError(t, err)
	fresh()
	sh2, err := c.owner.CreateBatch(ctx, batchAt(8, 1000))
	require.NoError(t, err)
	id2, _ := sh2.Header.Digest()
	upd := batchAt(8, 1000)
	upd.Columns[0].Values[1] = 5
	fresh()
	_, _, err = c.owner.Update(ctx, id2, upd)
	require.NoError(t, err)
	require.EqualValues(t, 4, lost.Load(), "every push was applied and its answer lost")
	require.EqualValues(t, 4, moves.Load())
	l, err := c.storage.ListBatches(ctx, "s")
	require.NoError(t, err)
	require.Len(t, l, 3, "each batch stored once")
	st, err := c.storage.LatestState(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 2, st.State.Epoch, "one revocation, one update: two epochs")
	require.True(t, c.owner.InSync())
}

// TestFailoverAttemptTimeout: a replica that accepts connections and never
// answers is left after WithAttemptTimeout; the call succeeds on the next
// one, and the fail-over is reported as ErrUnavailable, not as the
// caller's deadline.
func TestFailoverAttemptTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var held sync.WaitGroup
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop); ln.Close(); held.Wait() })
	held.Add(1)
	go func() {
		defer held.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held.Add(1)
			go func() { defer held.Done(); <-stop; c.Close() }() // silent until the test ends
		}
	}()
	live, _ := fakeStorage(t, nil)
	var got error
	f, err := transport.DialFailover([]string{"http://" + ln.Addr().String(), live}, transport.WithAttemptTimeout(100*time.Millisecond),
		transport.WithOnFailover(func(_, _ string, err error) { got = err }))
	require.NoError(t, err)
	defer f.Close()
	_, err = transport.StorageClient{T: f}.ListBatches(context.Background(), "s")
	require.NoError(t, err)
	require.ErrorIs(t, got, roles.ErrUnavailable)
	require.Equal(t, live, f.Current())

	// Alone, the silent replica makes every attempt time out: ErrUnavailable.
	g, err := transport.DialFailover([]string{"http://" + ln.Addr().String()}, transport.WithAttemptTimeout(20*time.Millisecond), transport.WithRetries(1, time.Millisecond))
	require.NoError(t, err)
	defer g.Close()
	_, err = transport.StorageClient{T: g}.ListBatches(context.Background(), "s")
	require.ErrorIs(t, err, roles.ErrUnavailable)
}
