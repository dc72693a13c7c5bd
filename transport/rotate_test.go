package transport_test

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/transport"
)

// TestRotateKeyService: rotate_key over a Unix socket makes the owner hand
// its signing over to a new key; the storage server behind a transport and
// the subscribed verifier learn it from the handover state. An owner with
// an external signer refuses with conflict, naming the reason.
func TestRotateKeyService(t *testing.T) {
	ctx := context.Background()
	s := newSystem(t, "unix")
	old := s.owner.Keys().Signing[0].ID
	oc := transport.OwnerClient{T: serve(t, "unix", []*transport.Service{transport.OwnerService(s.owner, []byte("crs"))})}
	st, err := oc.RotateKey(ctx)
	require.NoError(t, err)
	require.Len(t, st.Keys, 1)
	h := st.Keys[0]
	require.Equal(t, old, h.From)
	require.Equal(t, h.To.ID, st.KeyID, "the handover state is signed by the new key")
	require.NotEqual(t, old, st.KeyID)
	latest, err := s.storage.LatestState(ctx)
	require.NoError(t, err)
	require.Equal(t, st.KeyID, latest.KeyID, "the storage server holds the handover state")
	vk := s.verifier.Owner()
	_, ok := vk.Key(st.KeyID)
	require.True(t, ok, "the verifier learnt the new key")
	sh, err := s.owner.CreateBatch(ctx, batch(4))
	require.NoError(t, err, "the storage server accepts a header of the new key")
	require.Equal(t, st.KeyID, sh.Header.KeyID)

	signer, err := roles.GenerateEd25519Signer(rand.Reader)
	require.NoError(t, err)
	l, err := roles.NewLocal(ctx, testCRS(t), memory.NewOwnerStore(), memory.NewServerStore(), roles.WithSigner(signer))
	require.NoError(t, err)
	ext := transport.OwnerClient{T: serve(t, "unix", []*transport.Service{transport.OwnerService(l.Owner, []byte("crs"))})}
	_, err = ext.RotateKey(ctx)
	require.ErrorIs(t, err, roles.ErrConflict)
	require.ErrorContains(t, err, "external signer")
	latest, err = l.Owner.LatestState(ctx)
	require.NoError(t, err)
	require.Equal(t, signer.KeyID(), latest.KeyID)
	require.Empty(t, latest.Keys)
}

// TestRotateKeyNotRetried: rotate_key, like every owner method its service
// marks as not idempotent, is never retried nor failed over (a retried
// rotation would rotate twice).
func TestRotateKeyNotRetried(t *testing.T) {
	require.False(t, transport.Idempotent(transport.ServiceOwner, "rotate_key"))
	l, err := roles.NewLocal(context.Background(), testCRS(t), memory.NewOwnerStore(), memory.NewServerStore())
	require.NoError(t, err)
	svc := transport.OwnerService(l.Owner, []byte("crs"))
	for _, name := range svc.Methods() {
		m, ok := svc.Method(name)
		require.True(t, ok)
		require.Equal(t, m.Idempotent, transport.Idempotent(svc.Name, name), name)
	}
}
