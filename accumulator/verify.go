package accumulator

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// Terms returns the G1 points A, B of the non-membership equation of SPEC §6
// in the form that needs only G1 scalar multiplications:
//
//	e(A, P)·e(B, ĝ) = 1   with   A = w,  B = y·w − f − u·g,
//
// which holds, for the owner's public key P = s·ĝ, exactly when
// (y+s)·w = f + u·g. Callers merge it into a larger pairing check (SPEC §7);
// [Verify] checks it alone.
//
// Terms enforces the rest of the verification: it returns an error wrapping
// ErrRevoked if w.U = 0 — the form of the membership witness of a revoked
// element, which satisfies the pairing equation and must be rejected — an
// error wrapping ErrIdentity if f is the identity, ErrInvalidPoint if f or
// w.W is off the curve or outside the prime-order subgroup, and
// ErrInvalidInput on a nil argument. w.W may be the identity.
func Terms(f *bls.G1Affine, y *fr.Element, w *Witness) (A bls.G1Affine, B bls.G1Jac, err error) {
	if f != nil && !f.IsInSubGroup() {
		return A, B, fmt.Errorf("accumulator: witness check: accumulator value: %w", ErrInvalidPoint)
	}
	return TermsNoAccumulatorCheck(f, y, w)
}

// TermsNoAccumulatorCheck is [Terms] without the subgroup check of f, for a
// caller that checked f once — when it accepted the signed state that
// carries it — and verifies many witnesses against it. Everything else,
// u ≠ 0 included, is checked.
func TermsNoAccumulatorCheck(f *bls.G1Affine, y *fr.Element, w *Witness) (A bls.G1Affine, B bls.G1Jac, err error) {
	switch {
	case f == nil || y == nil || w == nil:
		return A, B, fmt.Errorf("accumulator: witness check: nil argument: %w", ErrInvalidInput)
	case f.IsInfinity():
		return A, B, fmt.Errorf("accumulator: witness check: accumulator value: %w", ErrIdentity)
	case w.U.IsZero():
		return A, B, fmt.Errorf("accumulator: witness check: u = 0 (membership witness): %w", ErrRevoked)
	case !w.W.IsInSubGroup():
		return A, B, fmt.Errorf("accumulator: witness check: witness point: %w", ErrInvalidPoint)
	}
	var negU fr.Element
	negU.Neg(&w.U)
	var bu, by big.Int
	negU.BigInt(&bu)
	if w.W.IsInfinity() {
		B.ScalarMultiplicationBase(&bu) // y·O = O
	} else {
		B.JointScalarMultiplicationBase(&w.W, &bu, y.BigInt(&by))
	}
	var fj bls.G1Jac
	fj.FromAffine(f)
	B.SubAssign(&fj)
	return w.W, B, nil
}

// Verify checks the non-membership witness w of y against the accumulator
// value f and the owner's public key pk (SPEC §6): u ≠ 0 and
// e(w, y·ĝ + P) = e(f + u·g, ĝ), evaluated as the single pairing check
// e(w, P)·e(y·w − f − u·g, ĝ) = 1 of [Terms].
//
// It returns nil if the witness is valid, an error wrapping ErrBadProof if
// the equation fails, an error wrapping both ErrBadProof and ErrRevoked if
// w.U = 0, and an error wrapping ErrInvalidInput (ErrIdentity,
// ErrInvalidPoint) if pk or f is the identity, a point is outside the
// prime-order subgroup or an argument is nil.
func Verify(pk *bls.G2Affine, f *bls.G1Affine, y *fr.Element, w *Witness) error {
	switch {
	case pk == nil:
		return fmt.Errorf("accumulator: verify: nil public key: %w", ErrInvalidInput)
	case pk.IsInfinity():
		return fmt.Errorf("accumulator: verify: public key: %w", ErrIdentity)
	case !pk.IsInSubGroup():
		return fmt.Errorf("accumulator: verify: public key: %w", ErrInvalidPoint)
	}
	a, b, err := Terms(f, y, w)
	if err != nil {
		if errors.Is(err, ErrRevoked) {
			return fmt.Errorf("accumulator: verify: %w: %w", ErrBadProof, err)
		}
		return fmt.Errorf("accumulator: verify: %w", err)
	}
	_, _, _, g2 := bls.Generators()
	var ba bls.G1Affine
	ba.FromJacobian(&b)
	ok, err := bls.PairingCheck([]bls.G1Affine{a, ba}, []bls.G2Affine{*pk, g2})
	if err != nil {
		return fmt.Errorf("accumulator: verify: %w: %w", ErrBadProof, err)
	}
	if !ok {
		return fmt.Errorf("accumulator: verify: epoch %d: %w", w.Epoch, ErrBadProof)
	}
	return nil
}

// AggregateTerms returns the G1 points A, B of one equation that holds,
// except with probability 2⁻¹²⁸ over the random coefficients it draws,
// exactly when the non-membership equation of every (ys[i], ws[i]) holds
// against the same accumulator value f (SPEC §11.4):
//
//	A = Σ rᵢ·wᵢ,  B = Σ rᵢyᵢ·wᵢ − (Σ rᵢuᵢ)·g − (Σ rᵢ)·f,  e(A, P)·e(B, ĝ) = 1.
//
// It costs two multi-exponentiations of len(ws) points instead of a joint
// scalar multiplication per witness. Each witness is checked as by
// [TermsNoAccumulatorCheck] (u ≠ 0, w on the curve and in the subgroup); the
// first failure is returned with its index. f must have been checked by
// the caller.
func AggregateTerms(f *bls.G1Affine, ys []fr.Element, ws []Witness) (A bls.G1Affine, B bls.G1Jac, bad int, err error) {
	if f == nil || len(ys) != len(ws) || len(ws) == 0 {
		return A, B, -1, fmt.Errorf("accumulator: aggregate: %d elements, %d witnesses: %w", len(ys), len(ws), ErrInvalidInput)
	}
	if f.IsInfinity() {
		return A, B, -1, fmt.Errorf("accumulator: aggregate: accumulator value: %w", ErrIdentity)
	}
	points := make([]bls.G1Affine, len(ws))
	r := make([]fr.Element, len(ws))
	ry := make([]fr.Element, len(ws))
	var sumR, sumRU, t fr.Element
	var buf [16]byte
	for i := range ws {
		w := &ws[i]
		switch {
		case w.U.IsZero():
			return A, B, i, fmt.Errorf("accumulator: witness check: u = 0 (membership witness): %w", ErrRevoked)
		case !w.W.IsOnCurve() || !w.W.IsInSubGroup():
			return A, B, i, fmt.Errorf("accumulator: witness check: witness point: %w", ErrInvalidPoint)
		}
		if _, err := rand.Read(buf[:]); err != nil {
			return A, B, -1, fmt.Errorf("accumulator: randomness: %w", err)
		}
		buf[0] |= 0x80 // never zero
		r[i].SetBytes(buf[:])
		points[i] = w.W
		ry[i].Mul(&r[i], &ys[i])
		sumR.Add(&sumR, &r[i])
		t.Mul(&r[i], &w.U)
		sumRU.Add(&sumRU, &t)
	}
	if _, err := A.MultiExp(points, r, ecc.MultiExpConfig{}); err != nil {
		return A, B, -1, err
	}
	if _, err := B.MultiExp(points, ry, ecc.MultiExpConfig{}); err != nil {
		return A, B, -1, err
	}
	// B −= (Σ rᵢuᵢ)·g + (Σ rᵢ)·f
	var negRU, negR big.Int
	sumRU.Neg(&sumRU)
	sumR.Neg(&sumR)
	sumRU.BigInt(&negRU)
	sumR.BigInt(&negR)
	var tg, tf bls.G1Jac
	tg.ScalarMultiplicationBase(&negRU)
	tf.FromAffine(f)
	tf.ScalarMultiplication(&tf, &negR)
	B.AddAssign(&tg)
	B.AddAssign(&tf)
	return A, B, -1, nil
}

// CheckStep checks that fNext is fPrev with x accumulated under the owner's
// public key pk = s·ĝ (SPEC §6): f_E = (x_E + s)·f_{E−1}, evaluated without
// the secret as e(f_E, ĝ) = e(f_{E−1}, x_E·ĝ + P), that is the single check
// e(f_E − x_E·f_{E−1}, ĝ)·e(−f_{E−1}, P) = 1. A verifier runs it on every
// signed state it links to the one it holds, so that a chain of states is a
// chain of accumulations whatever the signer did.
//
// It returns an error wrapping ErrBadProof if the relation fails,
// ErrIdentity if a value is the identity, ErrInvalidPoint if a point is off
// the curve or outside the prime-order subgroup, and ErrInvalidInput on a
// nil argument.
func CheckStep(pk *bls.G2Affine, fPrev, fNext *bls.G1Affine, x *fr.Element) error {
	switch {
	case pk == nil || fPrev == nil || fNext == nil || x == nil:
		return fmt.Errorf("accumulator: step check: nil argument: %w", ErrInvalidInput)
	case pk.IsInfinity() || fPrev.IsInfinity() || fNext.IsInfinity():
		return fmt.Errorf("accumulator: step check: %w", ErrIdentity)
	case !pk.IsOnCurve() || !pk.IsInSubGroup() || !fPrev.IsOnCurve() || !fPrev.IsInSubGroup() || !fNext.IsOnCurve() || !fNext.IsInSubGroup():
		return fmt.Errorf("accumulator: step check: %w", ErrInvalidPoint)
	}
	var a, xf bls.G1Jac
	a.FromAffine(fNext)
	var xb big.Int
	xf.FromAffine(fPrev)
	xf.ScalarMultiplication(&xf, x.BigInt(&xb))
	a.SubAssign(&xf)
	var p [2]bls.G1Affine
	p[0].FromJacobian(&a)
	p[1].Neg(fPrev)
	_, _, _, g2 := bls.Generators()
	ok, err := bls.PairingCheck(p[:], []bls.G2Affine{g2, *pk})
	if err != nil {
		return fmt.Errorf("accumulator: step check: %w", err)
	}
	if !ok {
		return fmt.Errorf("accumulator: f_E is not (x_E + s)·f_{E−1}: %w", ErrBadProof)
	}
	return nil
}
