//go:build linux

package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/pgtest"
	"github.com/vdsproject/vds/internal/testkit"
	"github.com/vdsproject/vds/internal/testproc"
	"github.com/vdsproject/vds/transport"
)

// TestKeyRotateStandby: two owner processes share one PostgreSQL owner
// store under a lease; `vds key rotate -owner a,b` rotates the leader's
// key, and the standby that takes over signs with the new key, read from
// the store. A former leader whose term ended (SIGSTOPped past its lease)
// rotates nothing: `vds key rotate` sent to it alone is refused
// (not_leader) and the key stays. Sent to both, the call goes to the
// leader, and the next leader signs with the second key.
func TestKeyRotateStandby(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	dsn := pgtest.DSN(t)
	bin := testproc.Build(t)
	dir := t.TempDir()
	sock := func(name string) string { return "unix://" + filepath.Join(dir, name+".sock") }
	owners := sock("oa") + "," + sock("ob")
	c := &streamCLI{t: t, bin: bin, dir: dir, addr: []string{"-owner", owners, "-verifier", sock("v"), "-storage", sock("s")}}
	c.ok("setup", "-n", "64", "-q")
	_, keys := testkit.LoadPublic(t, dir)
	setupKid := keys.Signing[0].ID
	testproc.Start(t, bin, "storage", "serve", "-dir", dir, "-listen", sock("s"))
	waitUp(t, sock("s"), transport.ServiceStorage)
	testproc.Start(t, bin, "verifier", "serve", "-dir", dir, "-owner", owners, "-storage", sock("s"), "-listen", sock("v"))
	waitUp(t, sock("v"), transport.ServiceVerifier)
	startOwner := func(name string) *testproc.Proc {
		return testproc.Start(t, bin, "owner", "serve", "-dir", dir, "-storage", sock("s"), "-verifier", sock("v"),
			"-listen", sock(name), "-store", dsn, "-lease", haLease.String(), "-lease-renew", "500ms", "-heartbeat", "1s")
	}
	a := startOwner("oa")
	waitLeads(t, sock("oa"), 30*time.Second)
	b := startOwner("ob")
	waitUp(t, sock("ob"), transport.ServiceOwner)

	for i := range 4 {
		f := filepath.Join(dir, fmt.Sprintf("b%d.csv", i))
		t0 := 1000 + 1000*i
		require.NoError(t, os.WriteFile(f, []byte(fmt.Sprintf("timestamp,temp\n%d,21.5\n%d,21.8\n", t0, t0+60)), 0o600))
		require.Contains(t, c.ok("ingest", "-file", f, "-stream", "g", "-scale", "temp=1"), "1 new")
	}
	l := c.list()
	require.Len(t, l.Batches, 4)
	rotate := func(owner string) (keyRotateJSON, string, error) {
		out, err := testproc.Run(bin, "key", "rotate", "-dir", dir, "-owner", owner, "-json")
		var kr keyRotateJSON
		if err == nil {
			require.NoError(t, json.Unmarshal([]byte(out), &kr), out)
		}
		return kr, out, err
	}
	// Clients that try b first, while a is frozen (a frozen owner accepts
	// connections and never answers: a mutation sent to it is not failed
	// over).
	cb := &streamCLI{t: t, bin: bin, dir: dir, addr: []string{"-owner", sock("ob") + "," + sock("oa"), "-verifier", sock("v"), "-storage", sock("s")}}
	kid := func(c *streamCLI) string {
		var st stateJSON
		c.json(&st, "state")
		return st.Owner.KeyID
	}

	k1, out, err := rotate(owners)
	require.NoError(t, err, out)
	require.Equal(t, setupKid, k1.OldKeyID)
	c.ok("revoke", "-batch", l.Batches[0].ID)
	require.Equal(t, k1.NewKeyID, kid(c))

	// Freeze the leader past its lease: the standby leads, with the new key
	// it reads from the store.
	require.NoError(t, a.Cmd.Process.Signal(syscall.SIGSTOP))
	waitLeads(t, sock("ob"), haLease+time.Second)
	cb.ok("revoke", "-batch", l.Batches[1].ID)
	require.Equal(t, k1.NewKeyID, kid(cb), "the new leader signs with the rotated key")
	require.NoError(t, a.Cmd.Process.Signal(syscall.SIGCONT))

	// The woken former leader rotates nothing.
	_, out, err = rotate(sock("oa"))
	require.Error(t, err, out)
	require.Contains(t, out, "not the leading owner")
	require.Eventually(t, func() bool { return !leads(sock("oa")) }, 5*time.Second, 50*time.Millisecond)
	require.Equal(t, k1.NewKeyID, kid(c))

	// Sent to both, the rotation reaches the leader; the next leader
	// signs with the second key.
	k2, out, err := rotate(owners)
	require.NoError(t, err, out)
	require.Equal(t, k1.NewKeyID, k2.OldKeyID)
	require.Equal(t, 2, k2.Handover)
	b.Kill()
	waitLeads(t, sock("oa"), haLease+time.Second)
	c.ok("revoke", "-batch", l.Batches[2].ID)
	require.Equal(t, k2.NewKeyID, kid(c))

	chain := storageChain(t, sock("s"))
	require.Equal(t, uint64(3), chain[len(chain)-1].State.Epoch)
	require.Equal(t, k2.NewKeyID, chain[3].KeyID)
	require.Len(t, chain[3].Keys, 2)
	require.Eventually(t, func() bool { return verifierEpoch(sock("v")) == 3 }, 10*time.Second, 50*time.Millisecond,
		"the verifier, configured with the setup key, follows both rotations")
	var q queryJSON
	c.json(&q, "query", "-batch", l.Batches[3].ID, "-kind", "range", "-cols", "temp")
	require.True(t, q.Verified)
	_, _, code := c.run("query", "-batch", l.Batches[2].ID, "-kind", "range", "-cols", "temp")
	require.NotZero(t, code, "a batch revoked by the second key's state")
}
