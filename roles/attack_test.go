package roles_test

// Adversarial tests: a malicious storage server (SPEC §1: untrusted, holds
// all batch data, the commitment randomness, the public revocation history
// and the CRS prover key, but neither the owner's signing key nor the
// accumulator secret s) tries to make a verifier accept an answer that is
// not exactly what the owner's data implies. Every attack starts from an
// honest answer that verifies, so each rejection is due to the attack.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"math"
	"math/big"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/internal/hash"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

// ---------------------------------------------------------------------------
// Fixtures.

var (
	otherCRSOnce sync.Once
	otherCRSVal  *commitment.CRS
)

// otherCRS is a second CRS of the same capacity with another trapdoor.
func otherCRS(t testing.TB) *commitment.CRS {
	otherCRSOnce.Do(func() {
		var err error
		otherCRSVal, err = commitment.Setup(testN, rand.Reader)
		if err != nil {
			panic(err)
		}
	})
	require.NotEqual(t, testCRS(t).Digest(), otherCRSVal.Digest())
	return otherCRSVal
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
	sh, err := r.l.Owner.CreateBatch(r.ctx, afterStream(r.l.Owner, b))
	require.NoError(t, err)
	id, err := sh.Header.Digest()
	require.NoError(t, err)
	return id
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
	return cloneAnswer(t, ans)
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

// cloneAnswer deep-copies an answer (the server's answers share slices with
// its store: an attack must never modify them in place).
func cloneAnswer(t testing.TB, a *roles.Answer) *roles.Answer {
	t.Helper()
	b, err := codec.Default().Marshal(a)
	require.NoError(t, err)
	var c roles.Answer
	require.NoError(t, codec.Default().Unmarshal(b, &c))
	return &c
}

func cloneState(t testing.TB, s *roles.SignedState) *roles.SignedState {
	t.Helper()
	b, err := codec.Default().Marshal(s)
	require.NoError(t, err)
	var c roles.SignedState
	require.NoError(t, codec.Default().Unmarshal(b, &c))
	return &c
}

func cloneHeader(t testing.TB, h *roles.SignedHeader) *roles.SignedHeader {
	t.Helper()
	b, err := codec.Default().Marshal(h)
	require.NoError(t, err)
	var c roles.SignedHeader
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

// ---------------------------------------------------------------------------
// The attacker's tools: mirrors of the public derivations of SPEC §4, §7
// (the library keeps them unexported) and openings computed with the public
// prover key. Each mirror is checked against the honest server's output
// before it is used to forge.

// columnCtx mirrors the context of a combined column opening: the batch
// digest, the encoded query and, for a time window, the selected rows.
func columnCtx(t testing.TB, q *roles.Query, first, last uint32) []byte {
	t.Helper()
	b, err := codec.Default().Marshal(q)
	require.NoError(t, err)
	ctx := append(append([]byte{}, q.Batch[:]...), b...)
	if q.Kind == roles.QueryWindow {
		ctx = append(ctx, hash.U64(uint64(first))...)
		ctx = append(ctx, hash.U64(uint64(last))...)
	}
	return ctx
}

// windowWeightsOf mirrors ρ = HFr("vds/v1/tw", D, positions, claimed times).
func windowWeightsOf(id roles.BatchID, rows []int, times []uint64) commitment.Weights {
	parts := [][]byte{id[:]}
	for _, r := range rows {
		parts = append(parts, hash.U64(uint64(r)))
	}
	for _, t := range times {
		parts = append(parts, hash.U64(t))
	}
	return commitment.Sparse(rows, hash.ToFr(hash.TagTimeWindow, len(rows), parts...))
}

// auditWeightsOf mirrors wᵢ = ρ^(i−1), ρ = HFr("vds/v1/audit", D, cols, nonce, epoch).
func auditWeightsOf(q *roles.Query, l int, epoch uint64) []fr.Element {
	parts := [][]byte{q.Batch[:]}
	for _, c := range q.Columns {
		parts = append(parts, []byte(c))
	}
	parts = append(parts, q.Nonce, hash.U64(epoch))
	rho := hash.ToFr1(hash.TagAudit, parts...)
	w := make([]fr.Element, l)
	w[0].SetOne()
	for i := 1; i < l; i++ {
		w[i].Mul(&w[i-1], &rho)
	}
	return w
}

// stateMsg mirrors what the owner signs for a state.
func stateMsg(t testing.TB, s *roles.SignedState) []byte {
	t.Helper()
	d, err := s.State.Digest()
	require.NoError(t, err)
	m := hash.Sum(hash.TagStateSig, d[:], hash.U64(uint64(s.IssuedAt)), []byte(s.KeyID),
		s.Head.Root[:], hash.U64(s.Head.Streams), hash.U64(s.Head.Entries))
	return m[:]
}

// columnsOf returns private copies of the named columns of a stored batch
// and their randomness.
func columnsOf(t testing.TB, sb *roles.StoredBatch, names ...string) ([][]fr.Element, []fr.Element) {
	t.Helper()
	ms := make([][]fr.Element, len(names))
	gs := make([]fr.Element, len(names))
	for i, n := range names {
		c, ok := sb.Header.Header.Column(n)
		require.True(t, ok, n)
		ms[i] = append([]fr.Element(nil), sb.Data.Columns[c]...)
		gs[i] = fr.Element(sb.Data.Gammas[c])
	}
	return ms, gs
}

// openColumns computes a combined opening of the vectors ms (whatever the
// attacker chooses) with the prover key, bound to q (and window rows).
func (r *rig) openColumns(t testing.TB, ms [][]fr.Element, gs []fr.Element, w commitment.Weights, q *roles.Query, first, last uint32) ([]codec.Scalar, *codec.G1) {
	t.Helper()
	xs, proof, err := r.pk.OpenColumns(ms, gs, w, columnCtx(t, q, first, last))
	require.NoError(t, err)
	vals := make([]codec.Scalar, len(xs))
	for i := range xs {
		vals[i] = codec.Scalar(xs[i])
	}
	p := codec.G1(proof)
	return vals, &p
}

// forgeWindow builds a time-window answer from base that claims the rows
// first..last. The boundary proof opens the timestamp vector opened (the
// true one, or one the attacker altered) with the weights that hash the
// claimed timestamps: those of opened at the boundary rows, then passed
// through lie. The column sums and proof are computed honestly for the
// claimed rows.
func (r *rig) forgeWindow(t testing.TB, base *roles.Answer, sb *roles.StoredBatch, q *roles.Query, first, last uint32, opened []uint64, lie func(rows []int, times []uint64)) *roles.Answer {
	t.Helper()
	l := int(sb.Header.Header.Rows)
	rows := roles.BoundaryRows(first, last, l)
	claimed := make([]uint64, len(rows))
	for i, row := range rows {
		claimed[i] = opened[row-1]
	}
	if lie != nil {
		lie(rows, claimed)
	}
	ts := make([]fr.Element, len(opened))
	for i, v := range opened {
		ts[i].SetUint64(v)
	}
	_, tproof, err := r.pk.Open(ts, fr.Element(sb.Data.TimeGamma), windowWeightsOf(sb.ID, rows, claimed))
	require.NoError(t, err)
	a := cloneAnswer(t, base)
	a.Window = &roles.WindowProof{First: first, Last: last, Times: claimed, Proof: codec.G1(tproof)}
	if last < first {
		a.Values = make([]codec.Scalar, len(q.Columns))
		a.Proof = nil
		return a
	}
	ms, gs := columnsOf(t, sb, q.Columns...)
	a.Values, a.Proof = r.openColumns(t, ms, gs, commitment.Range(int(first), int(last)), q, first, last)
	return a
}

// forgeMembershipWitness runs the public witness update of SPEC §6 over the
// whole revocation log for y, ignoring that some x_E = y: at that epoch the
// update yields (f_{E−1}, 0), the membership witness, and keeps u = 0 from
// then on. No secret is needed.
func forgeMembershipWitness(t testing.TB, states []roles.SignedState, y fr.Element) (bls.G1Affine, fr.Element) {
	t.Helper()
	w := accumulator.InitialWitness()
	W, u := w.W, w.U
	for e := 1; e < len(states); e++ {
		fPrev := bls.G1Affine(states[e-1].State.Acc)
		x := fr.Element(states[e].State.Revoked.X)
		var d fr.Element
		d.Sub(&x, &y)
		var acc bls.G1Jac
		if !W.IsInfinity() {
			var b big.Int
			acc.FromAffine(&W)
			acc.ScalarMultiplication(&acc, d.BigInt(&b))
		}
		acc.AddMixed(&fPrev)
		W.FromJacobian(&acc)
		u.Mul(&u, &d)
	}
	return W, u
}

// nonSubgroupG1 returns a point on the G1 curve outside the prime-order
// subgroup.
func nonSubgroupG1(t testing.TB) bls.G1Affine {
	t.Helper()
	var four fp.Element
	four.SetUint64(4)
	for i := uint64(1); i < 1000; i++ {
		var x, rhs, y fp.Element
		x.SetUint64(i)
		rhs.Square(&x).Mul(&rhs, &x).Add(&rhs, &four)
		if y.Sqrt(&rhs) == nil {
			continue
		}
		p := bls.G1Affine{X: x, Y: y}
		if p.IsOnCurve() && !p.IsInSubGroup() {
			return p
		}
	}
	t.Fatal("no point outside the subgroup found")
	return bls.G1Affine{}
}

// offCurveG1 returns a point that is not on the curve at all.
func offCurveG1() bls.G1Affine {
	var p bls.G1Affine
	p.X.SetOne()
	p.Y.SetOne() // 1 ≠ 1 + 4
	return p
}

func identityG1() codec.G1 {
	var p bls.G1Affine
	p.SetInfinity()
	return codec.G1(p)
}

func g1Gen() bls.G1Affine {
	_, _, g, _ := bls.Generators()
	return g
}

func addScalar(s codec.Scalar, v uint64) codec.Scalar {
	e := fr.Element(s)
	var d fr.Element
	d.SetUint64(v)
	e.Add(&e, &d)
	return codec.Scalar(e)
}

func addG1(p codec.G1, q bls.G1Affine) codec.G1 {
	a := bls.G1Affine(p)
	a.Add(&a, &q)
	return codec.G1(a)
}

// ---------------------------------------------------------------------------
// The attacks on a shared system (nothing here changes its state).

// sharedSeed makes the shared owner's keys reproducible, so that a twin owner
// with the very same keys can be built on another CRS.
const sharedSeed = 0x5eed

func TestMaliciousServer(t *testing.T) {
	signer, err := roles.GenerateEd25519Signer(rand.Reader)
	require.NoError(t, err)
	r := newRig(t, testCRS(t), rigOptions{seed: sharedSeed, signer: signer})
	ctx := r.ctx
	X := r.create(t, sampleBatch("sensors", 12, 1))
	Y := r.create(t, sampleBatch("sensors", 12, 2))
	Z := r.create(t, sampleBatch("other", 8, 3))
	// Revoke a dummy batch so that the system is at epoch 1 and witnesses
	// differ from batch to batch (at epoch 0 every witness is (O, −1)).
	r.revoke(t, r.create(t, sampleBatch("dummy", 3, 4)))
	const epoch = 1
	require.EqualValues(t, epoch, r.l.Verifier.State().State.Epoch)
	sbX := r.stored(t, X)
	v := r.l.Verifier

	t.Run("mirrors", func(t *testing.T) {
		t.Parallel()
		// The attacker's mirrors reproduce the honest server bit for bit, so
		// the forged answers below differ from honest ones only by the attack.
		q := rangeQ(X, 2, 9, "temp", "load")
		ans := r.honest(t, q)
		ms, gs := columnsOf(t, sbX, "temp", "load")
		vals, proof := r.openColumns(t, ms, gs, commitment.Range(2, 9), q, 0, 0)
		require.Equal(t, ans.Values, vals)
		require.Equal(t, *ans.Proof, *proof)

		wq := windowQ(X, 1015, 1055, "temp", "load")
		wans := r.honest(t, wq)
		forged := r.forgeWindow(t, wans, sbX, wq, 3, 6, sbX.Data.Times, nil)
		require.Equal(t, wans.Window.Times, forged.Window.Times)
		require.Equal(t, wans.Window.Proof, forged.Window.Proof)
		require.Equal(t, *wans.Proof, *forged.Proof)
		require.NoError(t, r.verify(wq, forged))

		// The audit weights mirror gives the verified values.
		aq := auditQ(X, "mirror", "temp")
		res, err := r.l.Query(ctx, aq)
		require.NoError(t, err)
		w := auditWeightsOf(aq, 12, epoch)
		var want fr.Element
		for i := range w {
			var p fr.Element
			p.Mul(&w[i], &sbX.Data.Columns[0][i])
			want.Add(&want, &p)
		}
		require.Equal(t, 0, want.BigInt(new(big.Int)).Cmp(res.Values[0].Int), "an audit value is the field element in [0, r)")
	})

	t.Run("01-wrong-sum", func(t *testing.T) {
		t.Parallel()
		q := rangeQ(X, 2, 9, "temp")
		ans := r.honest(t, q)
		bad := cloneAnswer(t, ans)
		bad.Values[0] = addScalar(bad.Values[0], 1)
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)

		// Two columns: only the second sum is changed.
		q2 := rangeQ(X, 2, 9, "temp", "load")
		bad = r.honest(t, q2)
		bad.Values[1] = addScalar(bad.Values[1], 1)
		requireErrIs(t, r.verify(q2, bad), roles.ErrBadProof)

		// The sum negated (same magnitude, other sign).
		bad = cloneAnswer(t, ans)
		x := fr.Element(bad.Values[0])
		x.Neg(&x)
		bad.Values[0] = codec.Scalar(x)
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)

		// With the prover key: change a row of its copy of the data and open
		// the altered vector honestly, with the true randomness.
		ms, gs := columnsOf(t, sbX, "temp")
		var one fr.Element
		one.SetOne()
		ms[0][4].Add(&ms[0][4], &one)
		bad = cloneAnswer(t, ans)
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Range(2, 9), q, 0, 0)
		require.NotEqual(t, ans.Values[0], bad.Values[0])
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)

		// Same with the altered row outside the range: the sum is then right,
		// the proof honest for a vector that is not the committed one.
		ms, gs = columnsOf(t, sbX, "temp")
		ms[0][10].Add(&ms[0][10], &one)
		bad = cloneAnswer(t, ans)
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Range(2, 9), q, 0, 0)
		require.Equal(t, ans.Values[0], bad.Values[0])
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)

		// Shift the proof so as to compensate the change with what the
		// prover key offers: π·g_1^(−δ)… still no g_{n+1} (SPEC §3).
		bad = cloneAnswer(t, ans)
		bad.Values[0] = addScalar(bad.Values[0], 1)
		var negOne fr.Element
		negOne.SetOne()
		negOne.Neg(&negOne)
		var shift bls.G1Affine
		var nb big.Int
		g := g1Gen()
		shift.ScalarMultiplication(&g, negOne.BigInt(&nb))
		bad.Proof = ptrG1(addG1(*bad.Proof, shift))
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
	})

	t.Run("02-proof-for-another-column", func(t *testing.T) {
		t.Parallel()
		qT, qL := rangeQ(X, 1, 12, "temp"), rangeQ(X, 1, 12, "load")
		r.honest(t, qT)
		ansL := r.honest(t, qL)
		// The load answer as is: it answers another query.
		requireErrIs(t, r.verify(qT, ansL), roles.ErrBadProof)
		// Relabelled as the temp query.
		bad := cloneAnswer(t, ansL)
		bad.Query = *qT
		requireErrIs(t, r.verify(qT, bad), roles.ErrBadProof)
		// Recomputed with the prover key: load's data and randomness opened
		// under temp's query context.
		ms, gs := columnsOf(t, sbX, "load")
		bad = cloneAnswer(t, ansL)
		bad.Query = *qT
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Range(1, 12), qT, 0, 0)
		requireErrIs(t, r.verify(qT, bad), roles.ErrBadProof)
		// Two columns, the values swapped.
		q2 := rangeQ(X, 1, 12, "temp", "load")
		bad = r.honest(t, q2)
		bad.Values[0], bad.Values[1] = bad.Values[1], bad.Values[0]
		requireErrIs(t, r.verify(q2, bad), roles.ErrBadProof)
		// Two columns, values and proof of the swapped column order.
		ms, gs = columnsOf(t, sbX, "load", "temp")
		bad = r.honest(t, q2)
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Range(1, 12), q2, 0, 0)
		requireErrIs(t, r.verify(q2, bad), roles.ErrBadProof)
		// A point: the value of the other column at that row.
		qp := pointQ(X, 5, "temp")
		r.honest(t, qp)
		ms, gs = columnsOf(t, sbX, "load")
		bad = r.honest(t, qp)
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Row(5), qp, 0, 0)
		requireErrIs(t, r.verify(qp, bad), roles.ErrBadProof)
	})

	t.Run("03-proof-for-another-batch", func(t *testing.T) {
		t.Parallel()
		qX, qY := rangeQ(X, 1, 8, "temp"), rangeQ(Y, 1, 8, "temp")
		ansX, ansY := r.honest(t, qX), r.honest(t, qY)
		// X's answer for a query on Y.
		requireErrIs(t, r.verify(qY, ansX), roles.ErrBadProof)
		// Relabelled: X's header does not digest to Y.
		bad := cloneAnswer(t, ansX)
		bad.Query = *qY
		requireErrIs(t, r.verify(qY, bad), roles.ErrBadProof)
		// Y's header with X's witness, values and proof.
		bad = cloneAnswer(t, ansX)
		bad.Query, bad.Header = *qY, ansY.Header
		requireErrIs(t, r.verify(qY, bad), roles.ErrBadProof)
		// Y's header and witness, X's values and proof.
		bad = cloneAnswer(t, ansY)
		bad.Values, bad.Proof = ansX.Values, ansX.Proof
		requireErrIs(t, r.verify(qY, bad), roles.ErrBadProof)
		// With the prover key: X's data opened under Y's query context.
		ms, gs := columnsOf(t, sbX, "temp")
		bad = cloneAnswer(t, ansY)
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Range(1, 8), qY, 0, 0)
		requireErrIs(t, r.verify(qY, bad), roles.ErrBadProof)
		// The witness of another batch (they differ from epoch 1 on).
		require.NotEqual(t, ansX.Witness, ansY.Witness)
		bad = cloneAnswer(t, ansY)
		bad.Witness = ansX.Witness
		requireErrIs(t, r.verify(qY, bad), roles.ErrBadProof)
		// The witness of a third batch.
		wit, err := r.l.Server.Witness(ctx, Z)
		require.NoError(t, err)
		bad = cloneAnswer(t, ansY)
		bad.Witness = roles.WitnessWire{W: codec.G1OrIdentity(wit.W), U: codec.Scalar(wit.U)}
		requireErrIs(t, r.verify(qY, bad), roles.ErrBadProof)
	})

	t.Run("04-foreign-header", func(t *testing.T) {
		t.Parallel()
		// Another system: another owner on another CRS.
		other := newRig(t, otherCRS(t), rigOptions{})
		oid := other.create(t, sampleBatch("sensors", 12, 1))
		oq := rangeQ(oid, 1, 12, "temp")
		oans := other.honest(t, oq)
		requireErrIs(t, r.verify(oq, oans), roles.ErrCRSMismatch)
		// Its header in an answer on one of our batches.
		bad := r.honest(t, rangeQ(X, 1, 12, "temp"))
		bad.Header = oans.Header
		requireErrIs(t, r.verify(rangeQ(X, 1, 12, "temp"), bad), roles.ErrCRSMismatch)

		// Another owner on the same CRS.
		stranger := newRig(t, testCRS(t), rigOptions{})
		sid := stranger.create(t, sampleBatch("sensors", 12, 1))
		sq := rangeQ(sid, 1, 12, "temp")
		sans := stranger.honest(t, sq)
		requireErrIs(t, r.verify(sq, sans), roles.ErrBadSignature)
		// Its header re-signed… it cannot: the attacker has only the
		// stranger's signatures. With our owner's key id it fails too.
		sh := cloneHeader(t, &sans.Header)
		sh.Header.KeyID = r.keys.Signing[0].ID
		sans2 := cloneAnswer(t, sans)
		sans2.Header = *sh
		requireErrIs(t, r.verify(sq, sans2), roles.ErrBadSignature)

		// A twin of our owner — the very same keys — on another CRS: its
		// signatures are the owner's, but made for other parameters.
		twin := newRig(t, otherCRS(t), rigOptions{seed: sharedSeed, signer: signer})
		require.Equal(t, r.keys.ID(), twin.keys.ID())
		tid := twin.create(t, sampleBatch("sensors", 12, 1))
		tq := rangeQ(tid, 1, 12, "temp")
		tans := twin.honest(t, tq)
		requireErrIs(t, r.verify(tq, tans), roles.ErrCRSMismatch)
		requireErrIs(t, r.l.Server.StoreBatch(ctx, &roles.StoreBatchRequest{Header: tans.Header, Data: twin.stored(t, tid).Data}), roles.ErrCRSMismatch)

		// Same owner, another stream: a genuine header, not the queried batch.
		qX := rangeQ(X, 1, 8, "temp")
		r.honest(t, qX)
		qZ := rangeQ(Z, 1, 8, "temp")
		bad = r.honest(t, qZ)
		bad.Query = *qX
		requireErrIs(t, r.verify(qX, bad), roles.ErrBadProof)
		// …nor with its values and proof recomputed for X's query context.
		ms, gs := columnsOf(t, r.stored(t, Z), "temp")
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Range(1, 8), qX, 0, 0)
		requireErrIs(t, r.verify(qX, bad), roles.ErrBadProof)
	})

	t.Run("08-future-epoch", func(t *testing.T) {
		t.Parallel()
		q := rangeQ(X, 1, 4, "temp")
		bad := r.honest(t, q)
		latest := r.l.Verifier.State().State.Epoch
		bad.Epoch = latest + 5
		err := r.verify(q, bad)
		requireErrIs(t, err, roles.ErrUnknownState)
		var m *roles.MissingStatesError
		require.ErrorAs(t, err, &m)
		require.Equal(t, roles.MissingStatesError{From: latest + 1, To: latest + 5}, *m)
		require.Equal(t, latest, r.l.Verifier.State().State.Epoch, "the verifier must not move")

		// A verifier without a state source names the same epochs.
		v2 := r.freshVerifier(t, r.l.Verifier.State())
		_, err = v2.Verify(ctx, q, bad)
		require.ErrorAs(t, err, &m)
		require.Equal(t, roles.MissingStatesError{From: latest + 1, To: latest + 5}, *m)

		// The largest epoch: no overflow, no endless catching up.
		bad.Epoch = math.MaxUint64
		err = r.verify(q, bad)
		require.ErrorAs(t, err, &m)
		require.Equal(t, roles.MissingStatesError{From: latest + 1, To: math.MaxUint64}, *m)
	})

	t.Run("09-stale-nonce", func(t *testing.T) {
		t.Parallel()
		q1 := auditQ(X, "nonce-1", "temp", "load")
		q2 := auditQ(X, "nonce-2", "temp", "load")
		a1 := r.honest(t, q1)
		r.honest(t, q2)
		// The answer to an old challenge.
		err := r.verify(q2, a1)
		requireErrIs(t, err, roles.ErrWrongChallenge, roles.ErrBadProof)
		// Relabelled with the new nonce: the weights are not those of the
		// old challenge.
		bad := cloneAnswer(t, a1)
		bad.Query = *q2
		requireErrIs(t, r.verify(q2, bad), roles.ErrBadProof)
		require.False(t, errors.Is(r.verify(q2, bad), roles.ErrWrongChallenge))
		// The audit answered by a range sum over all rows (no challenge).
		bad = r.honest(t, rangeQ(X, 1, 12, "temp", "load"))
		bad.Query = *q2
		requireErrIs(t, r.verify(q2, bad), roles.ErrBadProof)
		// With the weights of another epoch (precomputed before epoch 1).
		ms, gs := columnsOf(t, sbX, "temp", "load")
		bad = cloneAnswer(t, a1)
		bad.Query = *q2
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Dense(auditWeightsOf(q2, 12, epoch-1)), q2, 0, 0)
		requireErrIs(t, r.verify(q2, bad), roles.ErrBadProof)
		// Control: the mirror with the right epoch is the honest answer.
		good := cloneAnswer(t, a1)
		good.Query = *q2
		good.Values, good.Proof = r.openColumns(t, ms, gs, commitment.Dense(auditWeightsOf(q2, 12, epoch)), q2, 0, 0)
		require.NoError(t, r.verify(q2, good))
		// Without the first column's data: only the rows the server kept.
		ms[0] = ms[0][:6]
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Dense(auditWeightsOf(q2, 12, epoch)), q2, 0, 0)
		requireErrIs(t, r.verify(q2, bad), roles.ErrBadProof)
	})

	t.Run("10-window-hidden-boundary-row", func(t *testing.T) {
		t.Parallel()
		// Rows have t = 1000, 1010, …, 1110; [1015, 1055] selects rows 3..6.
		q := windowQ(X, 1015, 1055, "temp", "load")
		ans := r.honest(t, q)
		require.Equal(t, [2]uint32{3, 6}, [2]uint32{ans.Window.First, ans.Window.Last})
		for _, c := range []struct {
			name        string
			first, last uint32
		}{
			{"drop first row", 4, 6},
			{"drop last row", 3, 5},
			{"drop both", 4, 5},
			{"extend before", 2, 6},
			{"extend after", 3, 7},
			{"claim empty", 3, 2},
			{"claim empty after", 7, 6},
			{"claim everything", 1, 12},
		} {
			bad := r.forgeWindow(t, ans, sbX, q, c.first, c.last, sbX.Data.Times, nil)
			requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		}
		// Only the row numbers changed, the rest of the honest answer kept.
		bad := cloneAnswer(t, ans)
		bad.Window.First = 4
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
	})

	t.Run("11-window-boundary-timestamp-lies", func(t *testing.T) {
		t.Parallel()
		q := windowQ(X, 1015, 1055, "temp", "load")
		ans := r.honest(t, q)
		lieAt := func(row int, t uint64) func([]int, []uint64) {
			return func(rows []int, times []uint64) {
				for i, r := range rows {
					if r == row {
						times[i] = t
					}
				}
			}
		}
		altered := func(row int, t uint64) []uint64 {
			ts := append([]uint64(nil), sbX.Data.Times...)
			ts[row-1] = t
			return ts
		}
		// Hide row 3 (t = 1020) by claiming t_3 = 1014 < 1015: with the
		// opening of the true timestamps…
		bad := r.forgeWindow(t, ans, sbX, q, 4, 6, sbX.Data.Times, lieAt(3, 1014))
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		// …and with an opening computed honestly for the lie.
		bad = r.forgeWindow(t, ans, sbX, q, 4, 6, altered(3, 1014), nil)
		require.Equal(t, []uint64{1014, 1030, 1050, 1060}, bad.Window.Times)
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		// Hide row 6 (t = 1050) by claiming t_6 = 1056, both ways.
		bad = r.forgeWindow(t, ans, sbX, q, 3, 5, sbX.Data.Times, lieAt(6, 1056))
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		bad = r.forgeWindow(t, ans, sbX, q, 3, 5, altered(6, 1056), nil)
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		// Honest rows, one boundary timestamp changed within the rules.
		bad = r.forgeWindow(t, ans, sbX, q, 3, 6, sbX.Data.Times, lieAt(7, 1070))
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		bad = r.forgeWindow(t, ans, sbX, q, 3, 6, altered(2, 1011), nil)
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		// Claim the window is empty between rows 2 and 3 (t_3 = 1060).
		bad = r.forgeWindow(t, ans, sbX, q, 3, 2, altered(3, 1060), nil)
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		// The honest answer with its timestamps edited in place.
		bad = cloneAnswer(t, ans)
		bad.Window.Times[0]++
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		bad = cloneAnswer(t, ans)
		bad.Window.Times[1], bad.Window.Times[2] = bad.Window.Times[2], bad.Window.Times[1]
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
	})

	t.Run("12-identity-and-invalid-points", func(t *testing.T) {
		t.Parallel()
		q := rangeQ(X, 1, 12, "temp", "load")
		ans := r.honest(t, q)
		wq := windowQ(X, 1015, 1055, "temp")
		wans := r.honest(t, wq)
		bad := cloneAnswer(t, ans)
		bad.Proof = ptrG1(identityG1())
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof, roles.ErrInvalidInput)
		require.ErrorIs(t, r.verify(q, bad), codec.ErrIdentity)

		bad = cloneAnswer(t, wans)
		bad.Window.Proof = identityG1()
		requireErrIs(t, r.verify(wq, bad), roles.ErrBadProof, codec.ErrIdentity)

		// The identity is a legitimate witness point only at epoch 0.
		bad = cloneAnswer(t, ans)
		bad.Witness.W = codec.G1OrIdentity(identityG1())
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		// …also with the epoch-0 witness (O, −1) as a whole.
		w0 := accumulator.InitialWitness()
		bad.Witness = roles.WitnessWire{W: codec.G1OrIdentity(w0.W), U: codec.Scalar(w0.U)}
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)

		// Identity commitments in the header (this also breaks the signature;
		// the header is refused as invalid input before its signature is
		// checked, SPEC §2). The storage server refuses it the same way.
		bad = cloneAnswer(t, ans)
		bad.Header.Header.Commits[0] = identityG1()
		requireErrIs(t, r.verify(q, bad), roles.ErrInvalidInput)
		require.False(t, errors.Is(r.verify(q, bad), roles.ErrBadSignature))
		requireErrIs(t, r.l.Server.StoreBatch(ctx, &roles.StoreBatchRequest{Header: bad.Header, Data: sbX.Data}), roles.ErrInvalidInput, codec.ErrIdentity)
		bad = cloneAnswer(t, ans)
		var o2 bls.G2Affine
		o2.SetInfinity()
		bad.Header.Header.TimeCommit = codec.G2(o2)
		requireErrIs(t, r.verify(q, bad), roles.ErrInvalidInput)

		// Points on the curve outside the prime-order subgroup.
		ns := nonSubgroupG1(t)
		bad = cloneAnswer(t, ans)
		bad.Proof = ptrG1(codec.G1(ns))
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof, codec.ErrInvalidPoint)
		bad = cloneAnswer(t, wans)
		bad.Window.Proof = codec.G1(ns)
		requireErrIs(t, r.verify(wq, bad), roles.ErrBadProof, codec.ErrInvalidPoint)
		bad = cloneAnswer(t, ans)
		bad.Witness.W = codec.G1OrIdentity(ns)
		requireErrIs(t, r.verify(q, bad), codec.ErrInvalidPoint)
		bad = cloneAnswer(t, ans)
		bad.Header.Header.Commits[1] = codec.G1(ns)
		requireErrIs(t, r.verify(q, bad), codec.ErrInvalidPoint)

		// Points off the curve.
		oc := offCurveG1()
		bad = cloneAnswer(t, ans)
		bad.Proof = ptrG1(codec.G1(oc))
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof, codec.ErrInvalidPoint)
		bad = cloneAnswer(t, ans)
		bad.Witness.W = codec.G1OrIdentity(oc)
		requireErrIs(t, r.verify(q, bad), codec.ErrInvalidPoint)
		bad = cloneAnswer(t, ans)
		bad.Header.Header.Commits[0] = codec.G1(oc)
		requireErrIs(t, r.verify(q, bad), codec.ErrInvalidPoint)

		// On the wire: the same substitutions in the encoded answer.
		enc, err := codec.Default().Marshal(ans)
		require.NoError(t, err)
		proofPt := bls.G1Affine(*ans.Proof)
		proofBytes := proofPt.Bytes()
		nsBytes := ns.Bytes()
		var infBytes [48]byte
		infBytes[0] = 0xc0 // compressed identity
		for _, c := range []struct {
			name string
			repl []byte
			want error
		}{
			{"outside the subgroup", nsBytes[:], codec.ErrNotInSubgroup},
			{"identity as point bytes", infBytes[:], codec.ErrIdentity},
		} {
			patched := replaceOnce(t, enc, proofBytes[:], c.repl)
			var a roles.Answer
			err := codec.Default().Unmarshal(patched, &a)
			requireErrIs(t, err, c.want, roles.ErrInvalidInput)
		}
		// The identity under its own tag where a G1 is required.
		tagged := append([]byte{0xda, 0x56, 0x44, 0x53, 0x01, 0x58, 0x30}, proofBytes[:]...)
		patched := replaceOnce(t, enc, tagged, []byte{0xda, 0x56, 0x44, 0x53, 0x04, 0x40})
		var a roles.Answer
		requireErrIs(t, codec.Default().Unmarshal(patched, &a), codec.ErrIdentity)
		// The witness point outside the subgroup.
		witPt := bls.G1Affine(ans.Witness.W)
		wb := witPt.Bytes()
		patched = replaceOnce(t, enc, wb[:], nsBytes[:])
		requireErrIs(t, codec.Default().Unmarshal(patched, &a), codec.ErrNotInSubgroup)
	})

	t.Run("13-non-canonical-scalars", func(t *testing.T) {
		t.Parallel()
		q := weightedQ(X, []int64{3, -1, 7, 2}, "temp", "load")
		ans := r.honest(t, q)
		enc, err := codec.Default().Marshal(ans)
		require.NoError(t, err)
		var ok roles.Answer
		require.NoError(t, codec.Default().Unmarshal(enc, &ok))
		require.NoError(t, r.verify(q, &ok), "the decoded honest answer verifies")

		plusR := func(e fr.Element) []byte {
			var b big.Int
			e.BigInt(&b)
			b.Add(&b, fr.Modulus())
			require.Less(t, b.BitLen(), 257)
			out := make([]byte, 32)
			b.FillBytes(out)
			return out
		}
		scalarItem := func(e fr.Element) []byte {
			b := e.Bytes()
			return append([]byte{0xda, 0x56, 0x44, 0x53, 0x03, 0x58, 0x20}, b[:]...)
		}
		for _, c := range []struct {
			name string
			e    fr.Element
		}{
			{"value", fr.Element(ans.Values[0])},
			{"second value", fr.Element(ans.Values[1])},
			{"witness u", fr.Element(ans.Witness.U)},
		} {
			item := scalarItem(c.e)
			patched := replaceOnce(t, enc, item, append(append([]byte{}, item[:7]...), plusR(c.e)...))
			var a roles.Answer
			err := codec.Default().Unmarshal(patched, &a)
			requireErrIs(t, err, codec.ErrNonCanonical, codec.ErrInvalidEncoding)
		}
		// A weight of the query inside the answer (a scalar vector).
		w := q.Weights[2] // 7
		wb := w.Bytes()
		patched := replaceOnce(t, enc, wb[:], plusR(w))
		var a roles.Answer
		requireErrIs(t, codec.Default().Unmarshal(patched, &a), codec.ErrNonCanonical, codec.ErrInvalidEncoding)
		// The same for a value equal to zero: 0 + r = r.
		zero := codec.Scalar{}
		zb, err := codec.Default().Marshal(zero)
		require.NoError(t, err)
		bad := append(append([]byte{}, zb[:7]...), plusR(fr.Element{})...)
		var s codec.Scalar
		requireErrIs(t, codec.Default().Unmarshal(bad, &s), codec.ErrNonCanonical)
	})

	t.Run("14-bad-state-signatures", func(t *testing.T) {
		t.Parallel()
		sts := r.states(t)
		st0, st1 := &sts[0], &sts[1]
		// The mirror of the signed message is right: re-signing with the
		// owner's key gives an accepted state.
		good := cloneState(t, st1)
		good.IssuedAt++
		sig, err := signer.Sign(ctx, stateMsg(t, good))
		require.NoError(t, err)
		good.Sig = sig
		require.NoError(t, r.freshVerifier(t, st0).AcceptState(ctx, good))

		_, otherKey, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		otherID := roles.KeyID(otherKey.Public().(ed25519.PublicKey))
		stranger := newRig(t, testCRS(t), rigOptions{})
		twin := newRig(t, otherCRS(t), rigOptions{seed: sharedSeed, signer: signer})
		require.Equal(t, r.keys.ID(), twin.keys.ID())
		for _, c := range []struct {
			name   string
			mutate func(s *roles.SignedState) *roles.SignedState
			want   []error
		}{
			{"flipped signature byte", func(s *roles.SignedState) *roles.SignedState { s.Sig[7] ^= 1; return s }, []error{roles.ErrBadSignature}},
			{"flipped last signature byte", func(s *roles.SignedState) *roles.SignedState { s.Sig[63] ^= 0x80; return s }, []error{roles.ErrBadSignature}},
			{"empty signature", func(s *roles.SignedState) *roles.SignedState { s.Sig = nil; return s }, []error{roles.ErrBadSignature}},
			{"truncated signature", func(s *roles.SignedState) *roles.SignedState { s.Sig = s.Sig[:63]; return s }, []error{roles.ErrBadSignature}},
			{"signature by another key under the owner's key id", func(s *roles.SignedState) *roles.SignedState {
				s.Sig = ed25519.Sign(otherKey, stateMsg(t, s))
				return s
			}, []error{roles.ErrBadSignature}},
			{"another key's id and signature", func(s *roles.SignedState) *roles.SignedState {
				s.KeyID = otherID
				s.Sig = ed25519.Sign(otherKey, stateMsg(t, s))
				return s
			}, []error{roles.ErrBadSignature}},
			{"empty key id", func(s *roles.SignedState) *roles.SignedState { s.KeyID = ""; return s }, []error{roles.ErrBadSignature}},
			{"issued_at changed", func(s *roles.SignedState) *roles.SignedState { s.IssuedAt += 3_600_000; return s }, []error{roles.ErrBadSignature}},
			{"accumulator value changed", func(s *roles.SignedState) *roles.SignedState {
				s.State.Acc = addG1(s.State.Acc, g1Gen())
				return s
			}, []error{roles.ErrBadSignature}},
			{"accumulator value is the identity", func(s *roles.SignedState) *roles.SignedState {
				s.State.Acc = identityG1()
				return s
			}, []error{roles.ErrInvalidInput, codec.ErrIdentity}},
			{"revoked batch changed consistently", func(s *roles.SignedState) *roles.SignedState {
				s.State.Revoked.Batch = X
				s.State.Revoked.X = codec.Scalar(X.Element())
				return s
			}, []error{roles.ErrBadSignature}},
			{"revoked batch and element disagree", func(s *roles.SignedState) *roles.SignedState {
				s.State.Revoked.Batch = X
				return s
			}, []error{roles.ErrInvalidInput}},
			{"no revocation at epoch 1", func(s *roles.SignedState) *roles.SignedState { s.State.Revoked = nil; return s }, []error{roles.ErrInvalidInput}},
			{"prev changed", func(s *roles.SignedState) *roles.SignedState { s.State.Prev[0] ^= 1; return s }, []error{roles.ErrBadSignature}},
			{"epoch changed", func(s *roles.SignedState) *roles.SignedState { s.State.Epoch = 2; return s }, []error{roles.ErrBadSignature}},
			{"owner changed", func(s *roles.SignedState) *roles.SignedState { s.State.Owner[0] ^= 1; return s }, []error{roles.ErrBadSignature}},
			{"crs changed", func(s *roles.SignedState) *roles.SignedState { s.State.CRS[0] ^= 1; return s }, []error{roles.ErrCRSMismatch}},
			{"format changed", func(s *roles.SignedState) *roles.SignedState { s.State.Format = 2; return s }, []error{roles.ErrInvalidInput}},
			{"state of another owner", func(*roles.SignedState) *roles.SignedState {
				st, err := stranger.l.Owner.LatestState(ctx)
				require.NoError(t, err)
				return st
			}, []error{roles.ErrBadSignature}},
			{"state of the same keys on another CRS", func(*roles.SignedState) *roles.SignedState {
				st, err := twin.l.Owner.LatestState(ctx)
				require.NoError(t, err)
				return st
			}, []error{roles.ErrCRSMismatch}},
		} {
			v0 := r.freshVerifier(t, st0)
			bad := c.mutate(cloneState(t, st1))
			err := v0.AcceptState(ctx, bad)
			requireErrIs(t, err, c.want...)
			require.EqualValues(t, 0, v0.State().State.Epoch, c.name)
			require.Equal(t, st0.Sig, v0.State().Sig, c.name)
			// The server refuses it as well.
			requireErrIs(t, r.l.Server.ApplyState(ctx, bad), c.want...)
			// The genuine state is then accepted.
			require.NoError(t, v0.AcceptState(ctx, st1), c.name)
		}
		// States the owner's key signed but whose accumulator is not what
		// the chain implies (SPEC §6, issue 9 decision D8(b)): the verifier
		// checks f_0 = g and f_1 = (x_1 + s)·f_0, not only the signature.
		resign := func(s *roles.SignedState) *roles.SignedState {
			sig, err := signer.Sign(ctx, stateMsg(t, s))
			require.NoError(t, err)
			s.Sig = sig
			return s
		}
		stepped := resign(func() *roles.SignedState {
			s := cloneState(t, st1)
			s.State.Acc = addG1(s.State.Acc, g1Gen()) // f_1 + g: a signed, wrong step
			return s
		}())
		v0 := r.freshVerifier(t, st0)
		requireErrIs(t, v0.AcceptState(ctx, stepped), roles.ErrBadProof)
		require.EqualValues(t, 0, v0.State().State.Epoch)
		require.NoError(t, v0.AcceptState(ctx, st1))
		badZero := resign(func() *roles.SignedState {
			s := cloneState(t, st0)
			s.State.Acc = addG1(s.State.Acc, g1Gen()) // f_0 = 2g
			return s
		}())
		_, err = roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, roles.WithInitialState(badZero))
		requireErrIs(t, err, roles.ErrInvalidInput)
		requireErrIs(t, r.freshVerifier(t, st0).AcceptState(ctx, badZero), roles.ErrInvalidInput)
		badPrev := resign(func() *roles.SignedState {
			s := cloneState(t, st0)
			s.State.Prev[0] = 1 // epoch 0 names a previous state
			return s
		}())
		_, err = roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, roles.WithInitialState(badPrev))
		requireErrIs(t, err, roles.ErrInvalidInput)

		// A bad signature on a re-issue of the held state is refused too
		// (a verifier must not take a forged fresher issued_at).
		v1 := r.freshVerifier(t, st1)
		bad := cloneState(t, st1)
		bad.IssuedAt += 1000
		requireErrIs(t, v1.AcceptState(ctx, bad), roles.ErrBadSignature)
		require.Equal(t, st1.IssuedAt, v1.State().IssuedAt)
		// A verifier cannot be started at a forged state.
		bad = cloneState(t, st1)
		bad.Sig[0] ^= 1
		_, err = roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, roles.WithInitialState(bad))
		requireErrIs(t, err, roles.ErrBadSignature)
	})

	t.Run("16-other-query", func(t *testing.T) {
		t.Parallel()
		asked := rangeQ(X, 2, 5, "temp")
		r.honest(t, asked)
		other := r.honest(t, rangeQ(X, 2, 6, "temp"))
		requireErrIs(t, r.verify(asked, other), roles.ErrBadProof)
		other.Query = *asked
		requireErrIs(t, r.verify(asked, other), roles.ErrBadProof)
		// Same weights, other kind: point row 3 answered as range 3..3.
		pq := pointQ(X, 3, "temp")
		r.honest(t, pq)
		rr := r.honest(t, rangeQ(X, 3, 3, "temp"))
		requireErrIs(t, r.verify(pq, rr), roles.ErrBadProof)
		rr.Query = *pq
		requireErrIs(t, r.verify(pq, rr), roles.ErrBadProof)
		// The answered query carries an extra field.
		a := r.honest(t, asked)
		a.Query.Row = 3
		requireErrIs(t, r.verify(asked, a), roles.ErrBadProof)
		// Columns in another order.
		q2 := rangeQ(X, 1, 12, "temp", "load")
		r.honest(t, q2)
		sw := r.honest(t, rangeQ(X, 1, 12, "load", "temp"))
		requireErrIs(t, r.verify(q2, sw), roles.ErrBadProof)
		sw.Query = *q2
		requireErrIs(t, r.verify(q2, sw), roles.ErrBadProof)
		// Fewer columns than asked.
		one := r.honest(t, rangeQ(X, 1, 12, "temp"))
		one.Query = *q2
		requireErrIs(t, r.verify(q2, one), roles.ErrBadProof)
	})

	t.Run("16-values-count", func(t *testing.T) {
		t.Parallel()
		q := rangeQ(X, 1, 12, "temp", "load")
		ans := r.honest(t, q)
		bad := cloneAnswer(t, ans)
		bad.Values = append(bad.Values, bad.Values[0])
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		bad.Values = bad.Values[:1]
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		bad.Values = nil
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		wq := windowQ(X, 2000, 3000, "temp", "load") // empty
		wans := r.honest(t, wq)
		bad = cloneAnswer(t, wans)
		bad.Values = bad.Values[:1]
		requireErrIs(t, r.verify(wq, bad), roles.ErrBadProof)
	})

	t.Run("16-window-shape", func(t *testing.T) {
		t.Parallel()
		eq := windowQ(X, 1011, 1019, "temp") // between rows 2 and 3: empty
		empty := r.honest(t, eq)
		require.Nil(t, empty.Proof)
		require.Equal(t, [2]uint32{3, 2}, [2]uint32{empty.Window.First, empty.Window.Last})
		// An empty window with a non-zero sum.
		bad := cloneAnswer(t, empty)
		bad.Values[0] = addScalar(bad.Values[0], 5)
		requireErrIs(t, r.verify(eq, bad), roles.ErrBadProof)
		// An empty window with a column proof.
		bad = cloneAnswer(t, empty)
		g := codec.G1(g1Gen())
		bad.Proof = &g
		requireErrIs(t, r.verify(eq, bad), roles.ErrBadProof)
		// A non-empty window without its column proof.
		wq := windowQ(X, 1015, 1055, "temp")
		wans := r.honest(t, wq)
		bad = cloneAnswer(t, wans)
		bad.Proof = nil
		requireErrIs(t, r.verify(wq, bad), roles.ErrBadProof)
		// A window answer without boundary proof.
		bad = cloneAnswer(t, wans)
		bad.Window = nil
		requireErrIs(t, r.verify(wq, bad), roles.ErrBadProof)
		// A range answer with a boundary proof attached.
		rq := rangeQ(X, 3, 6, "temp")
		ra := r.honest(t, rq)
		ra.Window = wans.Window
		requireErrIs(t, r.verify(rq, ra), roles.ErrBadProof)
		// A range answer without proof.
		ra = r.honest(t, rq)
		ra.Proof = nil
		requireErrIs(t, r.verify(rq, ra), roles.ErrBadProof)
		// Boundary timestamps: one too many, one too few, none.
		bad = cloneAnswer(t, wans)
		bad.Window.Times = append(bad.Window.Times, 1070)
		requireErrIs(t, r.verify(wq, bad), roles.ErrBadProof)
		bad.Window.Times = bad.Window.Times[:3]
		requireErrIs(t, r.verify(wq, bad), roles.ErrBadProof)
		bad.Window.Times = nil
		requireErrIs(t, r.verify(wq, bad), roles.ErrBadProof)
		// Rows outside the batch.
		for _, fl := range [][2]uint32{{0, 6}, {0, math.MaxUint32}, {3, 13}, {14, 13}, {13, 14}, {7, 3}, {math.MaxUint32, 6}} {
			bad = cloneAnswer(t, wans)
			bad.Window.First, bad.Window.Last = fl[0], fl[1]
			requireErrIs(t, r.verify(wq, bad), roles.ErrBadProof)
		}
		// The column proof of the range query over the same rows (same sums,
		// but not bound to the window): refused.
		bad = cloneAnswer(t, wans)
		rr := r.honest(t, rangeQ(X, 3, 6, "temp"))
		require.Equal(t, rr.Values, bad.Values)
		bad.Proof = rr.Proof
		requireErrIs(t, r.verify(wq, bad), roles.ErrBadProof)
		// The column proof of fewer rows than the boundary proof claims.
		ms, gs := columnsOf(t, sbX, "temp")
		bad = cloneAnswer(t, wans)
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Range(3, 5), wq, 3, 6)
		requireErrIs(t, r.verify(wq, bad), roles.ErrBadProof)
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Range(3, 5), wq, 3, 5)
		requireErrIs(t, r.verify(wq, bad), roles.ErrBadProof)
		// The empty window after the last row, honestly, verifies; shifted
		// one row further it does not.
		aq := windowQ(X, 1200, 1300, "temp")
		after := r.honest(t, aq)
		require.Equal(t, [2]uint32{13, 12}, [2]uint32{after.Window.First, after.Window.Last})
		bad = cloneAnswer(t, after)
		bad.Window.First, bad.Window.Last = 14, 13
		requireErrIs(t, r.verify(aq, bad), roles.ErrBadProof)
	})

	t.Run("16-weights", func(t *testing.T) {
		t.Parallel()
		q := weightedQ(X, []int64{1, 2, 3, 4, 5}, "temp")
		ans := r.honest(t, q)
		// The server uses other weights (the ones it would rather prove).
		ms, gs := columnsOf(t, sbX, "temp")
		other := []fr.Element{roles.FromInt64(1), roles.FromInt64(2), roles.FromInt64(3), roles.FromInt64(4), roles.FromInt64(6)}
		bad := cloneAnswer(t, ans)
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Dense(other), q, 0, 0)
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		// Unit weights over 1..5 (a cheaper range opening) for the weights.
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Range(1, 5), q, 0, 0)
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		// More weights than rows: refused before anything is computed, by
		// the server and by the verifier.
		long := make([]int64, 13)
		for i := range long {
			long[i] = 1
		}
		lq := weightedQ(X, long, "temp")
		_, err := r.l.Server.Answer(ctx, lq)
		requireErrIs(t, err, roles.ErrInvalidInput)
		forged := cloneAnswer(t, ans)
		forged.Query = *lq
		forged.Values, forged.Proof = r.openColumns(t, ms, gs, commitment.Dense([]fr.Element(lq.Weights)), lq, 0, 0)
		requireErrIs(t, r.verify(lq, forged), roles.ErrInvalidInput)
	})

	t.Run("16-rows-beyond-batch", func(t *testing.T) {
		t.Parallel()
		// Rows 13..16 exist in the CRS (n = 16) and are zero in the
		// commitment: an opening there is computable, but not a valid query.
		ms, gs := columnsOf(t, sbX, "temp")
		for _, q := range []*roles.Query{pointQ(X, 13, "temp"), pointQ(X, 16, "temp"), rangeQ(X, 10, 13, "temp"), pointQ(X, 0, "temp")} {
			_, err := r.l.Server.Answer(ctx, q)
			requireErrIs(t, err, roles.ErrInvalidInput)
			forged := r.honest(t, pointQ(X, 1, "temp"))
			forged.Query = *q
			if q.Kind == roles.QueryPoint && q.Row >= 1 {
				forged.Values, forged.Proof = r.openColumns(t, ms, gs, commitment.Row(int(q.Row)), q, 0, 0)
			} else if q.Kind == roles.QueryRange {
				forged.Values, forged.Proof = r.openColumns(t, ms, gs, commitment.Range(int(q.From), int(q.To)), q, 0, 0)
			}
			requireErrIs(t, r.verify(q, forged), roles.ErrInvalidInput)
		}
	})

	t.Run("16-stale-epoch", func(t *testing.T) {
		t.Parallel()
		q := rangeQ(X, 1, 12, "temp")
		bad := r.honest(t, q)
		bad.Epoch = 0
		err := r.verify(q, bad)
		requireErrIs(t, err, roles.ErrStaleState)
		var se *roles.StaleStateError
		require.ErrorAs(t, err, &se)
		require.Equal(t, uint64(1), se.Have)
		require.Equal(t, uint64(0), se.Got)
	})

	t.Run("16-header-tampering", func(t *testing.T) {
		t.Parallel()
		q := rangeQ(X, 1, 12, "temp")
		ans := r.honest(t, q)
		// A verifier that has not seen the header yet (the shared one caches
		// headers it verified, by digest).
		v2 := r.freshVerifier(t, r.l.Verifier.State())
		bad := cloneAnswer(t, ans)
		bad.Header.Sig[5] ^= 1
		_, err := v2.Verify(ctx, q, bad)
		requireErrIs(t, err, roles.ErrBadSignature)
		bad.Header.Sig = nil
		_, err = v2.Verify(ctx, q, bad)
		requireErrIs(t, err, roles.ErrBadSignature)
		// Fields changed: every one changes the digest, so the signature
		// no longer verifies.
		for _, mut := range []func(h *roles.Header){
			func(h *roles.Header) { h.LastTime++ },
			func(h *roles.Header) { h.Rows = 11 },
			func(h *roles.Header) { h.Version = 1 },
			func(h *roles.Header) { h.Columns[0].Scale = 2 },
			func(h *roles.Header) { h.Columns[0].Name, h.Columns[1].Name = h.Columns[1].Name, h.Columns[0].Name },
			func(h *roles.Header) { h.Commits[0], h.Commits[1] = h.Commits[1], h.Commits[0] },
			func(h *roles.Header) { h.KeyID = "0000000000000000" },
		} {
			bad := cloneAnswer(t, ans)
			mut(&bad.Header.Header)
			// Relabel the query to the tampered header's digest, so that the
			// only thing wrong is the header itself.
			id, err := bad.Header.Header.Digest()
			require.NoError(t, err)
			q2 := *q
			q2.Batch = id
			bad.Query = q2
			_, err = v2.Verify(ctx, &q2, bad)
			requireErrIs(t, err, roles.ErrBadSignature)
			requireErrIs(t, r.verify(&q2, bad), roles.ErrBadSignature)
		}
		_, err = v2.Verify(ctx, q, ans)
		require.NoError(t, err)
	})

	t.Run("16-bad-query", func(t *testing.T) {
		t.Parallel()
		a := r.honest(t, rangeQ(X, 1, 3, "temp"))
		_, err := v.Verify(ctx, nil, a)
		requireErrIs(t, err, roles.ErrInvalidInput)
		_, err = v.Verify(ctx, rangeQ(X, 1, 3, "temp"), nil)
		requireErrIs(t, err, roles.ErrInvalidInput)
		// A column the batch does not have.
		q := rangeQ(X, 1, 3, "pressure")
		_, err = r.l.Server.Answer(ctx, q)
		requireErrIs(t, err, roles.ErrInvalidInput)
		a.Query = *q
		requireErrIs(t, r.verify(q, a), roles.ErrInvalidInput)
		// A query on an unknown batch.
		_, err = r.l.Server.Answer(ctx, rangeQ(roles.BatchID{1}, 1, 3, "temp"))
		requireErrIs(t, err, roles.ErrUnknownBatch)
	})
}

// ptrG1 returns a pointer to a copy of p.
func ptrG1(p codec.G1) *codec.G1 { return &p }

// replaceOnce replaces the only occurrence of old in b (a copy is returned).
func replaceOnce(t testing.TB, b, old, repl []byte) []byte {
	t.Helper()
	require.Equal(t, 1, bytes.Count(b, old), "the patched bytes must occur exactly once")
	return bytes.Replace(append([]byte{}, b...), old, repl, 1)
}

// ---------------------------------------------------------------------------
// Attacks around revocation: each on its own system, since they revoke.

// TestAttackRevokedMembershipWitness (attack 5): the server answers for a
// revoked batch with the witness (w, 0) that the public history yields for
// it — the membership witness, which satisfies the pairing equation.
func TestAttackRevokedMembershipWitness(t *testing.T) {
	t.Parallel()
	r := newRig(t, testCRS(t), rigOptions{})
	ctx := r.ctx
	A := r.create(t, sampleBatch("rev", 8, 1))
	B := r.create(t, sampleBatch("rev", 8, 2))
	C := r.create(t, sampleBatch("rev", 8, 3))
	qA, qB := rangeQ(A, 1, 8, "temp"), rangeQ(B, 1, 8, "temp")
	oldA := r.honest(t, qA)
	r.revoke(t, A) // epoch 1
	r.revoke(t, C) // epoch 2
	_, err := r.l.Server.Answer(ctx, qA)
	var re *roles.RevokedError
	require.ErrorAs(t, err, &re)
	require.Equal(t, roles.RevokedError{Batch: A, Epoch: 1}, *re)
	ansB := r.honest(t, qB)

	sts := r.states(t)
	require.Len(t, sts, 3)
	y := A.Element()
	w, u := forgeMembershipWitness(t, sts, y)
	require.True(t, u.IsZero())
	// The forged pair satisfies the raw pairing equation
	// e(w, y·ĝ + P) = e(f_2 + u·g, ĝ) — only u ≠ 0 tells it apart.
	f2 := bls.G1Affine(sts[2].State.Acc)
	P := bls.G2Affine(r.keys.Accumulator)
	_, _, _, g2 := bls.Generators()
	var yg2 bls.G2Affine
	var yb big.Int
	yg2.ScalarMultiplication(&g2, y.BigInt(&yb))
	yg2.Add(&yg2, &P)
	var negF bls.G1Affine
	negF.Neg(&f2)
	ok, err := bls.PairingCheck([]bls.G1Affine{w, negF}, []bls.G2Affine{yg2, g2})
	require.NoError(t, err)
	require.True(t, ok, "the membership witness satisfies the pairing equation")

	forged := cloneAnswer(t, oldA)
	forged.Epoch = 2
	forged.Witness = roles.WitnessWire{W: codec.G1OrIdentity(w), U: codec.Scalar(u)}
	// The verifier that followed the chain knows the revocation.
	err = r.verify(qA, forged)
	require.ErrorAs(t, err, &re)
	require.Equal(t, roles.RevokedError{Batch: A, Epoch: 1}, *re)
	// A verifier that only knows epoch 2 (whose entry revokes C) rejects it
	// by the u ≠ 0 rule alone.
	v2 := r.freshVerifier(t, &sts[2])
	_, err = v2.Verify(ctx, qA, forged)
	requireErrIs(t, err, roles.ErrRevoked)
	// Control: v2 verifies live batches.
	_, err = v2.Verify(ctx, qB, ansB)
	require.NoError(t, err)

	// u = 0 with any W, on a live batch too.
	var rnd fr.Element
	_, _ = rnd.SetRandom()
	var rp bls.G1Affine
	var rb big.Int
	g := g1Gen()
	rp.ScalarMultiplication(&g, rnd.BigInt(&rb))
	for _, W := range []bls.G1Affine{w, g1Gen(), rp, bls.G1Affine(ansB.Witness.W), {}} {
		bad := cloneAnswer(t, ansB)
		bad.Witness = roles.WitnessWire{W: codec.G1OrIdentity(W), U: codec.Scalar{}}
		requireErrIs(t, r.verify(qB, bad), roles.ErrRevoked)
		_, err = v2.Verify(ctx, qB, bad)
		requireErrIs(t, err, roles.ErrRevoked)
	}
	// u ≠ 0 with the membership point: the equation then fails.
	bad := cloneAnswer(t, forged)
	bad.Witness.U = codec.Scalar(roles.FromInt64(1))
	_, err = v2.Verify(ctx, qA, bad)
	requireErrIs(t, err, roles.ErrBadProof)
}

// TestAttackAccumulatorMembershipWitness (attack 5, accumulator level): with
// a key the test generates itself, the true membership witness of a revoked
// element passes the raw pairing equation, and Terms, Verify and Update
// refuse it.
func TestAttackAccumulatorMembershipWitness(t *testing.T) {
	t.Parallel()
	sk, err := accumulator.GenerateKey(rand.Reader)
	require.NoError(t, err)
	pk := sk.PublicKey()
	var x1, y, x3 fr.Element
	_, _ = x1.SetRandom()
	_, _ = y.SetRandom()
	_, _ = x3.SetRandom()
	f0 := accumulator.Initial()
	f1, err := sk.Accumulate(&f0, &x1)
	require.NoError(t, err)
	f2, err := sk.Accumulate(&f1, &y) // y revoked at epoch 2
	require.NoError(t, err)
	f3, err := sk.Accumulate(&f2, &x3)
	require.NoError(t, err)

	// The honest witness of y is good up to epoch 1 and cannot be updated
	// past its revocation.
	w1, err := accumulator.Update(accumulator.InitialWitness(), &y, []bls.G1Affine{f0}, []fr.Element{x1})
	require.NoError(t, err)
	require.NoError(t, accumulator.Verify(&pk, &f1, &y, &w1))
	_, err = accumulator.Update(w1, &y, []bls.G1Affine{f1, f2}, []fr.Element{y, x3})
	var re *accumulator.RevokedError
	require.ErrorAs(t, err, &re)
	require.EqualValues(t, 2, re.Epoch)
	_, err = accumulator.UpdateStep(w1, &y, &f1, &y)
	require.ErrorAs(t, err, &re)

	// The membership witness at epoch 3, from public values only:
	// w = f_2 + (x_3 − y)·f_1, u = 0.
	var d fr.Element
	d.Sub(&x3, &y)
	var acc bls.G1Jac
	var db big.Int
	acc.FromAffine(&f1)
	acc.ScalarMultiplication(&acc, d.BigInt(&db))
	acc.AddMixed(&f2)
	var mw accumulator.Witness
	mw.W.FromJacobian(&acc)
	mw.Epoch = 3
	// The public-history forger of the roles tests agrees.
	states := []roles.SignedState{{}, {}, {}, {}}
	for i, f := range []bls.G1Affine{f0, f1, f2, f3} {
		states[i].State.Acc = codec.G1(f)
	}
	for i, x := range []fr.Element{x1, y, x3} {
		states[i+1].State.Revoked = &roles.Revocation{X: codec.Scalar(x)}
	}
	fw, fu := forgeMembershipWitness(t, states, y)
	require.True(t, fw.Equal(&mw.W))
	require.True(t, fu.IsZero())

	// It satisfies e(w, y·ĝ + ĝ^s) = e(f_3 · g^0, ĝ).
	_, _, _, g2 := bls.Generators()
	var q bls.G2Affine
	var yb big.Int
	q.ScalarMultiplication(&g2, y.BigInt(&yb))
	q.Add(&q, &pk)
	var negF3 bls.G1Affine
	negF3.Neg(&f3)
	ok, err := bls.PairingCheck([]bls.G1Affine{mw.W, negF3}, []bls.G2Affine{q, g2})
	require.NoError(t, err)
	require.True(t, ok, "the membership witness satisfies the pairing equation")

	_, _, err = accumulator.Terms(&f3, &y, &mw)
	requireErrIs(t, err, accumulator.ErrRevoked)
	_, _, err = accumulator.TermsNoAccumulatorCheck(&f3, &y, &mw)
	requireErrIs(t, err, accumulator.ErrRevoked)
	err = accumulator.Verify(&pk, &f3, &y, &mw)
	requireErrIs(t, err, accumulator.ErrRevoked, accumulator.ErrBadProof)
	_, err = accumulator.Update(mw, &y, []bls.G1Affine{f3}, []fr.Element{x1})
	requireErrIs(t, err, accumulator.ErrRevoked)
	// With u ≠ 0 the same point fails the equation.
	mw.U.SetOne()
	requireErrIs(t, accumulator.Verify(&pk, &f3, &y, &mw), accumulator.ErrBadProof)
	// Control: a live element's updated witness verifies at epoch 3.
	var z fr.Element
	_, _ = z.SetRandom()
	wz, err := accumulator.Update(accumulator.InitialWitness(), &z, []bls.G1Affine{f0, f1, f2}, []fr.Element{x1, y, x3})
	require.NoError(t, err)
	require.NoError(t, accumulator.Verify(&pk, &f3, &z, &wz))
}

// TestAttackRevocationReplay (attacks 6 and 7): answers computed before a
// revocation, replayed after it.
func TestAttackRevocationReplay(t *testing.T) {
	t.Parallel()
	r := newRig(t, testCRS(t), rigOptions{})
	ctx := r.ctx
	A := r.create(t, sampleBatch("rep", 8, 1))
	B := r.create(t, sampleBatch("rep", 8, 2))
	C := r.create(t, sampleBatch("rep", 8, 3))
	qA, qB := rangeQ(A, 1, 8, "temp", "load"), rangeQ(B, 1, 8, "temp", "load")
	aq := auditQ(B, "audit nonce", "temp")
	oldA, oldB, oldAudit := r.honest(t, qA), r.honest(t, qB), r.honest(t, aq)
	require.EqualValues(t, 0, oldA.Epoch)
	st1 := r.revoke(t, A)

	// 6: the revoked batch, with its state from before the revocation. The
	// verifier holds epoch 1 and compares epochs first: ErrStaleState.
	err := r.verify(qA, oldA)
	requireErrIs(t, err, roles.ErrStaleState)
	var se *roles.StaleStateError
	require.ErrorAs(t, err, &se)
	require.Equal(t, [2]uint64{1, 0}, [2]uint64{se.Have, se.Got})
	// Relabelled to the current epoch: the verifier saw epoch 1 revoke A.
	bad := cloneAnswer(t, oldA)
	bad.Epoch = 1
	var re *roles.RevokedError
	require.ErrorAs(t, r.verify(qA, bad), &re)
	require.Equal(t, roles.RevokedError{Batch: A, Epoch: 1}, *re)
	// A verifier started at epoch 1 (which revokes A) says the same.
	_, err = r.freshVerifier(t, st1).Verify(ctx, qA, bad)
	require.ErrorAs(t, err, &re)
	// One that never saw the revocation (it starts at epoch 2, which
	// revokes C): the old witness does not match f_2.
	st2 := r.revoke(t, C)
	v2 := r.freshVerifier(t, st2)
	bad.Epoch = 2
	_, err = v2.Verify(ctx, qA, bad)
	requireErrIs(t, err, roles.ErrBadProof)
	require.False(t, errors.Is(err, roles.ErrRevoked))
	_, err = v2.Verify(ctx, qA, oldA)
	requireErrIs(t, err, roles.ErrStaleState)
	// The witness brought forward as far as the history allows (epoch 0 →
	// the revocation stops it).
	fs, xs, err := r.store.History(ctx, 0, 2)
	require.NoError(t, err)
	y := A.Element()
	_, err = accumulator.Update(accumulator.InitialWitness(), &y, fs, xs)
	requireErrIs(t, err, roles.ErrRevoked)

	// 7: a live batch's old answer, replayed after the revocation.
	err = r.verify(qB, oldB)
	requireErrIs(t, err, roles.ErrStaleState)
	bad = cloneAnswer(t, oldB)
	bad.Epoch = 2
	requireErrIs(t, r.verify(qB, bad), roles.ErrBadProof)
	// An old audit answer for the same nonce: stale, and relabelled its
	// weights (bound to the epoch) and witness are wrong.
	requireErrIs(t, r.verify(aq, oldAudit), roles.ErrStaleState)
	bad = cloneAnswer(t, oldAudit)
	bad.Epoch = 2
	requireErrIs(t, r.verify(aq, bad), roles.ErrBadProof)
	// Fresh answers verify; the old witness is not the new one.
	fresh := r.honest(t, qB)
	require.EqualValues(t, 2, fresh.Epoch)
	require.NotEqual(t, oldB.Witness, fresh.Witness)
	r.honest(t, aq)
	// The new witness with the old epoch: stale.
	bad = cloneAnswer(t, fresh)
	bad.Epoch = 1
	requireErrIs(t, r.verify(qB, bad), roles.ErrStaleState)
}

// TestAttackStateChain (attack 15): states out of order, older than held,
// and a fork of the owner's history.
func TestAttackStateChain(t *testing.T) {
	t.Parallel()
	signer, err := roles.GenerateEd25519Signer(rand.Reader)
	require.NoError(t, err)
	const seed = 0xf0c
	r := newRig(t, testCRS(t), rigOptions{seed: seed, signer: signer})
	ctx := r.ctx
	for i := range 3 {
		r.revoke(t, r.create(t, sampleBatch("chain", 4, uint64(i))))
	}
	sts := r.states(t)
	require.Len(t, sts, 4)

	// Skipping states.
	v := r.freshVerifier(t, &sts[0])
	var m *roles.MissingStatesError
	require.ErrorAs(t, v.AcceptState(ctx, &sts[2]), &m)
	require.Equal(t, roles.MissingStatesError{From: 1, To: 1}, *m)
	require.ErrorAs(t, v.AcceptState(ctx, &sts[3]), &m)
	require.Equal(t, roles.MissingStatesError{From: 1, To: 2}, *m)
	require.EqualValues(t, 0, v.State().State.Epoch)
	// In order they are accepted.
	require.NoError(t, v.AcceptState(ctx, &sts[1]))
	require.NoError(t, v.AcceptState(ctx, &sts[2]))
	// Older than held.
	var se *roles.StaleStateError
	for _, e := range []int{0, 1} {
		err := v.AcceptState(ctx, &sts[e])
		require.ErrorAs(t, err, &se)
		require.Equal(t, [2]uint64{2, uint64(e)}, [2]uint64{se.Have, se.Got})
	}
	// The held one again is a no-op.
	require.NoError(t, v.AcceptState(ctx, &sts[2]))
	require.EqualValues(t, 2, v.State().State.Epoch)
	// The storage server refuses a gap the same way.
	other := memory.NewServerStore()
	srv, err := roles.NewStorageServer(r.l.CRS, r.keys, other)
	require.NoError(t, err)
	require.ErrorAs(t, srv.ApplyState(ctx, &sts[1]), &m)
	require.Equal(t, roles.MissingStatesError{From: 0, To: 0}, *m)

	// A fork: a twin owner with the very same keys (an owner that lost its
	// store and started again, or a stolen copy) revokes other batches. Its
	// states are signed by the owner's key and its epoch 1 links to the
	// shared epoch 0.
	twin := newRig(t, testCRS(t), rigOptions{seed: seed, signer: signer})
	require.Equal(t, r.keys.ID(), twin.keys.ID())
	twin.revoke(t, twin.create(t, sampleBatch("fork", 4, 100)))
	twin.revoke(t, twin.create(t, sampleBatch("fork", 4, 101)))
	fork := twin.states(t)
	require.Equal(t, sts[0].State, fork[0].State)
	require.NotEqual(t, sts[1].State, fork[1].State)
	require.Equal(t, sts[1].State.Prev, fork[1].State.Prev)

	// Same epoch, another state.
	v1 := r.freshVerifier(t, &sts[1])
	requireErrIs(t, v1.AcceptState(ctx, &fork[1]), roles.ErrConflict)
	// The next epoch of the fork does not link to the held state.
	err = v1.AcceptState(ctx, &fork[2])
	require.Error(t, err)
	require.True(t, errors.Is(err, roles.ErrBadSignature) || errors.Is(err, roles.ErrConflict), "%v", err)
	require.Equal(t, sts[1].Sig, v1.State().Sig)
	// The server refuses fork states for epochs it holds.
	requireErrIs(t, r.l.Server.ApplyState(ctx, &fork[1]), roles.ErrConflict)
	requireErrIs(t, r.l.Server.ApplyState(ctx, &fork[2]), roles.ErrConflict)
	// A verifier syncing from a server that serves the fork refuses to
	// follow it past what it holds.
	vs, err := roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, roles.WithInitialState(&sts[1]), roles.WithStateSource(twin.l.Server))
	require.NoError(t, err)
	err = vs.Sync(ctx)
	require.Error(t, err)
	require.True(t, errors.Is(err, roles.ErrBadSignature) || errors.Is(err, roles.ErrConflict), "%v", err)
	require.Equal(t, sts[1].State, vs.State().State)
	// …and so refuses the fork's answers.
	tid := twin.create(t, sampleBatch("fork", 4, 102))
	tq := rangeQ(tid, 1, 4, "temp")
	tans, err := twin.l.Server.Answer(ctx, tq)
	require.NoError(t, err)
	_, err = vs.Verify(ctx, tq, tans)
	require.Error(t, err)
}

// TestAttackWindowSingleRow: time windows on a batch of one row, where the
// boundary rows collapse into one.
func TestAttackWindowSingleRow(t *testing.T) {
	t.Parallel()
	r := newRig(t, testCRS(t), rigOptions{})
	id := r.create(t, &roles.Batch{Stream: "one", Timestamps: []uint64{500},
		Columns: []roles.Column{{Name: "v", Values: []int64{42}}}})
	sb := r.stored(t, id)
	for _, c := range []struct {
		from, to    uint64
		first, last uint32
	}{{400, 600, 1, 1}, {500, 500, 1, 1}, {0, 499, 1, 0}, {501, 900, 2, 1}} {
		q := windowQ(id, c.from, c.to, "v")
		ans := r.honest(t, q)
		require.Equal(t, [2]uint32{c.first, c.last}, [2]uint32{ans.Window.First, ans.Window.Last}, "%+v", c)
		for _, fl := range [][2]uint32{{1, 1}, {1, 0}, {2, 1}} {
			if fl == [2]uint32{c.first, c.last} {
				continue
			}
			bad := r.forgeWindow(t, ans, sb, q, fl[0], fl[1], sb.Data.Times, nil)
			requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		}
	}
}

// lyingSource is a state source controlled by the attacker.
type lyingSource struct {
	latest func() (*roles.SignedState, error)
	states func(from, to uint64) ([]roles.SignedState, error)
}

func (s *lyingSource) LatestState(context.Context) (*roles.SignedState, error) { return s.latest() }
func (s *lyingSource) States(_ context.Context, from, to uint64) ([]roles.SignedState, error) {
	return s.states(from, to)
}

// TestAttackMaliciousStateSource: a verifier catching up from a server that
// lies about the state chain neither accepts its lies nor hangs.
func TestAttackMaliciousStateSource(t *testing.T) {
	t.Parallel()
	r := newRig(t, testCRS(t), rigOptions{})
	ctx := r.ctx
	live := r.create(t, sampleBatch("src", 4, 1))
	for i := range 3 {
		r.revoke(t, r.create(t, sampleBatch("src-x", 2, uint64(10+i))))
	}
	sts := r.states(t) // epochs 0..3
	q := rangeQ(live, 1, 4, "temp")
	ans := r.honest(t, q) // epoch 3
	forged := cloneState(t, &sts[3])
	forged.State.Epoch = math.MaxUint64
	badSig := cloneState(t, &sts[2])
	badSig.Sig[0] ^= 1
	var m *roles.MissingStatesError
	for _, c := range []struct {
		name   string
		src    *lyingSource
		check  func(t *testing.T, err error)
		accept bool
	}{
		{"forged latest with a huge epoch, no states", &lyingSource{
			latest: func() (*roles.SignedState, error) { return forged, nil },
			states: func(uint64, uint64) ([]roles.SignedState, error) { return nil, nil },
		}, func(t *testing.T, err error) {
			// The forged latest state's signature is checked before any
			// state is fetched for it.
			requireErrIs(t, err, roles.ErrBadSignature)
		}, false},
		{"states of the wrong epochs", &lyingSource{
			latest: func() (*roles.SignedState, error) { return &sts[3], nil },
			states: func(uint64, uint64) ([]roles.SignedState, error) { return []roles.SignedState{sts[3]}, nil },
		}, func(t *testing.T, err error) { require.ErrorAs(t, err, &m) }, false},
		{"old states", &lyingSource{
			latest: func() (*roles.SignedState, error) { return &sts[3], nil },
			states: func(uint64, uint64) ([]roles.SignedState, error) { return sts[:2], nil },
		}, func(t *testing.T, err error) { require.ErrorAs(t, err, &m) }, false},
		{"a forged state in the chain", &lyingSource{
			latest: func() (*roles.SignedState, error) { return &sts[3], nil },
			states: func(from, to uint64) ([]roles.SignedState, error) {
				return []roles.SignedState{*badSig, sts[3]}, nil
			},
		}, func(t *testing.T, err error) { requireErrIs(t, err, roles.ErrBadSignature) }, false},
		{"unavailable", &lyingSource{
			latest: func() (*roles.SignedState, error) { return nil, roles.ErrUnavailable },
			states: func(uint64, uint64) ([]roles.SignedState, error) { return nil, roles.ErrUnavailable },
		}, func(t *testing.T, err error) { requireErrIs(t, err, roles.ErrUnavailable) }, false},
		{"honest (control)", &lyingSource{
			latest: func() (*roles.SignedState, error) { return &sts[3], nil },
			states: func(from, to uint64) ([]roles.SignedState, error) { return sts[from : to+1], nil },
		}, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, roles.WithInitialState(&sts[1]), roles.WithStateSource(c.src))
			require.NoError(t, err)
			_, err = v.Verify(ctx, q, ans)
			if c.accept {
				require.NoError(t, err)
				require.EqualValues(t, 3, v.State().State.Epoch)
				return
			}
			require.Error(t, err)
			c.check(t, err)
			require.Equal(t, sts[1].State, v.State().State, "the verifier must stay at its state")
			c.check(t, v.Sync(ctx))
			require.Equal(t, sts[1].State, v.State().State)
		})
	}
}

// TestAttackRollbackOfUnanchoredVerifier: a verifier configured with a state
// source but no initial state (as roles.NewLocal builds it, and as
// WithStateSource documents for "the storage server or the owner") takes
// the source's LatestState as its trust anchor. When the source is the
// untrusted storage server it can serve an old — genuinely signed — state
// and so resurrect a batch the owner has revoked. SPEC §1/§6: the verifier
// holds the latest signed state and only accepts states not older than it.
func TestAttackRollbackOfUnanchoredVerifier(t *testing.T) {
	t.Parallel()
	r := newRig(t, testCRS(t), rigOptions{})
	ctx := r.ctx
	A := r.create(t, sampleBatch("rollback", 4, 1))
	qA := rangeQ(A, 1, 4, "temp")
	old := r.honest(t, qA) // epoch 0
	r.revoke(t, A)
	sts := r.states(t)
	require.Len(t, sts, 2)
	// The malicious server's state source pretends epoch 0 is the latest.
	src := &lyingSource{
		latest: func() (*roles.SignedState, error) { return &sts[0], nil },
		states: func(from, to uint64) ([]roles.SignedState, error) {
			return nil, &roles.MissingStatesError{From: from, To: to}
		},
	}
	v, err := roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, roles.WithStateSource(src))
	if err != nil {
		// Refusing an unanchored verifier is a valid fix.
		requireErrIs(t, err, roles.ErrInvalidInput)
		return
	}
	res, err := v.Verify(ctx, qA, old)
	require.Error(t, err, "a batch revoked at epoch 1 was accepted at epoch %d by a verifier whose only state came from the storage server (result %v)", stateEpoch(v), resultValue(res))
}

func stateEpoch(v *roles.Verifier) any {
	if st := v.State(); st != nil {
		return st.State.Epoch
	}
	return nil
}

// TestAttackRejectedAnswerYieldsNoResult: a verifier that rejects an answer
// must not also hand out its (unverified) values.
func TestAttackRejectedAnswerYieldsNoResult(t *testing.T) {
	t.Parallel()
	r := newRig(t, testCRS(t), rigOptions{})
	id := r.create(t, sampleBatch("nores", 6, 1))
	for _, q := range []*roles.Query{rangeQ(id, 1, 6, "temp"), windowQ(id, 2000, 3000, "temp")} {
		bad := r.honest(t, q)
		bad.Values[0] = addScalar(bad.Values[0], 1000)
		res, err := r.l.Verifier.Verify(r.ctx, q, bad)
		requireErrIs(t, err, roles.ErrBadProof)
		require.Nil(t, res, "Verify returned ErrBadProof together with a Result carrying the forged value %v", resultValue(res))
	}
}

func resultValue(res *roles.Result) any {
	if res == nil || len(res.Values) == 0 {
		return nil
	}
	return res.Values[0].Int
}
