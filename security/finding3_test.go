package security

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// Finding 3: the verifier caught up on states while holding its single
// lock, network call included, so one answer claiming a far epoch while
// storage was slow blocked every verifier call, health included.

// slowSource is a state source that blocks every call until released (or
// the call's context ends), counting calls.
type slowSource struct {
	inner   roles.StateSource
	release chan struct{}
	calls   atomic.Int64
	once    sync.Once
}

func newSlowSource(inner roles.StateSource) *slowSource {
	return &slowSource{inner: inner, release: make(chan struct{})}
}

func (s *slowSource) wait(ctx context.Context) error {
	s.calls.Add(1)
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *slowSource) open() { s.once.Do(func() { close(s.release) }) }

func (s *slowSource) LatestState(ctx context.Context) (*roles.SignedState, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	return s.inner.LatestState(ctx)
}

func (s *slowSource) States(ctx context.Context, from, to uint64) ([]roles.SignedState, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	return s.inner.States(ctx, from, to)
}

// within fails the test if f does not return within d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s blocked for more than %s", what, d)
	}
}

func TestFinding3SlowCatchUpBlocksNothingElse(t *testing.T) {
	ctx := t.Context()
	w := newWorld(t)
	idA := w.create(t, batch("a", 8, 1_000))
	idB := w.create(t, batch("b", 8, 5_000))
	slow := newSlowSource(w.server)
	defer slow.open()
	v := w.verifier(t, roles.WithStateSource(slow), roles.WithCatchUpLimits(roles.DefaultMaxEpochsAhead, 30*time.Second))
	svc := transport.NewInProc([]*transport.Service{transport.VerifierService(v)})
	client := transport.VerifierClient{T: svc}

	ansB, err := w.server.Answer(ctx, rangeQuery(idB)) // at the held epoch 0
	require.NoError(t, err)
	// The owner revokes A; the verifier has not heard. An answer about B at
	// epoch 1 makes it catch up — from a source that does not answer.
	_, err = w.owner.Revoke(ctx, idA)
	require.NoError(t, err)
	ahead, err := w.server.Answer(ctx, rangeQuery(idB))
	require.NoError(t, err)
	require.EqualValues(t, 1, ahead.Epoch)

	const waiters = 8
	errs := make(chan error, waiters)
	for range waiters {
		go func() {
			_, err := v.Verify(ctx, rangeQuery(idB), ahead)
			errs <- err
		}()
	}
	require.Eventually(t, func() bool { return slow.calls.Load() >= 1 }, 5*time.Second, time.Millisecond)

	// While the catch-up hangs, everything else goes on.
	within(t, 2*time.Second, "health", func() {
		h, err := client.Health(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 0, h.Epoch)
	})
	within(t, 2*time.Second, "State", func() { require.EqualValues(t, 0, v.State().State.Epoch) })
	within(t, 2*time.Second, "a verification at the held epoch", func() {
		res, err := v.Verify(ctx, rangeQuery(idB), ansB)
		require.NoError(t, err)
		require.Equal(t, "806", res.Values[0].Int.String()) // 200+201+202+203
	})
	within(t, 2*time.Second, "an answer a million epochs ahead", func() {
		far := *ahead
		far.Epoch = 1_000_000
		_, err := v.Verify(ctx, rangeQuery(idB), &far)
		var m *roles.MissingStatesError
		require.ErrorAs(t, err, &m, "refused without a fetch")
	})
	within(t, 2*time.Second, "a caller whose context ends", func() {
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := v.Verify(cctx, rangeQuery(idB), ahead)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	require.EqualValues(t, 1, slow.calls.Load(), "concurrent catch-ups are coalesced into one fetch")

	slow.open()
	for range waiters {
		require.NoError(t, <-errs)
	}
	require.EqualValues(t, 1, v.State().State.Epoch)
}

// TestFinding3CatchUpIsBounded: a catch-up from a source that never answers
// ends within the catch-up timeout, for every caller.
func TestFinding3CatchUpIsBounded(t *testing.T) {
	ctx := t.Context()
	w := newWorld(t)
	idA := w.create(t, batch("a", 8, 1_000))
	idB := w.create(t, batch("b", 8, 5_000))
	slow := newSlowSource(w.server) // never opened
	v := w.verifier(t, roles.WithStateSource(slow), roles.WithCatchUpLimits(100, 200*time.Millisecond))
	_, err := w.owner.Revoke(ctx, idA)
	require.NoError(t, err)
	ahead, err := w.server.Answer(ctx, rangeQuery(idB))
	require.NoError(t, err)
	within(t, 5*time.Second, "a catch-up from a silent source", func() {
		_, err := v.Verify(ctx, rangeQuery(idB), ahead)
		require.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
	})
	// Beyond the configured distance, no fetch at all.
	calls := slow.calls.Load()
	far := *ahead
	far.Epoch = 102
	_, err = v.Verify(ctx, rangeQuery(idB), &far)
	var m *roles.MissingStatesError
	require.ErrorAs(t, err, &m)
	require.Equal(t, roles.MissingStatesError{From: 1, To: 102}, *m)
	require.Equal(t, calls, slow.calls.Load())
}

// TestFinding3NilState: a state source that returns no state and no error
// is an error, not a crash.
func TestFinding3NilState(t *testing.T) {
	w := newWorld(t)
	v := w.verifier(t, roles.WithStateSource(nilSource{}))
	require.ErrorIs(t, v.Sync(t.Context()), roles.ErrUnknownState)
	v2, err := roles.NewVerifier(w.crs.VerifierKey(), w.keys, roles.WithTrustedSource(nilSource{}))
	require.NoError(t, err)
	require.ErrorIs(t, v2.Sync(t.Context()), roles.ErrUnknownState)
	require.ErrorIs(t, v2.AcceptState(t.Context(), nil), roles.ErrInvalidInput)
}

type nilSource struct{}

func (nilSource) LatestState(context.Context) (*roles.SignedState, error) { return nil, nil }
func (nilSource) States(context.Context, uint64, uint64) ([]roles.SignedState, error) {
	return nil, nil
}

// TestFinding3HangingSourceIsBypassed: a trusted source that hangs delays a
// catch-up only briefly once the other source has answered with a valid
// state, and a source that lies is outvoted by one that does not.
func TestFinding3HangingSourceIsBypassed(t *testing.T) {
	ctx := t.Context()
	w := newWorld(t)
	idA := w.create(t, batch("a", 8, 1_000))
	idB := w.create(t, batch("b", 8, 5_000))
	hanging := newSlowSource(w.owner) // never opened
	v := w.verifier(t, roles.WithTrustedSource(hanging), roles.WithStateSource(w.server))
	_, err := w.owner.Revoke(ctx, idA)
	require.NoError(t, err)
	ahead, err := w.server.Answer(ctx, rangeQuery(idB))
	require.NoError(t, err)
	within(t, 3*time.Second, "a catch-up while the trusted source hangs", func() {
		_, err := v.Verify(ctx, rangeQuery(idB), ahead)
		require.NoError(t, err)
	})
	require.EqualValues(t, 1, v.State().State.Epoch)

	// A source whose latest state is forged does not stop the catch-up.
	_, err = w.owner.Revoke(ctx, idB)
	require.NoError(t, err)
	liar := lyingLatest{w.server}
	v2 := w.verifier(t, roles.WithTrustedSource(w.owner), roles.WithStateSource(liar))
	require.NoError(t, v2.Sync(ctx))
	require.EqualValues(t, 2, v2.State().State.Epoch)
}

// lyingLatest serves a forged latest state (a far epoch, no valid
// signature) and honest states otherwise.
type lyingLatest struct{ roles.StateSource }

func (l lyingLatest) LatestState(ctx context.Context) (*roles.SignedState, error) {
	st, err := l.StateSource.LatestState(ctx)
	if err != nil {
		return nil, err
	}
	f := *st
	f.State.Epoch = 1 << 40
	return &f, nil
}
