package bench

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"

	"github.com/vdsproject/vds/commitment"
)

// BenchmarkMSMG1 is the raw gnark-crypto multi-exponentiation over random
// affine G1 points and random full-width scalars: the limit the commitment
// benchmarks are compared with (Open at n runs one MSM of 2n−1 points,
// Commit one of n+1, a witness update over k epochs one of k+1).
func BenchmarkMSMG1(b *testing.B) {
	for _, m := range []int{1001, 1024, 16384, 65536, 131072} {
		points, scalars := randomG1(m), randomScalars(m)
		b.Run(name("n", m), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var r bls.G1Jac
				if _, err := r.MultiExp(points, scalars, ecc.MultiExpConfig{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPairingCheck3 is the raw three-pair pairing check, the cost every
// range verification is compared with.
func BenchmarkPairingCheck3(b *testing.B) {
	p := randomG1(3)
	_, _, _, g2 := bls.Generators()
	q := bls.BatchScalarMultiplicationG2(&g2, randomScalars(3))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bls.PairingCheck(p, q); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCommit(b *testing.B) {
	// 4096: the batches of BenchmarkAppend.
	for _, n := range append([]int{4096}, sizes...) {
		pk := crsOf(b, n).ProverKey()
		m, gamma := randomScalars(n), randomScalars(1)[0]
		b.Run(name("n", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pk.CommitG1(m, gamma); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpen opens a full column under random dense weights: one FFT
// convolution and one MSM of 2n−1 points.
func BenchmarkOpen(b *testing.B) {
	for _, n := range sizes {
		pk := crsOf(b, n).ProverKey()
		m, gamma, w := randomScalars(n), randomScalars(1)[0], randomScalars(n)
		b.Run(name("n", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := pk.Open(m, gamma, commitment.Dense(w)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyRange verifies a range-sum opening over the middle half.
func BenchmarkVerifyRange(b *testing.B) {
	for _, n := range sizes {
		crs := crsOf(b, n)
		pk, vk := crs.ProverKey(), crs.VerifierKey()
		m, gamma := randomScalars(n), randomScalars(1)[0]
		c, _ := pk.CommitG1(m, gamma)
		w := commitment.Range(n/4, 3*n/4)
		x, proof, err := pk.Open(m, gamma, w)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name("n", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := vk.Verify(c, w, x, proof); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyWeighted verifies an opening under random dense weights:
// one G2 MSM of n points plus the pairing check.
func BenchmarkVerifyWeighted(b *testing.B) {
	for _, n := range sizes {
		crs := crsOf(b, n)
		pk, vk := crs.ProverKey(), crs.VerifierKey()
		m, gamma := randomScalars(n), randomScalars(1)[0]
		c, _ := pk.CommitG1(m, gamma)
		w := commitment.Dense(randomScalars(n))
		x, proof, err := pk.Open(m, gamma, w)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name("n", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := vk.Verify(c, w, x, proof); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCRSSetup(b *testing.B) {
	for _, n := range sizes {
		b.Run(name("n", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := commitment.Setup(n, rand.Reader); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCRSLoad reads a CRS file with every check ("checked": per-point
// curve and subgroup checks plus the structure check) and with a pinned
// digest ("pinned": on-curve only).
func BenchmarkCRSLoad(b *testing.B) {
	for _, n := range sizes {
		crs := crsOf(b, n)
		file, err := crs.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		for _, mode := range []string{"checked", "pinned"} {
			var opts []commitment.LoadOption
			if mode == "pinned" {
				opts = append(opts, commitment.WithPinnedDigest(crs.Digest()))
			}
			b.Run(name("n", n)+"/"+mode, func(b *testing.B) {
				b.SetBytes(int64(len(file)))
				for b.Loop() {
					if _, err := commitment.Load(bytes.NewReader(file), opts...); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
