package commitment

import (
	"math/big"
	"sync"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
)

// This file holds the radix-2 FFT over G1 that the point-proof
// precomputation (precompute.go) runs: a forward transform of the CRS side,
// once per CRS and size, and an inverse transform per column.

// g1FFTDIF transforms a (natural order, length M a power of two) in place
// into â_k = Σ_j a_j·ω^(jk), in bit-reversed order (decimation in
// frequency). tw[k] = ω^k for k < M/2.
func g1FFTDIF(a []bls.G1Jac, tw []big.Int, workers int) {
	m := len(a)
	for size := m; size >= 2; size /= 2 {
		half, stride := size/2, m/size
		parallelN(m/2, workers, func(lo, hi int) {
			var d bls.G1Jac
			for b := lo; b < hi; b++ {
				s, j := (b/half)*size, b%half
				u, v := &a[s+j], &a[s+j+half]
				d.Set(u)
				d.SubAssign(v)
				u.AddAssign(v)
				if j == 0 {
					v.Set(&d)
				} else {
					v.ScalarMultiplication(&d, &tw[j*stride])
				}
			}
		})
	}
}

// g1FFTDIT transforms a (bit-reversed order) in place into
// Σ_j a_j·ω^(jk) in natural order (decimation in time), where tw[k] = ω^k
// for k < M/2. Called with the inverse twiddles it is the inverse
// transform without the factor 1/M.
func g1FFTDIT(a []bls.G1Jac, tw []big.Int, workers int) {
	m := len(a)
	for size := 2; size <= m; size *= 2 {
		half, stride := size/2, m/size
		parallelN(m/2, workers, func(lo, hi int) {
			var t bls.G1Jac
			for b := lo; b < hi; b++ {
				s, j := (b/half)*size, b%half
				u, v := &a[s+j], &a[s+j+half]
				if j == 0 {
					t.Set(v)
				} else {
					t.ScalarMultiplication(v, &tw[j*stride])
				}
				v.Set(u)
				v.SubAssign(&t)
				u.AddAssign(&t)
			}
		})
	}
}

// parallelN splits [0, n) into at most workers contiguous chunks and
// runs f on each, in parallel, returning when all are done.
func parallelN(n, workers int, f func(lo, hi int)) {
	workers = max(1, min(workers, n))
	if workers == 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() { defer wg.Done(); f(lo, hi) }()
	}
	wg.Wait()
}
