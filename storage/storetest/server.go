package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/roles"
)

// TestServerStore runs the conformance suite of roles.ServerStore. open is
// called once per subtest and must return an empty store; the suite closes
// it.
func TestServerStore(t *testing.T, open func(t *testing.T) roles.ServerStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s roles.ServerStore)
	}{
		{"Empty", serverEmpty},
		{"PutBatch", serverPutBatch},
		{"PutBatchIdempotent", serverPutBatchIdempotent},
		{"PutBatchConflict", serverPutBatchConflict},
		{"PutBatchSameIDOtherSlot", serverPutBatchSameIDOtherSlot},
		{"PutBatchRevoked", serverPutBatchRevoked},
		{"PutBatchRevokedBeforeStored", serverPutBatchRevokedBeforeStored},
		{"AppendStateGenesis", serverAppendGenesis},
		{"AppendStateGap", serverAppendGap},
		{"AppendStateWrongLink", serverAppendWrongLink},
		{"AppendStateSameAgain", serverAppendSameAgain},
		{"AppendStateResigned", serverAppendResigned},
		{"AppendStateDifferentForHeldEpoch", serverAppendDifferent},
		{"AppendStateInvalid", serverAppendInvalid},
		{"Revocation", serverRevocation},
		{"UpdateBatch", serverUpdateBatch},
		{"UpdateBatchBatchFails", serverUpdateBatchBatchFails},
		{"UpdateBatchStateFails", serverUpdateBatchStateFails},
		{"UpdateBatchRetry", serverUpdateBatchRetry},
		{"StatesAndHistory", serverStatesAndHistory},
		{"Witness", serverWitness},
		{"List", serverList},
		{"LargeBatch", serverLargeBatch},
		{"ContextCancelled", serverContextCancelled},
		{"Close", serverClose},
		{"Concurrent", serverConcurrent},
	}
	for _, tc := range tests {
		runCase(t, tc.name, open, tc.fn)
	}
	for _, tc := range proofTests {
		runCase(t, tc.name, open, func(t *testing.T, s roles.ServerStore) { tc.fn(t, asProofStore(t, s), s) })
	}
}

var bg = context.Background()

// requireMissing asserts that err is a *roles.MissingStatesError for the
// epochs from..to and wraps roles.ErrUnknownState.
func requireMissing(t *testing.T, err error, from, to uint64) {
	t.Helper()
	require.ErrorIs(t, err, roles.ErrUnknownState)
	var m *roles.MissingStatesError
	require.ErrorAs(t, err, &m)
	require.Equal(t, roles.MissingStatesError{From: from, To: to}, *m, "missing epochs")
}

// requireRevoked asserts that err is a *roles.RevokedError for id (and, if
// epoch is non-zero, that epoch).
func requireRevoked(t *testing.T, err error, id roles.BatchID, epoch uint64) {
	t.Helper()
	require.ErrorIs(t, err, roles.ErrRevoked)
	var r *roles.RevokedError
	require.ErrorAs(t, err, &r)
	require.Equal(t, id, r.Batch, "revoked batch")
	if epoch != 0 {
		require.Equal(t, epoch, r.Epoch, "revoking epoch")
	}
}

// appendChain appends a genesis state and one state per id (revoking it)
// and returns the states.
func appendChain(t *testing.T, s roles.ServerStore, revoke ...roles.BatchID) []*roles.SignedState {
	t.Helper()
	st := NewState(t, nil, roles.BatchID{})
	require.NoError(t, s.AppendState(bg, st))
	out := []*roles.SignedState{st}
	for _, id := range revoke {
		st = NewState(t, st, id)
		require.NoError(t, s.AppendState(bg, st))
		out = append(out, st)
	}
	return out
}

func put(t *testing.T, s roles.ServerStore, bs ...*roles.StoredBatch) {
	t.Helper()
	for _, b := range bs {
		require.NoError(t, s.PutBatch(bg, b))
	}
}

// serverSnap is what a failing call must leave unchanged.
type serverSnap struct {
	states []roles.SignedState
	list   []roles.BatchInfo
	fs     []bls.G1Affine
	xs     []fr.Element
}

func snapServer(t *testing.T, s roles.ServerStore) serverSnap {
	t.Helper()
	var sn serverSnap
	latest, err := s.LatestState(bg)
	if err == nil {
		e := latest.State.Epoch
		sn.states, err = s.States(bg, 0, e)
		require.NoError(t, err)
		sn.fs, sn.xs, err = s.History(bg, 0, e)
		require.NoError(t, err)
	} else {
		require.ErrorIs(t, err, roles.ErrUnknownState)
	}
	sn.list, err = s.List(bg, "")
	require.NoError(t, err)
	return sn
}

func requireUnchanged(t *testing.T, s roles.ServerStore, before serverSnap) {
	t.Helper()
	after := snapServer(t, s)
	require.Equal(t, before.states, after.states, "states changed")
	require.Equal(t, before.list, after.list, "batches changed")
	require.Equal(t, len(before.fs), len(after.fs), "history changed")
	for i := range before.fs {
		require.True(t, before.fs[i].Equal(&after.fs[i]), "history changed")
	}
	require.Equal(t, before.xs, after.xs, "history changed")
}

func requireBatch(t *testing.T, s roles.ServerStore, want *roles.StoredBatch, revokedAt uint64) {
	t.Helper()
	got, err := s.Batch(bg, want.ID)
	require.NoError(t, err)
	require.Equal(t, want.ID, got.ID)
	require.Equal(t, want.Header, got.Header)
	require.Equal(t, want.Data, got.Data)
	require.Equal(t, revokedAt, got.RevokedAt, "Batch: RevokedAt")
	h, e, err := s.Header(bg, want.ID)
	require.NoError(t, err)
	require.Equal(t, want.Header, *h)
	require.Equal(t, revokedAt, e, "Header: revoking epoch")
}

func requireUnknownBatch(t *testing.T, s roles.ServerStore, id roles.BatchID) {
	t.Helper()
	_, err := s.Batch(bg, id)
	require.ErrorIs(t, err, roles.ErrUnknownBatch)
	_, _, err = s.Header(bg, id)
	require.ErrorIs(t, err, roles.ErrUnknownBatch)
}

func infoOf(b *roles.StoredBatch, revoked bool) roles.BatchInfo {
	h := &b.Header.Header
	return roles.BatchInfo{ID: b.ID, Stream: h.Stream, Seq: h.Seq, Version: h.Version, Rows: h.Rows,
		FirstTime: h.FirstTime, LastTime: h.LastTime, Revoked: revoked}
}

func serverEmpty(t *testing.T, s roles.ServerStore) {
	_, err := s.LatestState(bg)
	require.ErrorIs(t, err, roles.ErrUnknownState)
	_, err = s.States(bg, 0, 0)
	requireMissing(t, err, 0, 0)
	_, err = s.States(bg, 2, 5)
	requireMissing(t, err, 2, 5)
	_, _, err = s.History(bg, 0, 0)
	requireMissing(t, err, 0, 0)
	requireUnknownBatch(t, s, RandomID(t))
	l, err := s.List(bg, "")
	require.NoError(t, err)
	require.Empty(t, l)
	_, err = s.Witness(bg, RandomID(t))
	require.ErrorIs(t, err, roles.ErrNotFound)
}

func serverPutBatch(t *testing.T, s roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 8, 2)
	requireUnknownBatch(t, s, b.ID)
	put(t, s, b)
	requireBatch(t, s, b, 0)

	// RevokedAt of the argument is ignored: a stored batch is live.
	c := NewBatch(t, "s", 2, 0, 4, 1)
	c.RevokedAt = 7
	put(t, s, c)
	c.RevokedAt = 0
	requireBatch(t, s, c, 0)

	l, err := s.List(bg, "")
	require.NoError(t, err)
	require.Equal(t, []roles.BatchInfo{infoOf(b, false), infoOf(c, false)}, l)
}

func serverPutBatchIdempotent(t *testing.T, s roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 8, 2)
	put(t, s, b, b)
	again := *b
	require.NoError(t, s.PutBatch(bg, &again))
	requireBatch(t, s, b, 0)
	l, err := s.List(bg, "s")
	require.NoError(t, err)
	require.Equal(t, []roles.BatchInfo{infoOf(b, false)}, l)
}

func serverPutBatchConflict(t *testing.T, s roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 8, 2)
	put(t, s, b)
	before := snapServer(t, s)
	for _, c := range []*roles.StoredBatch{
		NewBatch(t, "s", 1, 0, 8, 2), // another batch for the same slot
		NewBatch(t, "s", 1, 1, 8, 2), // a later version without revoking b
	} {
		require.NotEqual(t, b.ID, c.ID)
		err := s.PutBatch(bg, c)
		require.ErrorIs(t, err, roles.ErrConflict)
		requireUnknownBatch(t, s, c.ID)
	}
	requireUnchanged(t, s, before)
	// Other slots are free.
	put(t, s, NewBatch(t, "s", 2, 0, 8, 2), NewBatch(t, "t", 1, 0, 8, 2), NewBatch(t, "s", 0, 3, 8, 2))
	requireBatch(t, s, b, 0)
}

func serverPutBatchSameIDOtherSlot(t *testing.T, s roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 8, 2)
	put(t, s, b)
	before := snapServer(t, s)
	for _, change := range []func(*roles.Header){
		func(h *roles.Header) { h.Seq = 2 },
		func(h *roles.Header) { h.Stream = "other" },
	} {
		// The id is kept, the header names another slot.
		c := *b
		change(&c.Header.Header)
		err := s.PutBatch(bg, &c)
		require.ErrorIs(t, err, roles.ErrConflict)
	}
	requireUnchanged(t, s, before)
	requireBatch(t, s, b, 0)
}

func serverPutBatchRevoked(t *testing.T, s roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 8, 2)
	put(t, s, b)
	appendChain(t, s, b.ID)
	requireBatch(t, s, b, 1)
	before := snapServer(t, s)
	err := s.PutBatch(bg, b)
	requireRevoked(t, err, b.ID, 1)
	requireUnchanged(t, s, before)
	requireBatch(t, s, b, 1)
}

func serverPutBatchRevokedBeforeStored(t *testing.T, s roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 8, 2)
	other := NewBatch(t, "s", 2, 0, 8, 2)
	put(t, s, other)
	appendChain(t, s, RandomID(t), b.ID)
	before := snapServer(t, s)
	err := s.PutBatch(bg, b)
	requireRevoked(t, err, b.ID, 2)
	requireUnknownBatch(t, s, b.ID)
	requireUnchanged(t, s, before)
	// Revoking an id that is not stored leaves the other batches live.
	requireBatch(t, s, other, 0)
}

func serverAppendGenesis(t *testing.T, s roles.ServerStore) {
	g := NewState(t, nil, roles.BatchID{})
	require.NoError(t, s.AppendState(bg, g))
	got, err := s.LatestState(bg)
	require.NoError(t, err)
	require.Equal(t, *g, *got)
	sts, err := s.States(bg, 0, 0)
	require.NoError(t, err)
	require.Equal(t, []roles.SignedState{*g}, sts)
	fs, xs, err := s.History(bg, 0, 0)
	require.NoError(t, err)
	require.Empty(t, fs)
	require.Empty(t, xs)
}

func serverAppendGap(t *testing.T, s roles.ServerStore) {
	g := NewState(t, nil, roles.BatchID{})
	s1 := NewState(t, g, RandomID(t))
	s2 := NewState(t, s1, RandomID(t))
	s3 := NewState(t, s2, RandomID(t))
	s4 := NewState(t, s3, RandomID(t))

	// Into an empty chain only epoch 0 fits.
	err := s.AppendState(bg, s1)
	requireMissing(t, err, 0, 0)
	err = s.AppendState(bg, s3)
	requireMissing(t, err, 0, 2)
	_, err = s.LatestState(bg)
	require.ErrorIs(t, err, roles.ErrUnknownState)

	require.NoError(t, s.AppendState(bg, g))
	require.NoError(t, s.AppendState(bg, s1))
	before := snapServer(t, s)
	err = s.AppendState(bg, s3)
	requireMissing(t, err, 2, 2)
	err = s.AppendState(bg, s4)
	requireMissing(t, err, 2, 3)
	requireUnchanged(t, s, before)
	for _, st := range []*roles.SignedState{s2, s3, s4} {
		require.NoError(t, s.AppendState(bg, st))
	}
	latest, err := s.LatestState(bg)
	require.NoError(t, err)
	require.Equal(t, *s4, *latest)
}

func serverAppendWrongLink(t *testing.T, s roles.ServerStore) {
	sts := appendChain(t, s, RandomID(t))
	before := snapServer(t, s)
	// Links to epoch 0 instead of epoch 1.
	bad := NewState(t, sts[0], RandomID(t))
	bad.State.Epoch = 2
	err := s.AppendState(bg, bad)
	require.ErrorIs(t, err, roles.ErrConflict)
	// Links to nothing.
	bad = NewState(t, sts[1], RandomID(t))
	bad.State.Prev = roles.Hash{}
	err = s.AppendState(bg, bad)
	require.ErrorIs(t, err, roles.ErrConflict)
	requireUnchanged(t, s, before)
}

func serverAppendSameAgain(t *testing.T, s roles.ServerStore) {
	sts := appendChain(t, s, RandomID(t), RandomID(t))
	before := snapServer(t, s)
	for _, st := range sts {
		require.NoError(t, s.AppendState(bg, st))
		c := *st
		require.NoError(t, s.AppendState(bg, &c))
		// The same state issued earlier is a no-op too.
		require.NoError(t, s.AppendState(bg, Resign(t, st, st.IssuedAt-1)))
	}
	requireUnchanged(t, s, before)
}

func serverAppendResigned(t *testing.T, s roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 8, 2)
	put(t, s, b)
	sts := appendChain(t, s, b.ID, RandomID(t))
	before := snapServer(t, s)

	// The latest state, re-signed later, replaces the held one.
	r2 := Resign(t, sts[2], sts[2].IssuedAt+5000)
	require.NoError(t, s.AppendState(bg, r2))
	latest, err := s.LatestState(bg)
	require.NoError(t, err)
	require.Equal(t, *r2, *latest)
	got, err := s.States(bg, 2, 2)
	require.NoError(t, err)
	require.Equal(t, []roles.SignedState{*r2}, got)

	// An older epoch re-signed later replaces it too (NextStep).
	r1 := Resign(t, sts[1], sts[1].IssuedAt+5000)
	require.NoError(t, s.AppendState(bg, r1))
	got, err = s.States(bg, 0, 2)
	require.NoError(t, err)
	require.Equal(t, []roles.SignedState{*sts[0], *r1, *r2}, got)

	// Nothing else changes: the history, the batches, the revocation mark.
	after := snapServer(t, s)
	require.Equal(t, before.list, after.list)
	require.Equal(t, before.xs, after.xs)
	require.Equal(t, before.fs, after.fs)
	requireBatch(t, s, b, 1)

	// The previous signature is now the earlier one: a no-op.
	require.NoError(t, s.AppendState(bg, sts[2]))
	latest, err = s.LatestState(bg)
	require.NoError(t, err)
	require.Equal(t, *r2, *latest)
	// And the next state still links (the digest did not change).
	require.NoError(t, s.AppendState(bg, NewState(t, sts[2], RandomID(t))))
}

func serverAppendDifferent(t *testing.T, s roles.ServerStore) {
	sts := appendChain(t, s, RandomID(t), RandomID(t))
	before := snapServer(t, s)
	other0 := NewState(t, nil, roles.BatchID{})
	err := s.AppendState(bg, other0)
	require.ErrorIs(t, err, roles.ErrConflict)
	for e := 1; e < len(sts); e++ {
		other := NewState(t, sts[e-1], RandomID(t)) // same epoch and link, other content
		err := s.AppendState(bg, other)
		require.ErrorIs(t, err, roles.ErrConflict, "epoch %d", e)
		// Same content but another revoked batch.
		c := *sts[e]
		rev := *c.State.Revoked
		rev.Batch = RandomID(t)
		c.State.Revoked = &rev
		c.IssuedAt += 10_000
		err = s.AppendState(bg, &c)
		require.ErrorIs(t, err, roles.ErrConflict, "epoch %d", e)
	}
	requireUnchanged(t, s, before)
}

func serverAppendInvalid(t *testing.T, s roles.ServerStore) {
	g := NewState(t, nil, roles.BatchID{})
	s1 := NewState(t, g, RandomID(t))

	bad := *g // epoch 0 that revokes something
	bad.State.Revoked = &roles.Revocation{X: s1.State.Revoked.X, Batch: RandomID(t)}
	require.ErrorIs(t, s.AppendState(bg, &bad), roles.ErrInvalidInput)
	bad = *g // epoch 0 that links to a previous state
	bad.State.Prev = roles.Hash{1}
	require.ErrorIs(t, s.AppendState(bg, &bad), roles.ErrInvalidInput)
	_, err := s.LatestState(bg)
	require.ErrorIs(t, err, roles.ErrUnknownState)

	require.NoError(t, s.AppendState(bg, g))
	before := snapServer(t, s)
	bad = *s1 // epoch 1 that revokes nothing
	bad.State.Revoked = nil
	require.ErrorIs(t, s.AppendState(bg, &bad), roles.ErrInvalidInput)
	bad = *g // a held epoch 0 re-sent with a revocation
	bad.State.Revoked = s1.State.Revoked
	require.ErrorIs(t, s.AppendState(bg, &bad), roles.ErrInvalidInput)
	requireUnchanged(t, s, before)
	require.NoError(t, s.AppendState(bg, s1))
}

func serverRevocation(t *testing.T, s roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 8, 2)
	keep := NewBatch(t, "s", 2, 0, 8, 2)
	put(t, s, b, keep)
	g := NewState(t, nil, roles.BatchID{})
	require.NoError(t, s.AppendState(bg, g))
	requireBatch(t, s, b, 0)

	s1 := NewState(t, g, RandomID(t)) // revokes an unknown id
	s2 := NewState(t, s1, b.ID)
	require.NoError(t, s.AppendState(bg, s1))
	require.NoError(t, s.AppendState(bg, s2))
	requireBatch(t, s, b, 2)
	requireBatch(t, s, keep, 0)
	l, err := s.List(bg, "")
	require.NoError(t, err)
	require.Equal(t, []roles.BatchInfo{infoOf(b, true), infoOf(keep, false)}, l)

	// The slot is free: a new version with the same stream and sequence
	// number can be stored, and then holds the slot.
	b1 := NewBatch(t, "s", 1, 1, 8, 2)
	put(t, s, b1)
	requireBatch(t, s, b1, 0)
	b1x := NewBatch(t, "s", 1, 2, 8, 2)
	require.ErrorIs(t, s.PutBatch(bg, b1x), roles.ErrConflict)
	l, err = s.List(bg, "s")
	require.NoError(t, err)
	require.Equal(t, []roles.BatchInfo{infoOf(b, true), infoOf(b1, false), infoOf(keep, false)}, l)

	// Revoking the new version frees the slot again; the first revocation
	// keeps its epoch.
	s3 := NewState(t, s2, b1.ID)
	require.NoError(t, s.AppendState(bg, s3))
	requireBatch(t, s, b1, 3)
	requireBatch(t, s, b, 2)
	put(t, s, b1x)
	requireBatch(t, s, b1x, 0)
	requireRevoked(t, s.PutBatch(bg, b1), b1.ID, 3)
}

func serverUpdateBatch(t *testing.T, s roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 8, 2)
	put(t, s, b)
	g := NewState(t, nil, roles.BatchID{})
	require.NoError(t, s.AppendState(bg, g))

	s1 := NewState(t, g, b.ID)
	nb := NewBatch(t, "s", 1, 1, 8, 2)
	require.NoError(t, s.UpdateBatch(bg, s1, nb))
	latest, err := s.LatestState(bg)
	require.NoError(t, err)
	require.Equal(t, *s1, *latest)
	requireBatch(t, s, b, 1)
	requireBatch(t, s, nb, 0)
	fs, xs, err := s.History(bg, 0, 1)
	require.NoError(t, err)
	require.Equal(t, []bls.G1Affine{bls.G1Affine(g.State.Acc)}, fs)
	require.Equal(t, []fr.Element{fr.Element(s1.State.Revoked.X)}, xs)
	l, err := s.List(bg, "")
	require.NoError(t, err)
	require.Equal(t, []roles.BatchInfo{infoOf(b, true), infoOf(nb, false)}, l)

	// An update may also store a batch in another slot.
	s2 := NewState(t, s1, RandomID(t))
	other := NewBatch(t, "t", 9, 0, 8, 2)
	require.NoError(t, s.UpdateBatch(bg, s2, other))
	requireBatch(t, s, other, 0)
	requireBatch(t, s, nb, 0)
}

func serverUpdateBatchBatchFails(t *testing.T, s roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 8, 2)
	c := NewBatch(t, "s", 2, 0, 8, 2)
	old := NewBatch(t, "s", 3, 0, 8, 2)
	put(t, s, b, c, old)
	sts := appendChain(t, s, old.ID)
	s2 := NewState(t, sts[1], b.ID)
	before := snapServer(t, s)

	// The new batch conflicts with another live batch (c holds s/2).
	err := s.UpdateBatch(bg, s2, NewBatch(t, "s", 2, 1, 8, 2))
	require.ErrorIs(t, err, roles.ErrConflict)
	// The new batch is the one the state revokes.
	err = s.UpdateBatch(bg, s2, b)
	requireRevoked(t, err, b.ID, 0)
	// The new batch was revoked before.
	err = s.UpdateBatch(bg, s2, old)
	requireRevoked(t, err, old.ID, 1)
	// The new batch has a stored id with another slot.
	bad := *c
	bad.Header.Header.Seq = 1
	err = s.UpdateBatch(bg, s2, &bad)
	require.ErrorIs(t, err, roles.ErrConflict)

	// Nothing was applied: the state is not appended, b is still live.
	requireUnchanged(t, s, before)
	requireBatch(t, s, b, 0)
	requireBatch(t, s, old, 1)
	requireBatch(t, s, c, 0)
	_, err = s.States(bg, 2, 2)
	requireMissing(t, err, 2, 2)
}

func serverUpdateBatchStateFails(t *testing.T, s roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 8, 2)
	put(t, s, b)
	sts := appendChain(t, s, RandomID(t))
	before := snapServer(t, s)
	nb := NewBatch(t, "s", 1, 1, 8, 2)

	s2 := NewState(t, sts[1], b.ID)
	s3 := NewState(t, s2, b.ID)
	requireMissing(t, s.UpdateBatch(bg, s3, nb), 2, 2)
	wrong := NewState(t, sts[0], b.ID) // links to epoch 0
	wrong.State.Epoch = 2
	require.ErrorIs(t, s.UpdateBatch(bg, wrong, nb), roles.ErrConflict)
	different := NewState(t, sts[0], b.ID) // another state for epoch 1
	require.ErrorIs(t, s.UpdateBatch(bg, different, nb), roles.ErrConflict)
	invalid := *s2
	invalid.State.Revoked = nil
	require.ErrorIs(t, s.UpdateBatch(bg, &invalid, nb), roles.ErrInvalidInput)

	// Nothing was applied: the new batch is not stored, b is still live.
	requireUnchanged(t, s, before)
	requireUnknownBatch(t, s, nb.ID)
	requireBatch(t, s, b, 0)
}

func serverUpdateBatchRetry(t *testing.T, s roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 8, 2)
	d := NewBatch(t, "s", 2, 0, 8, 2)
	put(t, s, b, d)
	sts := appendChain(t, s)
	s1 := NewState(t, sts[0], b.ID)
	nb := NewBatch(t, "s", 1, 1, 8, 2)
	require.NoError(t, s.UpdateBatch(bg, s1, nb))
	before := snapServer(t, s)
	// The same update again (a retry after a lost acknowledgement).
	require.NoError(t, s.UpdateBatch(bg, s1, nb))
	requireUnchanged(t, s, before)

	// The state arrived first (AppendState), then the update.
	s2 := NewState(t, s1, d.ID)
	nd := NewBatch(t, "s", 2, 1, 8, 2)
	require.NoError(t, s.AppendState(bg, s2))
	require.NoError(t, s.UpdateBatch(bg, s2, nd))
	requireBatch(t, s, d, 2)
	requireBatch(t, s, nd, 0)

	// A re-signed state with the update replaces the state.
	r2 := Resign(t, s2, s2.IssuedAt+1)
	require.NoError(t, s.UpdateBatch(bg, r2, nd))
	latest, err := s.LatestState(bg)
	require.NoError(t, err)
	require.Equal(t, *r2, *latest)
}

func serverStatesAndHistory(t *testing.T, s roles.ServerStore) {
	const n = 6
	sts := appendChain(t, s, RandomID(t), RandomID(t), RandomID(t), RandomID(t), RandomID(t))
	require.Len(t, sts, n)
	want := make([]roles.SignedState, n)
	for i, st := range sts {
		want[i] = *st
	}
	for from := range uint64(n) {
		for to := from; to < n; to++ {
			got, err := s.States(bg, from, to)
			require.NoError(t, err)
			require.Equal(t, want[from:to+1], got, "States(%d, %d)", from, to)

			fs, xs, err := s.History(bg, from, to)
			require.NoError(t, err)
			require.Len(t, fs, int(to-from), "History(%d, %d)", from, to)
			require.Len(t, xs, int(to-from), "History(%d, %d)", from, to)
			for i := range fs {
				e := from + uint64(i)
				require.Equal(t, bls.G1Affine(sts[e].State.Acc), fs[i], "History(%d, %d): f_%d", from, to, e)
				require.Equal(t, fr.Element(sts[e+1].State.Revoked.X), xs[i], "History(%d, %d): x_%d", from, to, e+1)
			}
		}
	}
	_, err := s.States(bg, 4, 7)
	requireMissing(t, err, 6, 7)
	_, err = s.States(bg, 6, 6)
	requireMissing(t, err, 6, 6)
	_, err = s.States(bg, 9, 12)
	requireMissing(t, err, 9, 12)
	_, _, err = s.History(bg, 3, 6)
	requireMissing(t, err, 6, 6)
	_, _, err = s.History(bg, 8, 9)
	requireMissing(t, err, 8, 9)
	_, err = s.States(bg, 3, 2)
	require.ErrorIs(t, err, roles.ErrInvalidInput)
	_, _, err = s.History(bg, 3, 2)
	require.ErrorIs(t, err, roles.ErrInvalidInput)
}

func serverWitness(t *testing.T, s roles.ServerStore) {
	id, other := RandomID(t), RandomID(t)
	_, err := s.Witness(bg, id)
	require.ErrorIs(t, err, roles.ErrNotFound)

	w0 := accumulator.InitialWitness() // W is the identity
	require.NoError(t, s.PutWitness(bg, id, w0))
	got, err := s.Witness(bg, id)
	require.NoError(t, err)
	require.Equal(t, w0, got)
	require.True(t, got.W.IsInfinity())

	w3 := accumulator.Witness{W: RandomG1(t), U: RandomScalar(t), Epoch: 3}
	require.NoError(t, s.PutWitness(bg, id, w3))
	got, err = s.Witness(bg, id)
	require.NoError(t, err)
	require.Equal(t, w3, got)

	// Never back to an older epoch, and the first witness of an epoch stays.
	require.NoError(t, s.PutWitness(bg, id, accumulator.Witness{W: RandomG1(t), U: RandomScalar(t), Epoch: 2}))
	require.NoError(t, s.PutWitness(bg, id, w0))
	require.NoError(t, s.PutWitness(bg, id, accumulator.Witness{W: RandomG1(t), U: RandomScalar(t), Epoch: 3}))
	got, err = s.Witness(bg, id)
	require.NoError(t, err)
	require.Equal(t, w3, got)

	w9 := accumulator.Witness{W: RandomG1(t), U: RandomScalar(t), Epoch: 9}
	require.NoError(t, s.PutWitness(bg, id, w9))
	got, err = s.Witness(bg, id)
	require.NoError(t, err)
	require.Equal(t, w9, got)

	// Witnesses are per batch.
	_, err = s.Witness(bg, other)
	require.ErrorIs(t, err, roles.ErrNotFound)
	wo := accumulator.Witness{W: RandomG1(t), U: RandomScalar(t), Epoch: 1}
	require.NoError(t, s.PutWitness(bg, other, wo))
	got, err = s.Witness(bg, other)
	require.NoError(t, err)
	require.Equal(t, wo, got)
	got, err = s.Witness(bg, id)
	require.NoError(t, err)
	require.Equal(t, w9, got)
}

func serverList(t *testing.T, s roles.ServerStore) {
	// Stream names that are prefixes of each other, with a NUL byte, and
	// sequence numbers and versions whose byte orders differ from their
	// numeric order when not encoded big-endian.
	a0 := NewBatch(t, "a", 0, 0, 4, 1)
	a1 := NewBatch(t, "a", 1, 0, 4, 1)
	a256 := NewBatch(t, "a", 256, 0, 4, 1)
	aNul := NewBatch(t, "a\x00b", 0, 0, 4, 1)
	aNul1 := NewBatch(t, "a\x00\x01", 0, 0, 4, 1)
	ab := NewBatch(t, "ab", 7, 0, 4, 1)
	b2v0 := NewBatch(t, "b", 2, 0, 4, 1)
	b2v1 := NewBatch(t, "b", 2, 1, 4, 1)
	b2v256 := NewBatch(t, "b", 2, 256, 4, 1)
	empty := NewBatch(t, "", 5, 0, 4, 1)
	put(t, s, ab, a256, b2v0, aNul, a1, empty, a0, aNul1)
	sts := appendChain(t, s, b2v0.ID)
	put(t, s, b2v1)
	require.NoError(t, s.UpdateBatch(bg, NewState(t, sts[1], b2v1.ID), b2v256))

	all := []roles.BatchInfo{
		infoOf(empty, false),
		infoOf(a0, false), infoOf(a1, false), infoOf(a256, false),
		infoOf(aNul1, false),
		infoOf(aNul, false),
		infoOf(ab, false),
		infoOf(b2v0, true), infoOf(b2v1, true), infoOf(b2v256, false),
	}
	got, err := s.List(bg, "")
	require.NoError(t, err)
	require.Equal(t, all, got)
	sorted := append([]roles.BatchInfo(nil), got...)
	roles.SortBatchInfos(sorted)
	require.Equal(t, sorted, got, "List order is SortBatchInfos order")

	for stream, want := range map[string][]roles.BatchInfo{
		"a":         all[1:4],
		"a\x00":     nil,
		"a\x00\x01": all[4:5],
		"a\x00b":    all[5:6],
		"ab":        all[6:7],
		"b":         all[7:10],
		"c":         nil,
		"\x00":      nil,
	} {
		got, err := s.List(bg, stream)
		require.NoError(t, err)
		if len(want) == 0 {
			require.Empty(t, got, "List(%q)", stream)
			continue
		}
		require.Equal(t, want, got, "List(%q)", stream)
	}
}

func serverLargeBatch(t *testing.T, s roles.ServerStore) {
	b := NewBatch(t, "big", 1, 0, 4096, 3)
	put(t, s, b)
	requireBatch(t, s, b, 0)
}

func serverContextCancelled(t *testing.T, s roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 8, 2)
	g := NewState(t, nil, roles.BatchID{})
	ctx, cancel := context.WithCancel(bg)
	cancel()
	id := b.ID
	w := accumulator.Witness{W: RandomG1(t), U: RandomScalar(t), Epoch: 1}
	calls := map[string]func() error{
		"PutBatch":    func() error { return s.PutBatch(ctx, b) },
		"AppendState": func() error { return s.AppendState(ctx, g) },
		"UpdateBatch": func() error { return s.UpdateBatch(ctx, g, b) },
		"Batch":       func() error { _, err := s.Batch(ctx, id); return err },
		"Header":      func() error { _, _, err := s.Header(ctx, id); return err },
		"List":        func() error { _, err := s.List(ctx, ""); return err },
		"LatestState": func() error { _, err := s.LatestState(ctx); return err },
		"States":      func() error { _, err := s.States(ctx, 0, 0); return err },
		"History":     func() error { _, _, err := s.History(ctx, 0, 0); return err },
		"Witness":     func() error { _, err := s.Witness(ctx, id); return err },
		"PutWitness":  func() error { return s.PutWitness(ctx, id, w) },
	}
	for name, call := range calls {
		require.ErrorIs(t, call(), context.Canceled, name)
	}
	// Nothing was stored.
	serverEmpty(t, s)
	// The deadline variant.
	dctx, dcancel := context.WithDeadline(bg, time.Unix(0, 0))
	defer dcancel()
	require.ErrorIs(t, s.PutBatch(dctx, b), context.DeadlineExceeded)
	requireUnknownBatch(t, s, b.ID)
}

func serverClose(t *testing.T, s roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 8, 2)
	put(t, s, b)
	g := NewState(t, nil, roles.BatchID{})
	require.NoError(t, s.AppendState(bg, g))
	pinger, canPing := s.(roles.Pinger)
	if canPing {
		require.NoError(t, pinger.Ping(bg), "Ping of an open store")
	}
	require.NoError(t, s.Close())
	if canPing {
		require.ErrorIs(t, pinger.Ping(bg), roles.ErrClosed, "Ping after Close")
	}
	w := accumulator.Witness{W: RandomG1(t), U: RandomScalar(t), Epoch: 1}
	calls := map[string]func() error{
		"PutBatch":    func() error { return s.PutBatch(bg, b) },
		"AppendState": func() error { return s.AppendState(bg, g) },
		"UpdateBatch": func() error { return s.UpdateBatch(bg, g, b) },
		"Batch":       func() error { _, err := s.Batch(bg, b.ID); return err },
		"Header":      func() error { _, _, err := s.Header(bg, b.ID); return err },
		"List":        func() error { _, err := s.List(bg, ""); return err },
		"LatestState": func() error { _, err := s.LatestState(bg); return err },
		"States":      func() error { _, err := s.States(bg, 0, 0); return err },
		"History":     func() error { _, _, err := s.History(bg, 0, 0); return err },
		"Witness":     func() error { _, err := s.Witness(bg, b.ID); return err },
		"PutWitness":  func() error { return s.PutWitness(bg, b.ID, w) },
	}
	for name, call := range calls {
		require.ErrorIs(t, call(), roles.ErrClosed, name)
	}
	require.NoError(t, s.Close(), "a second Close")
}

func serverConcurrent(t *testing.T, s roles.ServerStore) {
	const workers, rounds = 8, 12
	var batches []*roles.StoredBatch
	for i := range workers {
		b := NewBatch(t, fmt.Sprintf("w%d", i), 0, 0, 4, 1)
		batches = append(batches, b)
		put(t, s, b)
	}
	sts := appendChain(t, s, RandomID(t), RandomID(t), RandomID(t))
	last := sts[len(sts)-1].State.Epoch
	shared := RandomID(t)
	ws := make([]accumulator.Witness, rounds)
	for i := range ws {
		ws[i] = accumulator.Witness{W: RandomG1(t), U: RandomScalar(t), Epoch: uint64(i)}
	}

	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- func() error {
				id := batches[g].ID
				for i := range rounds {
					if err := s.PutWitness(bg, id, ws[i]); err != nil {
						return fmt.Errorf("PutWitness: %w", err)
					}
					if err := s.PutWitness(bg, shared, ws[(i*7+g)%rounds]); err != nil {
						return fmt.Errorf("PutWitness(shared): %w", err)
					}
					w, err := s.Witness(bg, id)
					if err != nil {
						return fmt.Errorf("Witness: %w", err)
					}
					if w.Epoch != uint64(i) {
						return fmt.Errorf("Witness: epoch %d, want %d", w.Epoch, i)
					}
					l, err := s.List(bg, "")
					if err != nil || len(l) != workers {
						return fmt.Errorf("List: %d batches, %v", len(l), err)
					}
					if err := s.AppendState(bg, sts[(g+i)%len(sts)]); err != nil {
						return fmt.Errorf("AppendState: %w", err)
					}
					st, err := s.LatestState(bg)
					if err != nil || st.State.Epoch != last {
						return fmt.Errorf("LatestState: %v", err)
					}
					fs, xs, err := s.History(bg, 0, last)
					if err != nil || len(fs) != int(last) || len(xs) != int(last) {
						return fmt.Errorf("History: %v", err)
					}
					if _, _, err := s.Header(bg, id); err != nil {
						return fmt.Errorf("Header: %w", err)
					}
				}
				return nil
			}()
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		assert.NoError(t, err)
	}
	w, err := s.Witness(bg, shared)
	require.NoError(t, err)
	require.Equal(t, ws[rounds-1], w, "the shared witness is the latest one put")
	for _, b := range batches {
		w, err := s.Witness(bg, b.ID)
		require.NoError(t, err)
		require.Equal(t, ws[rounds-1], w)
	}
}
