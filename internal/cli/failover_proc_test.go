//go:build linux

package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/testproc"
	"github.com/vdsproject/vds/transport"
)

// -storage (and VDS_STORAGE) takes a list of replicas: the owner, the
// verifier and the client commands fail over from an address where nothing
// listens to the storage server, and `vds state` shows each replica.
func TestStorageListFailsOver(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := testproc.Build(t)
	dir := t.TempDir()
	sock := func(name string) string { return "unix://" + filepath.Join(dir, name+".sock") }
	storages := sock("gone") + "," + sock("s")
	c := &streamCLI{t: t, bin: bin, dir: dir, addr: []string{"-owner", sock("o"), "-verifier", sock("v"), "-storage", storages}}
	c.ok("setup", "-n", "64", "-q")
	common := []string{"-dir", dir, "-owner", sock("o"), "-storage", storages}
	testproc.Start(t, bin, "storage", "serve", "-dir", dir, "-listen", sock("s"))
	waitUp(t, sock("s"), transport.ServiceStorage)
	testproc.Start(t, bin, append([]string{"verifier", "serve", "-listen", sock("v")}, common...)...)
	om := freeAddr(t) // the owner's metrics count its fail-overs
	owner := testproc.Start(t, bin, append([]string{"owner", "serve", "-listen", sock("o"), "-verifier", sock("v"), "-metrics", om}, common...)...)
	waitUp(t, sock("v"), transport.ServiceVerifier)
	waitUp(t, sock("o"), transport.ServiceOwner)

	file := filepath.Join(dir, "r.csv")
	require.NoError(t, os.WriteFile(file, []byte("timestamp,temp\n1000,21.5\n1060,21.8\n1120,-1.2\n"), 0o600))
	require.Contains(t, c.ok("ingest", "-file", file, "-stream", "g", "-scale", "temp=1"), "1 new")
	require.Eventually(t, func() bool { return strings.Contains(owner.Log.String(), "failing over") }, 10*time.Second, 20*time.Millisecond,
		"the owner logs its fail-over")
	_, metrics := getURL(t, "http://"+om+"/metrics")
	require.Regexp(t, `(?m)^vds_client_failovers_total [1-9]`, metrics, "the owner counts its fail-overs")

	var l listJSON
	c.json(&l, "list")
	require.Len(t, l.Batches, 1)
	var q queryJSON
	c.json(&q, "query", "-batch", l.Batches[0].ID, "-kind", "range", "-cols", "temp")
	require.True(t, q.Verified)
	require.Equal(t, []string{"42.1"}, q.Values)

	// The environment variable, with no -storage flag.
	cmd := exec.Command(bin, "list", "-dir", dir, "-json")
	cmd.Env = append(testproc.Env(), "VDS_STORAGE="+storages)
	out, err := cmd.Output()
	require.NoError(t, err)
	var l2 listJSON
	require.NoError(t, json.Unmarshal(out, &l2))
	require.Len(t, l2.Batches, 1)

	// vds state: each replica; one unreachable is a server down (exit 3).
	stdout, errOut, code := c.run("state", "-json")
	require.Equal(t, exitDown, code, errOut)
	var st stateJSON
	require.NoError(t, json.Unmarshal([]byte(stdout), &st), stdout)
	require.Len(t, st.Replicas, 2)
	require.Equal(t, sock("gone"), st.Replicas[0].Addr)
	require.False(t, st.Replicas[0].Reachable)
	require.True(t, st.Replicas[1].Reachable)
	require.True(t, st.Storage.Reachable, "storage: the first replica that answers")
	human, _, code := c.run("state")
	require.Equal(t, exitDown, code)
	require.Contains(t, human, "storage "+sock("gone")+": unreachable")
	require.Contains(t, human, "storage "+sock("s")+": epoch 0")

	// One address: unchanged.
	var l3 listJSON
	c.json(&l3, "list", "-storage", sock("s"))
	require.Equal(t, l.Batches[0].ID, l3.Batches[0].ID)
}
