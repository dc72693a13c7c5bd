package commitment

import (
	"errors"
	"fmt"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"
)

// TestPointProofsMatchOpen checks every point proof and every prefix
// difference against the direct opening, for capacities that are and are
// not powers of two and for short vectors.
func TestPointProofsMatchOpen(t *testing.T) {
	for _, tc := range []struct{ n, l int }{{1, 1}, {8, 8}, {8, 5}, {12, 12}, {12, 7}, {16, 9}, {37, 37}, {64, 64}, {64, 3}} {
		t.Run(fmt.Sprintf("n=%d/l=%d", tc.n, tc.l), func(t *testing.T) {
			pk := testCRS(t, tc.n).ProverKey()
			r := seeded(uint64(tc.n*100 + tc.l))
			m, gamma := randVec(r, tc.l), randScalar(r)
			workers := 1 + tc.l%2 // both the sequential and the parallel path
			pi, err := pk.PointProofs(m, gamma, workers)
			require.NoError(t, err)
			require.Len(t, pi, tc.l)
			prefix, err := pk.ProofPrefixSums(m, gamma, workers)
			require.NoError(t, err)
			require.Len(t, prefix, tc.l)
			for i := 1; i <= tc.l; i++ {
				_, want, err := pk.Open(m, gamma, Row(i))
				require.NoError(t, err)
				var got bls.G1Affine
				got.FromJacobian(&pi[i-1])
				require.True(t, got.Equal(&want), "π_%d", i)
				got2 := tableProof(t, prefix, Row(i))
				require.Equal(t, want.Bytes(), got2.Bytes(), "P_%d − P_%d", i, i-1)
			}
			// Every range, byte for byte.
			for a := 1; a <= tc.l; a++ {
				for b := a; b <= tc.l; b++ {
					_, want, err := pk.Open(m, gamma, Range(a, b))
					require.NoError(t, err)
					got := tableProof(t, prefix, Range(a, b))
					require.Equal(t, want.Bytes(), got.Bytes(), "range %d..%d", a, b)
				}
			}
		})
	}
}

// tableProof opens one column under w from its prefix sums.
func tableProof(t *testing.T, prefix []bls.G1Affine, w Weights) bls.G1Affine {
	t.Helper()
	idx, coef := w.TableTerms()
	pts := make([]bls.G1Affine, len(idx))
	for k, i := range idx {
		pts[k] = prefix[i-1]
	}
	p, err := CombineTables([][]bls.G1Affine{pts}, coef, nil)
	require.NoError(t, err)
	return p
}

// TestTableTermsWeighted checks dense and sparse weights (with cancelling
// neighbours) and the column combination against OpenColumns.
func TestTableTermsWeighted(t *testing.T) {
	const n, l = 16, 13
	pk := testCRS(t, n).ProverKey()
	r := seeded(7)
	ms := [][]fr.Element{randVec(r, l), randVec(r, l), randVec(r, l)}
	gammas := randVec(r, 3)
	prefix := make([][]bls.G1Affine, len(ms))
	for c := range ms {
		var err error
		prefix[c], err = pk.ProofPrefixSums(ms[c], gammas[c], 2)
		require.NoError(t, err)
	}
	dense := randVec(r, l)
	dense[0].SetZero()
	dense[5].SetOne()
	dense[6].SetOne() // P_6 cancels
	dense[7].SetOne()
	sparseW := randVec(r, 3)
	for name, w := range map[string]Weights{
		"dense":  Dense(dense),
		"sparse": Sparse([]int{1, 4, 5}, sparseW),
		"row1":   Row(1),
		"range":  Range(3, 11),
		"short":  Dense(dense[:4]),
	} {
		t.Run(name, func(t *testing.T) {
			context := []byte("ctx/" + name)
			xs, want, err := pk.OpenColumns(ms, gammas, w, context)
			require.NoError(t, err)
			idx, coef := w.TableTerms()
			pts := make([][]bls.G1Affine, len(ms))
			for c := range ms {
				for _, i := range idx {
					pts[c] = append(pts[c], prefix[c][i-1])
				}
			}
			got, err := CombineTables(pts, coef, ColumnCoefficients(context, xs))
			require.NoError(t, err)
			require.Equal(t, want.Bytes(), got.Bytes())
		})
	}
}

// TestPrecomputeErrors checks the refusals.
func TestPrecomputeErrors(t *testing.T) {
	pk := testCRS(t, 8).ProverKey()
	_, err := pk.PointProofs(nil, fr.Element{}, 1)
	require.ErrorIs(t, err, ErrInvalidInput)
	_, err = pk.PointProofs(make([]fr.Element, 9), fr.Element{}, 1)
	require.ErrorIs(t, err, ErrInvalidInput)
	// Zero data and randomness: every table point is the identity.
	prefix, err := pk.ProofPrefixSums(make([]fr.Element, 4), fr.Element{}, 1)
	require.NoError(t, err)
	_, err = CombineTables([][]bls.G1Affine{{prefix[1], prefix[3]}}, []fr.Element{{}, {}}, nil)
	require.True(t, errors.Is(err, ErrIdentity))
	_, err = CombineTables([][]bls.G1Affine{{prefix[1]}}, []fr.Element{{}, {}}, nil)
	require.ErrorIs(t, err, ErrInvalidInput)
	_, err = CombineTables([][]bls.G1Affine{{prefix[1]}}, []fr.Element{{}}, []fr.Element{{}, {}})
	require.ErrorIs(t, err, ErrInvalidInput)
}
