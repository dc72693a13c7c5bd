package commitment

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/internal/pairing"
)

// Verify checks an opening of the G1 commitment c under the weights w to the
// value x with proof π (SPEC §4):
//
//	e(C, Ŵ) = e(π, ĝ) · Z^x  ⇔  PairingCheck([C, −π, −x·g₁], [Ŵ, ĝ, ĝₙ]),
//
// where Ŵ = Π ĝ_{n+1−i}^(wᵢ) costs O(1) for a row or a range (prefix sums)
// and a G2 multi-exponentiation otherwise. It returns nil or an error wrapping
// [ErrBadProof] (the equation fails) or [ErrInvalidInput] (malformed input).
func (vk *VerifierKey) Verify(c bls.G1Affine, w Weights, x fr.Element, proof bls.G1Affine) error {
	b := vk.NewBatch()
	if err := b.AddOpening(&c, w, &x, &proof); err != nil {
		return err
	}
	return b.Verify()
}

// VerifyG2 checks an opening of the G2 (timestamp) commitment ĉ (SPEC §4):
// e(W, Ĉ) = e(π̂, ĝ) · Z^x with W = Π g_{n+1−i}^(wᵢ) ∈ G1.
func (vk *VerifierKey) VerifyG2(c bls.G2Affine, w Weights, x fr.Element, proof bls.G1Affine) error {
	b := vk.NewBatch()
	if err := b.AddOpeningG2(&c, w, &x, &proof); err != nil {
		return err
	}
	return b.Verify()
}

// VerifyColumns checks a combined opening of several G1 commitments made by
// [ProverKey.OpenColumns] with the same context.
func (vk *VerifierKey) VerifyColumns(cs []bls.G1Affine, w Weights, xs []fr.Element, proof bls.G1Affine, context []byte) error {
	b := vk.NewBatch()
	if err := b.AddColumns(cs, w, xs, &proof, context); err != nil {
		return err
	}
	return b.Verify()
}

// FixedG2 is a G2 point that is paired often (an owner's accumulator key):
// every term a batch pairs with it is summed in G1 and costs one pair of the
// multi-pairing.
type FixedG2 struct{ f *pairing.Fixed }

// NewFixedG2 returns q as a FixedG2.
func NewFixedG2(q bls.G2Affine) *FixedG2 { return &FixedG2{f: pairing.NewFixed(&q)} }

// Point returns the G2 point.
func (f *FixedG2) Point() bls.G2Affine { return f.f.Q }

// Batch merges several pairing equations — openings, and any equation a
// caller adds with Equation and the Pair methods — into one multi-pairing with
// one final exponentiation (SPEC §7). Each equation after the first is scaled
// by a fresh random 128-bit coefficient. A Batch is for one use by one
// goroutine.
type Batch struct {
	vk  *VerifierKey
	chk pairing.Check
}

// NewBatch returns an empty batch.
func (vk *VerifierKey) NewBatch() *Batch { return &Batch{vk: vk} }

// AddOpening adds the equation of [VerifierKey.Verify].
func (b *Batch) AddOpening(c *bls.G1Affine, w Weights, x *fr.Element, proof *bls.G1Affine) error {
	if err := checkG1(c, "commitment"); err != nil {
		return err
	}
	return b.addOpening(c, w, x, proof)
}

func (b *Batch) addOpening(c *bls.G1Affine, w Weights, x *fr.Element, proof *bls.G1Affine) error {
	if err := checkG1(proof, "proof"); err != nil {
		return err
	}
	if err := w.Check(b.vk.n); err != nil {
		return err
	}
	wHat, err := b.vk.weightsG2(w)
	if err != nil {
		return err
	}
	b.chk.Equation()
	b.chk.Add(c, &wHat)
	b.addProofAndValue(proof, x)
	return nil
}

// addProofAndValue adds e(−π, ĝ)·e(−x·g₁, ĝₙ) to the current equation.
func (b *Batch) addProofAndValue(proof *bls.G1Affine, x *fr.Element) {
	var negProof bls.G1Affine
	negProof.Neg(proof)
	b.chk.AddFixed(&negProof, b.vk.fixedG)
	if !x.IsZero() {
		var negX fr.Element
		negX.Neg(x)
		b.chk.AddScaledBase(b.vk.g1Table, &negX, b.vk.fixedGn)
	}
}

// AddOpeningG2 adds the equation of [VerifierKey.VerifyG2].
func (b *Batch) AddOpeningG2(c *bls.G2Affine, w Weights, x *fr.Element, proof *bls.G1Affine) error {
	if err := checkG2(c, "commitment"); err != nil {
		return err
	}
	if err := checkG1(proof, "proof"); err != nil {
		return err
	}
	if err := w.Check(b.vk.n); err != nil {
		return err
	}
	wG1, err := b.vk.weightsG1(w)
	if err != nil {
		return err
	}
	b.chk.Equation()
	b.chk.Add(&wG1, c)
	b.addProofAndValue(proof, x)
	return nil
}

// AddColumns adds the equation of [VerifierKey.VerifyColumns]:
// e(Σ ρ_c C_c, Ŵ) = e(π, ĝ) · Z^(Σ ρ_c x_c).
func (b *Batch) AddColumns(cs []bls.G1Affine, w Weights, xs []fr.Element, proof *bls.G1Affine, context []byte) error {
	for i := range cs {
		if err := checkG1(&cs[i], "commitment"); err != nil {
			return err
		}
	}
	return b.AddColumnsPrechecked(cs, w, xs, proof, context)
}

// AddColumnsPrechecked is AddColumns without the checks on the commitments
// cs (not the identity, in the prime-order subgroup): for a caller that made
// them once, when it verified the signed header that carries cs. The proof
// is still checked.
func (b *Batch) AddColumnsPrechecked(cs []bls.G1Affine, w Weights, xs []fr.Element, proof *bls.G1Affine, context []byte) error {
	if len(cs) == 0 || len(cs) != len(xs) {
		return fmt.Errorf("commitment: %d commitments and %d values: %w", len(cs), len(xs), ErrInvalidInput)
	}
	if err := checkG1(proof, "proof"); err != nil {
		return err
	}
	if err := w.Check(b.vk.n); err != nil {
		return err
	}
	wHat, err := b.vk.weightsG2(w)
	if err != nil {
		return err
	}
	rho := ColumnCoefficients(context, xs)
	var x, t fr.Element
	for i := range xs {
		t.Mul(&rho[i], &xs[i])
		x.Add(&x, &t)
	}
	b.chk.Equation()
	if err := b.chk.AddCombination(cs, rho, &wHat); err != nil {
		return fmt.Errorf("commitment: %w", err)
	}
	b.addProofAndValue(proof, &x)
	return nil
}

// CheckPoint returns an error wrapping [ErrIdentity] or [ErrInvalidPoint]
// unless p is a non-identity point of the prime-order subgroup of G1: the
// check every commitment and proof must pass.
func CheckPoint(p *bls.G1Affine) error { return checkG1(p, "point") }

// Equation starts a new equation of the caller's own in the batch.
func (b *Batch) Equation() { b.chk.Equation() }

// Pair adds e(p, q) to the current equation.
func (b *Batch) Pair(p *bls.G1Affine, q *bls.G2Affine) { b.chk.Add(p, q) }

// PairFixed adds e(p, q) to the current equation for a precomputed q.
func (b *Batch) PairFixed(p *bls.G1Affine, q *FixedG2) { b.chk.AddFixed(p, q.f) }

// PairGenerator adds e(p, ĝ) to the current equation.
func (b *Batch) PairGenerator(p *bls.G1Jac) { b.chk.AddFixedJac(p, b.vk.fixedG) }

// Verify evaluates the merged equation: nil if every equation holds, else an
// error wrapping [ErrBadProof].
func (b *Batch) Verify() error {
	if err := b.chk.Verify(); err != nil {
		return fmt.Errorf("commitment: %w", ErrBadProof)
	}
	return nil
}

// weightsG2 returns Ŵ = Σ wᵢ·ĝ_{n+1−i}: O(1) for a row or a range (prefix
// sums), a multi-exponentiation otherwise.
func (vk *VerifierKey) weightsG2(w Weights) (bls.G2Affine, error) {
	if w.kind == kindRange && w.a != w.b {
		var res bls.G2Affine
		res.Sub(&vk.prefix[w.b], &vk.prefix[w.a-1])
		return res, nil
	}
	return weightedSum[bls.G2Affine, bls.G2Jac](vk.g2, vk.n, w)
}

// weightsG1 returns W = Σ wᵢ·g_{n+1−i}.
func (vk *VerifierKey) weightsG1(w Weights) (bls.G1Affine, error) {
	return weightedSum[bls.G1Affine, bls.G1Jac](vk.g1, vk.n, w)
}

// affine and jacobian are the methods weightedSum needs of gnark-crypto's
// G1 and G2 point types.
type affine[A, J any] interface {
	*A
	FromJacobian(*J) *A
	MultiExp([]A, []fr.Element, ecc.MultiExpConfig) (*A, error)
}

type jacobian[A, J any] interface {
	*J
	FromAffine(*A) *J
	ScalarMultiplication(*J, *big.Int) *J
	AddAssign(*J) *J
}

// weightedSum returns Σ wᵢ·x_{n+1−i} for points x_0..x_n: the point itself
// for a single row, one scalar multiplication per weight for a few sparse
// ones, and one multi-exponentiation over the support otherwise.
func weightedSum[A, J any, PA affine[A, J], PJ jacobian[A, J]](x []A, n int, w Weights) (A, error) {
	var res A
	if w.kind == kindRange && w.a == w.b {
		return x[n+1-w.a], nil
	}
	lo, hi, ok := w.support()
	if !ok {
		return res, fmt.Errorf("commitment: every weight is zero: %w", ErrInvalidInput)
	}
	if w.kind == kindSparse && len(w.pos) <= sparseDirect {
		var acc, t J
		w.forEach(func(i int, wi *fr.Element) {
			PJ(&t).FromAffine(&x[n+1-i])
			PJ(&t).ScalarMultiplication(&t, frToBig(wi))
			PJ(&acc).AddAssign(&t)
		})
		PA(&res).FromJacobian(&acc)
		return res, nil
	}
	// Points x_{n+1−hi}..x_{n+1−lo}; the j-th carries w_{hi−j}.
	s := make([]fr.Element, hi-lo+1)
	w.forEach(func(i int, wi *fr.Element) { s[hi-i] = *wi })
	if _, err := PA(&res).MultiExp(x[n+1-hi:n+2-lo], s, ecc.MultiExpConfig{}); err != nil {
		return res, fmt.Errorf("commitment: weights: %w", err)
	}
	return res, nil
}

// checkG1 rejects the identity and points outside the prime-order subgroup.
func checkG1(p *bls.G1Affine, what string) error {
	if p.IsInfinity() {
		return fmt.Errorf("commitment: %s: %w", what, ErrIdentity)
	}
	if !p.IsOnCurve() || !p.IsInSubGroup() {
		return fmt.Errorf("commitment: %s: %w", what, ErrInvalidPoint)
	}
	return nil
}

// checkG2 is checkG1 for G2.
func checkG2(p *bls.G2Affine, what string) error {
	if p.IsInfinity() {
		return fmt.Errorf("commitment: %s: %w", what, ErrIdentity)
	}
	if !p.IsOnCurve() || !p.IsInSubGroup() {
		return fmt.Errorf("commitment: %s: %w", what, ErrInvalidPoint)
	}
	return nil
}

// ColumnTerm is one G1 side of an aggregated equation: Σ_k S_k·C_k paired
// with Ŵ of the weights W (SPEC §11.4). Terms of batches opened under the
// same weights belong in one ColumnTerm: they cost one MSM and one pair.
type ColumnTerm struct {
	C []bls.G1Affine
	S []fr.Element
	W Weights
}

// TimeTerm is one G2 commitment of an aggregated equation: S·W paired with
// C, for W = Σ wᵢ·g_{n+1−i} of the weights W.
type TimeTerm struct {
	C bls.G2Affine
	S fr.Element
	W Weights
}

// AddAggregate adds the one equation of an aggregated opening of many
// batches (SPEC §11.4):
//
//	Π_j e(Σ_k s_{j,k} C_{j,k}, Ŵ_j) · Π_m e(s_m W_m, Ĉ_m) = e(π, ĝ) · Z^x
//
// The commitments (G1 and G2) must have been checked by the caller, as for
// AddColumnsPrechecked (they come from verified headers); the proof is
// checked here.
func (b *Batch) AddAggregate(cols []ColumnTerm, times []TimeTerm, x *fr.Element, proof *bls.G1Affine) error {
	if err := checkG1(proof, "proof"); err != nil {
		return err
	}
	if len(cols)+len(times) == 0 {
		return fmt.Errorf("commitment: an aggregate of nothing: %w", ErrInvalidInput)
	}
	b.chk.Equation()
	for i := range cols {
		t := &cols[i]
		if len(t.C) == 0 || len(t.C) != len(t.S) {
			return fmt.Errorf("commitment: %d commitments and %d coefficients: %w", len(t.C), len(t.S), ErrInvalidInput)
		}
		if err := t.W.Check(b.vk.n); err != nil {
			return err
		}
		wHat, err := b.vk.weightsG2(t.W)
		if err != nil {
			return err
		}
		if err := b.chk.AddCombination(t.C, t.S, &wHat); err != nil {
			return fmt.Errorf("commitment: %w", err)
		}
	}
	for i := range times {
		t := &times[i]
		if err := t.W.Check(b.vk.n); err != nil {
			return err
		}
		wG1, err := b.vk.weightsG1(t.W)
		if err != nil {
			return err
		}
		if err := b.chk.AddCombination([]bls.G1Affine{wG1}, []fr.Element{t.S}, &t.C); err != nil {
			return fmt.Errorf("commitment: %w", err)
		}
	}
	b.addProofAndValue(proof, x)
	return nil
}

// BatchMark is a saved state of a [Batch].
type BatchMark struct{ m pairing.Mark }

// Mark saves the state of b, so that the equations added after it can be
// dropped with [Batch.Rollback] (for example those of one answer among
// many that turned out malformed half-way).
func (b *Batch) Mark() BatchMark { return BatchMark{b.chk.Mark()} }

// Rollback drops every term added since m was saved.
func (b *Batch) Rollback(m BatchMark) { b.chk.Rollback(m.m) }
