package commitment

import (
	"fmt"
	"math/bits"
	"runtime"
	"sync"

	"github.com/consensys/gnark-crypto/ecc"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr/fft"
)

// Point proofs and their prefix sums (SPEC §4, "Precomputed openings").
//
// The point proof of row i of a vector m committed with randomness γ is
// π_i = g_{n+1−i}^γ · Π_{j≠i} g_{n+1−i+j}^(m_j). With m_0 = γ and
// h_t = g_{n+1+t} (h_0 = O: g_{n+1} does not exist) it is the Toeplitz
// product π_i = Σ_{j=0..L} m_j·h_{j−i}. For a block size N ≥ L (a power of
// two) and M = 2N it is the cyclic convolution of a = (m_0, …, m_L, 0, …)
// with H_v = h_{N−1−v} (v < M), read at positions N−1+i:
// π = IFFT_G1(FFT_G1(H) ⊙ FFT_Fr(a)). FFT_G1(H) depends only on the CRS
// and N and is computed once; each vector then costs one field FFT, M
// scalar multiplications and one inverse FFT in G1.

// toeplitzEntry computes the CRS side of one block size once.
type toeplitzEntry struct {
	once sync.Once
	key  *toeplitzKey
}

// toeplitzKey is the CRS side of the point-proof computation for block
// size N: Ĥ = FFT_G1(H) in bit-reversed order and the inverse twiddles.
type toeplitzKey struct {
	block int         // N
	dom   *fft.Domain // size M = 2N
	hhat  []bls.G1Affine
	twInv []glvScalar // ω^(−k), k < N
}

// blockSize returns the block size N for a vector of l values: the
// smallest power of two ≥ l.
func blockSize(l int) int { return 1 << bits.Len(uint(l-1)) }

// toeplitzKey returns the CRS side for block size N, computing it on first
// use with the given number of goroutines.
func (pk *ProverKey) toeplitzKey(block, workers int) *toeplitzKey {
	e, _ := pk.toeplitz.LoadOrStore(block, &toeplitzEntry{})
	ent := e.(*toeplitzEntry)
	ent.once.Do(func() { ent.key = pk.newToeplitzKey(block, workers) })
	return ent.key
}

func (pk *ProverKey) newToeplitzKey(block, workers int) *toeplitzKey {
	m := 2 * block
	dom := domain(uint64(m))
	h := make([]bls.G1Affine, m)
	for v := range h {
		// H_v = h_{N−1−v} = g_k with k = n+N−v; O outside [1, 2n] and at n+1.
		k := pk.n + block - v
		if k >= 1 && k <= 2*pk.n && k != pk.n+1 {
			h[v] = pk.g1[pk.g1Index(k)]
		}
	}
	g1FFT(h, glvTwiddles(&dom.Generator, block, workers), true, workers)
	return &toeplitzKey{block: block, dom: dom, hhat: h, twInv: glvTwiddles(&dom.GeneratorInv, block, workers)}
}

// PreparePointProofs computes the CRS side of [ProverKey.PointProofs] for
// vectors of l values (one forward FFT in G1 of 2·N points, N the smallest
// power of two ≥ l) on up to workers goroutines, if it is not computed
// yet; PointProofs does it on first use otherwise. It is kept for the life
// of the key.
func (pk *ProverKey) PreparePointProofs(l, workers int) error {
	if l < 1 || l > pk.n {
		return fmt.Errorf("commitment: point proofs of %d values with capacity %d: %w", l, pk.n, ErrInvalidInput)
	}
	if workers <= 0 {
		workers = DefaultWorkers()
	}
	pk.toeplitzKey(blockSize(l), workers)
	return nil
}

// DefaultWorkers is the number of goroutines [ProverKey.ProofPrefixSums]
// uses when told 0: every available core.
func DefaultWorkers() int { return runtime.GOMAXPROCS(0) }

// PointProofs returns π_1…π_L, the openings of each row alone of the
// vector m (length L, 1 ≤ L ≤ n) committed with randomness gamma: π_i is
// the proof [ProverKey.Open] returns under the weights [Row](i). It costs
// O(n log n) group operations for all rows together (see the comment at
// the top of this file), on up to workers goroutines (0: every core).
func (pk *ProverKey) PointProofs(m []fr.Element, gamma fr.Element, workers int) ([]bls.G1Affine, error) {
	l := len(m)
	if l < 1 || l > pk.n {
		return nil, fmt.Errorf("commitment: point proofs of %d values with capacity %d: %w", l, pk.n, ErrInvalidInput)
	}
	if workers <= 0 {
		workers = DefaultWorkers()
	}
	block := blockSize(l)
	key := pk.toeplitzKey(block, workers)
	mm := 2 * block
	a := make([]fr.Element, mm)
	a[0] = gamma
	copy(a[1:], m)
	key.dom.FFT(a, fft.DIF, fft.WithNbTasks(workers)) // bit-reversed, like Ĥ
	for k := range a {
		a[k].Mul(&a[k], &key.dom.CardinalityInv) // the 1/M of the inverse FFT
	}
	q := make([]bls.G1Affine, mm)
	mulAll(q, key.hhat, a, workers)
	g1FFT(q, key.twInv, false, workers)
	return q[block : block+l], nil
}

// ProofPrefixSums returns P_1…P_L with P_k = Σ_{i≤k} π_i, the prefix sums
// of [ProverKey.PointProofs] in affine form (P_0, the identity, is left
// out). Any opening under unit weights on rows a..b is P_b − P_{a−1}
// ([Weights.TableTerms]).
func (pk *ProverKey) ProofPrefixSums(m []fr.Element, gamma fr.Element, workers int) ([]bls.G1Affine, error) {
	pi, err := pk.PointProofs(m, gamma, workers)
	if err != nil {
		return nil, err
	}
	sums := make([]bls.G1Jac, len(pi))
	sums[0].FromAffine(&pi[0])
	for i := 1; i < len(pi); i++ {
		sums[i].Set(&sums[i-1])
		sums[i].AddMixed(&pi[i])
	}
	return bls.BatchJacobianToAffineG1(sums), nil
}

// TableTerms returns the opening proof under w as a combination of prefix
// sums: proof = Σ_t coef[t]·P_{idx[t]}, with idx increasing and ≥ 1 (P_0
// is the identity and is left out). A range [a, b] needs two terms, a row
// one or two; dense and sparse weights use Abel summation,
// Σ wᵢ(Pᵢ − P_{i−1}) = Σ Pᵢ(wᵢ − w_{i+1}), over their support.
func (w Weights) TableTerms() (idx []int, coef []fr.Element) {
	var one fr.Element
	one.SetOne()
	if w.kind == kindRange {
		var minus fr.Element
		minus.Neg(&one)
		if w.a == 1 {
			return []int{w.b}, []fr.Element{one}
		}
		return []int{w.a - 1, w.b}, []fr.Element{minus, one}
	}
	// Accumulate +wᵢ at i and −wᵢ at i−1, merging neighbours.
	w.forEach(func(i int, wi *fr.Element) {
		if i > 1 {
			var neg fr.Element
			neg.Neg(wi)
			if k := len(idx); k > 0 && idx[k-1] == i-1 {
				coef[k-1].Add(&coef[k-1], &neg)
			} else {
				idx, coef = append(idx, i-1), append(coef, neg)
			}
		}
		idx, coef = append(idx, i), append(coef, *wi)
	})
	// Drop terms that cancelled.
	j := 0
	for t := range idx {
		if !coef[t].IsZero() {
			idx[j], coef[j] = idx[t], coef[t]
			j++
		}
	}
	return idx[:j], coef[:j]
}

// smallCombine is the largest number of terms per column that
// CombineTables combines with additions and single scalar multiplications
// rather than a multi-exponentiation.
const smallCombine = 8

// combineSmall is CombineTables for a few terms: per column, additions for
// coefficients ±1 (ranges, rows) and scalar multiplications otherwise, all
// scalar multiplications in one lockstep batch.
func combineSmall(points [][]bls.G1Affine, coef, rho []fr.Element) bls.G1Affine {
	var one, minusOne fr.Element
	one.SetOne()
	minusOne.Neg(&one)
	var bases []bls.G1Affine
	var scalars []fr.Element
	for c, ps := range points {
		var acc bls.G1Jac
		for t := range ps {
			switch {
			case coef[t].Equal(&one):
				acc.AddMixed(&ps[t])
			case coef[t].Equal(&minusOne):
				var neg bls.G1Affine
				neg.Neg(&ps[t])
				acc.AddMixed(&neg)
			default:
				s := coef[t]
				if rho != nil {
					s.Mul(&s, &rho[c])
				}
				bases, scalars = append(bases, ps[t]), append(scalars, s)
			}
		}
		var sum bls.G1Affine
		sum.FromJacobian(&acc)
		s := one
		if rho != nil {
			s = rho[c]
		}
		bases, scalars = append(bases, sum), append(scalars, s)
	}
	prods := make([]bls.G1Affine, len(bases))
	mulAll(prods, bases, scalars, 1)
	var total bls.G1Jac
	for i := range prods {
		total.AddMixed(&prods[i])
	}
	var out bls.G1Affine
	out.FromJacobian(&total)
	return out
}

// CombineTables returns Σ_c ρ_c·Σ_t coef[t]·points[c][t]: the opening
// proof of several columns at once (SPEC §4) from their prefix sums, where
// points[c][t] is P_{idx[t]} of column c for the terms of
// [Weights.TableTerms] and ρ the column coefficients (nil for a single
// column opened alone, ρ = 1). It fails with [ErrIdentity] on the
// identity, like [ProverKey.Open].
func CombineTables(points [][]bls.G1Affine, coef, rho []fr.Element) (bls.G1Affine, error) {
	if rho != nil && len(rho) != len(points) {
		return bls.G1Affine{}, fmt.Errorf("commitment: combine %d tables with %d coefficients: %w", len(points), len(rho), ErrInvalidInput)
	}
	var proof bls.G1Affine
	if len(coef) > smallCombine {
		bases := make([]bls.G1Affine, 0, len(points)*len(coef))
		scalars := make([]fr.Element, 0, len(points)*len(coef))
		for c, ps := range points {
			for t := range ps {
				s := coef[t]
				if rho != nil {
					s.Mul(&s, &rho[c])
				}
				bases, scalars = append(bases, ps[t]), append(scalars, s)
			}
		}
		if _, err := proof.MultiExp(bases, scalars, ecc.MultiExpConfig{}); err != nil {
			return bls.G1Affine{}, fmt.Errorf("commitment: combine tables: %w", err)
		}
	} else {
		proof = combineSmall(points, coef, rho)
	}
	if proof.IsInfinity() {
		return bls.G1Affine{}, fmt.Errorf("commitment: combine tables: degenerate proof (zero data and randomness): %w", ErrIdentity)
	}
	return proof, nil
}
