package roles_test

import (
	"math/big"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/roles"
)

// attacksOnProofs runs TestMaliciousServer's attacks with forged values
// and proofs, after checking the attacker's mirrors.
func attacksOnProofs(t *testing.T, s *sharedSystem) {
	const epoch = sharedEpoch
	r, ctx, X, sbX := s.r, s.r.ctx, s.X, s.sbX

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
		r.requireTamperRejected(t, q, ans, func(bad *roles.Answer) { bad.Values[0] = addScalar(bad.Values[0], 1) }, roles.ErrBadProof)

		// Two columns: only the second sum is changed.
		q2 := rangeQ(X, 2, 9, "temp", "load")
		bad := r.honest(t, q2)
		bad.Values[1] = addScalar(bad.Values[1], 1)
		requireErrIs(t, r.verify(q2, bad), roles.ErrBadProof)

		// The sum negated (same magnitude, other sign).
		bad = deepCopy(t, ans)
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
		bad = deepCopy(t, ans)
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Range(2, 9), q, 0, 0)
		require.NotEqual(t, ans.Values[0], bad.Values[0])
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)

		// Same with the altered row outside the range: the sum is then right,
		// the proof honest for a vector that is not the committed one.
		ms, gs = columnsOf(t, sbX, "temp")
		ms[0][10].Add(&ms[0][10], &one)
		bad = deepCopy(t, ans)
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Range(2, 9), q, 0, 0)
		require.Equal(t, ans.Values[0], bad.Values[0])
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)

		// Shift the proof so as to compensate the change with what the
		// prover key offers: π·g_1^(−δ)… still no g_{n+1} (SPEC §3).
		bad = deepCopy(t, ans)
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
		r.requireTamperRejected(t, qT, ansL, func(bad *roles.Answer) { bad.Query = *qT }, roles.ErrBadProof)
		// Recomputed with the prover key: load's data and randomness opened
		// under temp's query context.
		ms, gs := columnsOf(t, sbX, "load")
		bad := deepCopy(t, ansL)
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

	t.Run("16-values-count", func(t *testing.T) {
		t.Parallel()
		q := rangeQ(X, 1, 12, "temp", "load")
		ans := r.honest(t, q)
		bad := deepCopy(t, ans)
		bad.Values = append(bad.Values, bad.Values[0])
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		bad.Values = bad.Values[:1]
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		bad.Values = nil
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		wq := windowQ(X, 2000, 3000, "temp", "load") // empty
		wans := r.honest(t, wq)
		r.requireTamperRejected(t, wq, wans, func(bad *roles.Answer) { bad.Values = bad.Values[:1] }, roles.ErrBadProof)
	})

	t.Run("16-weights", func(t *testing.T) {
		t.Parallel()
		q := weightedQ(X, []int64{1, 2, 3, 4, 5}, "temp")
		ans := r.honest(t, q)
		// The server uses other weights (the ones it would rather prove).
		ms, gs := columnsOf(t, sbX, "temp")
		other := []fr.Element{roles.FromInt64(1), roles.FromInt64(2), roles.FromInt64(3), roles.FromInt64(4), roles.FromInt64(6)}
		bad := deepCopy(t, ans)
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
		forged := deepCopy(t, ans)
		forged.Query = *lq
		forged.Values, forged.Proof = r.openColumns(t, ms, gs, commitment.Dense([]fr.Element(lq.Weights)), lq, 0, 0)
		requireErrIs(t, r.verify(lq, forged), roles.ErrInvalidInput)
	})
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
