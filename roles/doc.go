// Package roles implements the three roles of verifiable data streaming
// (SPEC §1, §5–§7) as an API a program can embed: the [DataOwner], the
// [StorageServer] and the [Verifier], with the signed messages they
// exchange.
//
// # The roles
//
// A DataOwner commits to batches (CreateBatch), signs their headers, revokes
// them (Revoke) and replaces them by new versions (Update), and signs the
// resulting chain of states. It is light: it keeps its keys, the state chain
// and a record of each batch, not the data. A StorageServer stores batches
// only if the owner's signature verifies and the commitments match the data,
// applies the owner's states strictly in epoch order, and answers queries
// (Answer) with one proof per answer. A Verifier checks answers (Verify)
// against the CRS, the owner's public keys and the latest signed state it
// holds, in one multi-pairing per answer.
//
// The roles reach each other only through small interfaces — the owner
// holds a [StorageClient], a verifier a [StateSource], an owner sends new
// states to [StateListener]s — which the StorageServer, the DataOwner and
// the Verifier implement in-process and package transport implements across
// processes. [NewLocal] wires all three in one process.
//
// # Storage
//
// Each role keeps its durable state behind an interface: [OwnerStore] and
// [ServerStore], with in-memory implementations here and the embedded
// default in package roles/bolt. Every invariant (epoch order, one live
// batch per stream and sequence number, revoked ids refused) is enforced by
// the store, so a store shared by several servers stays consistent; a call
// that returns nil is durable. Package storage/storetest checks any
// implementation against the contract.
//
// # Precomputed answers
//
// After a batch is stored, a StorageServer computes in the background the
// prefix sums of all point proofs of each column and of the timestamps
// (SPEC §4, "Precomputed openings") and keeps them in its store
// ([ProofTableStore]); point, range, weighted and time-window answers then
// combine a few stored points instead of running a multi-exponentiation,
// with the same proofs. [WithoutPrecompute] turns it off,
// [WithPrecomputeWorkers] bounds the cores it uses, and
// [StorageServer.ResumePrecompute] picks up batches left without tables by
// a restart. A Verifier given many answers at once checks them with one
// pairing check ([Verifier.VerifyMany]).
//
// # Trust
//
// The storage server is untrusted: every answer is checked, and the
// adversarial tests of this package show forged sums, proofs for other
// columns or batches, stale or future epochs, revoked batches with the
// u = 0 witness, lies at time-window boundaries, identity points and
// non-canonical scalars rejected. A verifier must be anchored at a state
// that comes from the owner ([WithInitialState] or [WithTrustedSource]); a
// storage server can then only help it catch up, never roll it back. A
// verifier that may miss the owner's pushes should set [WithMaxStateAge],
// and the owner should re-sign its state periodically ([DataOwner.Refresh]).
//
// # Errors
//
// Errors match the sentinels of errors.go with errors.Is; [InputError],
// [RevokedError], [MissingStatesError] and [StaleStateError] carry evidence
// for errors.As.
package roles
