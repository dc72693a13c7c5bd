package roles_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

// attacksOnStates runs TestMaliciousServer's attacks with answers for
// another epoch and with forged states.
func attacksOnStates(t *testing.T, s *sharedSystem) {
	signer, r, ctx, X := s.signer, s.r, s.r.ctx, s.X

	t.Run("08-future-epoch", func(t *testing.T) {
		t.Parallel()
		q := rangeQ(X, 1, 4, "temp")
		bad := r.honest(t, q)
		latest := r.l.Verifier.State().State.Epoch
		bad.Epoch = latest + 5
		err := r.verify(q, bad)
		requireErrIs(t, err, roles.ErrUnknownState)
		var m *roles.MissingStatesError
		require.ErrorAs(t, err, &m)
		require.Equal(t, roles.MissingStatesError{From: latest + 1, To: latest + 5}, *m)
		require.Equal(t, latest, r.l.Verifier.State().State.Epoch, "the verifier must not move")

		// A verifier without a state source names the same epochs.
		v2 := r.freshVerifier(t, r.l.Verifier.State())
		_, err = v2.Verify(ctx, q, bad)
		require.ErrorAs(t, err, &m)
		require.Equal(t, roles.MissingStatesError{From: latest + 1, To: latest + 5}, *m)

		// The largest epoch: no overflow, no endless catching up.
		bad.Epoch = math.MaxUint64
		err = r.verify(q, bad)
		require.ErrorAs(t, err, &m)
		require.Equal(t, roles.MissingStatesError{From: latest + 1, To: math.MaxUint64}, *m)
	})

	t.Run("14-bad-state-signatures", func(t *testing.T) {
		t.Parallel()
		sts := r.states(t)
		st0, st1 := &sts[0], &sts[1]
		// The mirror of the signed message is right: re-signing with the
		// owner's key gives an accepted state.
		good := deepCopy(t, st1)
		good.IssuedAt++
		sig, err := signer.Sign(ctx, stateMsg(t, good))
		require.NoError(t, err)
		good.Sig = sig
		require.NoError(t, r.freshVerifier(t, st0).AcceptState(ctx, good))

		_, otherKey, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		otherID := roles.KeyID(otherKey.Public().(ed25519.PublicKey))
		stranger := newRig(t, testCRS(t), rigOptions{})
		twin := newRig(t, otherCRS(t), rigOptions{seed: sharedSeed, signer: signer})
		require.Equal(t, r.keys.ID(), twin.keys.ID())
		for _, c := range []struct {
			name   string
			mutate func(s *roles.SignedState) *roles.SignedState
			want   []error
		}{
			{"flipped signature byte", func(s *roles.SignedState) *roles.SignedState { s.Sig[7] ^= 1; return s }, []error{roles.ErrBadSignature}},
			{"flipped last signature byte", func(s *roles.SignedState) *roles.SignedState { s.Sig[63] ^= 0x80; return s }, []error{roles.ErrBadSignature}},
			{"empty signature", func(s *roles.SignedState) *roles.SignedState { s.Sig = nil; return s }, []error{roles.ErrBadSignature}},
			{"truncated signature", func(s *roles.SignedState) *roles.SignedState { s.Sig = s.Sig[:63]; return s }, []error{roles.ErrBadSignature}},
			{"signature by another key under the owner's key id", func(s *roles.SignedState) *roles.SignedState {
				s.Sig = ed25519.Sign(otherKey, stateMsg(t, s))
				return s
			}, []error{roles.ErrBadSignature}},
			{"another key's id and signature", func(s *roles.SignedState) *roles.SignedState {
				s.KeyID = otherID
				s.Sig = ed25519.Sign(otherKey, stateMsg(t, s))
				return s
			}, []error{roles.ErrBadSignature}},
			{"empty key id", func(s *roles.SignedState) *roles.SignedState { s.KeyID = ""; return s }, []error{roles.ErrBadSignature}},
			{"issued_at changed", func(s *roles.SignedState) *roles.SignedState { s.IssuedAt += 3_600_000; return s }, []error{roles.ErrBadSignature}},
			{"accumulator value changed", func(s *roles.SignedState) *roles.SignedState {
				s.State.Acc = addG1(s.State.Acc, g1Gen())
				return s
			}, []error{roles.ErrBadSignature}},
			{"accumulator value is the identity", func(s *roles.SignedState) *roles.SignedState {
				s.State.Acc = identityG1()
				return s
			}, []error{roles.ErrInvalidInput, codec.ErrIdentity}},
			{"revoked batch changed consistently", func(s *roles.SignedState) *roles.SignedState {
				s.State.Revoked.Batch = X
				s.State.Revoked.X = codec.Scalar(X.Element())
				return s
			}, []error{roles.ErrBadSignature}},
			{"revoked batch and element disagree", func(s *roles.SignedState) *roles.SignedState {
				s.State.Revoked.Batch = X
				return s
			}, []error{roles.ErrInvalidInput}},
			{"no revocation at epoch 1", func(s *roles.SignedState) *roles.SignedState { s.State.Revoked = nil; return s }, []error{roles.ErrInvalidInput}},
			{"prev changed", func(s *roles.SignedState) *roles.SignedState { s.State.Prev[0] ^= 1; return s }, []error{roles.ErrBadSignature}},
			{"epoch changed", func(s *roles.SignedState) *roles.SignedState { s.State.Epoch = 2; return s }, []error{roles.ErrBadSignature}},
			{"owner changed", func(s *roles.SignedState) *roles.SignedState { s.State.Owner[0] ^= 1; return s }, []error{roles.ErrBadSignature}},
			{"crs changed", func(s *roles.SignedState) *roles.SignedState { s.State.CRS[0] ^= 1; return s }, []error{roles.ErrCRSMismatch}},
			{"format changed", func(s *roles.SignedState) *roles.SignedState { s.State.Format = 2; return s }, []error{roles.ErrInvalidInput}},
			{"state of another owner", func(*roles.SignedState) *roles.SignedState {
				st, err := stranger.l.Owner.LatestState(ctx)
				require.NoError(t, err)
				return st
			}, []error{roles.ErrBadSignature}},
			{"state of the same keys on another CRS", func(*roles.SignedState) *roles.SignedState {
				st, err := twin.l.Owner.LatestState(ctx)
				require.NoError(t, err)
				return st
			}, []error{roles.ErrCRSMismatch}},
		} {
			v0 := r.freshVerifier(t, st0)
			bad := c.mutate(deepCopy(t, st1))
			err := v0.AcceptState(ctx, bad)
			requireErrIs(t, err, c.want...)
			require.EqualValues(t, 0, v0.State().State.Epoch, c.name)
			require.Equal(t, st0.Sig, v0.State().Sig, c.name)
			// The server refuses it as well.
			requireErrIs(t, r.l.Server.ApplyState(ctx, bad), c.want...)
			// The genuine state is then accepted.
			require.NoError(t, v0.AcceptState(ctx, st1), c.name)
		}
		// States the owner's key signed but whose accumulator is not what
		// the chain implies (SPEC §6, issue 9 decision D8(b)): the verifier
		// checks f_0 = g and f_1 = (x_1 + s)·f_0, not only the signature.
		resign := func(s *roles.SignedState) *roles.SignedState {
			sig, err := signer.Sign(ctx, stateMsg(t, s))
			require.NoError(t, err)
			s.Sig = sig
			return s
		}
		stepped := resign(func() *roles.SignedState {
			s := deepCopy(t, st1)
			s.State.Acc = addG1(s.State.Acc, g1Gen()) // f_1 + g: a signed, wrong step
			return s
		}())
		v0 := r.freshVerifier(t, st0)
		requireErrIs(t, v0.AcceptState(ctx, stepped), roles.ErrBadProof)
		require.EqualValues(t, 0, v0.State().State.Epoch)
		require.NoError(t, v0.AcceptState(ctx, st1))
		badZero := resign(func() *roles.SignedState {
			s := deepCopy(t, st0)
			s.State.Acc = addG1(s.State.Acc, g1Gen()) // f_0 = 2g
			return s
		}())
		_, err = roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, roles.WithInitialState(badZero))
		requireErrIs(t, err, roles.ErrInvalidInput)
		requireErrIs(t, r.freshVerifier(t, st0).AcceptState(ctx, badZero), roles.ErrInvalidInput)
		badPrev := resign(func() *roles.SignedState {
			s := deepCopy(t, st0)
			s.State.Prev[0] = 1 // epoch 0 names a previous state
			return s
		}())
		_, err = roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, roles.WithInitialState(badPrev))
		requireErrIs(t, err, roles.ErrInvalidInput)

		// A bad signature on a re-issue of the held state is refused too
		// (a verifier must not take a forged fresher issued_at).
		v1 := r.freshVerifier(t, st1)
		bad := deepCopy(t, st1)
		bad.IssuedAt += 1000
		requireErrIs(t, v1.AcceptState(ctx, bad), roles.ErrBadSignature)
		require.Equal(t, st1.IssuedAt, v1.State().IssuedAt)
		// A verifier cannot be started at a forged state.
		bad = deepCopy(t, st1)
		bad.Sig[0] ^= 1
		_, err = roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, roles.WithInitialState(bad))
		requireErrIs(t, err, roles.ErrBadSignature)
	})

	t.Run("16-stale-epoch", func(t *testing.T) {
		t.Parallel()
		q := rangeQ(X, 1, 12, "temp")
		bad := r.honest(t, q)
		bad.Epoch = 0
		err := r.verify(q, bad)
		requireErrIs(t, err, roles.ErrStaleState)
		var se *roles.StaleStateError
		require.ErrorAs(t, err, &se)
		require.Equal(t, uint64(1), se.Have)
		require.Equal(t, uint64(0), se.Got)
	})
}

// TestAttackStateChain (attack 15): states out of order, older than held,
// and a fork of the owner's history.
func TestAttackStateChain(t *testing.T) {
	t.Parallel()
	signer, err := roles.GenerateEd25519Signer(rand.Reader)
	require.NoError(t, err)
	const seed = 0xf0c
	r := newRig(t, testCRS(t), rigOptions{seed: seed, signer: signer})
	ctx := r.ctx
	for i := range 3 {
		r.revoke(t, r.create(t, sampleBatch("chain", 4, uint64(i))))
	}
	sts := r.states(t)
	require.Len(t, sts, 4)

	// Skipping states.
	v := r.freshVerifier(t, &sts[0])
	var m *roles.MissingStatesError
	require.ErrorAs(t, v.AcceptState(ctx, &sts[2]), &m)
	require.Equal(t, roles.MissingStatesError{From: 1, To: 1}, *m)
	require.ErrorAs(t, v.AcceptState(ctx, &sts[3]), &m)
	require.Equal(t, roles.MissingStatesError{From: 1, To: 2}, *m)
	require.EqualValues(t, 0, v.State().State.Epoch)
	// In order they are accepted.
	require.NoError(t, v.AcceptState(ctx, &sts[1]))
	require.NoError(t, v.AcceptState(ctx, &sts[2]))
	// Older than held.
	var se *roles.StaleStateError
	for _, e := range []int{0, 1} {
		err := v.AcceptState(ctx, &sts[e])
		require.ErrorAs(t, err, &se)
		require.Equal(t, [2]uint64{2, uint64(e)}, [2]uint64{se.Have, se.Got})
	}
	// The held one again is a no-op.
	require.NoError(t, v.AcceptState(ctx, &sts[2]))
	require.EqualValues(t, 2, v.State().State.Epoch)
	// The storage server refuses a gap the same way.
	other := memory.NewServerStore()
	srv, err := roles.NewStorageServer(r.l.CRS, r.keys, other)
	require.NoError(t, err)
	require.ErrorAs(t, srv.ApplyState(ctx, &sts[1]), &m)
	require.Equal(t, roles.MissingStatesError{From: 0, To: 0}, *m)

	// A fork: a twin owner with the very same keys (an owner that lost its
	// store and started again, or a stolen copy) revokes other batches. Its
	// states are signed by the owner's key and its epoch 1 links to the
	// shared epoch 0.
	twin := newRig(t, testCRS(t), rigOptions{seed: seed, signer: signer})
	require.Equal(t, r.keys.ID(), twin.keys.ID())
	twin.revoke(t, twin.create(t, sampleBatch("fork", 4, 100)))
	twin.revoke(t, twin.create(t, sampleBatch("fork", 4, 101)))
	fork := twin.states(t)
	require.Equal(t, sts[0].State, fork[0].State)
	require.NotEqual(t, sts[1].State, fork[1].State)
	require.Equal(t, sts[1].State.Prev, fork[1].State.Prev)

	// Same epoch, another state.
	v1 := r.freshVerifier(t, &sts[1])
	requireErrIs(t, v1.AcceptState(ctx, &fork[1]), roles.ErrConflict)
	// The next epoch of the fork does not link to the held state.
	err = v1.AcceptState(ctx, &fork[2])
	require.Error(t, err)
	require.True(t, errors.Is(err, roles.ErrBadSignature) || errors.Is(err, roles.ErrConflict), "%v", err)
	require.Equal(t, sts[1].Sig, v1.State().Sig)
	// The server refuses fork states for epochs it holds.
	requireErrIs(t, r.l.Server.ApplyState(ctx, &fork[1]), roles.ErrConflict)
	requireErrIs(t, r.l.Server.ApplyState(ctx, &fork[2]), roles.ErrConflict)
	// A verifier syncing from a server that serves the fork refuses to
	// follow it past what it holds.
	vs, err := roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, roles.WithInitialState(&sts[1]), roles.WithStateSource(twin.l.Server))
	require.NoError(t, err)
	err = vs.Sync(ctx)
	require.Error(t, err)
	require.True(t, errors.Is(err, roles.ErrBadSignature) || errors.Is(err, roles.ErrConflict), "%v", err)
	require.Equal(t, sts[1].State, vs.State().State)
	// …and so refuses the fork's answers.
	tid := twin.create(t, sampleBatch("fork", 4, 102))
	tq := rangeQ(tid, 1, 4, "temp")
	tans, err := twin.l.Server.Answer(ctx, tq)
	require.NoError(t, err)
	_, err = vs.Verify(ctx, tq, tans)
	require.Error(t, err)
}

// lyingSource is a state source controlled by the attacker.
type lyingSource struct {
	latest func() (*roles.SignedState, error)
	states func(from, to uint64) ([]roles.SignedState, error)
}

func (s *lyingSource) LatestState(context.Context) (*roles.SignedState, error) { return s.latest() }

func (s *lyingSource) States(_ context.Context, from, to uint64) ([]roles.SignedState, error) {
	return s.states(from, to)
}

// TestAttackMaliciousStateSource: a verifier catching up from a server that
// lies about the state chain neither accepts its lies nor hangs.
func TestAttackMaliciousStateSource(t *testing.T) {
	t.Parallel()
	r := newRig(t, testCRS(t), rigOptions{})
	ctx := r.ctx
	live := r.create(t, sampleBatch("src", 4, 1))
	for i := range 3 {
		r.revoke(t, r.create(t, sampleBatch("src-x", 2, uint64(10+i))))
	}
	sts := r.states(t) // epochs 0..3
	q := rangeQ(live, 1, 4, "temp")
	ans := r.honest(t, q) // epoch 3
	forged := deepCopy(t, &sts[3])
	forged.State.Epoch = math.MaxUint64
	badSig := deepCopy(t, &sts[2])
	badSig.Sig[0] ^= 1
	var m *roles.MissingStatesError
	for _, c := range []struct {
		name   string
		src    *lyingSource
		check  func(t *testing.T, err error)
		accept bool
	}{
		{"forged latest with a huge epoch, no states", &lyingSource{
			latest: func() (*roles.SignedState, error) { return forged, nil },
			states: func(uint64, uint64) ([]roles.SignedState, error) { return nil, nil },
		}, func(t *testing.T, err error) {
			// The forged latest state's signature is checked before any
			// state is fetched for it.
			requireErrIs(t, err, roles.ErrBadSignature)
		}, false},
		{"states of the wrong epochs", &lyingSource{
			latest: func() (*roles.SignedState, error) { return &sts[3], nil },
			states: func(uint64, uint64) ([]roles.SignedState, error) { return []roles.SignedState{sts[3]}, nil },
		}, func(t *testing.T, err error) { require.ErrorAs(t, err, &m) }, false},
		{"old states", &lyingSource{
			latest: func() (*roles.SignedState, error) { return &sts[3], nil },
			states: func(uint64, uint64) ([]roles.SignedState, error) { return sts[:2], nil },
		}, func(t *testing.T, err error) { require.ErrorAs(t, err, &m) }, false},
		{"a forged state in the chain", &lyingSource{
			latest: func() (*roles.SignedState, error) { return &sts[3], nil },
			states: func(from, to uint64) ([]roles.SignedState, error) {
				return []roles.SignedState{*badSig, sts[3]}, nil
			},
		}, func(t *testing.T, err error) { requireErrIs(t, err, roles.ErrBadSignature) }, false},
		{"unavailable", &lyingSource{
			latest: func() (*roles.SignedState, error) { return nil, roles.ErrUnavailable },
			states: func(uint64, uint64) ([]roles.SignedState, error) { return nil, roles.ErrUnavailable },
		}, func(t *testing.T, err error) { requireErrIs(t, err, roles.ErrUnavailable) }, false},
		{"honest (control)", &lyingSource{
			latest: func() (*roles.SignedState, error) { return &sts[3], nil },
			states: func(from, to uint64) ([]roles.SignedState, error) { return sts[from : to+1], nil },
		}, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, roles.WithInitialState(&sts[1]), roles.WithStateSource(c.src))
			require.NoError(t, err)
			_, err = v.Verify(ctx, q, ans)
			if c.accept {
				require.NoError(t, err)
				require.EqualValues(t, 3, v.State().State.Epoch)
				return
			}
			require.Error(t, err)
			c.check(t, err)
			require.Equal(t, sts[1].State, v.State().State, "the verifier must stay at its state")
			c.check(t, v.Sync(ctx))
			require.Equal(t, sts[1].State, v.State().State)
		})
	}
}

// TestAttackRollbackOfUnanchoredVerifier: a verifier configured with a state
// source but no initial state (as roles.NewLocal builds it, and as
// WithStateSource documents for "the storage server or the owner") takes
// the source's LatestState as its trust anchor. When the source is the
// untrusted storage server it can serve an old — genuinely signed — state
// and so resurrect a batch the owner has revoked. SPEC §1/§6: the verifier
// holds the latest signed state and only accepts states not older than it.
func TestAttackRollbackOfUnanchoredVerifier(t *testing.T) {
	t.Parallel()
	r := newRig(t, testCRS(t), rigOptions{})
	ctx := r.ctx
	A := r.create(t, sampleBatch("rollback", 4, 1))
	qA := rangeQ(A, 1, 4, "temp")
	old := r.honest(t, qA) // epoch 0
	r.revoke(t, A)
	sts := r.states(t)
	require.Len(t, sts, 2)
	// The malicious server's state source pretends epoch 0 is the latest.
	src := &lyingSource{
		latest: func() (*roles.SignedState, error) { return &sts[0], nil },
		states: func(from, to uint64) ([]roles.SignedState, error) {
			return nil, &roles.MissingStatesError{From: from, To: to}
		},
	}
	v, err := roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, roles.WithStateSource(src))
	if err != nil {
		// Refusing an unanchored verifier is a valid fix.
		requireErrIs(t, err, roles.ErrInvalidInput)
		return
	}
	res, err := v.Verify(ctx, qA, old)
	require.Error(t, err, "a batch revoked at epoch 1 was accepted at epoch %d by a verifier whose only state came from the storage server (result %v)", stateEpoch(v), resultValue(res))
}

func stateEpoch(v *roles.Verifier) any {
	if st := v.State(); st != nil {
		return st.State.Epoch
	}
	return nil
}
