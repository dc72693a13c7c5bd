package security

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
)

// Finding 2: a verifier that missed one push accepted, indefinitely, an
// answer about a revoked batch from a storage server rolled back one epoch.
// Freshness is now on by default (SPEC §6.1): the owner re-delivers until
// acknowledged, the verifier polls the owner, and a verifier refuses to
// verify against a state older than its maximum state age.

func rangeQuery(id roles.BatchID) *roles.Query {
	return &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: []string{"temp"}, From: 1, To: 4}
}

// TestFinding2PollCatchesMissedPush: the push of a revocation to the
// verifier is lost; the verifier's poll of the owner brings it the new
// state, after which the rolled-back server's answer is refused.
func TestFinding2PollCatchesMissedPush(t *testing.T) {
	ctx := t.Context()
	w := newWorld(t)
	id := w.create(t, batch("greenhouse", 8, 1_000))
	rb := w.rolledBack(t)

	toOwner := &link{source: w.owner}
	v := w.verifier(t, roles.WithTrustedSource(toOwner), roles.WithStateSource(rb), roles.WithPollInterval(20*time.Millisecond))
	push := &link{listener: v}
	w.owner.Subscribe(push)

	push.cut.Store(true) // the owner → verifier path drops during the revoke
	_, err := w.owner.Revoke(ctx, id)
	require.NoError(t, err)
	require.NoError(t, w.owner.Flush(ctx))
	require.EqualValues(t, 0, v.State().State.Epoch, "the push was lost")
	require.Error(t, w.owner.Listeners()[0].Err, "the owner knows the verifier has not acknowledged")

	ans, err := rb.Answer(ctx, rangeQuery(id)) // the rolled-back server still answers
	require.NoError(t, err)

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = v.Run(runCtx) }()
	require.Eventually(t, func() bool { return v.State().State.Epoch == 1 }, 5*time.Second, 10*time.Millisecond,
		"the verifier's poll must bring the revocation")

	_, err = v.Verify(ctx, rangeQuery(id), ans)
	require.ErrorIs(t, err, roles.ErrStaleState, "an answer from before the revocation")
	// Even re-stamped at the new epoch, it is about a revoked batch.
	ans.Epoch = 1
	_, err = v.Verify(ctx, rangeQuery(id), ans)
	require.ErrorIs(t, err, roles.ErrRevoked)
}

// TestFinding2OwnerRedeliversUntilAcknowledged: the owner keeps pushing its
// latest state to a verifier that has not acknowledged it, once the path is
// back — without any verifier poll.
func TestFinding2OwnerRedeliversUntilAcknowledged(t *testing.T) {
	ctx := t.Context()
	w := newWorld(t)
	id := w.create(t, batch("greenhouse", 8, 1_000))
	v := w.verifier(t) // no source: it only learns from pushes
	push := &link{listener: v}
	w.owner.Subscribe(push)

	push.cut.Store(true)
	_, err := w.owner.Revoke(ctx, id)
	require.NoError(t, err)
	require.NoError(t, w.owner.Flush(ctx))
	require.EqualValues(t, 0, v.State().State.Epoch)

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = w.owner.Run(runCtx) }()
	// While the path is down, the owner keeps trying (with backoff).
	before := push.calls.Load()
	for i := 0; i < 50 && push.calls.Load() == before; i++ {
		w.clock.Advance(time.Second)
		time.Sleep(20 * time.Millisecond)
	}
	require.Greater(t, push.calls.Load(), before, "the owner must retry the delivery")
	require.EqualValues(t, 0, v.State().State.Epoch)

	push.cut.Store(false)
	require.Eventually(t, func() bool {
		w.clock.Advance(time.Second) // past any backoff
		return v.State().State.Epoch == 1
	}, 10*time.Second, 20*time.Millisecond, "the owner must re-deliver once the path is back")
	// The listener's status follows the delivery (its queue records it
	// after the push returns).
	require.Eventually(t, func() bool {
		l := w.owner.Listeners()[0]
		return l.Err == nil && l.Acked != nil && l.Acked.State.Epoch == 1
	}, 10*time.Second, 10*time.Millisecond, "the listener's status shows the delivery")
}

// TestFinding2NeverAcceptsAfterBound: the verifier can reach neither the
// owner nor an honest server. It may accept the rolled-back server's answer
// only while the state it holds is within the maximum state age — at most
// DefaultMaxStateAge after the revocation (SPEC §6.1) — and never after.
func TestFinding2NeverAcceptsAfterBound(t *testing.T) {
	ctx := t.Context()
	w := newWorld(t)
	id := w.create(t, batch("greenhouse", 8, 1_000))
	// The worst case: the owner re-signed epoch 0 just before revoking, and
	// the malicious server kept that fresh signature.
	_, err := w.owner.Refresh(ctx)
	require.NoError(t, err)
	rb := w.rolledBack(t)
	unreachable := &link{source: w.owner}
	unreachable.cut.Store(true)
	v := w.verifier(t, roles.WithTrustedSource(unreachable), roles.WithStateSource(rb)) // default freshness

	revokedAt := w.clock.Now()
	_, err = w.owner.Revoke(ctx, id)
	require.NoError(t, err)
	ans, err := rb.Answer(ctx, rangeQuery(id))
	require.NoError(t, err)

	bound := roles.DefaultMaxStateAge
	require.Equal(t, 3*roles.DefaultHeartbeat, bound)
	for elapsed := time.Duration(0); elapsed <= bound+time.Minute; elapsed += 10 * time.Second {
		w.clock.Advance(10 * time.Second)
		now := w.clock.Now()
		_, err := v.Verify(ctx, rangeQuery(id), ans)
		if now.Sub(revokedAt) > bound {
			require.ErrorIs(t, err, roles.ErrStaleState, "%s after the revocation the verifier must refuse", now.Sub(revokedAt))
			require.False(t, v.Freshness().Fresh())
		} else if err != nil {
			require.ErrorIs(t, err, roles.ErrStaleState)
		}
	}
}
