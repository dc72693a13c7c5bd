// Package commitment implements the common reference string and the
// pairing-based vector commitments of SPEC §3–§4 over BLS12-381: commitments
// to data columns in G1 and to the timestamp column in G2, aggregated
// openings for any weight vector (one FFT convolution and one
// multi-exponentiation), combined openings of several columns, and
// verification with a single multi-pairing.
//
// # Parameters
//
// A [CRS] of capacity n holds gᵢ = g^(αⁱ) for i ∈ [1, 2n] except i = n+1,
// and ĝᵢ = ĝ^(αⁱ) for i ∈ [1, n]. [Setup] generates one from a source of
// randomness and forgets α; [Load] reads the file format written by
// [CRS.WriteTo] and checks every point; [CRS.Validate] checks the structure of
// a CRS received from someone else without knowing α. The [ProverKey]
// (commit, open) and the [VerifierKey] (verify, with the prefix sums of SPEC
// §4) are views of one CRS that share memory.
//
// # Security
//
// α is drawn from the reader given to Setup, used, and overwritten; it is never
// stored, serialised or returned. Whoever knows α can open any commitment to
// any value, so a deployment either generates its CRS in a trusted place,
// pins the digest of a CRS it trusts ([WithPinnedDigest]), or runs the
// ceremony of SPEC §3.1: [Contribute] re-randomises a CRS with a fresh secret
// and a proof of knowledge of it, [LoadTranscript] verifies the whole chain,
// and the final CRS is safe if one contributor was honest. Verification
// rejects the identity point wherever SPEC §2 forbids it and checks that every
// point it is given lies in the prime-order subgroup. gnark-crypto makes no
// constant-time promise; commitment randomness and data are secrets of the
// storage server and the data owner, never of a verifier.
//
// # Errors
//
// Every failure is an error that errors.Is matches against the sentinels of
// this package ([ErrBadProof], [ErrInvalidInput], [ErrInvalidCRS],
// [ErrCRSMismatch], …), which are the same values as the top-level vds ones.
package commitment
