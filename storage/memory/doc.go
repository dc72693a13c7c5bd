// Package memory holds the in-memory stores of package roles: a
// [roles.ServerStore] (with [roles.ProofTableStore]) and a
// [roles.OwnerStore] that live in the process's memory.
//
//	srv, err := roles.NewStorageServer(crs, ownerKeys, memory.NewServerStore())
//
// # Guarantees
//
// Durability: none. Everything is gone when the process exits; use them for
// tests, examples, and servers that can rebuild their state from the owner
// (a storage server's batches cannot be rebuilt: in a deployment use
// storage/bolt or storage/postgres).
//
// Concurrency: every method is safe for concurrent use. Each call checks its
// invariants (chain order through [roles.NextStep], one live batch per
// stream and sequence number, revoked ids refused) and applies its whole
// change under one lock, so a call that fails changes nothing and readers
// never see half a change.
//
// Sharing: one process only; a store is not shared between an owner and a
// server unless they run in the same process (as [roles.NewLocal] does with
// two stores of this package). Values passed in and returned are copies
// where the caller could otherwise alias the store's state, except proof
// tables, which are kept as given (the caller must not modify them).
//
// After Close every method fails with [roles.ErrClosed]. Both stores pass
// the conformance suite of storage/storetest.
package memory
