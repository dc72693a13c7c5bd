package roles_test

import (
	"context"
	"crypto/rand"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/internal/testkit"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

// Fixtures.

const testN = 16

// testCRS is the CRS most tests share.
func testCRS(t testing.TB) *commitment.CRS { return testkit.CRS(t, testN) }

// sharedOtherCRS is set up once, on first use.
var sharedOtherCRS = sync.OnceValues(func() (*commitment.CRS, error) { return commitment.Setup(testN, rand.Reader) })

// otherCRS is a second CRS of the same capacity with another trapdoor.
func otherCRS(t testing.TB) *commitment.CRS {
	t.Helper()
	c, err := sharedOtherCRS()
	require.NoError(t, err)
	require.NotEqual(t, testCRS(t).Digest(), c.Digest())
	return c
}

func newLocal(t testing.TB) *roles.Local {
	t.Helper()
	l, err := roles.NewLocal(context.Background(), testCRS(t), memory.NewOwnerStore(), memory.NewServerStore())
	require.NoError(t, err)
	return l
}

// createBatch stores b through the owner o and returns its batch id.
func createBatch(t testing.TB, ctx context.Context, o *roles.DataOwner, b *roles.Batch) roles.BatchID {
	t.Helper()
	sh, err := o.CreateBatch(ctx, b)
	require.NoError(t, err)
	id, err := sh.Header.Digest()
	require.NoError(t, err)
	return id
}

// sampleBatch has rows with timestamps 1000, 1010, …, and two columns.
func sampleBatch(stream string, rows int, seed uint64) *roles.Batch {
	r := mrand.New(mrand.NewPCG(seed, 1))
	b := &roles.Batch{Stream: stream, Timestamps: make([]uint64, rows)}
	temp := roles.Column{Name: "temp", Scale: 1, Values: make([]int64, rows)}
	load := roles.Column{Name: "load", Values: make([]int64, rows)}
	for i := range rows {
		b.Timestamps[i] = 1000 + uint64(i)*10
		temp.Values[i] = r.Int64N(1000) - 300
		load.Values[i] = r.Int64N(1 << 40)
	}
	b.Columns = []roles.Column{temp, load}
	return b
}

// rig is a system under attack plus what the attacker (the storage server)
// holds: the server's store, with every batch's data and randomness, and the
// public prover key. The owner's signer is kept only so that tests can play
// the owner (scenarios) or check their own mirrors of the signed messages; no
// attack uses it.
type rig struct {
	ctx    context.Context
	l      *roles.Local
	store  *memory.ServerStore
	pk     *commitment.ProverKey
	signer *roles.Ed25519Signer
	keys   roles.OwnerKeys
}

// rigOptions configure newRig.
type rigOptions struct {
	seed   uint64               // non-zero: deterministic owner randomness (keys, γ)
	signer *roles.Ed25519Signer // nil: a fresh key
	clock  func() time.Time     // nil: time.Now
}

func newRig(t testing.TB, c *commitment.CRS, o rigOptions) *rig {
	t.Helper()
	ctx := context.Background()
	s := o.signer
	if s == nil {
		var err error
		s, err = roles.GenerateEd25519Signer(rand.Reader)
		require.NoError(t, err)
	}
	opts := []roles.OwnerOption{roles.WithSigner(s)}
	if o.clock != nil {
		opts = append(opts, roles.WithClock(o.clock))
	}
	if o.seed != 0 {
		var key [32]byte
		key[0], key[1] = byte(o.seed), byte(o.seed>>8)
		opts = append(opts, roles.WithRandom(mrand.NewChaCha8(key)))
	}
	store := memory.NewServerStore()
	l, err := roles.NewLocal(ctx, c, memory.NewOwnerStore(), store, opts...)
	require.NoError(t, err)
	return &rig{ctx: ctx, l: l, store: store, pk: c.ProverKey(), signer: s, keys: l.Owner.Keys()}
}

// afterStream shifts a batch's timestamps, if needed, so that it starts
// after the end of its stream (SPEC §11.1): tests reuse time ranges.
func afterStream(o *roles.DataOwner, b *roles.Batch) *roles.Batch {
	es := o.StreamEntries(b.Stream)
	if len(es) == 0 || len(b.Timestamps) == 0 || b.Timestamps[0] > es[len(es)-1].T1 {
		return b
	}
	shift := es[len(es)-1].T1 - b.Timestamps[0] + 1000
	nb := *b
	nb.Timestamps = make([]uint64, len(b.Timestamps))
	for i, ts := range b.Timestamps {
		nb.Timestamps[i] = ts + shift
	}
	return &nb
}

func (r *rig) create(t testing.TB, b *roles.Batch) roles.BatchID {
	t.Helper()
	return createBatch(t, r.ctx, r.l.Owner, afterStream(r.l.Owner, b))
}

func (r *rig) revoke(t testing.TB, id roles.BatchID) *roles.SignedState {
	t.Helper()
	st, err := r.l.Owner.Revoke(r.ctx, id)
	require.NoError(t, err)
	return st
}

// stored returns the attacker's copy of a batch (the server's store).
func (r *rig) stored(t testing.TB, id roles.BatchID) *roles.StoredBatch {
	t.Helper()
	sb, err := r.store.Batch(r.ctx, id)
	require.NoError(t, err)
	return sb
}

// states returns the public revocation log, epochs 0..latest.
func (r *rig) states(t testing.TB) []roles.SignedState {
	t.Helper()
	latest, err := r.l.Server.LatestState(r.ctx)
	require.NoError(t, err)
	sts, err := r.l.Server.States(r.ctx, 0, latest.State.Epoch)
	require.NoError(t, err)
	return sts
}

// honest returns a private copy of the server's honest answer to q, after
// checking that it verifies.
func (r *rig) honest(t testing.TB, q *roles.Query) *roles.Answer {
	t.Helper()
	ans, err := r.l.Server.Answer(r.ctx, q)
	require.NoError(t, err)
	_, err = r.l.Verifier.Verify(r.ctx, q, ans)
	require.NoError(t, err, "the honest answer must verify")
	return deepCopy(t, ans)
}

// verify runs the rig's verifier.
func (r *rig) verify(q *roles.Query, a *roles.Answer) error {
	_, err := r.l.Verifier.Verify(r.ctx, q, a)
	return err
}

// freshVerifier returns a verifier of the rig's owner that starts at st and
// has no state source.
func (r *rig) freshVerifier(t testing.TB, st *roles.SignedState, opts ...roles.VerifierOption) *roles.Verifier {
	t.Helper()
	opts = append([]roles.VerifierOption{roles.WithInitialState(st)}, opts...)
	v, err := roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, opts...)
	require.NoError(t, err)
	return v
}

// deepCopy deep-copies a wire value through the codec (the server's
// answers share slices with its store: an attack must never modify them in
// place).
func deepCopy[T any](t testing.TB, v *T) *T {
	t.Helper()
	b, err := codec.Default().Marshal(v)
	require.NoError(t, err)
	var c T
	require.NoError(t, codec.Default().Unmarshal(b, &c))
	return &c
}

// requireErrIs asserts that err wraps every one of want.
func requireErrIs(t testing.TB, err error, want ...error) {
	t.Helper()
	require.Error(t, err, "the attack was accepted")
	for _, w := range want {
		require.ErrorIs(t, err, w)
	}
}

// requireTamperRejected deep-copies ans, tampers with the copy and asserts
// that the verifier rejects it as an answer to q with every one of want.
func (r *rig) requireTamperRejected(t testing.TB, q *roles.Query, ans *roles.Answer, tamper func(bad *roles.Answer), want ...error) {
	t.Helper()
	bad := deepCopy(t, ans)
	tamper(bad)
	requireErrIs(t, r.verify(q, bad), want...)
}

// Queries.

func rangeQ(id roles.BatchID, from, to uint32, cols ...string) *roles.Query {
	return &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: cols, From: from, To: to}
}

func pointQ(id roles.BatchID, row uint32, cols ...string) *roles.Query {
	return &roles.Query{Batch: id, Kind: roles.QueryPoint, Columns: cols, Row: row}
}

func windowQ(id roles.BatchID, from, to uint64, cols ...string) *roles.Query {
	return &roles.Query{Batch: id, Kind: roles.QueryWindow, Columns: cols, TimeFrom: from, TimeTo: to}
}

func auditQ(id roles.BatchID, nonce string, cols ...string) *roles.Query {
	return &roles.Query{Batch: id, Kind: roles.QueryAudit, Columns: cols, Nonce: []byte(nonce)}
}

func weightedQ(id roles.BatchID, w []int64, cols ...string) *roles.Query {
	v := make(codec.ScalarVector, len(w))
	for i := range w {
		v[i] = roles.FromInt64(w[i])
	}
	return &roles.Query{Batch: id, Kind: roles.QueryWeighted, Columns: cols, Weights: v}
}
