package commitment

import (
	"bytes"
	"testing"
)

// FuzzTranscript feeds arbitrary bytes to the transcript decoder and the
// record checks: no panics, nothing returned with an error, and a decoded
// transcript encodes back to the same bytes.
func FuzzTranscript(f *testing.F) {
	for _, n := range []int{1, 2} { // small files keep minimisation fast
		c, err := Setup(n, seeded(uint64(40+n)))
		if err != nil {
			f.Fatal(err)
		}
		start, _ := c.MarshalBinary()
		var one, two bytes.Buffer
		if _, err := Contribute(bytes.NewReader(start), &one, "Alice", seeded(1)); err != nil {
			f.Fatal(err)
		}
		if _, err := Contribute(bytes.NewReader(one.Bytes()), &two, "Bob ☃", seeded(2)); err != nil {
			f.Fatal(err)
		}
		f.Add(one.Bytes())
		f.Add(two.Bytes())
		f.Add(two.Bytes()[:transcriptHeaderSize+10])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The cheap decoder first (records checked, final CRS on-curve
		// only); the full verification only for what it accepts, so that
		// the fuzzer spends its time on the parser.
		tr, err := decodeTranscript(data, 2, false)
		if err != nil {
			if tr != nil {
				t.Fatal("transcript returned with an error")
			}
			return
		}
		out, err := tr.encode()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, data) {
			t.Fatal("decoded transcript does not re-encode to itself")
		}
		// The record checks must not panic either; the final CRS's own
		// checks are FuzzLoad's.
		if _, err := tr.verifyRecords(); err == nil && len(data) < 2048 {
			if full, err := LoadTranscript(bytes.NewReader(data), WithMaxN(2)); err != nil && full != nil {
				t.Fatal("verified transcript returned with an error")
			}
		}
	})
}
