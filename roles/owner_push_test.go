package roles_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
)

// blackhole is a listener that never answers: every delivery waits for its
// context (the owner's delivery timeout, or Close).
type blackhole struct {
	mu    sync.Mutex
	calls int
}

func (b *blackhole) AcceptState(ctx context.Context, _ *roles.SignedState) error {
	b.mu.Lock()
	b.calls++
	b.mu.Unlock()
	<-ctx.Done()
	return ctx.Err()
}

// recorder records the epochs it accepts, in order.
type recorder struct {
	mu     sync.Mutex
	epochs []uint64
}

func (r *recorder) AcceptState(_ context.Context, st *roles.SignedState) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.epochs = append(r.epochs, st.State.Epoch)
	return nil
}

func (r *recorder) got() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]uint64(nil), r.epochs...)
}

// TestRevokeBlackholedListener: with one listener that never answers, a
// revocation returns long before the owner's delivery timeout (5 s), the
// healthy listener and the verifier in process still get every state, in
// order, and Close returns without waiting for the black hole. On a main
// whose owner pushed under its lock, each revocation took the full timeout.
func TestRevokeBlackholedListener(t *testing.T) {
	ctx := t.Context()
	l := newLocal(t)
	hole, rec := &blackhole{}, &recorder{}
	l.Owner.Subscribe(hole)
	l.Owner.Subscribe(rec)
	ids := make([]roles.BatchID, 4)
	for i := range ids {
		ids[i] = createBatch(t, ctx, l.Owner, afterStream(l.Owner, sampleBatch("s", 8, uint64(i))))
	}
	start := time.Now()
	for _, id := range ids {
		_, err := l.Owner.Revoke(ctx, id)
		require.NoError(t, err)
	}
	took := time.Since(start)
	require.Less(t, took, 2*time.Second, "4 revocations with a black-holed listener took %s", took)
	latest, err := l.Owner.LatestState(ctx)
	require.NoError(t, err)
	require.Equal(t, latest.State.Epoch, l.Verifier.State().State.Epoch, "the inline verifier holds the latest state on return")

	// Flush would wait for the black hole too; the healthy queue is
	// drained well before that.
	require.Eventually(t, func() bool {
		g := rec.got()
		return len(g) > 0 && g[len(g)-1] == latest.State.Epoch
	}, 3*time.Second, 5*time.Millisecond)
	got := rec.got()
	for i, e := range got[1:] {
		require.GreaterOrEqual(t, e, got[i], "states reach a listener in epoch order: %v", got)
	}
	st := l.Owner.Listeners()
	require.Len(t, st, 3)
	require.Equal(t, latest.State.Epoch, st[2].Acked.State.Epoch)

	closed := make(chan struct{})
	go func() { _ = l.Owner.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Fatal("Close waited for the black-holed listener")
	}
	// The owner still works after Close; its queues deliver nothing more.
	_, err = l.Owner.Refresh(ctx)
	require.NoError(t, err)
	require.NoError(t, l.Owner.Flush(ctx))
}

// TestListenerQueueOrder: states reach a queued listener in epoch order,
// every epoch once, however fast the owner signs them; re-signatures of
// one epoch may be superseded by the latest.
func TestListenerQueueOrder(t *testing.T) {
	ctx := t.Context()
	l := newLocal(t)
	rec := &recorder{}
	l.Owner.Subscribe(rec)
	t.Cleanup(func() { _ = l.Owner.Close() })
	var ids []roles.BatchID
	for i := range 6 {
		ids = append(ids, createBatch(t, ctx, l.Owner, afterStream(l.Owner, sampleBatch("s", 8, uint64(i)))))
	}
	for _, id := range ids {
		_, err := l.Owner.Revoke(ctx, id)
		require.NoError(t, err)
		_, err = l.Owner.Refresh(ctx)
		require.NoError(t, err)
	}
	require.NoError(t, l.Owner.Flush(ctx))
	got := rec.got()
	require.NotEmpty(t, got)
	seen := map[uint64]bool{}
	for i, e := range got {
		if i > 0 {
			require.GreaterOrEqual(t, e, got[i-1], "epoch order: %v", got)
		}
		seen[e] = true
	}
	for e := uint64(1); e <= uint64(len(ids)); e++ {
		require.True(t, seen[e], "epoch %d never delivered: %v", e, got)
	}
	st := l.Owner.Listeners()[1]
	require.NoError(t, st.Err)
	require.Zero(t, st.Queued)
}

// TestFlushHonoursContext: Flush returns ctx's error while a listener is
// stuck.
func TestFlushHonoursContext(t *testing.T) {
	ctx := t.Context()
	l := newLocal(t)
	l.Owner.Subscribe(&blackhole{})
	t.Cleanup(func() { _ = l.Owner.Close() })
	_, err := l.Owner.Refresh(ctx)
	require.NoError(t, err)
	fctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, l.Owner.Flush(fctx), context.DeadlineExceeded)
}
