// Issue 16 (security, second round): the findings of this file's part.
//
//   - Under -tls-dir every role had the same client certificate, so a
//     storage replica or a verifier holding it could call the owner's
//     mutations (TestIssue16SharedCertificate).
//   - Precomputation kept, and could build, proof tables of revoked
//     batches (TestIssue16RevokedBatchTables).

package security

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	vds "github.com/vdsproject/vds"
	"github.com/vdsproject/vds/internal/devpki"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/transport"
)

// A storage replica's or a verifier's certificate, or a certificate that
// names no role (the shared client certificate of the old development
// PKI), cannot call the owner's mutations over mutual TLS, nor push a state
// to a verifier; the admin's certificate can call the mutations.
func TestIssue16SharedCertificate(t *testing.T) {
	ctx := context.Background()
	d := newTrDeployment(t)
	dir := t.TempDir()
	ca, err := devpki.NewCA()
	require.NoError(t, err)
	pki, err := ca.WriteRoles(dir)
	require.NoError(t, err)
	old := filepath.Join(dir, "client.pem")
	require.NoError(t, ca.Issue(old, filepath.Join(dir, "client-key.pem"), "vds client", false, nil))
	stc, err := transport.ServerTLS(pki.Certs["owner"], pki.Keys["owner"], pki.CA)
	require.NoError(t, err)
	addr := "https://" + trServeHTTP(t, []*transport.Service{transport.OwnerService(d.owner, nil), transport.VerifierService(d.verifier)}, transport.WithTLS(stc))
	as := func(cert, key string) transport.Transport {
		c, err := transport.ClientTLS(pki.CA, cert, key)
		require.NoError(t, err)
		return trDial(t, addr, transport.WithTLS(c))
	}
	require.NoError(t, d.verifier.Sync(ctx))
	before, err := d.owner.LatestState(ctx)
	require.NoError(t, err)
	for name, tr := range map[string]transport.Transport{
		"storage":     as(pki.Certs["storage"], pki.Keys["storage"]),
		"verifier":    as(pki.Certs["verifier"], pki.Keys["verifier"]),
		"owner":       as(pki.Certs["owner"], pki.Keys["owner"]),
		"old dev PKI": as(old, filepath.Join(dir, "client-key.pem")),
	} {
		_, err := transport.OwnerClient{T: tr}.CreateBatch(ctx, trBatch("intruder", 2))
		require.ErrorIs(t, err, vds.ErrUnauthorized, name)
		_, err = transport.OwnerClient{T: tr}.Refresh(ctx)
		require.ErrorIs(t, err, vds.ErrUnauthorized, name)
		if name == "old dev PKI" {
			require.ErrorContains(t, err, "vds setup -tls again")
		}
	}
	after, err := d.owner.LatestState(ctx)
	require.NoError(t, err)
	require.Equal(t, before.IssuedAt, after.IssuedAt, "no refused call re-signed the state")

	admin := as(pki.Certs["admin"], pki.Keys["admin"])
	st, err := transport.OwnerClient{T: admin}.Refresh(ctx)
	require.NoError(t, err, "the admin's certificate is the owner's credential")
	err = transport.VerifierClient{T: admin}.AcceptState(ctx, st)
	require.ErrorIs(t, err, vds.ErrUnauthorized, "only the owner pushes states to verifiers")
	require.Less(t, d.verifier.State().IssuedAt, st.IssuedAt)
	require.NoError(t, transport.VerifierClient{T: as(pki.Certs["owner"], pki.Keys["owner"])}.AcceptState(ctx, st))
	require.Equal(t, st.IssuedAt, d.verifier.State().IssuedAt)
}

// After a revocation the revoked batch has no proof table, and the
// precomputation does not build one again.
func TestIssue16RevokedBatchTables(t *testing.T) {
	ctx := context.Background()
	store := memory.NewServerStore()
	l, err := roles.NewLocal(ctx, trCRS(t), memory.NewOwnerStore(), store)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Server.Close() })
	sh, err := l.Owner.CreateBatch(ctx, batch("s", 8, 100))
	require.NoError(t, err)
	id, err := sh.Header.Digest()
	require.NoError(t, err)
	require.NoError(t, l.Server.WaitPrecomputed(ctx))
	cols, _, err := store.ProofTables(ctx, id)
	require.NoError(t, err)
	require.NotEmpty(t, cols)
	_, err = l.Owner.Revoke(ctx, id)
	require.NoError(t, err)
	_, err = l.Server.ResumePrecompute(ctx)
	require.NoError(t, err)
	require.NoError(t, l.Server.WaitPrecomputed(ctx))
	cols, size, err := store.ProofTables(ctx, id)
	require.NoError(t, err)
	require.Empty(t, cols)
	require.Zero(t, size)
}
