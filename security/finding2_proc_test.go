//go:build linux

package security

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/testproc"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// TestFinding2ProcessesPushLost runs the three servers as `vds … serve`
// processes with the owner's pushes to the verifier going nowhere (every
// push is lost, as when the owner → verifier path is dropped during a
// revoke). The verifier's poll brings it the revocation within its poll
// interval; the lag is logged.
func TestFinding2ProcessesPushLost(t *testing.T) {
	bin := testproc.Build(t)
	dir := t.TempDir()
	out, err := testproc.Run(bin, "setup", "-dir", dir, "-n", "8", "-q")
	require.NoError(t, err, out)
	sock := func(name string) string { return "unix://" + filepath.Join(dir, name+".sock") }
	common := []string{"-dir", dir, "-owner", sock("owner"), "-storage", sock("storage")}
	st := testproc.Start(t, bin, append([]string{"storage", "serve", "-listen", sock("storage")}, common...)...)
	defer st.Stop()
	v := testproc.Start(t, bin, append([]string{"verifier", "serve", "-listen", sock("verifier"), "-poll", "300ms"}, common...)...)
	defer v.Stop()
	o := testproc.Start(t, bin, append([]string{"owner", "serve", "-listen", sock("owner"), "-verifiers", sock("nowhere")}, common...)...)
	defer o.Stop()
	waitHealth(t, st, sock("storage"), transport.ServiceStorage)
	waitHealth(t, v, sock("verifier"), transport.ServiceVerifier)
	waitHealth(t, o, sock("owner"), transport.ServiceOwner)

	ctx := context.Background()
	owner := transport.OwnerClient{T: trDial(t, sock("owner"))}
	verifier := transport.VerifierClient{T: trDial(t, sock("verifier"))}
	cr, err := owner.CreateBatch(ctx, trBatch("lost-push", 4))
	require.NoError(t, err)
	id, err := cr.Header.Header.Digest()
	require.NoError(t, err)
	epoch := func() uint64 {
		h, err := verifier.Health(ctx)
		require.NoError(t, err)
		return h.Epoch
	}
	require.Eventually(t, func() bool {
		h, err := verifier.Health(ctx)
		return err == nil && h.HasEpoch
	}, 20*time.Second, 50*time.Millisecond, "the verifier anchors at the owner")

	storage := transport.StorageClient{T: trDial(t, sock("storage"))}
	q := &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: []string{"v"}, From: 1, To: 4}
	old, err := storage.Answer(ctx, q) // what a storage server rolled back would replay
	require.NoError(t, err)
	_, err = verifier.Verify(ctx, q, old)
	require.NoError(t, err)

	revoking := time.Now()
	_, err = owner.Revoke(ctx, id)
	require.NoError(t, err)
	revoked := time.Now()
	require.Eventually(t, func() bool { return epoch() == 1 }, 10*time.Second, 20*time.Millisecond,
		"the verifier must learn of the revocation by polling the owner\n%s", o.Log.String())
	t.Logf("verifier at the new epoch %s after the revoke call began (the call took %s, its push retried and lost; poll interval 300ms)",
		time.Since(revoking).Round(time.Millisecond), revoked.Sub(revoking).Round(time.Millisecond))

	_, err = verifier.Verify(ctx, q, old)
	require.ErrorIs(t, err, roles.ErrStaleState, "the replayed answer about the revoked batch")
}
