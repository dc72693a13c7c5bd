package commitment

import (
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

type weightKind uint8

const (
	kindNone weightKind = iota
	kindRange
	kindDense
	kindSparse
)

// Weights is a weight vector w ∈ Fr^n for an aggregated opening (SPEC §4),
// with rows numbered from 1. Structured weights (a single row, a contiguous
// range of ones) verify in O(1) group operations; dense and sparse weights
// cost a multi-exponentiation of their size. The zero value is invalid.
type Weights struct {
	kind weightKind
	a, b int          // range [a, b] of ones (a == b for a single row)
	pos  []int        // sparse: strictly increasing positions
	w    []fr.Element // dense: w_1..w_len; sparse: the weight of each position
}

// Row returns the weights of a single row i (the unit vector eᵢ): the
// opening is the value mᵢ.
func Row(i int) Weights { return Weights{kind: kindRange, a: i, b: i} }

// Range returns unit weights on the rows a..b (inclusive): the opening is
// Σ_{i=a..b} mᵢ.
func Range(a, b int) Weights { return Weights{kind: kindRange, a: a, b: b} }

// Dense returns the weights w₁…w_len(w) (rows past len(w) weigh zero). The
// slice is used, not copied; do not modify it while the Weights are in use.
func Dense(w []fr.Element) Weights { return Weights{kind: kindDense, w: w} }

// Sparse returns weights w[k] at the rows pos[k] (strictly increasing) and
// zero elsewhere. The slices are used, not copied.
func Sparse(pos []int, w []fr.Element) Weights { return Weights{kind: kindSparse, pos: pos, w: w} }

// Check returns an error wrapping [ErrInvalidInput] unless the weights are
// well formed for capacity n.
func (w Weights) Check(n int) error {
	switch w.kind {
	case kindRange:
		if w.a < 1 || w.b < w.a || w.b > n {
			return fmt.Errorf("commitment: rows [%d, %d] outside [1, %d]: %w", w.a, w.b, n, ErrInvalidInput)
		}
	case kindDense:
		if len(w.w) > n {
			return fmt.Errorf("commitment: %d weights for capacity %d: %w", len(w.w), n, ErrInvalidInput)
		}
	case kindSparse:
		if len(w.pos) != len(w.w) {
			return fmt.Errorf("commitment: %d positions, %d weights: %w", len(w.pos), len(w.w), ErrInvalidInput)
		}
		for k, p := range w.pos {
			if p < 1 || p > n || (k > 0 && p <= w.pos[k-1]) {
				return fmt.Errorf("commitment: sparse positions must increase within [1, %d]: %w", n, ErrInvalidInput)
			}
		}
	default:
		return fmt.Errorf("commitment: zero Weights: %w", ErrInvalidInput)
	}
	return nil
}

// support returns the first and last row with a possibly non-zero weight,
// or ok = false if every weight is zero.
func (w Weights) support() (lo, hi int, ok bool) {
	switch w.kind {
	case kindRange:
		return w.a, w.b, true
	case kindDense:
		lo, hi = 0, 0
		for i := range w.w {
			if !w.w[i].IsZero() {
				if lo == 0 {
					lo = i + 1
				}
				hi = i + 1
			}
		}
		return lo, hi, lo != 0
	case kindSparse:
		for k := range w.w {
			if !w.w[k].IsZero() {
				if lo == 0 {
					lo = w.pos[k]
				}
				hi = w.pos[k]
			}
		}
		return lo, hi, lo != 0
	}
	return 0, 0, false
}

// forEach calls f for every row i with a non-zero weight, in increasing order.
func (w Weights) forEach(f func(i int, wi *fr.Element)) {
	switch w.kind {
	case kindRange:
		var one fr.Element
		one.SetOne()
		for i := w.a; i <= w.b; i++ {
			f(i, &one)
		}
	case kindDense:
		for i := range w.w {
			if !w.w[i].IsZero() {
				f(i+1, &w.w[i])
			}
		}
	case kindSparse:
		for k, p := range w.pos {
			if !w.w[k].IsZero() {
				f(p, &w.w[k])
			}
		}
	}
}

// InnerProduct returns Σᵢ wᵢ·mᵢ, the value an opening of m under w proves.
func InnerProduct(m []fr.Element, w Weights) fr.Element {
	var x fr.Element
	switch w.kind {
	case kindRange:
		for i := w.a; i <= min(w.b, len(m)); i++ {
			x.Add(&x, &m[i-1])
		}
	case kindDense:
		l := min(len(m), len(w.w))
		var t fr.Element
		for i := 0; i < l; i++ {
			t.Mul(&w.w[i], &m[i])
			x.Add(&x, &t)
		}
	case kindSparse:
		var t fr.Element
		for k, p := range w.pos {
			if p <= len(m) {
				t.Mul(&w.w[k], &m[p-1])
				x.Add(&x, &t)
			}
		}
	}
	return x
}
