package bench

import (
	"crypto/rand"
	"fmt"
	"sync"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/commitment"
)

// Sizes of the benchmarks (rows per batch).
var sizes = []int{1024, 16384, 65536}

var (
	crsMu    sync.Mutex
	crsCache = map[int]*commitment.CRS{}
)

// crsOf returns a CRS of capacity n, generated once per process.
func crsOf(b *testing.B, n int) *commitment.CRS {
	b.Helper()
	crsMu.Lock()
	defer crsMu.Unlock()
	if c, ok := crsCache[n]; ok {
		return c
	}
	c, err := commitment.Setup(n, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	crsCache[n] = c
	return c
}

// randomScalars returns n uniformly random full-width field elements.
func randomScalars(n int) []fr.Element {
	s := make([]fr.Element, n)
	for i := range s {
		if _, err := s[i].SetRandom(); err != nil {
			panic(err)
		}
	}
	return s
}

// randomG1 returns n random points of G1 (random multiples of g).
func randomG1(n int) []bls.G1Affine {
	_, _, g, _ := bls.Generators()
	return bls.BatchScalarMultiplicationG1(&g, randomScalars(n))
}

func name(k string, v int) string { return fmt.Sprintf("%s=%d", k, v) }
