// Package pairing merges pairing equations into one multi-pairing check.
//
// A Check collects equations of the form ∏ e(Pᵢ, Qᵢ) = 1. Each equation after
// the first is scaled by a fresh random 128-bit coefficient, so the merged
// product is 1 with probability at most 2⁻¹²⁸ unless every equation holds.
// Terms paired with the same fixed G2 point (ĝ, ĝₙ, an owner's ĝˢ) are summed
// in G1, so they add one pair to the multi-Miller loop however many equations
// use them; the whole check costs one multi-Miller loop and one final
// exponentiation.
package pairing

import (
	"crypto/rand"
	"errors"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/internal/fixedbase"
)

// Fixed is a G2 point that many equations pair with; terms added with it are
// summed in G1. Two Fixed values are the same slot only if they are the same
// pointer.
type Fixed struct {
	Q bls.G2Affine
}

// NewFixed returns a slot for q.
func NewFixed(q *bls.G2Affine) *Fixed { return &Fixed{Q: *q} }

type fixedTerm struct {
	q   *Fixed
	acc bls.G1Jac
}

// Check accumulates pairing equations. The zero value is ready to use; a
// Check is not safe for concurrent use.
type Check struct {
	started bool
	coeff   big.Int // coefficient of the current equation
	coeffFr fr.Element
	fixed   []fixedTerm
	p       []bls.G1Affine
	q       []bls.G2Affine
}

// Equation starts a new equation. The first equation has coefficient 1; each
// later one a fresh uniformly random 128-bit coefficient.
func (c *Check) Equation() {
	if !c.started {
		c.started = true
		c.coeff.SetUint64(1)
		c.coeffFr.SetOne()
		return
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("pairing: crypto/rand failed: " + err.Error())
	}
	b[0] |= 0x80 // never zero
	c.coeff.SetBytes(b[:])
	c.coeffFr.SetBigInt(&c.coeff)
}

func (c *Check) ensureStarted() {
	if !c.started {
		c.Equation()
	}
}

func (c *Check) slot(q *Fixed) *bls.G1Jac {
	for i := range c.fixed {
		if c.fixed[i].q == q {
			return &c.fixed[i].acc
		}
	}
	c.fixed = append(c.fixed, fixedTerm{q: q})
	return &c.fixed[len(c.fixed)-1].acc
}

// AddFixed adds the term e(coeff·p, q) to the current equation.
func (c *Check) AddFixed(p *bls.G1Affine, q *Fixed) {
	c.ensureStarted()
	var t bls.G1Jac
	t.FromAffine(p)
	if !c.coeffIsOne() {
		t.ScalarMultiplication(&t, &c.coeff)
	}
	c.slot(q).AddAssign(&t)
}

// AddFixedJac is AddFixed for a point in Jacobian coordinates.
func (c *Check) AddFixedJac(p *bls.G1Jac, q *Fixed) {
	c.ensureStarted()
	t := *p
	if !c.coeffIsOne() {
		t.ScalarMultiplication(&t, &c.coeff)
	}
	c.slot(q).AddAssign(&t)
}

// AddFixedScaled adds the term e(coeff·s·p, q) to the current equation.
func (c *Check) AddFixedScaled(p *bls.G1Affine, s *fr.Element, q *Fixed) {
	c.ensureStarted()
	var k fr.Element
	k.Mul(s, &c.coeffFr)
	var kb big.Int
	k.BigInt(&kb)
	var t bls.G1Jac
	t.FromAffine(p)
	t.ScalarMultiplication(&t, &kb)
	c.slot(q).AddAssign(&t)
}

// AddScaledBase adds the term e(coeff·s·P, q) where t is the fixed-base
// table of P.
func (c *Check) AddScaledBase(t *fixedbase.Table, s *fr.Element, q *Fixed) {
	c.ensureStarted()
	var k fr.Element
	k.Mul(s, &c.coeffFr)
	p := t.Mul(&k)
	c.slot(q).AddAssign(&p)
}

// AddCombination adds the term e(Σᵢ coeff·sᵢ·pᵢ, q) for a G2 point q not
// known in advance: one scalar multiplication per point (an MSM above a
// handful), with the equation's coefficient folded into the scalars.
func (c *Check) AddCombination(p []bls.G1Affine, s []fr.Element, q *bls.G2Affine) error {
	if len(p) != len(s) {
		return errors.New("pairing: points and scalars differ in length")
	}
	c.ensureStarted()
	k := make([]fr.Element, len(s))
	for i := range s {
		k[i].Mul(&s[i], &c.coeffFr)
	}
	var acc bls.G1Jac
	if len(p) > 8 {
		if _, err := acc.MultiExp(p, k, ecc.MultiExpConfig{}); err != nil {
			return err
		}
	} else {
		var t bls.G1Jac
		var b big.Int
		for i := range p {
			t.FromAffine(&p[i])
			t.ScalarMultiplication(&t, k[i].BigInt(&b))
			acc.AddAssign(&t)
		}
	}
	var a bls.G1Affine
	a.FromJacobian(&acc)
	c.p = append(c.p, a)
	c.q = append(c.q, *q)
	return nil
}

// Add adds the term e(coeff·p, q) for a G2 point q not known in advance.
func (c *Check) Add(p *bls.G1Affine, q *bls.G2Affine) {
	c.ensureStarted()
	pp := *p
	if !c.coeffIsOne() {
		pp.ScalarMultiplication(p, &c.coeff)
	}
	c.p = append(c.p, pp)
	c.q = append(c.q, *q)
}

func (c *Check) coeffIsOne() bool { return c.coeffFr.IsOne() }

// ErrFailed is returned by Verify when the merged product is not 1.
var ErrFailed = errors.New("pairing check failed")

// Verify computes the merged product and returns nil exactly when it is 1.
// An empty Check verifies trivially.
func (c *Check) Verify() error {
	if len(c.fixed) == 0 && len(c.p) == 0 {
		return nil
	}
	acc := make([]bls.G1Jac, len(c.fixed))
	q := make([]bls.G2Affine, 0, len(c.fixed)+len(c.q))
	for i := range c.fixed {
		acc[i] = c.fixed[i].acc
		q = append(q, c.fixed[i].q.Q)
	}
	p := append(bls.BatchJacobianToAffineG1(acc), c.p...)
	q = append(q, c.q...)
	ok, err := bls.PairingCheck(p, q)
	if err != nil {
		return err
	}
	if !ok {
		return ErrFailed
	}
	return nil
}

// Mark is a saved state of a Check, to roll back to.
type Mark struct {
	started bool
	coeff   big.Int
	coeffFr fr.Element
	fixed   []fixedTerm
	pairs   int
}

// Mark saves the state of c: Rollback(m) then undoes every term added
// since.
func (c *Check) Mark() Mark {
	m := Mark{started: c.started, coeffFr: c.coeffFr, fixed: append([]fixedTerm(nil), c.fixed...), pairs: len(c.p)}
	m.coeff.Set(&c.coeff)
	return m
}

// Rollback restores the state saved by Mark.
func (c *Check) Rollback(m Mark) {
	c.started = m.started
	c.coeff.Set(&m.coeff)
	c.coeffFr = m.coeffFr
	c.fixed = append(c.fixed[:0], m.fixed...)
	c.p, c.q = c.p[:m.pairs], c.q[:m.pairs]
}
