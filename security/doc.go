// Package security holds the regression suite of the security review of
// issue 7: one test (or more) per finding, each written to fail on the code
// before the fix and pass after it. It has no non-test code; `go test
// ./security` runs it, and so does the project's test command.
//
// The findings:
//
//  1. Owner mutations without authentication (finding1_test.go).
//  2. A verifier that misses one push accepts answers about a revoked batch
//     (finding2_test.go).
//  3. One request freezes a verifier: catch-up under the verifier's lock
//     (finding3_test.go).
//  4. Memory and CPU from one message: body limits, concurrency, structural
//     limits before point decoding (finding4_test.go).
//  5. Smaller things: value overflow, the header cache, the content type,
//     names, a nil state (finding5_test.go).
//
// Issue 16 (keys and roles) added, in issue16_test.go and beside the code
// it fixed: one shared TLS certificate let any server act as the owner
// (TestIssue16SharedCertificate; now one certificate per role with the
// role in its URI SAN, and an access table); a revoked batch kept its
// precomputed proof tables (TestIssue16RevokedBatchTables); one
// black-holed verifier slowed every revocation by the 5 s delivery
// timeout, because the owner pushed under its mutation lock
// (roles.TestRevokeBlackholedListener, bench.BenchmarkRevokeBlackholed;
// now per-listener queues after the lock); and the owner's signing key had
// to live in the owner's process (transport.TestSignerOverUnixSocket,
// internal/cli.TestSignerProcess: a signer process or any crypto.Signer,
// the socket 0600 and SO_PEERCRED-checked, its frames fuzzed). Key
// rotation: DataOwner.Rotate and the handovers of SPEC §6.3
// (roles.TestKeyRotation, TestKeyRotationRefused; vectors
// state/rotation/*); headers signed by a retired key stay valid (they
// carry no epoch or time). `vds key rotate` (rotate_key, admin only)
// rotates a running owner whose seed is in its store: the seed and the
// handover state change in one store transaction, fenced under the lease
// (storetest RotateKey, postgres.TestLeaseFencedRotation,
// internal/cli.TestKeyRotateProcess, with a verifier offline during the
// rotation and states forged with the retired key); an owner with an
// external signer refuses (roles.ErrExternalSigner).
package security
