package commitment

import (
	"bytes"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// FuzzLoad feeds arbitrary bytes to the CRS file decoder: it must never
// panic, never return a CRS together with an error, and a CRS it accepts
// must write back to the same bytes.
func FuzzLoad(f *testing.F) {
	for _, n := range []int{1, 2, 3} {
		c, err := Setup(n, seeded(uint64(n)))
		if err != nil {
			f.Fatal(err)
		}
		b, _ := c.MarshalBinary()
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	var alpha fr.Element
	alpha.SetOne()
	g1, g2 := crsFromAlpha(2, alpha)
	f.Add(newCRSFile(2, g1, g2))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Load(bytes.NewReader(data), WithMaxN(8))
		if err != nil {
			if c != nil {
				t.Fatal("CRS returned with an error")
			}
			return
		}
		out, err := c.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, data) {
			t.Fatalf("accepted file does not re-encode to itself")
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted CRS fails validation: %v", err)
		}
	})
}
