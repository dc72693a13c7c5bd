//go:build linux

package cli

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/testproc"
)

// TestSignerProcess: the owner's signing key lives in a separate `vds
// signer serve` process. Set-up, the owner's server (through `vds start
// -signer`), ingest, a verified query and a revocation all work, and no
// file of the deployment's data directory holds the key (neither the raw
// seed nor its hex); `vds key rotate` is refused (the key is the
// signer's); the owner refuses to start without the signer.
func TestSignerProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := testproc.Build(t)
	dir, keyDir := t.TempDir(), t.TempDir()
	key, sock := filepath.Join(keyDir, "owner.key"), filepath.Join(keyDir, "signer.sock")
	out, err := testproc.Run(bin, "signer", "keygen", "-key", key)
	require.NoError(t, err, out)
	fi, err := os.Stat(key)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	_, err = testproc.Run(bin, "signer", "keygen", "-key", key)
	require.Error(t, err, "keygen never replaces a key")
	hexSeed, err := os.ReadFile(key)
	require.NoError(t, err)
	seed, err := hex.DecodeString(strings.TrimSpace(string(hexSeed)))
	require.NoError(t, err)

	signer := testproc.Start(t, bin, "signer", "serve", "-key", key, "-socket", sock)
	require.Eventually(t, func() bool { _, err := os.Stat(sock); return err == nil }, 10*time.Second, 20*time.Millisecond, signer.Log.String())
	fi, err = os.Stat(sock)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	c := &streamCLI{t: t, bin: bin, dir: dir, addr: []string{
		"-owner", "unix://" + filepath.Join(dir, "o.sock"),
		"-storage", "unix://" + filepath.Join(dir, "s.sock"),
		"-verifier", "unix://" + filepath.Join(dir, "v.sock"),
	}}
	c.ok("setup", "-n", "64", "-q", "-signer", "unix:"+sock)
	c.ok("start", "-signer", "unix:"+sock)
	t.Cleanup(func() { c.run("stop") })

	file := filepath.Join(dir, "w.csv")
	jan := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	weather(t, file, jan, jan.AddDate(0, 0, 2), 1)
	c.ok("ingest", "-file", file, "-stream", "paris", "-time-col", "time", "-cols", "temp,dew")
	l := c.list()
	require.NotEmpty(t, l.Batches)
	var q queryJSON
	c.json(&q, "query", "-batch", l.Batches[0].ID, "-kind", "range", "-cols", "temp")
	c.ok("revoke", "-batch", l.Batches[0].ID)
	_, errOut, code := c.run("query", "-batch", l.Batches[0].ID, "-kind", "range", "-cols", "temp")
	require.NotZero(t, code, "a revoked batch")
	require.NotEmpty(t, errOut)

	// The signer's key is outside the owner: `vds key rotate` is refused,
	// with the reason, and nothing changes.
	var before stateJSON
	c.json(&before, "state")
	out, err = testproc.Run(bin, append([]string{"key", "rotate", "-dir", dir}, c.addr...)...)
	require.Error(t, err, out)
	require.Contains(t, out, "external signer")
	var after stateJSON
	c.json(&after, "state")
	require.Equal(t, before.Owner.KeyID, after.Owner.KeyID)
	require.Equal(t, before.Owner.Epoch, after.Owner.Epoch)

	// No file of the deployment holds the signing key.
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeSocket != 0 {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, seed) || bytes.Contains(b, bytes.TrimSpace(hexSeed)) {
			t.Errorf("%s holds the signing key", p)
		}
		return nil
	}))

	// Nor does the owner's process memory, while the signer's does (the
	// check can fail).
	pidText, err := os.ReadFile(filepath.Join(dir, "run", "owner.pid"))
	require.NoError(t, err)
	ownerPID, err := strconv.Atoi(strings.TrimSpace(string(pidText)))
	require.NoError(t, err)
	require.False(t, memoryHolds(t, ownerPID, seed), "the owner's process memory holds the signing key")
	require.True(t, memoryHolds(t, signer.Cmd.Process.Pid, seed), "the signer's process memory holds the key (the scan works)")

	// Without its signer the owner does not start.
	c.ok("stop")
	out, err = testproc.Run(bin, "owner", "serve", "-dir", dir, "-listen", "unix://"+filepath.Join(dir, "o2.sock"), "-storage", "unix://"+filepath.Join(dir, "s.sock"))
	require.Error(t, err)
	require.Contains(t, out, "no signing key")
}

// memoryHolds reports whether the readable memory of process pid holds
// secret: every mapping of /proc/PID/maps read through /proc/PID/mem (a
// child of this test, the same user).
func memoryHolds(t *testing.T, pid int, secret []byte) bool {
	t.Helper()
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	require.NoError(t, err)
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	require.NoError(t, err)
	defer mem.Close()
	const chunk = 1 << 20
	read := 0
	buf := make([]byte, chunk+len(secret))
	for _, line := range strings.Split(string(maps), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[1][0] != 'r' {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		for off := start; off < end; off += chunk {
			n, _ := mem.ReadAt(buf[:min(uint64(len(buf)), end-off)], int64(off))
			read += n
			if bytes.Contains(buf[:n], secret) {
				return true
			}
		}
	}
	require.Greater(t, read, 1<<20, "process %d: its memory could not be read", pid)
	return false
}
