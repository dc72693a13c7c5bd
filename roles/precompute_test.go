package roles_test

import (
	"context"
	"errors"
	mrand "math/rand/v2"
	"sync"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/storage/storetest"
)

// precomputeWorld is a Local system over a memory server store, plus a
// second server on the same store that never precomputes.
type precomputeWorld struct {
	l      *roles.Local
	store  *memory.ServerStore
	direct *roles.StorageServer
	id     roles.BatchID
}

// newLocalOver is a Local system whose server uses store; the server (and
// its precomputation) is closed at the end of the test.
func newLocalOver(t *testing.T, store roles.ServerStore) *roles.Local {
	t.Helper()
	l, err := roles.NewLocal(context.Background(), testCRS(t), memory.NewOwnerStore(), store)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Server.Close() })
	return l
}

func newPrecomputeWorld(t *testing.T) *precomputeWorld {
	t.Helper()
	ctx := context.Background()
	store := memory.NewServerStore()
	l := newLocalOver(t, store)
	id := createBatch(t, ctx, l.Owner, sampleBatch("sensors", 13, 7))
	direct, err := roles.NewStorageServer(testCRS(t), l.Owner.Keys(), store, roles.WithoutPrecompute())
	require.NoError(t, err)
	return &precomputeWorld{l: l, store: store, direct: direct, id: id}
}

func precomputeQueries(id roles.BatchID) map[string]*roles.Query {
	both := []string{"temp", "load"}
	return map[string]*roles.Query{
		"point":        {Batch: id, Kind: roles.QueryPoint, Columns: []string{"temp"}, Row: 5},
		"point-first":  {Batch: id, Kind: roles.QueryPoint, Columns: both, Row: 1},
		"range":        {Batch: id, Kind: roles.QueryRange, Columns: []string{"load"}, From: 2, To: 13},
		"range-all":    {Batch: id, Kind: roles.QueryRange, Columns: both, From: 1, To: 13},
		"weighted":     {Batch: id, Kind: roles.QueryWeighted, Columns: both, Weights: codec.ScalarVector{roles.FromInt64(0), roles.FromInt64(3), roles.FromInt64(-2), roles.FromInt64(0), roles.FromInt64(5)}},
		"window":       {Batch: id, Kind: roles.QueryWindow, Columns: both, TimeFrom: 1015, TimeTo: 1075},
		"window-edge":  {Batch: id, Kind: roles.QueryWindow, Columns: []string{"temp"}, TimeFrom: 0, TimeTo: 1000},
		"window-empty": {Batch: id, Kind: roles.QueryWindow, Columns: []string{"temp"}, TimeFrom: 1001, TimeTo: 1009},
		"audit":        {Batch: id, Kind: roles.QueryAudit, Columns: both, Nonce: []byte("nonce")},
	}
}

// TestPrecomputedAnswersIdentical checks that answers from the proof tables
// are byte-identical to direct answers, verify, and that the tables are
// reported.
func TestPrecomputedAnswersIdentical(t *testing.T) {
	ctx := context.Background()
	w := newPrecomputeWorld(t)
	require.NoError(t, w.l.Server.WaitPrecomputed(ctx))
	cols, size, err := w.store.ProofTables(ctx, w.id)
	require.NoError(t, err)
	require.Equal(t, []int{0, 1, 2}, cols, "two columns and the timestamps")
	list, err := w.l.Server.ListBatches(ctx, "")
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.EqualValues(t, 3, list[0].ProofColumns)
	require.EqualValues(t, size, list[0].ProofBytes)
	list, err = w.direct.ListBatches(ctx, "")
	require.NoError(t, err)
	require.Zero(t, list[0].ProofColumns, "a server without precomputation reports none")

	for name, q := range precomputeQueries(w.id) {
		t.Run(name, func(t *testing.T) {
			fast, err := w.l.Server.Answer(ctx, q)
			require.NoError(t, err)
			slow, err := w.direct.Answer(ctx, q)
			require.NoError(t, err)
			a, err := codec.Default().Marshal(fast)
			require.NoError(t, err)
			b, err := codec.Default().Marshal(slow)
			require.NoError(t, err)
			require.Equal(t, b, a)
			_, err = w.l.Verifier.Verify(ctx, q, fast)
			require.NoError(t, err)
		})
	}
}

// TestPrecomputedTablesAreUsed corrupts the stored tables — the points,
// then the value sums — : the answers change and the verifier rejects
// them, so the tables are what answers come from (audits excepted).
func TestPrecomputedTablesAreUsed(t *testing.T) {
	for _, part := range []string{"points", "values"} {
		t.Run(part, func(t *testing.T) {
			ctx := context.Background()
			w := newPrecomputeWorld(t)
			require.NoError(t, w.l.Server.WaitPrecomputed(ctx))
			all := make([]int, 13)
			for i := range all {
				all[i] = i + 1
			}
			for col := 0; col <= 2; col++ {
				pts, vals, err := w.store.ProofPoints(ctx, w.id, col, all)
				require.NoError(t, err)
				for i := range pts {
					if part == "points" {
						pts[i] = storetest.RandomG1(t)
					} else {
						vals[i] = storetest.RandomScalar(t)
					}
				}
				require.NoError(t, w.store.PutProofTable(ctx, w.id, col, pts, vals))
			}
			for name, q := range precomputeQueries(w.id) {
				ans, err := w.l.Server.Answer(ctx, q)
				require.NoError(t, err, name)
				_, err = w.l.Verifier.Verify(ctx, q, ans)
				switch {
				case q.Kind == roles.QueryAudit:
					require.NoError(t, err, "audits do not use the tables")
				case part == "values" && q.Kind == roles.QueryWindow && ans.Proof == nil:
					// An empty window proves its boundary timestamps only,
					// which come from the data, not from the value sums.
					require.NoError(t, err, name)
				default:
					require.ErrorIs(t, err, roles.ErrBadProof, name)
				}
			}
		})
	}
}

// TestPrecomputeResume checks that a server picks up batches stored
// without tables (as after a crash mid-precomputation), and that answers
// before the tables exist take the direct path.
func TestPrecomputeResume(t *testing.T) {
	ctx := context.Background()
	store := memory.NewServerStore()
	l, err := roles.NewLocal(ctx, testCRS(t), memory.NewOwnerStore(), store)
	require.NoError(t, err)
	require.NoError(t, l.Server.Close()) // nothing is precomputed from here on
	id := createBatch(t, ctx, l.Owner, sampleBatch("s", 9, 3))
	id2 := createBatch(t, ctx, l.Owner, sampleBatch("s2", 4, 4))
	require.NoError(t, l.Server.WaitPrecomputed(ctx))
	cols, _, err := store.ProofTables(ctx, id)
	require.NoError(t, err)
	require.Empty(t, cols)
	// Half of the second batch was done before the "crash".
	require.NoError(t, store.PutProofTable(ctx, id2, 1, make([]bls.G1Affine, 4), make([]fr.Element, 4)))

	srv, err := roles.NewStorageServer(testCRS(t), l.Owner.Keys(), store, roles.WithPrecomputeWorkers(2))
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	q := &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: []string{"temp"}, From: 2, To: 8}
	ans, err := srv.Answer(ctx, q) // no table yet: direct, and schedules the batch
	require.NoError(t, err)
	_, err = l.Verifier.Verify(ctx, q, ans)
	require.NoError(t, err)
	n, err := srv.ResumePrecompute(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, 1)
	require.NoError(t, srv.WaitPrecomputed(ctx))
	for _, b := range []roles.BatchID{id, id2} {
		cols, _, err := store.ProofTables(ctx, b)
		require.NoError(t, err)
		require.Equal(t, []int{0, 1, 2}, cols)
	}
	// The half-done batch kept its (here: bogus) column 1 and got the rest.
	n, err = srv.ResumePrecompute(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left to resume")
	again, err := srv.Answer(ctx, q)
	require.NoError(t, err)
	require.Equal(t, ans.Proof, again.Proof)
}

func TestPrecomputeOptions(t *testing.T) {
	l := newLocal(t)
	_, err := roles.NewStorageServer(testCRS(t), l.Owner.Keys(), memory.NewServerStore(), roles.WithPrecomputeWorkers(0))
	require.ErrorIs(t, err, roles.ErrInvalidInput)
}

// failingTables is a memory store whose tables cannot be written.
type failingTables struct{ *memory.ServerStore }

var errDiskFull = errors.New("disk full")

func (failingTables) PutProofTable(context.Context, roles.BatchID, int, []bls.G1Affine, []fr.Element) error {
	return errDiskFull
}

// TestPrecomputeStoreFailure checks that a failing table write is
// reported once and that answers keep coming, directly.
func TestPrecomputeStoreFailure(t *testing.T) {
	ctx := context.Background()
	l := newLocalOver(t, failingTables{memory.NewServerStore()})
	id := createBatch(t, ctx, l.Owner, sampleBatch("s", 6, 9))
	require.ErrorIs(t, l.Server.WaitPrecomputed(ctx), errDiskFull)
	require.NoError(t, l.Server.WaitPrecomputed(ctx), "reported once")
	res, err := l.Query(ctx, &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: []string{"temp"}, From: 1, To: 6})
	require.NoError(t, err)
	require.Len(t, res.Values, 1)
	list, err := l.Server.ListBatches(ctx, "")
	require.NoError(t, err)
	require.Zero(t, list[0].ProofColumns)
}

// TestPrecomputedStreamAnswers checks stream answers (edge batches from the
// tables, interior batches from P_L) against a server that never
// precomputes: byte-identical, and verified.
func TestPrecomputedStreamAnswers(t *testing.T) {
	ctx := context.Background()
	store := memory.NewServerStore()
	l := newLocalOver(t, store)
	rng := mrand.New(mrand.NewPCG(3, 4))
	for k := range 3 {
		_, err := l.Owner.Ingest(ctx, twoCols("s", 12, uint64(1000*(k+1)), 10, rng))
		require.NoError(t, err)
	}
	require.NoError(t, l.Server.WaitPrecomputed(ctx))
	direct, err := roles.NewStorageServer(testCRS(t), l.Owner.Keys(), store, roles.WithoutPrecompute())
	require.NoError(t, err)
	for _, win := range [][2]uint64{{0, 1 << 62}, {1005, 3085}, {2001, 2049}, {1110, 1200}} {
		q := &roles.StreamQuery{Stream: "s", Kind: roles.QueryWindow, Columns: []string{"temp", "load"}, TimeFrom: win[0], TimeTo: win[1]}
		fast, err := l.Server.AnswerStream(ctx, q)
		require.NoError(t, err)
		slow, err := direct.AnswerStream(ctx, q)
		require.NoError(t, err)
		a, err := codec.Default().Marshal(fast)
		require.NoError(t, err)
		b, err := codec.Default().Marshal(slow)
		require.NoError(t, err)
		require.Equal(t, b, a, "window %v", win)
		_, err = l.Verifier.VerifyStream(ctx, q, fast)
		require.NoError(t, err)
	}
}

// gatedTables is a memory store whose first table write waits until the
// test lets it through, so that a revocation can land mid-precomputation.
type gatedTables struct {
	*memory.ServerStore
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func (g *gatedTables) PutProofTable(ctx context.Context, id roles.BatchID, col int, p []bls.G1Affine, v []fr.Element) error {
	g.once.Do(func() {
		close(g.started)
		<-g.release
	})
	return g.ServerStore.PutProofTable(ctx, id, col, p, v)
}

// TestPrecomputeRevoked checks that a revoked batch keeps no proof table:
// the revocation drops the tables already built, the precomputation does
// not resume them, and a revocation that lands while the tables are being
// computed stops the work without leaving a table or an error.
func TestPrecomputeRevoked(t *testing.T) {
	ctx := context.Background()
	t.Run("after", func(t *testing.T) {
		w := newPrecomputeWorld(t)
		require.NoError(t, w.l.Server.WaitPrecomputed(ctx))
		cols, _, err := w.store.ProofTables(ctx, w.id)
		require.NoError(t, err)
		require.Len(t, cols, 3)
		_, err = w.l.Owner.Revoke(ctx, w.id)
		require.NoError(t, err)
		cols, size, err := w.store.ProofTables(ctx, w.id)
		require.NoError(t, err)
		require.Empty(t, cols, "the revocation dropped the tables")
		require.Zero(t, size)
		n, err := w.l.Server.ResumePrecompute(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "a revoked batch is not scheduled")
		require.NoError(t, w.l.Server.WaitPrecomputed(ctx))
		cols, _, err = w.store.ProofTables(ctx, w.id)
		require.NoError(t, err)
		require.Empty(t, cols)
		list, err := w.l.Server.ListBatches(ctx, "")
		require.NoError(t, err)
		require.Zero(t, list[0].ProofColumns)
	})
	t.Run("during", func(t *testing.T) {
		store := &gatedTables{ServerStore: memory.NewServerStore(), started: make(chan struct{}), release: make(chan struct{})}
		l, err := roles.NewLocal(ctx, testCRS(t), memory.NewOwnerStore(), store)
		require.NoError(t, err)
		t.Cleanup(func() { _ = l.Server.Close() })
		sh, err := l.Owner.CreateBatch(ctx, sampleBatch("s", 8, 5))
		require.NoError(t, err)
		id, _ := sh.Header.Digest()
		<-store.started // the first table is computed and about to be written
		_, err = l.Owner.Revoke(ctx, id)
		require.NoError(t, err)
		close(store.release)
		require.NoError(t, l.Server.WaitPrecomputed(ctx), "a revoked batch is not a failure")
		cols, _, err := store.ProofTables(ctx, id)
		require.NoError(t, err)
		require.Empty(t, cols, "no table was written for the revoked batch")
	})
}
