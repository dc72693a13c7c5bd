package accumulator

import (
	"bytes"
	"testing"
)

// FuzzUnmarshalSecretKey: the key decoder never panics, and a key it
// accepts marshals back to the same 32 bytes.
func FuzzUnmarshalSecretKey(f *testing.F) {
	f.Add(make([]byte, 32))
	f.Add(bytes.Repeat([]byte{0xff}, 32))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		sk, err := UnmarshalSecretKey(b)
		if err != nil {
			if sk != nil {
				t.Fatal("key returned with an error")
			}
			return
		}
		out, err := sk.MarshalBinary()
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("accepted %x, marshals to %x (%v)", b, out, err)
		}
	})
}
