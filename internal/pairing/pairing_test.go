package pairing

import (
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/stretchr/testify/require"
)

// TestRollback adds a false equation after a mark and rolls it back.
func TestRollback(t *testing.T) {
	_, _, g1, g2 := bls.Generators()
	var neg bls.G1Affine
	neg.Neg(&g1)
	fixed := NewFixed(&g2)
	var c Check
	// e(g, ĝ)·e(−g, ĝ) = 1
	c.Equation()
	c.AddFixed(&g1, fixed)
	c.Add(&neg, &g2)
	require.NoError(t, c.Verify())
	m := c.Mark()
	c.Equation()
	c.AddFixed(&g1, fixed) // e(g, ĝ) ≠ 1
	c.Equation()
	c.Add(&g1, &g2)
	require.ErrorIs(t, c.Verify(), ErrFailed)
	c.Rollback(m)
	require.NoError(t, c.Verify())
	c.Equation()
	c.AddFixed(&neg, fixed)
	c.Add(&g1, &g2)
	require.NoError(t, c.Verify(), "equations added after a rollback count")
}
