package commitment

import (
	"fmt"
	"math/bits"
	"sync"

	"github.com/consensys/gnark-crypto/ecc"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr/fft"

	"github.com/vdsproject/vds/internal/hash"
)

// Open returns the aggregated opening of SPEC §4 for the vector m (length
// L ≤ n) committed with randomness gamma, under the weights w: the value
// x = Σᵢ wᵢ mᵢ and the proof π = Π_i π_i^(w_i). It works for vectors
// committed in G1 ([ProverKey.CommitG1]) and in G2 ([ProverKey.CommitG2]);
// the proof is in G1 either way.
//
// π's exponent of g_k is the cross-correlation c_k = Σ_{j−i=k−n−1} wᵢ mⱼ
// plus γ·w_{n+1−k} for k ≤ n. Open computes it in O(n) for a row or a range
// (with prefix sums), directly for a few sparse weights, and with an FFT
// convolution otherwise, then performs one multi-exponentiation over the
// g_k in the support, never g_{n+1}; c_{n+1} is x.
func (pk *ProverKey) Open(m []fr.Element, gamma fr.Element, w Weights) (fr.Element, bls.G1Affine, error) {
	if err := w.Check(pk.n); err != nil {
		return fr.Element{}, bls.G1Affine{}, err
	}
	if len(m) > pk.n {
		return fr.Element{}, bls.G1Affine{}, fmt.Errorf("commitment: open %d values with capacity %d: %w", len(m), pk.n, ErrInvalidInput)
	}
	lo, hi, ok := w.support()
	if !ok {
		return fr.Element{}, bls.G1Affine{}, fmt.Errorf("commitment: open: every weight is zero: %w", ErrInvalidInput)
	}
	n, l := pk.n, len(m)
	// d = k − (n+1) ranges over [−hi, l−lo]: the γ terms cover [−hi, −lo],
	// the correlation [1−hi, l−lo].
	dLo, dHi := -hi, l-lo
	coeff := make([]fr.Element, dHi-dLo+1) // coeff[d−dLo] = c_{n+1+d}
	if l > 0 {
		correlate(coeff[1-hi-dLo:], m, w, lo, hi)
	}
	w.forEach(func(i int, wi *fr.Element) { // γ·w_i at d = −i
		var t fr.Element
		t.Mul(&gamma, wi)
		coeff[-i-dLo].Add(&coeff[-i-dLo], &t)
	})
	var x fr.Element
	if 0 >= dLo && 0 <= dHi {
		x = coeff[-dLo]
		// Drop c_{n+1}: g_{n+1} does not exist.
		coeff = append(coeff[:-dLo], coeff[-dLo+1:]...)
	}
	kLo, kHi := n+1+dLo, n+1+dHi
	if kHi == n+1 {
		kHi = n
	}
	points := pk.g1[pk.g1Index(kLo) : pk.g1Index(kHi)+1]
	if len(points) != len(coeff) {
		return fr.Element{}, bls.G1Affine{}, fmt.Errorf("commitment: open: internal error: %d points, %d scalars", len(points), len(coeff))
	}
	var proof bls.G1Affine
	if _, err := proof.MultiExp(points, coeff, ecc.MultiExpConfig{}); err != nil {
		return fr.Element{}, bls.G1Affine{}, fmt.Errorf("commitment: open: %w", err)
	}
	if proof.IsInfinity() {
		return fr.Element{}, bls.G1Affine{}, fmt.Errorf("commitment: open: degenerate proof (zero data and randomness): %w", ErrIdentity)
	}
	return x, proof, nil
}

// correlate adds corr[d] = Σ_{i=lo..hi} wᵢ·m_{i+d} for d ∈ [1−hi, len(m)−lo]
// into out[d−(1−hi)].
func correlate(out []fr.Element, m []fr.Element, w Weights, lo, hi int) {
	l := len(m)
	dMin := 1 - hi
	switch {
	case w.kind == kindRange:
		// corr[d] = Σ_{j=max(a+d,1)..min(b+d,l)} m_j, by prefix sums.
		prefix := make([]fr.Element, l+1)
		for j := 1; j <= l; j++ {
			prefix[j].Add(&prefix[j-1], &m[j-1])
		}
		for d := dMin; d <= l-lo; d++ {
			jLo, jHi := max(lo+d, 1), min(hi+d, l)
			if jLo <= jHi {
				out[d-dMin].Sub(&prefix[jHi], &prefix[jLo-1])
			}
		}
	case w.kind == kindSparse && len(w.pos) <= sparseDirect:
		var t fr.Element
		for k, p := range w.pos {
			if w.w[k].IsZero() {
				continue
			}
			for j := 1; j <= l; j++ {
				t.Mul(&w.w[k], &m[j-1])
				out[j-p-dMin].Add(&out[j-p-dMin], &t)
			}
		}
	default:
		ws := make([]fr.Element, hi-lo+1)
		w.forEach(func(i int, wi *fr.Element) { ws[i-lo] = *wi })
		correlateDense(out, m, ws)
	}
}

// sparseDirect is the largest number of sparse weights correlated directly.
const sparseDirect = 16

// fftThreshold: products of lengths below it are correlated directly. A
// variable so that tests can force the FFT path.
var fftThreshold = 1 << 12

// correlateDense adds corr[d] = Σ_{i'} ws[i']·m[i'+d] (0-based) for
// d ∈ [1−len(ws), len(m)−1] into out[d+len(ws)−1], by FFT convolution of the
// reversed weights with m.
func correlateDense(out []fr.Element, m []fr.Element, ws []fr.Element) {
	lw, l := len(ws), len(m)
	if lw*l <= fftThreshold {
		var t fr.Element
		for i := range ws {
			for j := range m {
				t.Mul(&ws[i], &m[j])
				out[j-i+lw-1].Add(&out[j-i+lw-1], &t)
			}
		}
		return
	}
	size := uint64(1) << bits.Len(uint(lw+l-2))
	dom := domain(size)
	a := make([]fr.Element, size)
	b := make([]fr.Element, size)
	for q := range ws {
		a[q] = ws[lw-1-q]
	}
	copy(b, m)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); dom.FFT(a, fft.DIF) }()
	dom.FFT(b, fft.DIF)
	wg.Wait()
	for i := range a {
		a[i].Mul(&a[i], &b[i])
	}
	dom.FFTInverse(a, fft.DIT)
	// conv[t] = corr[t+1−lw], t ∈ [0, lw+l−2].
	for t := 0; t <= lw+l-2; t++ {
		out[t].Add(&out[t], &a[t])
	}
}

var domains sync.Map // uint64 → *fft.Domain

func domain(size uint64) *fft.Domain {
	if d, ok := domains.Load(size); ok {
		return d.(*fft.Domain)
	}
	d, _ := domains.LoadOrStore(size, fft.NewDomain(size))
	return d.(*fft.Domain)
}

// ColumnCoefficients returns ρ_c = HFr("vds/v1/cols", context, x_1…x_k) of
// SPEC §4 for a combined opening of k columns whose values xs are already
// fixed. context binds the opening to its batch and query (the header
// digest and the encoded query).
func ColumnCoefficients(context []byte, xs []fr.Element) []fr.Element {
	parts := make([][]byte, 0, len(xs)+1)
	parts = append(parts, context)
	for i := range xs {
		b := xs[i].Bytes()
		parts = append(parts, b[:])
	}
	return hash.ToFr(hash.TagColumns, len(xs), parts...)
}

// OpenColumns opens several columns under one weight vector with one proof
// (SPEC §4, "several columns at once"): it fixes x_c = Σᵢ wᵢ m_{c,i} for each
// column, derives ρ = ColumnCoefficients(context, xs), and opens Σ ρ_c m_c
// with randomness Σ ρ_c γ_c — one convolution and one multi-exponentiation
// whatever the number of columns.
func (pk *ProverKey) OpenColumns(ms [][]fr.Element, gammas []fr.Element, w Weights, context []byte) ([]fr.Element, bls.G1Affine, error) {
	if len(ms) == 0 || len(ms) != len(gammas) {
		return nil, bls.G1Affine{}, fmt.Errorf("commitment: open %d columns with %d randomness values: %w", len(ms), len(gammas), ErrInvalidInput)
	}
	if err := w.Check(pk.n); err != nil {
		return nil, bls.G1Affine{}, err
	}
	l := 0
	for _, m := range ms {
		if len(m) > pk.n {
			return nil, bls.G1Affine{}, fmt.Errorf("commitment: open %d values with capacity %d: %w", len(m), pk.n, ErrInvalidInput)
		}
		l = max(l, len(m))
	}
	xs := make([]fr.Element, len(ms))
	for c, m := range ms {
		xs[c] = InnerProduct(m, w)
	}
	rho := ColumnCoefficients(context, xs)
	combined := make([]fr.Element, l)
	var gamma, t fr.Element
	for c, m := range ms {
		for j := range m {
			t.Mul(&rho[c], &m[j])
			combined[j].Add(&combined[j], &t)
		}
		t.Mul(&rho[c], &gammas[c])
		gamma.Add(&gamma, &t)
	}
	_, proof, err := pk.Open(combined, gamma, w)
	if err != nil {
		return nil, bls.G1Affine{}, err
	}
	return xs, proof, nil
}
