//go:build linux

package cli

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/testproc"
)

// TestMetricsAndStateCommand starts the three servers with -metrics
// addresses: each serves /metrics, /healthz and /readyz; the counters move
// as the command calls them; vds state shows each storage address's
// readiness, an unreachable one too.
func TestMetricsAndStateCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := testproc.Build(t)
	dir := t.TempDir()
	sock := func(n string) string { return "unix://" + filepath.Join(dir, n) }
	c := &streamCLI{t: t, bin: bin, dir: dir, addr: []string{"-owner", sock("o.sock"), "-storage", sock("s.sock"), "-verifier", sock("v.sock")}}
	c.ok("setup", "-n", "16", "-q")
	sm, vm, om := freeAddr(t), freeAddr(t), freeAddr(t)
	out := c.ok("start", "-storage-metrics", sm, "-verifier-metrics", vm, "-owner-metrics", om)
	t.Cleanup(func() { c.run("stop") })
	require.Contains(t, out, "metrics on http://"+sm+"/metrics")

	// Every server is alive and, once the owner has pushed its state and
	// the verifier has anchored, ready.
	for _, a := range []string{sm, vm, om} {
		code, body := getURL(t, "http://"+a+"/healthz")
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "ok\n", body)
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, body = getURL(t, "http://"+a+"/readyz")
			if code == http.StatusOK || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		require.Equal(t, http.StatusOK, code, "%s: %s", a, body)
	}

	count := func(addr, series string) string {
		_, body := getURL(t, "http://"+addr+"/metrics")
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, series+" ") {
				return strings.TrimPrefix(l, series+" ")
			}
		}
		return ""
	}
	health := `vds_requests_total{method="health",outcome="ok",service="storage"}`
	before := count(sm, health)

	var st stateJSON
	c.json(&st, "state")
	require.True(t, st.Storage.Reachable)
	require.NotNil(t, st.Storage.Ready)
	require.True(t, *st.Storage.Ready, st.Storage.NotReady)
	require.NotNil(t, st.Verifier.Ready)
	require.True(t, *st.Verifier.Ready, st.Verifier.NotReady)
	require.Empty(t, st.Replicas, "one storage address: no replica list")
	require.NotEqual(t, before, count(sm, health), "the storage server counted vds state's health call")
	require.Equal(t, "0", count(vm, `vds_state_epoch{role="verifier"}`))
	require.Equal(t, "0", count(om, `vds_state_epoch{role="owner"}`))
	require.Contains(t, c.ok("state"), "storage:  epoch 0, ready")

	// Two storage addresses, the second one down: each is shown, and the
	// command says a server is unreachable (exit 3).
	two := []string{"state", "-storage", sock("s.sock") + "," + sock("gone.sock")}
	stdout, stderr, code := c.run(append(two, "-json")...)
	require.Equal(t, exitDown, code, stderr)
	require.NoError(t, json.Unmarshal([]byte(stdout), &st), stdout)
	require.Len(t, st.Replicas, 2)
	require.Equal(t, sock("s.sock"), st.Replicas[0].Addr)
	require.True(t, *st.Replicas[0].Ready)
	require.Equal(t, st.Replicas[0].serverStateJSON, st.Storage, "storage is the first replica that answers")
	require.False(t, st.Replicas[1].Reachable)
	require.Nil(t, st.Replicas[1].Ready)
	require.NotEmpty(t, st.Replicas[1].Error)
	// The first address down: storage is the second.
	stdout, _, code = c.run("state", "-storage", sock("gone.sock")+","+sock("s.sock"), "-json")
	require.Equal(t, exitDown, code)
	require.NoError(t, json.Unmarshal([]byte(stdout), &st), stdout)
	require.True(t, st.Storage.Reachable)
	require.True(t, *st.Storage.Ready)
	stdout, _, _ = c.run(two...)
	require.Contains(t, stdout, "storage "+sock("s.sock")+": epoch 0, ready")
	require.Contains(t, stdout, "storage "+sock("gone.sock")+": unreachable")
}
