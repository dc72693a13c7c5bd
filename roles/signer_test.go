package roles_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

// TestCryptoSigner: any crypto.Signer with an Ed25519 key signs for the
// owner (here an ed25519.PrivateKey, as a KMS or PKCS#11 key would); one
// with another key type is refused.
func TestCryptoSigner(t *testing.T) {
	ctx := t.Context()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	s, err := roles.NewCryptoSigner(key)
	require.NoError(t, err)
	require.Equal(t, roles.KeyID(key.Public().(ed25519.PublicKey)), s.KeyID())
	require.NotContains(t, fmt24(s), string(key.Seed()))
	l, err := roles.NewLocal(ctx, testCRS(t), memory.NewOwnerStore(), memory.NewServerStore(), roles.WithSigner(s))
	require.NoError(t, err)
	id := createBatch(t, ctx, l.Owner, sampleBatch("s", 8, 1))
	_, err = l.Query(ctx, rangeQ(id, 1, 8, "temp"))
	require.NoError(t, err)

	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	_, err = roles.NewCryptoSigner(ec)
	require.ErrorIs(t, err, roles.ErrInvalidInput)
	_, err = roles.NewCryptoSigner(nil)
	require.ErrorIs(t, err, roles.ErrInvalidInput)
}

func fmt24(s roles.Signer) string {
	type stringer interface{ String() string }
	if x, ok := s.(stringer); ok {
		return x.String()
	}
	return ""
}
