package roles_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

// rotation is a system whose owner rotated its key once, between a
// revocation (epoch 1) and another (epoch 2).
type rotation struct {
	ctx        context.Context
	ownerStore *memory.OwnerStore
	srvStore   *memory.ServerStore
	l          *roles.Local
	old, next  *roles.Ed25519Signer
	keys       roles.OwnerKeys // the keys verifiers were configured with before
	genesis    *roles.SignedState
	rot        *roles.SignedState // the handover state
	before     roles.BatchID      // signed by the old key, live
	after      roles.BatchID      // signed by the new key, live
}

func newSigner(t testing.TB) *roles.Ed25519Signer {
	t.Helper()
	s, err := roles.GenerateEd25519Signer(rand.Reader)
	require.NoError(t, err)
	return s
}

func newRotation(t *testing.T) *rotation {
	t.Helper()
	ctx := context.Background()
	r := &rotation{ctx: ctx, ownerStore: memory.NewOwnerStore(), srvStore: memory.NewServerStore(), old: newSigner(t), next: newSigner(t)}
	var err error
	r.l, err = roles.NewLocal(ctx, testCRS(t), r.ownerStore, r.srvStore, roles.WithSigner(r.old))
	require.NoError(t, err)
	r.keys = r.l.Owner.Keys()
	r.genesis, err = r.l.Owner.LatestState(ctx)
	require.NoError(t, err)
	o := r.l.Owner
	gone := createBatch(t, ctx, o, sampleBatch("a", 4, 1))
	r.before = createBatch(t, ctx, o, afterStream(o, sampleBatch("a", 4, 2)))
	_, err = o.Revoke(ctx, gone)
	require.NoError(t, err)

	r.rot, err = o.Rotate(ctx, r.next)
	require.NoError(t, err)
	require.Equal(t, r.next.KeyID(), r.rot.KeyID, "the handover state is signed by the new key")
	require.Equal(t, uint64(1), r.rot.State.Epoch, "a rotation keeps the epoch")
	require.Len(t, r.rot.Keys, 1)
	h := r.rot.Keys[0]
	require.Equal(t, r.old.KeyID(), h.From)
	require.Equal(t, r.next.KeyID(), h.To.ID)
	require.Equal(t, roles.KeyTime{Epoch: 1, At: r.rot.IssuedAt}, roles.KeyTime{Epoch: h.Epoch, At: h.At})

	sh, err := o.CreateBatch(ctx, afterStream(o, sampleBatch("a", 4, 3)))
	require.NoError(t, err, "the storage server learnt the new key from the handover state")
	require.Equal(t, r.next.KeyID(), sh.Header.KeyID)
	r.after, err = sh.Header.Digest()
	require.NoError(t, err)
	gone2 := createBatch(t, ctx, o, afterStream(o, sampleBatch("a", 4, 4)))
	st, err := o.Revoke(ctx, gone2)
	require.NoError(t, err)
	require.Equal(t, r.next.KeyID(), st.KeyID)
	require.Equal(t, uint64(2), st.State.Epoch)
	require.Len(t, st.Keys, 1, "every later state carries the handovers")
	return r
}

func (r *rotation) verifyBatch(t *testing.T, v *roles.Verifier, id roles.BatchID) error {
	t.Helper()
	q := rangeQ(id, 1, 4, "temp")
	ans, err := r.l.Server.Answer(r.ctx, q)
	require.NoError(t, err)
	_, err = v.Verify(r.ctx, q, ans)
	return err
}

// TestKeyRotation: verifiers that trust only the old key accept the new
// one from the chain alone — the one that was listening, and one that was
// offline during the rotation and catches up through it.
func TestKeyRotation(t *testing.T) {
	r := newRotation(t)
	// The owner's in-process verifier followed the rotation.
	online := r.l.Verifier
	ok := hasKey(online, r.next.KeyID())
	require.True(t, ok)
	require.NoError(t, r.verifyBatch(t, online, r.before), "headers signed before the rotation stay valid")
	require.NoError(t, r.verifyBatch(t, online, r.after))

	// Offline since epoch 0, configured with the old key only.
	offline, err := roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, roles.WithInitialState(r.genesis), roles.WithStateSource(r.l.Server))
	require.NoError(t, err)
	require.False(t, hasKey(offline, r.next.KeyID()))
	require.NoError(t, r.verifyBatch(t, offline, r.after), "catches up through the rotation epoch")
	k := offline.Owner()
	nk, ok := k.Key(r.next.KeyID())
	require.True(t, ok)
	require.Equal(t, r.next.Public(), nk)
	require.NoError(t, r.verifyBatch(t, offline, r.before))
	st := offline.State()
	require.Equal(t, uint64(2), st.State.Epoch)

	// Offline since epoch 1 (before the handover), catching up with Sync.
	sts, err := r.l.Server.States(r.ctx, 0, 1)
	require.NoError(t, err)
	mid, err := roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, roles.WithInitialState(&sts[1]), roles.WithStateSource(r.l.Server))
	require.NoError(t, err)
	require.NoError(t, mid.Sync(r.ctx))
	require.True(t, hasKey(mid, r.next.KeyID()))

	// A verifier configured after the rotation with the owner's keys.
	late, err := roles.NewVerifier(r.l.CRS.VerifierKey(), r.l.Owner.Keys(), roles.WithStateSource(r.l.Server), roles.WithTrustedSource(r.l.Owner))
	require.NoError(t, err)
	require.NoError(t, r.verifyBatch(t, late, r.after))
}

// TestKeyRotationRestart: the owner restarted with its new key goes on
// signing with it and carrying the handovers; with its old key it refuses
// to start; a restarted storage server knows the new key from its store.
func TestKeyRotationRestart(t *testing.T) {
	r := newRotation(t)
	_, err := roles.NewDataOwner(r.ctx, r.l.CRS, r.ownerStore, r.l.Server, roles.WithSigner(r.old))
	requireErrIs(t, err, roles.ErrKeyMismatch)

	srv, err := roles.NewStorageServer(r.l.CRS, r.keys, r.srvStore)
	require.NoError(t, err)
	o, err := roles.NewDataOwner(r.ctx, r.l.CRS, r.ownerStore, srv, roles.WithSigner(r.next))
	require.NoError(t, err)
	sh, err := o.CreateBatch(r.ctx, afterStream(o, sampleBatch("a", 4, 5)))
	require.NoError(t, err, "the restarted server accepts a header signed by the new key")
	require.Equal(t, r.next.KeyID(), sh.Header.KeyID)
	st, err := o.Refresh(r.ctx)
	require.NoError(t, err)
	require.Equal(t, r.next.KeyID(), st.KeyID)
	require.Len(t, st.Keys, 1)
	k := o.Keys()
	_, ok := k.Key(r.next.KeyID())
	require.True(t, ok)

	// Rotating again chains a second handover.
	third := newSigner(t)
	st, err = o.Rotate(r.ctx, third)
	require.NoError(t, err)
	require.Len(t, st.Keys, 2)
	v, err := roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, roles.WithInitialState(r.genesis), roles.WithStateSource(srv))
	require.NoError(t, err)
	require.NoError(t, v.Sync(r.ctx))
	vk := v.Owner()
	_, ok = vk.Key(third.KeyID())
	require.True(t, ok)
	_, err = o.Rotate(r.ctx, third)
	requireErrIs(t, err, roles.ErrInvalidInput)
}

func hasKey(v *roles.Verifier, id string) bool {
	k := v.Owner()
	_, ok := k.Key(id)
	return ok
}

// resign signs a copy of st with s at iat, carrying hs.
func resign(t *testing.T, st *roles.SignedState, s *roles.Ed25519Signer, iat int64, hs []roles.Handover) *roles.SignedState {
	t.Helper()
	c := *st
	c.IssuedAt, c.KeyID, c.Keys = iat, s.KeyID(), hs
	var err error
	c.Sig, err = s.Sign(context.Background(), stateMsg(t, &c))
	require.NoError(t, err)
	return &c
}

// TestKeyRotationRefused: what a verifier that knows the rotation refuses.
func TestKeyRotationRefused(t *testing.T) {
	r := newRotation(t)
	latest, err := r.l.Owner.LatestState(r.ctx)
	require.NoError(t, err)
	fresh := func() *roles.Verifier {
		v, err := roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, roles.WithInitialState(r.genesis))
		require.NoError(t, err)
		return v
	}
	v := r.l.Verifier

	t.Run("RetiredKeyAfterItsEpoch", func(t *testing.T) {
		for _, hs := range [][]roles.Handover{nil, latest.Keys} {
			bad := resign(t, latest, r.old, latest.IssuedAt+1, hs)
			requireErrIs(t, v.AcceptState(r.ctx, bad), roles.ErrRetiredKey)
			requireErrIs(t, r.l.Server.ApplyState(r.ctx, bad), roles.ErrRetiredKey)
		}
	})
	t.Run("RetiredKeyAtItsEpochLater", func(t *testing.T) {
		bad := resign(t, r.rot, r.old, r.rot.IssuedAt+5, r.rot.Keys)
		requireErrIs(t, v.AcceptState(r.ctx, bad), roles.ErrRetiredKey)
	})
	t.Run("NewKeyBeforeItsHandover", func(t *testing.T) {
		bad := resign(t, r.genesis, r.next, r.rot.IssuedAt-1, r.rot.Keys)
		requireErrIs(t, fresh().AcceptState(r.ctx, bad), roles.ErrRetiredKey)
	})
	forged := func(t *testing.T, sign, pop *roles.Ed25519Signer, to *roles.Ed25519Signer, from string) *roles.SignedState {
		h := roles.Handover{From: from, To: roles.SigningKey{ID: to.KeyID(), Key: to.Public()}, Epoch: latest.State.Epoch, At: latest.IssuedAt + 1}
		m := handoverMsg(latest.State.Owner, &h)
		h.Sig, _ = sign.Sign(r.ctx, m)
		h.PoP, _ = pop.Sign(r.ctx, m)
		return resign(t, latest, to, latest.IssuedAt+1, []roles.Handover{h})
	}
	t.Run("HandoverNotSignedByTheOldKey", func(t *testing.T) {
		evil := newSigner(t)
		bad := forged(t, evil, evil, evil, r.old.KeyID())
		requireErrIs(t, fresh().AcceptState(r.ctx, bad), roles.ErrBadSignature)
		requireErrIs(t, r.l.Server.ApplyState(r.ctx, bad), roles.ErrBadSignature)
	})
	t.Run("HandoverWithoutProofOfPossession", func(t *testing.T) {
		evil := newSigner(t)
		// Signed by the old key (leaked) for a key whose holder did not sign.
		other := newSigner(t)
		bad := forged(t, r.old, other, evil, r.old.KeyID())
		requireErrIs(t, fresh().AcceptState(r.ctx, bad), roles.ErrBadSignature)
	})
	t.Run("SecondHandoverByTheRetiredKey", func(t *testing.T) {
		// The old key leaked: it hands over again, after its retirement.
		evil := newSigner(t)
		h := latest.Keys[0]
		h2 := roles.Handover{From: r.old.KeyID(), To: roles.SigningKey{ID: evil.KeyID(), Key: evil.Public()}, Epoch: latest.State.Epoch, At: latest.IssuedAt + 1}
		m := handoverMsg(latest.State.Owner, &h2)
		h2.Sig, _ = r.old.Sign(r.ctx, m)
		h2.PoP, _ = evil.Sign(r.ctx, m)
		bad := resign(t, latest, evil, latest.IssuedAt+1, []roles.Handover{h, h2})
		requireErrIs(t, v.AcceptState(r.ctx, bad), roles.ErrRetiredKey)
		requireErrIs(t, fresh().AcceptState(r.ctx, bad), roles.ErrRetiredKey)
	})
	t.Run("TamperedHandover", func(t *testing.T) {
		bad := *latest
		bad.Keys = []roles.Handover{latest.Keys[0]}
		bad.Keys[0].At++
		requireErrIs(t, fresh().AcceptState(r.ctx, &bad), roles.ErrBadSignature)
		bad.Keys = nil // dropped handovers: the state's signature covers them
		requireErrIs(t, v.AcceptState(r.ctx, &bad), roles.ErrBadSignature)
	})
	t.Run("HeaderOfAnUnknownKey", func(t *testing.T) {
		// A verifier with no source cannot learn the key: refused.
		v, err := roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, roles.WithInitialState(r.genesis))
		require.NoError(t, err)
		requireErrIs(t, r.verifyBatch(t, v, r.after), roles.ErrBadSignature)
	})
	// Nothing refused was learnt or linked.
	st := v.State()
	require.Equal(t, latest.IssuedAt, st.IssuedAt)
	require.Len(t, v.Owner().Signing, 2)
}

// FuzzKeyHandovers: a decoded list of handovers never makes Extend panic;
// whatever it accepts adds at most one key per handover, each with its
// handover point, and changes none of the keys given.
func FuzzKeyHandovers(f *testing.F) {
	ctx := context.Background()
	old, next, third := newSigner(f), newSigner(f), newSigner(f)
	l, err := roles.NewLocal(ctx, testCRS(f), memory.NewOwnerStore(), memory.NewServerStore(), roles.WithSigner(old))
	if err != nil {
		f.Fatal(err)
	}
	keys := l.Owner.Keys()
	if _, err := l.Owner.Rotate(ctx, next); err != nil {
		f.Fatal(err)
	}
	st, err := l.Owner.Rotate(ctx, third)
	if err != nil {
		f.Fatal(err)
	}
	for _, hs := range [][]roles.Handover{st.Keys, st.Keys[:1], st.Keys[1:], nil} {
		b, err := codec.Default().Marshal(hs)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	owner := keys.ID()
	f.Fuzz(func(t *testing.T, data []byte) {
		var hs []roles.Handover
		if err := codec.Default().Unmarshal(data, &hs); err != nil {
			return
		}
		before := deepCopy(t, &keys)
		out, err := keys.Extend(owner, hs)
		require.Equal(t, before, deepCopy(t, &keys), "Extend changed its receiver")
		if err != nil {
			return
		}
		require.LessOrEqual(t, len(out.Signing), len(keys.Signing)+len(hs))
		for _, k := range out.Signing[len(keys.Signing):] {
			require.NotNil(t, k.Since)
		}
		require.NoError(t, out.Check())
	})
}

// TestKeyHandoverProperty: a valid chain of handovers with any one signed
// byte changed is refused.
func TestKeyHandoverProperty(t *testing.T) {
	ctx := context.Background()
	old := newSigner(t)
	l, err := roles.NewLocal(ctx, testCRS(t), memory.NewOwnerStore(), memory.NewServerStore(), roles.WithSigner(old))
	require.NoError(t, err)
	keys := l.Owner.Keys()
	var st *roles.SignedState
	for range 3 {
		st, err = l.Owner.Rotate(ctx, newSigner(t))
		require.NoError(t, err)
	}
	out, err := keys.Extend(keys.ID(), st.Keys)
	require.NoError(t, err)
	require.Len(t, out.Signing, 4)
	for i, k := range out.Signing[:3] {
		require.NotNil(t, k.Retired, "key %d retired", i)
	}
	require.Nil(t, out.Signing[3].Retired)
	for i := range st.Keys {
		for _, mut := range []func(h *roles.Handover){
			func(h *roles.Handover) { h.Epoch++ },
			func(h *roles.Handover) { h.At++ },
			func(h *roles.Handover) { h.Sig[i%64] ^= 1 },
			func(h *roles.Handover) { h.PoP[(i+7)%64] ^= 0x80 },
			func(h *roles.Handover) { h.To.Key[i%32] ^= 1 },
			func(h *roles.Handover) { h.From = h.To.ID },
		} {
			hs := *deepCopy(t, &st.Keys)
			mut(&hs[i])
			_, err := keys.Extend(keys.ID(), hs)
			require.Error(t, err, "handover %d", i)
		}
	}
	// Out of order: the second handover's key is not yet known.
	_, err = keys.Extend(keys.ID(), []roles.Handover{st.Keys[1], st.Keys[0]})
	requireErrIs(t, err, roles.ErrBadSignature)
}

// failingRotation is an owner store whose RotateKey fails (a crash before
// the commit): nothing of the rotation is kept.
type failingRotation struct{ *memory.OwnerStore }

func (failingRotation) RotateKey(context.Context, []byte, *roles.SignedState) error {
	return roles.ErrUnavailable
}

// TestKeyRotationStoredKey: an owner that keeps its key in its store
// rotates with RotateKey; the new seed is stored with the handover state,
// so the owner restarted from its store alone signs with the new key. A
// failed rotation leaves the old key, in the store and in the owner.
func TestKeyRotationStoredKey(t *testing.T) {
	ctx := context.Background()
	crs := testCRS(t)
	store, srv := memory.NewOwnerStore(), memory.NewServerStore()
	l, err := roles.NewLocal(ctx, crs, store, srv)
	require.NoError(t, err)
	o := l.Owner
	oldKeys := o.Keys()
	oldID := oldKeys.Signing[0].ID
	before := createBatch(t, ctx, o, sampleBatch("a", 4, 1))

	// A failed commit: the owner goes on with its old key.
	broken, err := roles.NewDataOwner(ctx, crs, failingRotation{store}, l.Server)
	require.NoError(t, err)
	_, err = broken.RotateKey(ctx)
	requireErrIs(t, err, roles.ErrUnavailable)
	st, err := broken.Refresh(ctx)
	require.NoError(t, err)
	require.Equal(t, oldID, st.KeyID)
	require.Empty(t, st.Keys)
	_, err = o.Rotate(ctx, notSeeded{newSigner(t)})
	requireErrIs(t, err, roles.ErrInvalidInput)

	// Restart after the failure, then rotate.
	o, err = roles.NewDataOwner(ctx, crs, store, l.Server)
	require.NoError(t, err)
	rot, err := o.RotateKey(ctx)
	require.NoError(t, err)
	require.NotEqual(t, oldID, rot.KeyID)
	require.Len(t, rot.Keys, 1)
	require.Equal(t, oldID, rot.Keys[0].From)
	newID := rot.KeyID

	// Restarted from its store alone: the new key.
	o, err = roles.NewDataOwner(ctx, crs, store, l.Server)
	require.NoError(t, err)
	sh, err := o.CreateBatch(ctx, afterStream(o, sampleBatch("a", 4, 2)))
	require.NoError(t, err)
	require.Equal(t, newID, sh.Header.KeyID)
	after, err := sh.Header.Digest()
	require.NoError(t, err)
	st, err = o.Revoke(ctx, before)
	require.NoError(t, err)
	require.Equal(t, newID, st.KeyID)
	require.Len(t, st.Keys, 1)

	// A verifier that trusts only the old key follows from the chain.
	v, err := roles.NewVerifier(crs.VerifierKey(), oldKeys, roles.WithStateSource(l.Server), roles.WithTrustedSource(o))
	require.NoError(t, err)
	q := rangeQ(after, 1, 4, "temp")
	ans, err := l.Server.Answer(ctx, q)
	require.NoError(t, err)
	_, err = v.Verify(ctx, q, ans)
	require.NoError(t, err)
	require.True(t, hasKey(v, newID))
	q = rangeQ(before, 1, 4, "temp")
	_, err = l.Server.Answer(ctx, q)
	requireErrIs(t, err, roles.ErrRevoked)
}

// TestKeyRotationExternalSigner: an owner with an external signer cannot
// make a key in its store: RotateKey refuses, with nothing changed.
func TestKeyRotationExternalSigner(t *testing.T) {
	ctx := context.Background()
	old := newSigner(t)
	l, err := roles.NewLocal(ctx, testCRS(t), memory.NewOwnerStore(), memory.NewServerStore(), roles.WithSigner(old))
	require.NoError(t, err)
	prev, err := l.Owner.LatestState(ctx)
	require.NoError(t, err)
	_, err = l.Owner.RotateKey(ctx)
	requireErrIs(t, err, roles.ErrExternalSigner)
	requireErrIs(t, err, roles.ErrConflict)
	latest, err := l.Owner.LatestState(ctx)
	require.NoError(t, err)
	require.Equal(t, prev, latest)
	st, err := l.Owner.Refresh(ctx)
	require.NoError(t, err)
	require.Equal(t, old.KeyID(), st.KeyID)
}

// notSeeded is a Signer whose key cannot be kept in a store.
type notSeeded struct{ s *roles.Ed25519Signer }

func (n notSeeded) KeyID() string             { return n.s.KeyID() }
func (n notSeeded) Public() ed25519.PublicKey { return n.s.Public() }
func (n notSeeded) Sign(ctx context.Context, m []byte) ([]byte, error) {
	return n.s.Sign(ctx, m)
}
