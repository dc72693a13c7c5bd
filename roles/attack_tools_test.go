package roles_test

import (
	"bytes"
	"math/big"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/internal/hash"
	"github.com/vdsproject/vds/roles"
)

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
	parts := [][]byte{d[:], hash.U64(uint64(s.IssuedAt)), []byte(s.KeyID),
		s.Head.Root[:], hash.U64(s.Head.Streams), hash.U64(s.Head.Entries)}
	if len(s.Keys) > 0 {
		hs := make([][]byte, len(s.Keys))
		for i := range s.Keys {
			hs[i] = handoverMsg(s.State.Owner, &s.Keys[i])
		}
		m := hash.Sum(hash.TagHandover, hs...)
		parts = append(parts, m[:])
	}
	m := hash.Sum(hash.TagStateSig, parts...)
	return m[:]
}

// handoverMsg mirrors what both keys of a handover sign (SPEC §6.3).
func handoverMsg(owner roles.Hash, h *roles.Handover) []byte {
	m := hash.Sum(hash.TagHandover, owner[:], []byte(h.From), []byte(h.To.ID), h.To.Key,
		hash.U64(h.Epoch), hash.U64(uint64(h.At)))
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
	a := deepCopy(t, base)
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

// ptrG1 returns a pointer to a copy of p.
func ptrG1(p codec.G1) *codec.G1 { return &p }

// replaceOnce replaces the only occurrence of old in b (a copy is returned).
func replaceOnce(t testing.TB, b, old, repl []byte) []byte {
	t.Helper()
	require.Equal(t, 1, bytes.Count(b, old), "the patched bytes must occur exactly once")
	return bytes.Replace(append([]byte{}, b...), old, repl, 1)
}
