package commitment

import (
	"sync"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// This file holds the radix-2 FFT over G1 that the point-proof
// precomputation (precompute.go) runs: a forward transform of the CRS side,
// once per CRS and size, and an inverse transform per column. Each stage
// works on chunks of butterflies whose twiddle multiplications run in
// lockstep in affine coordinates (g1batch.go), and the chunks run on
// several goroutines.

// fftChunk is the number of butterflies processed in lockstep.
const fftChunk = 2048

// fftScratch is the per-goroutine scratch space of a stage.
type fftScratch struct {
	affineBatch
	ui, vi, pos []int
	t, vs, prod []bls.G1Affine
	sc          []*glvScalar
}

func (f *fftScratch) reset(n int) {
	f.grow(n)
	if cap(f.ui) < n {
		f.ui, f.vi, f.pos = make([]int, n), make([]int, n), make([]int, 0, n)
		f.t, f.vs, f.prod = make([]bls.G1Affine, n), make([]bls.G1Affine, 0, n), make([]bls.G1Affine, n)
		f.sc = make([]*glvScalar, 0, n)
	}
	f.pos, f.vs, f.sc = f.pos[:0], f.vs[:0], f.sc[:0]
}

// g1FFT runs the stages of a radix-2 FFT of a (length M, a power of two)
// in place. dif selects decimation in frequency (natural order in,
// bit-reversed out, stages from size M down to 2) or in time (bit-reversed
// in, natural out, stages from 2 up to M). tw[k] is the twiddle ω^k, k <
// M/2, in GLV form: the transform is Σ_j a_j·ω^(jk).
func g1FFT(a []bls.G1Affine, tw []glvScalar, dif bool, workers int) {
	m := len(a)
	for step := 1; step < m; step *= 2 {
		size := 2 * step // DIT: 2, 4, …, M
		if dif {
			size = m / step // DIF: M, M/2, …, 2
		}
		half, stride := size/2, m/size
		parallelN(m/2, workers, func(lo, hi int) {
			var f fftScratch
			for c := lo; c < hi; c += fftChunk {
				f.stage(a, c, min(c+fftChunk, hi), half, stride, tw, dif)
			}
		})
	}
}

// stage runs the butterflies lo..hi−1 of one stage.
func (f *fftScratch) stage(a []bls.G1Affine, lo, hi, half, stride int, tw []glvScalar, dif bool) {
	n := hi - lo
	f.reset(n)
	for k := range n {
		b := lo + k
		s, j := (b/half)*2*half, b%half
		f.ui[k], f.vi[k] = s+j, s+j+half
		if j != 0 {
			f.pos = append(f.pos, k)
			f.sc = append(f.sc, &tw[j*stride])
		}
	}
	ui, vi := f.ui[:n], f.vi[:n]
	if dif { // (u, v) → (u + v, (u − v)·ω^j)
		for k := range n {
			f.t[k] = a[vi[k]]
		}
		f.butterflies(a, ui, vi, f.t[:n])
		for _, k := range f.pos {
			f.vs = append(f.vs, a[vi[k]])
		}
		f.mul(f.prod[:len(f.vs)], f.vs, f.sc)
		for q, k := range f.pos {
			a[vi[k]] = f.prod[q]
		}
		return
	}
	// (u, v) → (u + v·ω^j, u − v·ω^j)
	for k := range n {
		f.t[k] = a[vi[k]]
	}
	for _, k := range f.pos {
		f.vs = append(f.vs, a[vi[k]])
	}
	f.mul(f.prod[:len(f.vs)], f.vs, f.sc)
	for q, k := range f.pos {
		f.t[k] = f.prod[q]
	}
	f.butterflies(a, ui, vi, f.t[:n])
}

// glvTwiddles returns w^k for k < count in GLV form.
func glvTwiddles(w *fr.Element, count int, workers int) []glvScalar {
	pows := make([]fr.Element, count)
	if count > 0 {
		pows[0].SetOne()
	}
	for k := 1; k < count; k++ {
		pows[k].Mul(&pows[k-1], w)
	}
	out := make([]glvScalar, count)
	parallelN(count, workers, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			out[k] = splitScalar(&pows[k])
		}
	})
	return out
}

// lockstepMin is the smallest number of scalar multiplications mulAll runs
// in lockstep.
const lockstepMin = 32

// mulAll sets out[i] = s[i]·p[i] for all i, in lockstep chunks on several
// goroutines.
func mulAll(out, p []bls.G1Affine, s []fr.Element, workers int) {
	if len(p) < lockstepMin {
		// Too few to amortise one inversion per step.
		for i := range p {
			out[i].ScalarMultiplication(&p[i], frToBig(&s[i]))
		}
		return
	}
	parallelN(len(p), workers, func(lo, hi int) {
		var b affineBatch
		sc := make([]glvScalar, min(fftChunk, hi-lo))
		ptr := make([]*glvScalar, len(sc))
		for c := lo; c < hi; c += fftChunk {
			e := min(c+fftChunk, hi)
			for i := c; i < e; i++ {
				sc[i-c] = splitScalar(&s[i])
				ptr[i-c] = &sc[i-c]
			}
			b.mul(out[c:e], p[c:e], ptr[:e-c])
		}
	})
}

// parallelN splits [0, n) into at most workers contiguous chunks and runs
// f on each, in parallel, returning when all are done.
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
