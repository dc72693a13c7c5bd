package transport_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/transport"
)

// serveSigner runs a signer server with key on a fresh socket.
func serveSigner(t *testing.T, key crypto.Signer) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "signer.sock")
	ln, err := transport.ListenSigner(path)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- transport.ServeSigner(ctx, ln, key) }()
	t.Cleanup(func() {
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
	})
	return path
}

// TestSignerOverUnixSocket: an owner whose key is in a signer server signs
// its states and headers through it; a verifier accepts them; the owner's
// store holds no signing key; the socket is 0600.
func TestSignerOverUnixSocket(t *testing.T) {
	ctx := t.Context()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	path := serveSigner(t, key)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	sc, err := transport.DialSigner(ctx, path)
	require.NoError(t, err)
	require.Equal(t, key.Public(), sc.Public())
	store := memory.NewOwnerStore()
	l, err := roles.NewLocal(ctx, testCRS(t), store, memory.NewServerStore(), roles.WithSigner(sc))
	require.NoError(t, err)
	require.Equal(t, roles.KeyID(key.Public().(ed25519.PublicKey)), l.Owner.Keys().Signing[0].ID)
	sh, err := l.Owner.CreateBatch(ctx, batch(8))
	require.NoError(t, err)
	id, _ := sh.Header.Digest()
	res, err := l.Query(ctx, &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: []string{"v"}, From: 1, To: 8})
	require.NoError(t, err)
	require.NotNil(t, res)
	_, err = l.Owner.Revoke(ctx, id)
	require.NoError(t, err)
	require.EqualValues(t, 1, l.Verifier.State().State.Epoch)
	sec, err := store.Secrets(ctx)
	require.NoError(t, err)
	require.Empty(t, sec.SigningSeed, "the owner's store holds no signing key")

	// Reopened without its signer, the owner refuses to start; with
	// another key, too.
	_, err = roles.NewDataOwner(ctx, testCRS(t), store, l.Server)
	require.ErrorIs(t, err, roles.ErrKeyMismatch)
	other, err := roles.GenerateEd25519Signer(rand.Reader)
	require.NoError(t, err)
	_, err = roles.NewDataOwner(ctx, testCRS(t), store, l.Server, roles.WithSigner(other))
	require.ErrorIs(t, err, roles.ErrKeyMismatch)
	_, err = roles.NewDataOwner(ctx, testCRS(t), store, l.Server, roles.WithSigner(sc))
	require.NoError(t, err)
}

// liar signs with another key than the one it presents.
type liar struct {
	ed25519.PrivateKey
	other ed25519.PrivateKey
}

func (l liar) Sign(r io.Reader, msg []byte, o crypto.SignerOpts) ([]byte, error) {
	return l.other.Sign(r, msg, o)
}

// TestSignerRefusals: a key whose signatures do not verify under the public
// key it presents is caught by the signer, which fails the call
// (ErrSignerFailed); a signer with a
// key that is not Ed25519 does not start; a message that is not a digest
// is refused before it leaves; a gone signer is ErrUnavailable.
func TestSignerRefusals(t *testing.T) {
	ctx := t.Context()
	_, a, _ := ed25519.GenerateKey(rand.Reader)
	_, b, _ := ed25519.GenerateKey(rand.Reader)
	sc, err := transport.DialSigner(ctx, serveSigner(t, liar{a, b}))
	require.NoError(t, err)
	_, err = sc.Sign(ctx, make([]byte, 32))
	require.ErrorIs(t, err, transport.ErrSignerFailed)
	require.ErrorContains(t, err, "does not verify")
	_, err = sc.Sign(ctx, make([]byte, 33))
	require.ErrorIs(t, err, roles.ErrInvalidInput)

	ln, err := transport.ListenSigner(filepath.Join(t.TempDir(), "s.sock"))
	require.NoError(t, err)
	defer ln.Close()
	require.ErrorIs(t, transport.ServeSigner(ctx, ln, notEd25519{}), roles.ErrInvalidInput)

	_, err = transport.DialSigner(ctx, filepath.Join(t.TempDir(), "none.sock"))
	require.ErrorIs(t, err, roles.ErrUnavailable)
}

type notEd25519 struct{}

func (notEd25519) Public() crypto.PublicKey { return []byte("rsa?") }
func (notEd25519) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, nil
}
