// Package accumulator implements the revocation accumulator of SPEC §6: a
// bilinear-map accumulator over BLS12-381 (Nguyen; Damgård–Triandopoulos;
// Krupp et al.) whose accumulated set is the blacklist of revoked batches,
// together with non-membership witnesses that the storage server keeps up to
// date from public data alone.
//
// In additive notation, with g and ĝ the standard generators of G1 and G2:
// the data owner holds a secret s ∈ Fr and publishes P = s·ĝ ([SecretKey],
// [SecretKey.PublicKey]). The accumulator starts at f₀ = g ([Initial]);
// revoking the element x_E moves it from epoch E−1 to epoch E with
// f_E = (x_E + s)·f_{E−1} ([SecretKey.Accumulate]). The element of a batch is
// y = HFr("vds/v1/acc", D) for its 32-byte digest D ([Element]) — the digest,
// never the (malleable) signature bytes.
//
// A non-membership witness of y at epoch E is a pair (w, u) with u ≠ 0 and
// (y+s)·w = f_E + u·g ([Witness]). It starts at epoch 0 as (O, −1)
// ([InitialWitness]) and is brought forward without any secret, from the
// public history f₀…f_{E−1} and x₁…x_E, either one epoch at a time
// ([UpdateStep]) or many epochs at once with one multi-exponentiation
// ([Update]). [Verify] checks a witness with one pairing check; [Terms] gives
// the two G1 points of the same equation for callers that merge it into a
// larger multi-pairing.
//
// # Key management
//
// s never leaves the owner's process except through
// [SecretKey.MarshalBinary], for the owner's own key store. A SecretKey
// prints as a redacted placeholder with every fmt verb, and [SecretKey.Zero]
// overwrites s when the key is no longer needed. gnark-crypto makes no
// constant-time promise: Accumulate must run only inside the data owner.
//
// # Security
//
// Verification enforces u ≠ 0: for a revoked y the membership witness
// (Π_{x∈X, x≠y}(x+s)·g, 0) satisfies the pairing equation, and accepting it
// would let a server pass off a revoked batch as valid (SPEC §10). The
// accumulator value f and the public key must not be the identity (SPEC §2);
// the witness point w may be (it is the honest witness at epoch 0). Verify
// and Terms check that every point they are given lies in the prime-order
// subgroup. Update and UpdateStep take the history as given: it is public
// and signed, and callers obtain it through validating decoders.
//
// # Errors
//
// Failures are errors that errors.Is matches against the sentinels of this
// package ([ErrInvalidInput], [ErrIdentity], [ErrRevoked], [ErrBadProof], …),
// which are the same values as the identically named errors of package vds.
// Asking to update the witness of a revoked element returns a [*RevokedError]
// naming the epoch that revoked it.
package accumulator
