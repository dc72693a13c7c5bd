package accumulator

import (
	"fmt"
	"math"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/internal/hash"
)

// Element returns y = HFr("vds/v1/acc", D), the accumulator element of the
// batch with digest D (SPEC §6). It is keyed on the digest, never on
// signature bytes.
func Element(digest [32]byte) fr.Element {
	return hash.ToFr1(hash.TagAccumulator, digest[:])
}

// Initial returns f₀ = g, the accumulator value of epoch 0, when nothing is
// revoked (SPEC §6).
func Initial() bls.G1Affine {
	_, _, g, _ := bls.Generators()
	return g
}

// Witness is a non-membership witness (w, u) of an element y at an epoch
// (SPEC §6): (y+s)·W = f_Epoch + U·g, with U ≠ 0. W may be the identity (it is
// at epoch 0); U = 0 is the form of a membership witness and never verifies.
type Witness struct {
	W     bls.G1Affine
	U     fr.Element
	Epoch uint64
}

// InitialWitness returns the witness of every element at epoch 0: (O, −1),
// since (y+s)·O = g + (−1)·g (SPEC §6).
func InitialWitness() Witness {
	var w Witness
	w.W.SetInfinity()
	w.U.SetOne()
	w.U.Neg(&w.U)
	return w
}

// msmThreshold is the number of points from which Update uses a
// multi-exponentiation rather than one scalar multiplication per point.
// BenchmarkUpdatePaths puts the crossover at 10–12 points on 2 cores (the
// multi-exponentiation is parallel, the loop is not).
const msmThreshold = 12

// Update brings the witness w of y from epoch w.Epoch to epoch
// w.Epoch+len(xs) with one multi-exponentiation of size len(xs)+1 (SPEC §6):
// fPrev[i] = f_{w.Epoch+i} and xs[i] = x_{w.Epoch+i+1}, so len(fPrev) must
// equal len(xs). With E0 = w.Epoch and E = E0+k,
//
//	w_E = (Π_{l=E0+1..E} (x_l − y))·w_E0 + Σ_{i=E0+1..E} (Π_{l=i+1..E} (x_l − y))·f_{i−1}
//	u_E = u_E0 · Π_{l=E0+1..E} (x_l − y)
//
// It needs no secret. If some x_l = y the element was revoked at epoch l and
// Update returns a [*RevokedError]; it fails with ErrIdentity if some f is the
// identity, with ErrRevoked if w.U = 0 and with ErrInvalidInput on a nil y, a
// length mismatch or an epoch overflow. The result equals, bit for bit, len(xs)
// applications of [UpdateStep]. The cost is linear in len(xs); callers that
// take the history from a peer bound its length.
func Update(w Witness, y *fr.Element, fPrev []bls.G1Affine, xs []fr.Element) (Witness, error) {
	k := len(xs)
	if err := checkUpdate(&w, y, k); err != nil {
		return Witness{}, err
	}
	if len(fPrev) != k {
		return Witness{}, fmt.Errorf("accumulator: update: %d accumulator values for %d revocations: %w", len(fPrev), k, ErrInvalidInput)
	}
	if k == 0 {
		return w, nil
	}
	// c[m] = Π_{j≥m} (xs[j] − y) is the scalar of the point p[m], with
	// p[0] = w.W and p[m] = fPrev[m−1] for m ≥ 1; c[k] = 1.
	c := make([]fr.Element, k+1)
	for i := range xs {
		c[i].Sub(&xs[i], y)
		if c[i].IsZero() {
			return Witness{}, &RevokedError{Epoch: w.Epoch + uint64(i) + 1}
		}
		if fPrev[i].IsInfinity() {
			return Witness{}, fmt.Errorf("accumulator: update: accumulator value of epoch %d: %w", w.Epoch+uint64(i), ErrIdentity)
		}
	}
	c[k].SetOne()
	for m := k - 1; m >= 0; m-- {
		c[m].Mul(&c[m], &c[m+1])
	}

	var acc bls.G1Jac
	if err := combine(&acc, &w.W, fPrev, c, k+1 >= msmThreshold); err != nil {
		return Witness{}, fmt.Errorf("accumulator: update: %w", err)
	}

	var out Witness
	out.W.FromJacobian(&acc)
	out.U.Mul(&w.U, &c[0])
	out.Epoch = w.Epoch + uint64(k)
	return out, nil
}

// UpdateStep brings the witness w of y forward by one epoch, E = w.Epoch+1,
// with the one-step formula of SPEC §6, given fPrev = f_{E−1} and x = x_E:
//
//	w_E = f_{E−1} + (x_E − y)·w_{E−1},   u_E = u_{E−1}·(x_E − y).
//
// It returns a [*RevokedError] if x = y, and otherwise fails as [Update] does.
func UpdateStep(w Witness, y *fr.Element, fPrev *bls.G1Affine, x *fr.Element) (Witness, error) {
	if fPrev == nil || x == nil {
		return Witness{}, fmt.Errorf("accumulator: update: nil argument: %w", ErrInvalidInput)
	}
	if err := checkUpdate(&w, y, 1); err != nil {
		return Witness{}, err
	}
	var d fr.Element
	d.Sub(x, y)
	if d.IsZero() {
		return Witness{}, &RevokedError{Epoch: w.Epoch + 1}
	}
	if fPrev.IsInfinity() {
		return Witness{}, fmt.Errorf("accumulator: update: accumulator value of epoch %d: %w", w.Epoch, ErrIdentity)
	}
	var acc bls.G1Jac
	if !w.W.IsInfinity() {
		var b big.Int
		acc.FromAffine(&w.W)
		acc.ScalarMultiplication(&acc, d.BigInt(&b))
	}
	acc.AddMixed(fPrev)

	var out Witness
	out.W.FromJacobian(&acc)
	out.U.Mul(&w.U, &d)
	out.Epoch = w.Epoch + 1
	return out, nil
}

// combine sets acc = c[0]·w + Σ_i c[i+1]·fPrev[i], where c[len(fPrev)] = 1,
// by one multi-exponentiation if msm is set and otherwise by one scalar
// multiplication per point. The identity w is left out of the sum.
func combine(acc *bls.G1Jac, w *bls.G1Affine, fPrev []bls.G1Affine, c []fr.Element, msm bool) error {
	k := len(fPrev)
	if msm {
		points, scalars := fPrev, c[1:]
		if !w.IsInfinity() {
			points = make([]bls.G1Affine, k+1)
			points[0] = *w
			copy(points[1:], fPrev)
			scalars = c
		}
		// MultiExp fails only on a length mismatch or a bad config, both
		// excluded by construction.
		_, err := acc.MultiExp(points, scalars, ecc.MultiExpConfig{})
		return err
	}
	var b big.Int
	var t bls.G1Jac
	acc.Set(&g1Infinity)
	if !w.IsInfinity() {
		acc.FromAffine(w)
		acc.ScalarMultiplication(acc, c[0].BigInt(&b))
	}
	for i := range k - 1 {
		t.FromAffine(&fPrev[i])
		t.ScalarMultiplication(&t, c[i+1].BigInt(&b))
		acc.AddAssign(&t)
	}
	acc.AddMixed(&fPrev[k-1]) // its scalar c[k] is 1
	return nil
}

// g1Infinity is the identity of G1 in Jacobian coordinates.
var g1Infinity = func() bls.G1Jac {
	var p bls.G1Jac
	var a bls.G1Affine
	a.SetInfinity()
	p.FromAffine(&a)
	return p
}()

// checkUpdate validates the arguments common to Update and UpdateStep for k
// epochs.
func checkUpdate(w *Witness, y *fr.Element, k int) error {
	switch {
	case y == nil:
		return fmt.Errorf("accumulator: update: nil element: %w", ErrInvalidInput)
	case w.U.IsZero():
		return fmt.Errorf("accumulator: update: witness has u = 0 (a membership witness): %w", ErrRevoked)
	case uint64(k) > math.MaxUint64-w.Epoch:
		return fmt.Errorf("accumulator: update: epoch %d + %d overflows: %w", w.Epoch, k, ErrInvalidInput)
	}
	return nil
}
