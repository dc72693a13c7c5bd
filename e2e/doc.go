// Package e2e holds the end-to-end tests of vds: the prototype's four
// end-to-end tests (DC one column, DC several columns, DA audit, revocation)
// and update, time windows, a storage-server restart, mutual TLS, unsigned
// mutations, a restart of the whole deployment and a stale verifier anchor,
// run over the three transports — in-process, HTTP and Unix sockets, the
// last two with three separate OS processes built from cmd/vds — plus a
// call made while the storage server restarts, and a bounded load test
// against the storage server over HTTP.
//
// The package has no code of its own; run it with
//
//	go test ./e2e           # about 20 s on 2 cores (10 s of load test)
//	go test -short ./e2e    # a 2 s load test
//	go test -race ./e2e     # the servers are built with -race too
package e2e
