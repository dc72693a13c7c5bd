package commitment

import (
	"crypto/rand"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/internal/pairing"
)

// Validate checks, without α, that the CRS has the structure of SPEC §3:
// gᵢ = g^(αⁱ) for i ∈ [1, 2n] \ {n+1} and ĝᵢ = ĝ^(αⁱ) for i ∈ [1, n], for
// one α. It assumes the points are in the prime-order subgroup (Load checks
// that) and verifies, with one random linear combination and one
// multi-pairing,
//
//	e(g_{i+1}, ĝ) = e(gᵢ, ĝ₁)    for consecutive existing indices,
//	e(g_{n+2}, ĝ) = e(gₙ, ĝ₂)    (bridging the missing g_{n+1}),
//	e(gᵢ, ĝ)     = e(g, ĝᵢ)      for i ∈ [1, n].
//
// It also rejects the identity and an α of small multiplicative order
// (αᵏ = 1 for some k ≤ n would make g_{n+1} = g_{n+1−k} public), by checking
// that g, g₁…gₙ are pairwise distinct. A failure wraps [ErrInvalidCRS].
func (c *CRS) Validate() error {
	n := c.n
	if len(c.g1) != 2*n || len(c.g2) != n+1 {
		return fmt.Errorf("commitment: validate: %d G1 and %d G2 points for n = %d: %w", len(c.g1)-1, len(c.g2)-1, n, ErrInvalidCRS)
	}
	seen := make(map[[g1Size]byte]struct{}, n+1)
	for k := range c.g1 {
		if c.g1[k].IsInfinity() {
			return fmt.Errorf("commitment: validate: identity G1 point at %d: %w", k, ErrInvalidCRS)
		}
		if k <= n {
			b := c.g1[k].Bytes()
			if _, dup := seen[b]; dup {
				return fmt.Errorf("commitment: validate: g_%d repeats an earlier power (α of small order): %w", k, ErrInvalidCRS)
			}
			seen[b] = struct{}{}
		}
	}
	for k := range c.g2 {
		if c.g2[k].IsInfinity() {
			return fmt.Errorf("commitment: validate: identity G2 point at %d: %w", k, ErrInvalidCRS)
		}
	}

	pk := &c.pk
	// Coefficients: r_i for the pair (g_i, g_{i+1}), r_b for the bridge,
	// t_i for the G1/G2 consistency of index i. All 128-bit random.
	m := len(c.g1) - 1          // points g_1..g_{2n} without g_{n+1}
	sA := make([]fr.Element, m) // paired with ĝ
	sB := make([]fr.Element, m) // paired with ĝ_1 (negated)
	t := make([]fr.Element, n)  // scalars of ĝ_1..ĝ_n
	for i := range t {
		t[i] = rand128()
		sA[i].Add(&sA[i], &t[i]) // t_i·g_i, i ≤ n
	}
	pair := func(i int) { // e(g_{i+1}, ĝ) = e(g_i, ĝ_1)
		r := rand128()
		hi, lo := pk.g1Index(i+1)-1, pk.g1Index(i)-1
		sA[hi].Add(&sA[hi], &r)
		sB[lo].Add(&sB[lo], &r)
	}
	for i := 1; i < n; i++ {
		pair(i)
	}
	for i := n + 2; i < 2*n; i++ {
		pair(i)
	}
	var bridge fr.Element
	if n >= 2 {
		bridge = rand128()
		k := pk.g1Index(n+2) - 1
		sA[k].Add(&sA[k], &bridge)
	}

	var a, b bls.G1Jac
	var tHat bls.G2Jac
	if _, err := a.MultiExp(c.g1[1:], sA, ecc.MultiExpConfig{}); err != nil {
		return fmt.Errorf("commitment: validate: %w", err)
	}
	if _, err := b.MultiExp(c.g1[1:], sB, ecc.MultiExpConfig{}); err != nil {
		return fmt.Errorf("commitment: validate: %w", err)
	}
	if _, err := tHat.MultiExp(c.g2[1:], t, ecc.MultiExpConfig{}); err != nil {
		return fmt.Errorf("commitment: validate: %w", err)
	}
	b.Neg(&b)

	var chk pairing.Check
	chk.Equation()
	var aAff, bAff, negG bls.G1Affine
	aAff.FromJacobian(&a)
	bAff.FromJacobian(&b)
	negG.Neg(&c.g1[0])
	var tHatAff bls.G2Affine
	tHatAff.FromJacobian(&tHat)
	chk.Add(&aAff, &c.g2[0])
	chk.Add(&bAff, &c.g2[1])
	chk.Add(&negG, &tHatAff)
	if n >= 2 {
		var br bls.G1Affine
		var bb = bridge
		bb.Neg(&bb)
		var bi = frToBig(&bb)
		br.ScalarMultiplication(&c.g1[n], bi)
		chk.Add(&br, &c.g2[2])
	}
	if err := chk.Verify(); err != nil {
		return fmt.Errorf("commitment: validate: pairing relations do not hold: %w", ErrInvalidCRS)
	}
	return nil
}

// rand128 returns a uniformly random non-zero 128-bit field element.
func rand128() fr.Element {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("commitment: crypto/rand failed: " + err.Error())
	}
	b[0] |= 0x80
	var e fr.Element
	e.SetBytes(b[:])
	return e
}
