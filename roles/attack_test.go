package roles_test

// Adversarial tests: a malicious storage server (SPEC §1: untrusted, holds
// all batch data, the commitment randomness, the public revocation history
// and the CRS prover key, but neither the owner's signing key nor the
// accumulator secret s) tries to make a verifier accept an answer that is
// not exactly what the owner's data implies. Every attack starts from an
// honest answer that verifies, so each rejection is due to the attack.

import (
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
)

// ---------------------------------------------------------------------------
// The attacks on a shared system (nothing here changes its state).

// sharedSeed makes the shared owner's keys reproducible, so that a twin owner
// with the very same keys can be built on another CRS.
const sharedSeed = 0x5eed

// sharedEpoch is the shared system's epoch: one dummy batch is revoked.
const sharedEpoch = 1

// sharedSystem is the system the attacks of TestMaliciousServer share:
// batches X and Y of stream "sensors", Z of stream "other", and a revoked
// dummy batch. No attack changes its state.
type sharedSystem struct {
	signer  *roles.Ed25519Signer // the owner's: for twins and mirrors of signed messages
	r       *rig
	X, Y, Z roles.BatchID
	sbX     *roles.StoredBatch // X as the attacker holds it
}

// TestMaliciousServer runs the attacks on a shared system; each family of
// attacks is in its own file (attack_*_test.go).
func TestMaliciousServer(t *testing.T) {
	signer, err := roles.GenerateEd25519Signer(rand.Reader)
	require.NoError(t, err)
	r := newRig(t, testCRS(t), rigOptions{seed: sharedSeed, signer: signer})
	X := r.create(t, sampleBatch("sensors", 12, 1))
	Y := r.create(t, sampleBatch("sensors", 12, 2))
	Z := r.create(t, sampleBatch("other", 8, 3))
	// Revoke a dummy batch so that the system is at epoch 1 and witnesses
	// differ from batch to batch (at epoch 0 every witness is (O, −1)).
	r.revoke(t, r.create(t, sampleBatch("dummy", 3, 4)))
	require.EqualValues(t, sharedEpoch, r.l.Verifier.State().State.Epoch)
	s := &sharedSystem{signer: signer, r: r, X: X, Y: Y, Z: Z, sbX: r.stored(t, X)}
	attacksOnProofs(t, s)
	attacksOnQueries(t, s)
	attacksOnWindows(t, s)
	attacksOnEncodings(t, s)
	attacksOnStates(t, s)
}
