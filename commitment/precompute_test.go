package commitment

import (
	"errors"
	"fmt"
	"math/big"
	"math/bits"
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
				require.True(t, pi[i-1].Equal(&want), "π_%d", i)
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

// TestGLVConstants checks φ(P) = (βx, y) = λ·P and the GLV-NAF form of
// scalars against plain scalar multiplication.
func TestGLVConstants(t *testing.T) {
	_, _, g, _ := bls.Generators()
	var want bls.G1Affine
	want.ScalarMultiplication(&g, &glvLambda)
	got := g
	got.X.Mul(&got.X, &glvBeta)
	require.True(t, got.Equal(&want))

	r := seeded(99)
	scalars := randVec(r, 40)
	scalars[0].SetZero()
	scalars[1].SetOne()
	scalars[2].SetOne()
	scalars[2].Neg(&scalars[2])
	points := make([]bls.G1Affine, len(scalars))
	for i := range points {
		s := randScalar(r)
		points[i].ScalarMultiplication(&g, frToBig(&s))
	}
	points[3] = bls.G1Affine{} // the identity
	points[4] = points[5]      // equal points multiplied in lockstep
	out := make([]bls.G1Affine, len(points))
	mulAll(out, points, scalars, 3)
	for i := range points {
		var w bls.G1Affine
		w.ScalarMultiplication(&points[i], frToBig(&scalars[i]))
		require.True(t, out[i].Equal(&w), "scalar %d", i)
	}
}

// TestG1FFTMatchesDefinition checks both decimations of the G1 FFT, with
// identities among the inputs, against Σ_j a_j·ω^(jk) computed directly.
func TestG1FFTMatchesDefinition(t *testing.T) {
	const m = 16
	_, _, g, _ := bls.Generators()
	r := seeded(5)
	a := make([]bls.G1Affine, m)
	for i := range a {
		if i%5 != 2 {
			s := randScalar(r)
			a[i].ScalarMultiplication(&g, frToBig(&s))
		}
	}
	a[7] = a[6]
	dom := domain(m)
	want := make([]bls.G1Affine, m)
	for k := range want {
		var acc bls.G1Jac
		for j := range a {
			var e fr.Element
			e.Exp(dom.Generator, big.NewInt(int64(j*k)))
			var p bls.G1Jac
			p.FromAffine(&a[j])
			p.ScalarMultiplication(&p, frToBig(&e))
			acc.AddAssign(&p)
		}
		want[k].FromJacobian(&acc)
	}
	tw := glvTwiddles(&dom.Generator, m/2, 2)
	dif := append([]bls.G1Affine(nil), a...)
	g1FFT(dif, tw, true, 2)
	for k := range want {
		rk := int(bits.Reverse8(uint8(k)) >> 4)
		require.True(t, dif[rk].Equal(&want[k]), "DIF output %d", k)
	}
	dit := make([]bls.G1Affine, m)
	for k := range a {
		dit[int(bits.Reverse8(uint8(k))>>4)] = a[k]
	}
	g1FFT(dit, tw, false, 3)
	for k := range want {
		require.True(t, dit[k].Equal(&want[k]), "DIT output %d", k)
	}
}
