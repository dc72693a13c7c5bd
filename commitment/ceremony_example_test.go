package commitment_test

import (
	"bytes"
	"crypto/rand"
	"fmt"

	"github.com/vdsproject/vds/commitment"
)

// Two contributors re-randomise a starting CRS; anyone then verifies the
// transcript and uses its final CRS.
func ExampleContribute() {
	start, _ := commitment.Setup(16, rand.Reader) // its maker's α does not matter
	file, _ := start.MarshalBinary()
	for _, name := range []string{"Alice", "Bob"} {
		var next bytes.Buffer
		if _, err := commitment.Contribute(bytes.NewReader(file), &next, name, rand.Reader); err != nil {
			panic(err)
		}
		file = next.Bytes()
	}

	tr, err := commitment.LoadTranscript(bytes.NewReader(file))
	if err != nil {
		panic(err)
	}
	for _, c := range tr.Contributions() {
		fmt.Println(c.Index, c.Name)
	}
	fmt.Println(tr.InitialDigest() == start.Digest(), tr.CRS().N())
	// Output:
	// 1 Alice
	// 2 Bob
	// true 16
}
