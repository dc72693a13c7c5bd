// Package fixedbase multiplies a fixed G1 point by scalars with a
// precomputed table: about 32 mixed additions per multiplication instead of
// a full double-and-add, for the points every verification multiplies (g,
// g₁).
package fixedbase

import (
	"sync"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

const (
	window = 8
	half   = 1 << (window - 1) // digits lie in [−half, half]
	rows   = 256/window + 1    // one extra row for the final carry
)

// Table holds j·2^(8i)·P for i < rows and j ∈ [1, 128].
type Table struct {
	t [rows][half]bls.G1Affine
}

// New precomputes the table of p.
func New(p *bls.G1Affine) *Table {
	jac := make([]bls.G1Jac, rows*half)
	var base bls.G1Jac
	base.FromAffine(p)
	for i := range rows {
		acc := base
		for j := range half {
			jac[i*half+j] = acc
			acc.AddAssign(&base)
		}
		// base ← 2^8·base
		for range window {
			base.DoubleAssign()
		}
	}
	aff := bls.BatchJacobianToAffineG1(jac)
	t := new(Table)
	for i := range rows {
		copy(t.t[i][:], aff[i*half:(i+1)*half])
	}
	return t
}

// Mul returns s·P.
func (t *Table) Mul(s *fr.Element) bls.G1Jac {
	limbs := s.Bits() // regular form, little-endian
	var acc bls.G1Jac
	carry := 0
	for i := range rows {
		d := carry
		if i < rows-1 {
			d += int(limbs[i/8] >> (8 * (i % 8)) & 0xff)
		}
		carry = 0
		if d > half {
			d -= 1 << window
			carry = 1
		}
		switch {
		case d > 0:
			acc.AddMixed(&t.t[i][d-1])
		case d < 0:
			var neg bls.G1Affine
			neg.Neg(&t.t[i][-d-1])
			acc.AddMixed(&neg)
		}
	}
	return acc
}

var (
	genOnce  sync.Once
	genTable *Table
)

// Generator returns the table of the standard generator g of G1.
func Generator() *Table {
	genOnce.Do(func() {
		_, _, g, _ := bls.Generators()
		genTable = New(&g)
	})
	return genTable
}
