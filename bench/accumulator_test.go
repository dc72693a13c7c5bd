package bench

import (
	"crypto/rand"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/accumulator"
)

// history revokes k random elements and returns f_0..f_{k−1} and x_1..x_k.
func history(b *testing.B, k int) ([]bls.G1Affine, []fr.Element) {
	sk, err := accumulator.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	f := accumulator.Initial()
	fs := make([]bls.G1Affine, k)
	xs := randomScalars(k)
	for i := range xs {
		fs[i] = f
		if f, err = sk.Accumulate(&f, &xs[i]); err != nil {
			b.Fatal(err)
		}
	}
	return fs, xs
}

// BenchmarkWitnessUpdate brings a non-membership witness forward over K
// revocations at once: one MSM of K+1 points (compare BenchmarkMSMG1/n=1001).
// The witness starts at epoch 1, where it is a real point, not the identity.
func BenchmarkWitnessUpdate(b *testing.B) {
	for _, k := range []int{1, 1000} {
		fs, xs := history(b, k+1)
		y := randomScalars(1)[0]
		w1, err := accumulator.UpdateStep(accumulator.InitialWitness(), &y, &fs[0], &xs[0])
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name("epochs", k), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := accumulator.Update(w1, &y, fs[1:], xs[1:]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
