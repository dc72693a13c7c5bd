// Package compare holds one stream three ways, for benchmarks against what
// a user would pick instead of vds (issue 20):
//
//   - VDS: the vds roles in one process (roles.NewLocal): vector
//     commitments per batch, the owner's signed states and the revocation
//     accumulator;
//   - Merkle: a signed RFC 6962 log of the rows, as Certificate
//     Transparency and Tessera run (github.com/transparency-dev/merkle):
//     the client fetches every row of a range with a compact-range proof
//     (an inclusion proof for a point) against the signed tree head it
//     holds, checks it and sums;
//   - Ed25519: one Ed25519 signature per row; the client fetches every row
//     with its signature.
//
// Each scheme builds a System from the same Data and answers the same
// Query; an answer is bytes, as it would cross the network, so its size is
// the answer's size and decoding it is part of the verifier's time. Omit
// is a lying server: it drops the last row the query selects. The vds and
// Merkle verifiers catch it; the per-row signature verifier cannot (a row
// it never sees carries no signature to miss): see the package tests.
//
// The benchmarks (bench_test.go) report these figures as custom metrics;
// cmd/compareplot draws them and scripts/bench-compare runs both. The
// package is benchmark support: nothing outside bench/ imports it.
package compare
