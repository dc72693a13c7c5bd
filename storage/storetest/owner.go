package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
)

// TestOwnerStore runs the conformance suite of roles.OwnerStore. open is
// called once per subtest and must return an empty store; the suite closes
// it.
func TestOwnerStore(t *testing.T, open func(t *testing.T) roles.OwnerStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s roles.OwnerStore)
	}{
		{"Empty", ownerEmpty},
		{"Secrets", ownerSecrets},
		{"ReserveSeq", ownerReserveSeq},
		{"CommitStates", ownerCommitStates},
		{"CommitStateErrors", ownerCommitStateErrors},
		{"CommitAtomic", ownerCommitAtomic},
		{"RotateKey", ownerRotateKey},
		{"Records", ownerRecords},
		{"Pending", ownerPending},
		{"StatesRanges", ownerStatesRanges},
		{"ContextCancelled", ownerContextCancelled},
		{"Close", ownerClose},
		{"Concurrent", ownerConcurrent},
	}
	for _, tc := range tests {
		runCase(t, tc.name, open, tc.fn)
	}
}

// ownerSnap is what a failing Commit must leave unchanged.
type ownerSnap struct {
	states  []roles.SignedState
	pending []roles.PendingOp
}

func snapOwner(t *testing.T, s roles.OwnerStore) ownerSnap {
	t.Helper()
	var sn ownerSnap
	latest, err := s.LatestState(bg)
	if err == nil {
		sn.states, err = s.States(bg, 0, latest.State.Epoch)
		require.NoError(t, err)
	} else {
		require.ErrorIs(t, err, roles.ErrUnknownState)
	}
	sn.pending, err = s.Pending(bg)
	require.NoError(t, err)
	return sn
}

func newRecord(t *testing.T, stream string, seq uint64) roles.BatchRecord {
	return roles.BatchRecord{ID: RandomID(t), Stream: stream, Seq: seq}
}

func newPending(t *testing.T, kind roles.PendingKind) roles.PendingOp {
	return roles.PendingOp{ID: RandomID(t), Kind: kind, Request: randomBytes(t, 100)}
}

func commitChain(t *testing.T, s roles.OwnerStore, n int) []*roles.SignedState {
	t.Helper()
	var out []*roles.SignedState
	var prev *roles.SignedState
	for range n {
		st := NewState(t, prev, RandomID(t))
		require.NoError(t, s.Commit(bg, &roles.OwnerTx{State: st}))
		out = append(out, st)
		prev = st
	}
	return out
}

func ownerEmpty(t *testing.T, s roles.OwnerStore) {
	_, err := s.Secrets(bg)
	require.ErrorIs(t, err, roles.ErrNotFound)
	_, err = s.LatestState(bg)
	require.ErrorIs(t, err, roles.ErrUnknownState)
	_, err = s.States(bg, 0, 0)
	requireMissing(t, err, 0, 0)
	_, err = s.Record(bg, RandomID(t))
	require.ErrorIs(t, err, roles.ErrUnknownBatch)
	p, err := s.Pending(bg)
	require.NoError(t, err)
	require.Empty(t, p)
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{}), "an empty commit")
	p, err = s.Pending(bg)
	require.NoError(t, err)
	require.Empty(t, p)
}

func ownerSecrets(t *testing.T, s roles.OwnerStore) {
	_, err := s.Secrets(bg)
	require.ErrorIs(t, err, roles.ErrNotFound)
	in := &roles.OwnerSecrets{SigningSeed: randomBytes(t, 32), Accumulator: randomBytes(t, 32)}
	want := &roles.OwnerSecrets{SigningSeed: slices.Clone(in.SigningSeed), Accumulator: slices.Clone(in.Accumulator)}
	require.NoError(t, s.InitSecrets(bg, in))
	in.SigningSeed[0] ^= 1 // the store keeps its own copy
	got, err := s.Secrets(bg)
	require.NoError(t, err)
	require.Equal(t, want, got)
	got.Accumulator[0] ^= 1 // and hands out copies
	got, err = s.Secrets(bg)
	require.NoError(t, err)
	require.Equal(t, want, got)

	other := &roles.OwnerSecrets{SigningSeed: randomBytes(t, 32), Accumulator: randomBytes(t, 32)}
	require.ErrorIs(t, s.InitSecrets(bg, other), roles.ErrConflict)
	require.ErrorIs(t, s.InitSecrets(bg, want), roles.ErrConflict, "even the same secrets")
	got, err = s.Secrets(bg)
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.NotContains(t, fmt.Sprint(got), fmt.Sprint(got.SigningSeed), "secrets are redacted")
	require.NotContains(t, fmt.Sprintf("%#v", got), "sig", "secrets are redacted")
}

func ownerReserveSeq(t *testing.T, s roles.OwnerStore) {
	for i := range uint64(3) {
		n, err := s.ReserveSeq(bg, "a")
		require.NoError(t, err)
		require.Equal(t, i, n)
	}
	n, err := s.ReserveSeq(bg, "b")
	require.NoError(t, err)
	require.Equal(t, uint64(0), n)
	n, err = s.ReserveSeq(bg, "ab")
	require.NoError(t, err)
	require.Equal(t, uint64(0), n)
	n, err = s.ReserveSeq(bg, "a")
	require.NoError(t, err)
	require.Equal(t, uint64(3), n)
	n, err = s.ReserveSeq(bg, "")
	require.NoError(t, err)
	require.Equal(t, uint64(0), n)
	n, err = s.ReserveSeq(bg, "b")
	require.NoError(t, err)
	require.Equal(t, uint64(1), n)
	// Names that an encoding of the empty name could collide with.
	for _, stream := range []string{"\x00", "\x01", "\x00\x00"} {
		n, err = s.ReserveSeq(bg, stream)
		require.NoError(t, err)
		require.Equal(t, uint64(0), n, "%q", stream)
	}
	n, err = s.ReserveSeq(bg, "")
	require.NoError(t, err)
	require.Equal(t, uint64(1), n)
}

func ownerCommitStates(t *testing.T, s roles.OwnerStore) {
	g := NewState(t, nil, roles.BatchID{})
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{State: g}))
	latest, err := s.LatestState(bg)
	require.NoError(t, err)
	require.Equal(t, *g, *latest)

	s1 := NewState(t, g, RandomID(t))
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{State: s1}))
	// The same state again is a no-op, also issued earlier.
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{State: s1}))
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{State: Resign(t, s1, s1.IssuedAt-1)}))
	latest, err = s.LatestState(bg)
	require.NoError(t, err)
	require.Equal(t, *s1, *latest)

	// Re-signed later, it replaces the held one.
	r1 := Resign(t, s1, s1.IssuedAt+1)
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{State: r1}))
	latest, err = s.LatestState(bg)
	require.NoError(t, err)
	require.Equal(t, *r1, *latest)
	got, err := s.States(bg, 0, 1)
	require.NoError(t, err)
	require.Equal(t, []roles.SignedState{*g, *r1}, got)

	// The chain goes on from the replaced state.
	s2 := NewState(t, s1, RandomID(t))
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{State: s2}))
	got, err = s.States(bg, 0, 2)
	require.NoError(t, err)
	require.Equal(t, []roles.SignedState{*g, *r1, *s2}, got)
}

func ownerCommitStateErrors(t *testing.T, s roles.OwnerStore) {
	g := NewState(t, nil, roles.BatchID{})
	s1 := NewState(t, g, RandomID(t))
	s2 := NewState(t, s1, RandomID(t))
	s3 := NewState(t, s2, RandomID(t))

	requireMissing(t, s.Commit(bg, &roles.OwnerTx{State: s1}), 0, 0)
	bad := *g
	bad.State.Revoked = s1.State.Revoked
	require.ErrorIs(t, s.Commit(bg, &roles.OwnerTx{State: &bad}), roles.ErrInvalidInput)
	_, err := s.LatestState(bg)
	require.ErrorIs(t, err, roles.ErrUnknownState)

	require.NoError(t, s.Commit(bg, &roles.OwnerTx{State: g}))
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{State: s1}))
	before := snapOwner(t, s)
	requireMissing(t, s.Commit(bg, &roles.OwnerTx{State: s3}), 2, 2)
	wrong := NewState(t, g, RandomID(t))
	wrong.State.Epoch = 2
	require.ErrorIs(t, s.Commit(bg, &roles.OwnerTx{State: wrong}), roles.ErrConflict)
	require.ErrorIs(t, s.Commit(bg, &roles.OwnerTx{State: NewState(t, g, RandomID(t))}), roles.ErrConflict)
	require.ErrorIs(t, s.Commit(bg, &roles.OwnerTx{State: NewState(t, nil, roles.BatchID{})}), roles.ErrConflict)
	bad = *s2
	bad.State.Revoked = nil
	require.ErrorIs(t, s.Commit(bg, &roles.OwnerTx{State: &bad}), roles.ErrInvalidInput)
	require.Equal(t, before, snapOwner(t, s))
}

func ownerCommitAtomic(t *testing.T, s roles.OwnerStore) {
	sts := commitChain(t, s, 2)
	keep := newPending(t, roles.PendingStore)
	oldRec := newRecord(t, "s", 1)
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{Records: []roles.BatchRecord{oldRec}, PutPending: []roles.PendingOp{keep}}))
	before := snapOwner(t, s)

	changedRec := oldRec
	changedRec.RevokedAt = 2
	newRec := newRecord(t, "s", 1)
	p := newPending(t, roles.PendingUpdate)
	gap := NewState(t, NewState(t, sts[1], RandomID(t)), RandomID(t))
	other := NewState(t, sts[0], RandomID(t))
	for name, st := range map[string]*roles.SignedState{"gap": gap, "conflict": other} {
		err := s.Commit(bg, &roles.OwnerTx{
			State:         st,
			Records:       []roles.BatchRecord{changedRec, newRec},
			PutPending:    []roles.PendingOp{p},
			DeletePending: []roles.BatchID{keep.ID},
		})
		require.Error(t, err, name)
		require.Equal(t, before, snapOwner(t, s), name)
		_, err = s.Record(bg, newRec.ID)
		require.ErrorIs(t, err, roles.ErrUnknownBatch, name)
		r, err := s.Record(bg, oldRec.ID)
		require.NoError(t, err)
		require.Equal(t, oldRec, *r, name)
	}

	// The same transaction with the right state applies everything.
	s2 := NewState(t, sts[1], oldRec.ID)
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{
		State:         s2,
		Records:       []roles.BatchRecord{changedRec, newRec},
		PutPending:    []roles.PendingOp{p},
		DeletePending: []roles.BatchID{keep.ID},
	}))
	latest, err := s.LatestState(bg)
	require.NoError(t, err)
	require.Equal(t, *s2, *latest)
	r, err := s.Record(bg, oldRec.ID)
	require.NoError(t, err)
	require.Equal(t, changedRec, *r)
	r, err = s.Record(bg, newRec.ID)
	require.NoError(t, err)
	require.Equal(t, newRec, *r)
	pend, err := s.Pending(bg)
	require.NoError(t, err)
	require.Equal(t, []roles.PendingOp{p}, pend)
}

// ownerRotateKey: RotateKey replaces the seed and commits the handover
// state together, or changes neither.
func ownerRotateKey(t *testing.T, s roles.OwnerStore) {
	seed := randomBytes(t, 32)
	sts := commitChain(t, s, 2)
	handover := Resign(t, sts[1], sts[1].IssuedAt+1)
	handover.KeyID = "8899aabbccddeeff"
	require.ErrorIs(t, s.RotateKey(bg, seed, handover), roles.ErrNotFound, "no key material to rotate")
	before := snapOwner(t, s)
	require.Equal(t, before.states[1], *sts[1], "nothing committed without a key")

	sec := &roles.OwnerSecrets{SigningSeed: randomBytes(t, 32), Accumulator: randomBytes(t, 32)}
	require.NoError(t, s.InitSecrets(bg, sec))
	want := &roles.OwnerSecrets{SigningSeed: slices.Clone(sec.SigningSeed), Accumulator: slices.Clone(sec.Accumulator)}
	unchanged := func(name string) {
		t.Helper()
		got, err := s.Secrets(bg)
		require.NoError(t, err)
		require.Equal(t, want, got, name)
		require.Equal(t, before, snapOwner(t, s), name)
	}
	gap := NewState(t, NewState(t, sts[1], RandomID(t)), RandomID(t))
	other := NewState(t, sts[0], RandomID(t))
	for name, st := range map[string]*roles.SignedState{"gap": gap, "conflict": other} {
		err := s.RotateKey(bg, seed, st)
		require.Error(t, err, name)
		require.NotContains(t, err.Error(), fmt.Sprintf("%x", seed), "the error reveals the seed")
		unchanged(name)
	}
	require.ErrorIs(t, s.RotateKey(bg, nil, handover), roles.ErrInvalidInput)
	require.ErrorIs(t, s.RotateKey(bg, seed, nil), roles.ErrInvalidInput)
	unchanged("invalid input")

	wantSeed := slices.Clone(seed)
	require.NoError(t, s.RotateKey(bg, seed, handover))
	seed[0] ^= 1 // the store keeps its own copy
	got, err := s.Secrets(bg)
	require.NoError(t, err)
	require.Equal(t, &roles.OwnerSecrets{SigningSeed: wantSeed, Accumulator: want.Accumulator}, got, "the seed replaced, the accumulator secret kept")
	latest, err := s.LatestState(bg)
	require.NoError(t, err)
	require.Equal(t, *handover, *latest, "the handover state replaced the one of its epoch")

	// A second rotation, into a new epoch, and the chain goes on.
	seed2 := randomBytes(t, 32)
	s2 := NewState(t, handover, RandomID(t))
	require.NoError(t, s.RotateKey(bg, seed2, s2))
	got, err = s.Secrets(bg)
	require.NoError(t, err)
	require.Equal(t, seed2, got.SigningSeed)
	commitChainFrom(t, s, s2, 1)
	sts2, err := s.States(bg, 0, 3)
	require.NoError(t, err)
	require.Equal(t, *handover, sts2[1])
	require.Equal(t, *s2, sts2[2])
}

// commitChainFrom commits n states after prev.
func commitChainFrom(t *testing.T, s roles.OwnerStore, prev *roles.SignedState, n int) {
	t.Helper()
	for range n {
		st := NewState(t, prev, RandomID(t))
		require.NoError(t, s.Commit(bg, &roles.OwnerTx{State: st}))
		prev = st
	}
}

func ownerRecords(t *testing.T, s roles.OwnerStore) {
	r1, r2 := newRecord(t, "a", 0), newRecord(t, "b", 7)
	r2.Version = 3
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{Records: []roles.BatchRecord{r1, r2}}))
	for _, want := range []roles.BatchRecord{r1, r2} {
		got, err := s.Record(bg, want.ID)
		require.NoError(t, err)
		require.Equal(t, want, *got)
	}
	r1.RevokedAt = 4
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{Records: []roles.BatchRecord{r1}}))
	got, err := s.Record(bg, r1.ID)
	require.NoError(t, err)
	require.Equal(t, r1, *got)
	got, err = s.Record(bg, r2.ID)
	require.NoError(t, err)
	require.Equal(t, r2, *got)
	// Within one transaction the last record of an id wins.
	r3 := newRecord(t, "c", 1)
	r3b := r3
	r3b.RevokedAt = 9
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{Records: []roles.BatchRecord{r3, r3b}}))
	got, err = s.Record(bg, r3.ID)
	require.NoError(t, err)
	require.Equal(t, r3b, *got)
	_, err = s.Record(bg, RandomID(t))
	require.ErrorIs(t, err, roles.ErrUnknownBatch)
}

func ownerPending(t *testing.T, s roles.OwnerStore) {
	p1, p2, p3 := newPending(t, roles.PendingStore), newPending(t, roles.PendingUpdate), newPending(t, roles.PendingStore)
	p1copy := p1
	p1copy.Request = slices.Clone(p1.Request)
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{PutPending: []roles.PendingOp{p1, p2}}))
	p1.Request[0] ^= 1 // the store keeps its own copy
	p1 = p1copy
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{PutPending: []roles.PendingOp{p3}}))
	got, err := s.Pending(bg)
	require.NoError(t, err)
	require.Equal(t, []roles.PendingOp{p1, p2, p3}, got)

	require.NoError(t, s.Commit(bg, &roles.OwnerTx{DeletePending: []roles.BatchID{p2.ID, RandomID(t)}}))
	got, err = s.Pending(bg)
	require.NoError(t, err)
	require.Equal(t, []roles.PendingOp{p1, p3}, got)

	// Deletions apply before additions: re-adding an id moves it last.
	p1b := p1
	p1b.Request = randomBytes(t, 10)
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{DeletePending: []roles.BatchID{p1.ID}, PutPending: []roles.PendingOp{p1b}}))
	got, err = s.Pending(bg)
	require.NoError(t, err)
	require.Equal(t, []roles.PendingOp{p3, p1b}, got)

	// Two operations with one id are both deleted.
	p4 := newPending(t, roles.PendingUpdate)
	p4.ID = p3.ID
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{PutPending: []roles.PendingOp{p4}}))
	got, err = s.Pending(bg)
	require.NoError(t, err)
	require.Equal(t, []roles.PendingOp{p3, p1b, p4}, got)
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{DeletePending: []roles.BatchID{p3.ID}}))
	got, err = s.Pending(bg)
	require.NoError(t, err)
	require.Equal(t, []roles.PendingOp{p1b}, got)

	// A large request.
	big := roles.PendingOp{ID: RandomID(t), Kind: roles.PendingStore, Request: randomBytes(t, 1<<20)}
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{PutPending: []roles.PendingOp{big}}))
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{DeletePending: []roles.BatchID{p1b.ID}}))
	got, err = s.Pending(bg)
	require.NoError(t, err)
	require.Equal(t, []roles.PendingOp{big}, got)
}

func ownerStatesRanges(t *testing.T, s roles.OwnerStore) {
	sts := commitChain(t, s, 5)
	for from := range uint64(5) {
		for to := from; to < 5; to++ {
			got, err := s.States(bg, from, to)
			require.NoError(t, err)
			require.Len(t, got, int(to-from+1))
			for i := range got {
				require.Equal(t, *sts[from+uint64(i)], got[i])
			}
		}
	}
	_, err := s.States(bg, 3, 6)
	requireMissing(t, err, 5, 6)
	_, err = s.States(bg, 7, 7)
	requireMissing(t, err, 7, 7)
	_, err = s.States(bg, 2, 1)
	require.ErrorIs(t, err, roles.ErrInvalidInput)
	latest, err := s.LatestState(bg)
	require.NoError(t, err)
	require.Equal(t, *sts[4], *latest)
}

func ownerCalls(ctx context.Context, t *testing.T, s roles.OwnerStore) map[string]func() error {
	sec := &roles.OwnerSecrets{SigningSeed: randomBytes(t, 32), Accumulator: randomBytes(t, 32)}
	tx := &roles.OwnerTx{State: NewState(t, nil, roles.BatchID{}), Records: []roles.BatchRecord{newRecord(t, "s", 0)},
		PutPending: []roles.PendingOp{newPending(t, roles.PendingStore)}}
	return map[string]func() error{
		"Secrets":     func() error { _, err := s.Secrets(ctx); return err },
		"InitSecrets": func() error { return s.InitSecrets(ctx, sec) },
		"LatestState": func() error { _, err := s.LatestState(ctx); return err },
		"States":      func() error { _, err := s.States(ctx, 0, 0); return err },
		"ReserveSeq":  func() error { _, err := s.ReserveSeq(ctx, "s"); return err },
		"Record":      func() error { _, err := s.Record(ctx, tx.Records[0].ID); return err },
		"Commit":      func() error { return s.Commit(ctx, tx) },
		"Pending":     func() error { _, err := s.Pending(ctx); return err },
		"RotateKey":   func() error { return s.RotateKey(ctx, sec.SigningSeed, tx.State) },
	}
}

func ownerContextCancelled(t *testing.T, s roles.OwnerStore) {
	ctx, cancel := context.WithCancel(bg)
	cancel()
	for name, call := range ownerCalls(ctx, t, s) {
		require.ErrorIs(t, call(), context.Canceled, name)
	}
	// Nothing was stored, no sequence number used.
	ownerEmpty(t, s)
	n, err := s.ReserveSeq(bg, "s")
	require.NoError(t, err)
	require.Equal(t, uint64(0), n)
}

func ownerClose(t *testing.T, s roles.OwnerStore) {
	require.NoError(t, s.InitSecrets(bg, &roles.OwnerSecrets{SigningSeed: randomBytes(t, 32), Accumulator: randomBytes(t, 32)}))
	commitChain(t, s, 1)
	pinger, canPing := s.(roles.Pinger)
	if canPing {
		require.NoError(t, pinger.Ping(bg), "Ping of an open store")
	}
	require.NoError(t, s.Close())
	if canPing {
		require.ErrorIs(t, pinger.Ping(bg), roles.ErrClosed, "Ping after Close")
	}
	for name, call := range ownerCalls(bg, t, s) {
		require.ErrorIs(t, call(), roles.ErrClosed, name)
	}
	require.NoError(t, s.Close(), "a second Close")
}

func ownerConcurrent(t *testing.T, s roles.OwnerStore) {
	const workers, rounds = 8, 10
	sts := commitChain(t, s, 3)
	var wg sync.WaitGroup
	seqs := make([][]uint64, workers)
	errc := make(chan error, workers)
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- func() error {
				for i := range rounds {
					n, err := s.ReserveSeq(bg, "shared")
					if err != nil {
						return fmt.Errorf("ReserveSeq: %w", err)
					}
					seqs[g] = append(seqs[g], n)
					p := roles.PendingOp{ID: RandomID(t), Kind: roles.PendingStore, Request: []byte{byte(g), byte(i)}}
					rec := roles.BatchRecord{ID: p.ID, Stream: "shared", Seq: n}
					if err := s.Commit(bg, &roles.OwnerTx{State: sts[(g+i)%len(sts)], Records: []roles.BatchRecord{rec}, PutPending: []roles.PendingOp{p}}); err != nil {
						return fmt.Errorf("Commit: %w", err)
					}
					if _, err := s.Pending(bg); err != nil {
						return fmt.Errorf("Pending: %w", err)
					}
					if r, err := s.Record(bg, rec.ID); err != nil || *r != rec {
						return fmt.Errorf("Record: %v", err)
					}
					if err := s.Commit(bg, &roles.OwnerTx{DeletePending: []roles.BatchID{p.ID}}); err != nil {
						return fmt.Errorf("Commit(delete): %w", err)
					}
					if _, err := s.LatestState(bg); err != nil {
						return fmt.Errorf("LatestState: %w", err)
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
	var all []uint64
	for _, s := range seqs {
		all = append(all, s...)
	}
	slices.Sort(all)
	for i, n := range all {
		require.Equal(t, uint64(i), n, "ReserveSeq hands out every number once")
	}
	pend, err := s.Pending(bg)
	require.NoError(t, err)
	require.Empty(t, pend)
	latest, err := s.LatestState(bg)
	require.NoError(t, err)
	require.Equal(t, *sts[2], *latest)
}
