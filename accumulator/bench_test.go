package accumulator

import (
	"fmt"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// randomPoints returns n random points of G1 and n random scalars.
func randomPoints(b *testing.B, n int) ([]bls.G1Affine, []fr.Element) {
	b.Helper()
	scalars := make([]fr.Element, n)
	for i := range scalars {
		scalars[i] = randomScalar(b)
	}
	g := Initial()
	points := bls.BatchScalarMultiplicationG1(&g, scalars)
	for i := range scalars {
		scalars[i] = randomScalar(b)
	}
	return points, scalars
}

// benchWitness returns a witness with a non-identity point at epoch 5, so that
// Update over k epochs is a multi-exponentiation of k+1 points.
func benchWitness(b *testing.B) Witness {
	b.Helper()
	p, s := randomPoints(b, 1)
	return Witness{W: p[0], U: s[0], Epoch: 5}
}

// BenchmarkUpdate measures Update over 1 and 1000 epochs, and the raw
// multi-exponentiation of 1001 random points that Update over 1000 epochs
// should cost (SPEC §6).
func BenchmarkUpdate(b *testing.B) {
	y := randomScalar(b)
	w := benchWitness(b)
	for _, k := range []int{1, 1000} {
		fPrev, xs := randomPoints(b, k)
		b.Run(fmt.Sprintf("epochs=%d", k), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Update(w, &y, fPrev, xs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	points, scalars := randomPoints(b, 1001)
	b.Run("raw-msm/points=1001", func(b *testing.B) {
		b.ReportAllocs()
		var acc bls.G1Jac
		for b.Loop() {
			if _, err := acc.MultiExp(points, scalars, ecc.MultiExpConfig{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUpdateSteps measures 1000 epochs one UpdateStep at a time, for
// comparison with BenchmarkUpdate/epochs=1000.
func BenchmarkUpdateSteps(b *testing.B) {
	const k = 1000
	y := randomScalar(b)
	w0 := benchWitness(b)
	fPrev, xs := randomPoints(b, k)
	b.ReportAllocs()
	for b.Loop() {
		w := w0
		for i := range k {
			var err error
			if w, err = UpdateStep(w, &y, &fPrev[i], &xs[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkUpdatePaths compares, for few points, the multi-exponentiation
// with one scalar multiplication per point; msmThreshold is where the first
// becomes faster.
func BenchmarkUpdatePaths(b *testing.B) {
	w := benchWitness(b)
	for _, n := range []int{2, 4, 6, 8, 10, 12, 16, 24} {
		fPrev, c := randomPoints(b, n-1)
		c = append(c, randomScalar(b))
		for _, msm := range []bool{false, true} {
			name := "loop"
			if msm {
				name = "msm"
			}
			b.Run(fmt.Sprintf("points=%d/%s", n, name), func(b *testing.B) {
				var acc bls.G1Jac
				for b.Loop() {
					if err := combine(&acc, &w.W, fPrev, c, msm); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := newHistory(b, 3)
	y := randomScalar(b)
	w, err := Update(InitialWitness(), &y, h.fs[:3], h.xs[:3])
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Verify", func(b *testing.B) {
		for b.Loop() {
			if err := Verify(&h.pk, &h.fs[3], &y, &w); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Terms", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := Terms(&h.fs[3], &y, &w); err != nil {
				b.Fatal(err)
			}
		}
	})
}
