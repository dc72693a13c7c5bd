package roles_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/merkle"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

// streamBatch is a one-column batch of rows rows at t0, t0+10, … with
// values base, base+1, ….
func streamBatch(stream string, rows int, t0 uint64, base int64) *roles.Batch {
	b := &roles.Batch{Stream: stream, Columns: []roles.Column{{Name: "temp", Scale: 1}}}
	for i := range rows {
		b.Timestamps = append(b.Timestamps, t0+uint64(i)*10)
		b.Columns[0].Values = append(b.Columns[0].Values, base+int64(i))
	}
	return b
}

// wantHead recomputes the stream head of SPEC §11.2 from the owner's
// entries, independently of the owner's own cache.
func wantHead(o *roles.DataOwner) roles.StreamHead {
	var leaves []merkle.Hash
	var total uint64
	for _, name := range o.Streams() {
		es := o.StreamEntries(name)
		total += uint64(len(es))
		leaves = append(leaves, roles.StreamLeaf(name, roles.StreamRoot(es), uint64(len(es))))
	}
	return roles.StreamHead{Root: merkle.Root(leaves), Streams: uint64(len(leaves)), Entries: total}
}

func TestStreamInvariants(t *testing.T) {
	ctx := context.Background()
	store := memory.NewOwnerStore()
	sstore := memory.NewServerStore()
	l, err := roles.NewLocal(ctx, testCRS(t), store, sstore)
	require.NoError(t, err)
	o := l.Owner
	head := func() roles.StreamHead {
		st, err := o.LatestState(ctx)
		require.NoError(t, err)
		return st.Head
	}
	require.Equal(t, wantHead(o), head())
	require.Equal(t, roles.Hash(merkle.Empty()), head().Root)

	a, err := o.Ingest(ctx, streamBatch("s", 4, 1000, 1))
	require.NoError(t, err)
	require.False(t, a.Existing)
	idA, _ := a.Header.Header.Digest()
	require.EqualValues(t, 0, a.Header.Header.Seq)
	require.Equal(t, wantHead(o), head())
	require.EqualValues(t, 1, head().Entries)
	// The storage server and the verifier hold the re-signed state with the
	// new head; no epoch was started.
	sst, err := l.Server.LatestState(ctx)
	require.NoError(t, err)
	require.Equal(t, head(), sst.Head)
	require.Equal(t, head(), l.Verifier.State().Head)
	require.EqualValues(t, 0, sst.State.Epoch)

	// The same content again: nothing new, the same header.
	again, err := o.Ingest(ctx, streamBatch("s", 4, 1000, 1))
	require.NoError(t, err)
	require.True(t, again.Existing)
	require.Equal(t, a.Header, again.Header)
	require.EqualValues(t, 1, head().Entries)
	infos, err := l.Server.ListBatches(ctx, "s")
	require.NoError(t, err)
	require.Len(t, infos, 1)

	// Overlapping a live batch: refused, naming it.
	_, err = o.Ingest(ctx, streamBatch("s", 4, 1020, 7))
	var sc *roles.StreamConflictError
	require.ErrorAs(t, err, &sc)
	require.ErrorIs(t, err, roles.ErrConflict)
	require.NotNil(t, sc.Batch)
	require.Equal(t, idA, *sc.Batch)

	b, err := o.Ingest(ctx, streamBatch("s", 4, 2000, 10))
	require.NoError(t, err)
	idB, _ := b.Header.Header.Digest()
	require.EqualValues(t, 1, b.Header.Header.Seq)
	c, err := o.Ingest(ctx, streamBatch("s", 4, 3000, 20))
	require.NoError(t, err)
	idC, _ := c.Header.Header.Digest()

	// Revoking B leaves a tombstone; its time range stays taken.
	_, err = o.Revoke(ctx, idB)
	require.NoError(t, err)
	es := o.StreamEntries("s")
	require.Len(t, es, 3)
	require.True(t, es[1].Revoked)
	require.Equal(t, idB, es[1].Batch)
	require.Equal(t, wantHead(o), head())
	_, err = o.Ingest(ctx, streamBatch("s", 2, 2000, 10))
	require.ErrorAs(t, err, &sc, "before the end of the stream, even over a tombstone")
	// After revoking, the same content may be ingested again — at the end.
	_, err = o.Ingest(ctx, streamBatch("s", 2, 2500, 99))
	require.ErrorAs(t, err, &sc)

	// Updates keep their place, columns, scales and bounds.
	bad := []*roles.Batch{
		streamBatch("s", 4, 1500, 5), // A moved within its place (before seq 1 at 2000)
		nil,
		nil,
		streamBatch("s2", 4, 1000, 5), // another stream
	}
	_, _, err = o.Update(ctx, idA, bad[0])
	require.NoError(t, err, "A (seq 0) may move up to before seq 1 (2000)")
	es = o.StreamEntries("s")
	idA2 := es[0].Batch
	require.EqualValues(t, 1, es[0].Version)
	_, _, err = o.Update(ctx, idA2, streamBatch("s", 4, 1990, 5))
	require.ErrorAs(t, err, &sc, "ends at 2020, past seq 1's start")
	_, _, err = o.Update(ctx, idA2, bad[0])
	require.ErrorIs(t, err, roles.ErrInvalidInput, "nothing to update")
	_, _, err = o.Update(ctx, idA2, bad[3])
	require.ErrorAs(t, err, &sc)
	renamed := streamBatch("s", 4, 1000, 5)
	renamed.Columns[0].Name = "temperature"
	_, _, err = o.Update(ctx, idA2, renamed)
	require.ErrorAs(t, err, &sc)
	rescaled := streamBatch("s", 4, 1000, 5)
	rescaled.Columns[0].Scale = 2
	_, _, err = o.Update(ctx, idA2, rescaled)
	require.ErrorAs(t, err, &sc)
	rebounded := streamBatch("s", 4, 1000, 5)
	rebounded.Columns[0].Bits = 32
	_, _, err = o.Update(ctx, idA2, rebounded)
	require.ErrorAs(t, err, &sc)
	_, _, err = o.Update(ctx, idC, streamBatch("s", 4, 2020, 5))
	require.ErrorAs(t, err, &sc, "C may not start before B's tombstone ends")
	plan, err := o.CheckUpdate(ctx, idC, streamBatch("s", 9, 3005, 5))
	require.NoError(t, err)
	require.EqualValues(t, 2, plan.Seq)
	require.EqualValues(t, 3005, plan.NewT0)
	require.Equal(t, es, o.StreamEntries("s"), "CheckUpdate changes nothing")
	require.Equal(t, wantHead(o), head())

	// A restarted owner rebuilds the same streams from its store.
	o2, err := roles.NewDataOwner(ctx, testCRS(t), store, l.Server)
	require.NoError(t, err)
	require.Equal(t, o.StreamEntries("s"), o2.StreamEntries("s"))
	require.Equal(t, wantHead(o), wantHead(o2))
	again2, err := o2.Ingest(ctx, streamBatch("s", 4, 3000, 20))
	require.NoError(t, err)
	require.True(t, again2.Existing, "the content index survives a restart")
	require.Equal(t, c.Header, again2.Header)
}

// failingSigner fails every signature after the first n.
type failingSigner struct {
	roles.Signer
	n int
}

func (f *failingSigner) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	if f.n <= 0 {
		return nil, errors.New("signer down")
	}
	f.n--
	return f.Signer.Sign(ctx, msg)
}

func TestStreamSeqGapFree(t *testing.T) {
	ctx := context.Background()
	s, err := roles.GenerateEd25519Signer(rand.Reader)
	require.NoError(t, err)
	fs := &failingSigner{Signer: s, n: 100}
	l, err := roles.NewLocal(ctx, testCRS(t), memory.NewOwnerStore(), memory.NewServerStore(), roles.WithSigner(fs))
	require.NoError(t, err)
	_, err = l.Owner.Ingest(ctx, streamBatch("g", 2, 100, 1))
	require.NoError(t, err)
	fs.n = 0 // the next create fails after its sequence number was chosen
	_, err = l.Owner.Ingest(ctx, streamBatch("g", 2, 200, 1))
	require.Error(t, err)
	fs.n = 100
	r, err := l.Owner.Ingest(ctx, streamBatch("g", 2, 300, 1))
	require.NoError(t, err)
	require.EqualValues(t, 1, r.Header.Header.Seq, "a failed create leaves no hole")
	require.NoError(t, roles.CheckEntries(0, l.Owner.StreamEntries("g")))
}

func TestCheckEntries(t *testing.T) {
	es := []roles.StreamEntry{{Seq: 3, T0: 10, T1: 20}, {Seq: 4, T0: 21, T1: 21}, {Seq: 5, T0: 30, T1: 40, Revoked: true}}
	require.NoError(t, roles.CheckEntries(3, es))
	for _, c := range []struct {
		first uint64
		edit  func(es []roles.StreamEntry)
	}{
		{2, func([]roles.StreamEntry) {}},
		{3, func(es []roles.StreamEntry) { es[1].Seq = 5 }},
		{3, func(es []roles.StreamEntry) { es[1].T0 = 20 }},
		{3, func(es []roles.StreamEntry) { es[2].T0, es[2].T1 = 41, 40 }},
	} {
		cp := append([]roles.StreamEntry(nil), es...)
		c.edit(cp)
		require.ErrorIs(t, roles.CheckEntries(c.first, cp), roles.ErrIncomplete)
	}
}

// flakyStorage fails every call while down.
type flakyStorage struct {
	roles.StorageClient
	down bool
}

func (f *flakyStorage) StoreBatch(ctx context.Context, r *roles.StoreBatchRequest) error {
	if f.down {
		return roles.ErrUnavailable
	}
	return f.StorageClient.StoreBatch(ctx, r)
}

func (f *flakyStorage) ApplyState(ctx context.Context, st *roles.SignedState) error {
	if f.down {
		return roles.ErrUnavailable
	}
	return f.StorageClient.ApplyState(ctx, st)
}

func (f *flakyStorage) LatestState(ctx context.Context) (*roles.SignedState, error) {
	if f.down {
		return nil, roles.ErrUnavailable
	}
	return f.StorageClient.LatestState(ctx)
}

// TestStreamRetrySafe: an ingest interrupted after the owner saved the
// batch (the storage server down) and run again stores nothing twice; once
// the server is back, it holds every batch exactly once and stream answers
// verify.
func TestStreamRetrySafe(t *testing.T) {
	ctx := context.Background()
	ostore := memory.NewOwnerStore()
	flaky := &flakyStorage{}
	o, err := roles.NewDataOwner(ctx, testCRS(t), ostore, flakyPlaceholder{flaky})
	require.NoError(t, err)
	s, err := roles.NewStorageServer(testCRS(t), o.Keys(), memory.NewServerStore())
	require.NoError(t, err)
	flaky.StorageClient = s
	require.NoError(t, o.Sync(ctx))

	batches := []*roles.Batch{streamBatch("r", 4, 100, 1), streamBatch("r", 4, 200, 2), streamBatch("r", 4, 300, 3)}
	r0, err := o.Ingest(ctx, batches[0])
	require.NoError(t, err)
	flaky.down = true
	r1, err := o.Ingest(ctx, batches[1])
	require.ErrorIs(t, err, roles.ErrUnavailable)
	require.Contains(t, err.Error(), "saved by the owner")
	require.Contains(t, err.Error(), "re-running the same request is safe")
	require.NotNil(t, r1.Header, "the header of the saved batch comes back with the error")
	// Re-running the whole ingest while the server is still down: the
	// owner must sync first and fails without duplicating anything.
	_, err = o.Ingest(ctx, batches[0])
	require.ErrorIs(t, err, roles.ErrUnavailable)
	flaky.down = false
	for i, b := range batches {
		r, err := o.Ingest(ctx, b)
		require.NoError(t, err)
		require.Equal(t, i < 2, r.Existing, "batch %d", i)
	}
	again, err := o.Ingest(ctx, batches[0])
	require.NoError(t, err)
	require.True(t, again.Existing)
	require.Equal(t, r0.Header, again.Header)
	infos, err := s.ListBatches(ctx, "r")
	require.NoError(t, err)
	require.Len(t, infos, 3, "every batch stored exactly once")
	require.NoError(t, roles.CheckEntries(0, o.StreamEntries("r")))

	v, err := roles.NewVerifier(testCRS(t).VerifierKey(), o.Keys(), roles.WithTrustedSource(o), roles.WithStateSource(s))
	require.NoError(t, err)
	q := &roles.StreamQuery{Stream: "r", Kind: roles.QueryWindow, Columns: []string{"temp"}, TimeFrom: 0, TimeTo: 1000}
	ans, err := s.AnswerStream(ctx, q)
	require.NoError(t, err)
	res, err := v.VerifyStream(ctx, q, ans)
	require.NoError(t, err)
	require.Equal(t, "42", res.Totals[0].Int.String()) // (1+…+4)+(2+…+5)+(3+…+6)
	require.Len(t, res.Batches, 3)
}

// flakyPlaceholder forwards to a flakyStorage whose server is set later.
type flakyPlaceholder struct{ f *flakyStorage }

func (p flakyPlaceholder) StoreBatch(ctx context.Context, r *roles.StoreBatchRequest) error {
	if p.f.StorageClient == nil {
		return roles.ErrUnavailable
	}
	return p.f.StoreBatch(ctx, r)
}
func (p flakyPlaceholder) ApplyState(ctx context.Context, st *roles.SignedState) error {
	if p.f.StorageClient == nil {
		return roles.ErrUnavailable
	}
	return p.f.ApplyState(ctx, st)
}
func (p flakyPlaceholder) UpdateBatch(ctx context.Context, r *roles.UpdateBatchRequest) error {
	if p.f.StorageClient == nil || p.f.down {
		return roles.ErrUnavailable
	}
	return p.f.StorageClient.UpdateBatch(ctx, r)
}
func (p flakyPlaceholder) LatestState(ctx context.Context) (*roles.SignedState, error) {
	if p.f.StorageClient == nil {
		return nil, roles.ErrUnavailable
	}
	return p.f.LatestState(ctx)
}
