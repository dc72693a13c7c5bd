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
package security
