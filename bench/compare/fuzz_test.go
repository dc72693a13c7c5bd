package compare

import (
	"context"
	"testing"
)

// FuzzVerifyAnswer feeds arbitrary bytes to the Merkle and per-row
// decoders and verifiers: they reject them with an error, never panic,
// and accept only what verifies.
func FuzzVerifyAnswer(f *testing.F) {
	ctx := context.Background()
	d := NewData(32, 2, 1_700_000_000_000, 5)
	m, err := Merkle{}.Build(ctx, d)
	if err != nil {
		f.Fatal(err)
	}
	e, err := Ed25519{}.Build(ctx, d)
	if err != nil {
		f.Fatal(err)
	}
	qs := Queries(d)
	for _, nq := range qs {
		for _, sys := range []System{m, e} {
			a, err := sys.Answer(ctx, nq.Q)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(0), a)
		}
	}
	f.Fuzz(func(t *testing.T, k uint8, answer []byte) {
		q := qs[int(k)%len(qs)].Q
		for _, sys := range []System{m, e} {
			sums, err := sys.Verify(ctx, q, answer)
			if err == nil && len(sums) != 2 {
				t.Fatalf("accepted with %d sums", len(sums))
			}
		}
	})
}
