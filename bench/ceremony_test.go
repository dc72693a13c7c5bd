package bench

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/vdsproject/vds/commitment"
)

// ceremonySizes are the capacities of the ceremony benchmarks; compare each
// with BenchmarkCRSSetup at the same n.
var ceremonySizes = []int{1024, 65536}

// BenchmarkCRSContribute times one contribution (SPEC §3.1) to a transcript
// of one earlier contribution: read, 2n−1 G1 and n G2 variable-base scalar
// multiplications, proof, write. Compare with BenchmarkCRSSetup/n=N.
func BenchmarkCRSContribute(b *testing.B) {
	for _, n := range ceremonySizes {
		b.Run(name("n", n), func(b *testing.B) {
			in := transcriptOf(b, n, 1)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				var out bytes.Buffer
				if _, err := commitment.Contribute(bytes.NewReader(in), &out, "bench", rand.Reader); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCRSVerifyTranscript times the full verification of a transcript
// of three contributions (every proof, every point, the final structure).
// Compare with BenchmarkCRSContribute/n=N.
func BenchmarkCRSVerifyTranscript(b *testing.B) {
	for _, n := range ceremonySizes {
		b.Run("contributions=3/"+name("n", n), func(b *testing.B) {
			in := transcriptOf(b, n, 3)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := commitment.LoadTranscript(bytes.NewReader(in)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// transcriptOf returns a transcript of k contributions to a fresh CRS of
// capacity n.
func transcriptOf(b *testing.B, n, k int) []byte {
	b.Helper()
	cur, err := crsOf(b, n).MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	for range k {
		var out bytes.Buffer
		if _, err := commitment.Contribute(bytes.NewReader(cur), &out, "setup", rand.Reader); err != nil {
			b.Fatal(err)
		}
		cur = out.Bytes()
	}
	return cur
}
