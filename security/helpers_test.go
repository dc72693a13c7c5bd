package security

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/internal/testkit"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

// capacity is the batch capacity of the test CRS: small, as unit tests
// should be.
const capacity = 16

// crs returns a CRS shared by the package's tests.
func crs(t testing.TB) *commitment.CRS { return testkit.CRS(t, capacity) }

// clock is a settable clock shared by an owner and its verifiers.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.UnixMilli(1_767_225_600_000)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// world is an owner and an honest storage server in one process, with the
// owner's signing key at hand for tests that need a signed but malformed
// header.
type world struct {
	crs    *commitment.CRS
	clock  *clock
	link   *lateStorage
	owner  *roles.DataOwner
	server *roles.StorageServer
	keys   roles.OwnerKeys
	key    ed25519.PrivateKey
}

func newWorld(t testing.TB, opts ...roles.OwnerOption) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{crs: crs(t), clock: newClock()}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	w.key = key
	signer, err := roles.NewEd25519Signer(key)
	require.NoError(t, err)
	link := &lateStorage{}
	w.link = link
	opts = append([]roles.OwnerOption{roles.WithSigner(signer), roles.WithClock(w.clock.Now)}, opts...)
	w.owner, err = roles.NewDataOwner(ctx, w.crs, memory.NewOwnerStore(), link, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.owner.Close() })
	w.keys = w.owner.Keys()
	w.server, err = roles.NewStorageServer(w.crs, w.keys, memory.NewServerStore())
	require.NoError(t, err)
	link.set(w.server)
	require.NoError(t, w.owner.Sync(ctx))
	return w
}

// batch makes a batch of rows rows starting at time t0.
func batch(stream string, rows int, t0 uint64) *roles.Batch {
	b := &roles.Batch{Stream: stream, Columns: []roles.Column{{Name: "temp", Scale: 1}}}
	for i := range rows {
		b.Timestamps = append(b.Timestamps, t0+uint64(i)*60)
		b.Columns[0].Values = append(b.Columns[0].Values, int64(200+i))
	}
	return b
}

// create stores a batch through the owner and returns its id.
func (w *world) create(t testing.TB, b *roles.Batch) roles.BatchID {
	t.Helper()
	sh, err := w.owner.CreateBatch(context.Background(), b)
	require.NoError(t, err)
	id, err := sh.Header.Digest()
	require.NoError(t, err)
	return id
}

// verifier returns a verifier anchored at the owner's latest state with the
// given options (on the world's clock).
func (w *world) verifier(t testing.TB, opts ...roles.VerifierOption) *roles.Verifier {
	t.Helper()
	st, err := w.owner.LatestState(context.Background())
	require.NoError(t, err)
	opts = append([]roles.VerifierOption{roles.WithInitialState(st), roles.WithVerifierClock(w.clock.Now)}, opts...)
	v, err := roles.NewVerifier(w.crs.VerifierKey(), w.keys, opts...)
	require.NoError(t, err)
	return v
}

// lateStorage is a storage client set after the owner is built (the server
// needs the owner's keys).
type lateStorage struct {
	mu     sync.Mutex
	s      roles.StorageClient
	stored []*roles.StoreBatchRequest // every batch the owner sent
}

func (l *lateStorage) set(s roles.StorageClient) { l.mu.Lock(); l.s = s; l.mu.Unlock() }
func (l *lateStorage) get() roles.StorageClient  { l.mu.Lock(); defer l.mu.Unlock(); return l.s }

func (l *lateStorage) StoreBatch(ctx context.Context, r *roles.StoreBatchRequest) error {
	l.mu.Lock()
	l.stored = append(l.stored, r)
	l.mu.Unlock()
	return l.get().StoreBatch(ctx, r)
}
func (l *lateStorage) ApplyState(ctx context.Context, st *roles.SignedState) error {
	return l.get().ApplyState(ctx, st)
}
func (l *lateStorage) UpdateBatch(ctx context.Context, r *roles.UpdateBatchRequest) error {
	return l.get().UpdateBatch(ctx, r)
}
func (l *lateStorage) LatestState(ctx context.Context) (*roles.SignedState, error) {
	return l.get().LatestState(ctx)
}

// errCut is what a cut link returns.
var errCut = errors.New("link cut")

// link is a path between two parties that a test can cut: a state listener
// (owner → verifier) and a state source (verifier → owner).
type link struct {
	cut      atomic.Bool
	listener roles.StateListener
	source   roles.StateSource
	calls    atomic.Int64
}

func (l *link) AcceptState(ctx context.Context, st *roles.SignedState) error {
	l.calls.Add(1)
	if l.cut.Load() {
		return errCut
	}
	return l.listener.AcceptState(ctx, st)
}

func (l *link) LatestState(ctx context.Context) (*roles.SignedState, error) {
	l.calls.Add(1)
	if l.cut.Load() {
		return nil, errCut
	}
	return l.source.LatestState(ctx)
}

func (l *link) States(ctx context.Context, from, to uint64) ([]roles.SignedState, error) {
	l.calls.Add(1)
	if l.cut.Load() {
		return nil, errCut
	}
	return l.source.States(ctx, from, to)
}

// rolledBack returns a storage server that holds what the honest one holds
// now, and will not see what happens next: an answer it builds later is
// one a malicious server rolled back to this moment would give.
func (w *world) rolledBack(t testing.TB) *roles.StorageServer {
	t.Helper()
	ctx := context.Background()
	s, err := roles.NewStorageServer(w.crs, w.keys, memory.NewServerStore())
	require.NoError(t, err)
	latest, err := w.server.LatestState(ctx)
	require.NoError(t, err)
	sts, err := w.server.States(ctx, 0, latest.State.Epoch)
	require.NoError(t, err)
	for i := range sts {
		require.NoError(t, s.ApplyState(ctx, &sts[i]))
	}
	w.link.mu.Lock()
	reqs := append([]*roles.StoreBatchRequest(nil), w.link.stored...)
	w.link.mu.Unlock()
	for _, r := range reqs {
		require.NoError(t, s.StoreBatch(ctx, r))
	}
	return s
}
