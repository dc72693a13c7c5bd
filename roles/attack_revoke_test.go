package roles_test

import (
	"crypto/rand"
	"errors"
	"math/big"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
)

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

	forged := deepCopy(t, oldA)
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
		bad := deepCopy(t, ansB)
		bad.Witness = roles.WitnessWire{W: codec.G1OrIdentity(W), U: codec.Scalar{}}
		requireErrIs(t, r.verify(qB, bad), roles.ErrRevoked)
		_, err = v2.Verify(ctx, qB, bad)
		requireErrIs(t, err, roles.ErrRevoked)
	}
	// u ≠ 0 with the membership point: the equation then fails.
	bad := deepCopy(t, forged)
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
	bad := deepCopy(t, oldA)
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
	r.requireTamperRejected(t, qB, oldB, func(bad *roles.Answer) { bad.Epoch = 2 }, roles.ErrBadProof)
	// An old audit answer for the same nonce: stale, and relabelled its
	// weights (bound to the epoch) and witness are wrong.
	requireErrIs(t, r.verify(aq, oldAudit), roles.ErrStaleState)
	r.requireTamperRejected(t, aq, oldAudit, func(bad *roles.Answer) { bad.Epoch = 2 }, roles.ErrBadProof)
	// Fresh answers verify; the old witness is not the new one.
	fresh := r.honest(t, qB)
	require.EqualValues(t, 2, fresh.Epoch)
	require.NotEqual(t, oldB.Witness, fresh.Witness)
	r.honest(t, aq)
	// The new witness with the old epoch: stale.
	r.requireTamperRejected(t, qB, fresh, func(bad *roles.Answer) { bad.Epoch = 1 }, roles.ErrStaleState)
}
