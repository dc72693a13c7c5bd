package accumulator_test

import (
	"crypto/sha256"
	"errors"
	"fmt"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/accumulator"
)

// Example revokes two batches, brings the witness of a third batch up to date
// from the public history alone, and verifies it; the witness of a revoked
// batch cannot be brought past its revocation.
func Example() {
	// Data owner: secret key and public key P = s·ĝ.
	sk, err := accumulator.GenerateKey(nil) // nil: crypto/rand
	if err != nil {
		panic(err)
	}
	defer sk.Zero()
	pk := sk.PublicKey()

	// Each batch is accumulated under y = HFr("vds/v1/acc", D) of its digest D.
	kept := accumulator.Element(sha256.Sum256([]byte("batch 1")))
	revoked := []fr.Element{
		accumulator.Element(sha256.Sum256([]byte("batch 2"))),
		accumulator.Element(sha256.Sum256([]byte("batch 3"))),
	}

	// The owner revokes; the history f₀, f₁, … and x₁, x₂, … is public.
	fs := []bls.G1Affine{accumulator.Initial()}
	for i := range revoked {
		f, err := sk.Accumulate(&fs[len(fs)-1], &revoked[i])
		if err != nil {
			panic(err)
		}
		fs = append(fs, f)
	}

	// Storage server: update the cached witness without any secret.
	w := accumulator.InitialWitness()
	w, err = accumulator.Update(w, &kept, fs[w.Epoch:2], revoked[w.Epoch:2])
	if err != nil {
		panic(err)
	}

	// Verifier: check it against the latest accumulator value.
	fmt.Println("epoch:", w.Epoch)
	fmt.Println("kept batch verifies:", accumulator.Verify(&pk, &fs[2], &kept, &w) == nil)

	// A revoked batch has no witness past its revocation.
	_, err = accumulator.Update(accumulator.InitialWitness(), &revoked[1], fs[:2], revoked)
	var re *accumulator.RevokedError
	fmt.Println("revoked:", errors.Is(err, accumulator.ErrRevoked), errors.As(err, &re) && re.Epoch == 2)
	// Output:
	// epoch: 2
	// kept batch verifies: true
	// revoked: true true
}
