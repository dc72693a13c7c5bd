// Package storetest is the conformance suite of the store interfaces of
// package roles: every implementation of [roles.ServerStore] and
// [roles.OwnerStore] runs the same tests, so that every driver — storage/memory,
// storage/bolt, storage/postgres and any later backend — keeps the same
// invariants.
//
//	func TestConformance(t *testing.T) {
//		storetest.TestServerStore(t, func(t *testing.T) roles.ServerStore {
//			s, err := mystore.Open(filepath.Join(t.TempDir(), "server.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// The open function is called once per subtest and must return an empty
// store; the suite closes it (Close may therefore be called twice, which
// must be harmless). Subtests assert the exact error kinds with errors.Is and
// errors.As, that a failing call changes nothing, and that concurrent calls
// are safe (run with -race). A store that implements [roles.Pinger] must
// answer Ping while open and fail it with roles.ErrClosed after Close.
//
// The fixtures (NewState, NewBatch, …) build well-formed signed objects with
// random points and random signature bytes: stores do not verify signatures
// or commitments, so the fixtures do not compute real ones.
package storetest

import "testing"

// runCase runs one conformance test as a subtest on a fresh store from
// open, closed when the subtest ends.
func runCase[S interface{ Close() error }](t *testing.T, name string, open func(*testing.T) S, fn func(*testing.T, S)) {
	t.Run(name, func(t *testing.T) {
		s := open(t)
		t.Cleanup(func() { _ = s.Close() })
		fn(t, s)
	})
}
