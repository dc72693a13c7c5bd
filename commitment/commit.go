package commitment

import (
	"fmt"

	"github.com/consensys/gnark-crypto/ecc"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// CommitG1 returns C = g^γ · Π_{j=1..L} g_j^(m_j) (SPEC §4), the commitment to
// a data column m of length L ≤ n with randomness gamma.
func (pk *ProverKey) CommitG1(m []fr.Element, gamma fr.Element) (bls.G1Affine, error) {
	if len(m) > pk.n {
		return bls.G1Affine{}, fmt.Errorf("commitment: commit %d values with capacity %d: %w", len(m), pk.n, ErrInvalidInput)
	}
	scalars := make([]fr.Element, len(m)+1)
	scalars[0] = gamma
	copy(scalars[1:], m)
	var c bls.G1Affine
	if _, err := c.MultiExp(pk.g1[:len(m)+1], scalars, ecc.MultiExpConfig{}); err != nil {
		return bls.G1Affine{}, fmt.Errorf("commitment: commit: %w", err)
	}
	if c.IsInfinity() {
		return bls.G1Affine{}, fmt.Errorf("commitment: commit: degenerate commitment (zero data and randomness): %w", ErrIdentity)
	}
	return c, nil
}

// CommitG2 returns Ĉ = ĝ^γ' · Π_{j=1..L} ĝ_j^(t_j) (SPEC §4), the commitment
// to the timestamp column t of length L ≤ n with randomness gamma.
func (pk *ProverKey) CommitG2(t []fr.Element, gamma fr.Element) (bls.G2Affine, error) {
	if len(t) > pk.n {
		return bls.G2Affine{}, fmt.Errorf("commitment: commit %d values with capacity %d: %w", len(t), pk.n, ErrInvalidInput)
	}
	scalars := make([]fr.Element, len(t)+1)
	scalars[0] = gamma
	copy(scalars[1:], t)
	var c bls.G2Affine
	if _, err := c.MultiExp(pk.g2[:len(t)+1], scalars, ecc.MultiExpConfig{}); err != nil {
		return bls.G2Affine{}, fmt.Errorf("commitment: commit: %w", err)
	}
	if c.IsInfinity() {
		return bls.G2Affine{}, fmt.Errorf("commitment: commit: degenerate commitment (zero data and randomness): %w", ErrIdentity)
	}
	return c, nil
}
