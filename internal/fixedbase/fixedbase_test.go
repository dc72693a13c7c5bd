package fixedbase

import (
	"math/big"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"
)

func TestMulMatchesScalarMultiplication(t *testing.T) {
	_, _, g, _ := bls.Generators()
	var p bls.G1Affine
	p.ScalarMultiplication(&g, big.NewInt(987654321))
	tab := New(&p)
	var minusOne, half fr.Element
	minusOne.SetOne()
	minusOne.Neg(&minusOne)
	half.SetUint64(128)
	cases := []fr.Element{{}, minusOne, half}
	for i := range 200 {
		var s fr.Element
		if i%3 == 0 {
			s.SetUint64(uint64(i) * 0x80808080)
		} else {
			_, _ = s.SetRandom()
		}
		cases = append(cases, s)
	}
	for _, s := range cases {
		got := tab.Mul(&s)
		var want bls.G1Jac
		want.FromAffine(&p)
		var b big.Int
		want.ScalarMultiplication(&want, s.BigInt(&b))
		require.True(t, want.Equal(&got), "s = %s", s.String())
	}
	gen := Generator()
	var s fr.Element
	_, _ = s.SetRandom()
	got := gen.Mul(&s)
	var want bls.G1Jac
	var b big.Int
	want.ScalarMultiplicationBase(s.BigInt(&b))
	require.True(t, want.Equal(&got))
}

func BenchmarkMul(b *testing.B) {
	tab := Generator()
	var s fr.Element
	_, _ = s.SetRandom()
	for b.Loop() {
		tab.Mul(&s)
	}
}
