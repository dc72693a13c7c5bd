//go:build linux

package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/testproc"
)

// TestIngestFollowProcess is issue 17's follow mode as a user runs it:
// `vds ingest -follow` on a CSV file that grows and is rotated appends
// its rows through the running owner as they come, with a running status
// line; SIGTERM seals what it read and exits 0; one verified stream query
// then covers every row; running it again appends nothing.
func TestIngestFollowProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	c := startedCLI(t, 32)
	bin, dir := c.bin, c.dir

	file := filepath.Join(dir, "live.csv")
	write := func(path string, header bool, from, to int) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		require.NoError(t, err)
		if header {
			_, _ = f.WriteString("time,v\n")
		}
		for i := from; i < to; i++ {
			v := float64(i*7%23-11) / 10
			fmt.Fprintf(f, "%d,%s\n", 1_000_000+60*i, strconv.FormatFloat(v, 'f', 1, 64))
		}
		require.NoError(t, f.Close())
	}
	var sum int64
	for i := 0; i < 100; i++ {
		sum += int64(i*7%23 - 11)
	}
	write(file, true, 0, 50)

	follow := func() (*exec.Cmd, *testproc.Buffer, *testproc.Buffer) {
		cmd := exec.Command(bin, c.args("ingest", "-follow", "-file", file, "-stream", "live", "-time-col", "time", "-scale", "v=1", "-rows", "16", "-status", "100ms", "-json")...)
		cmd.Env = testproc.Env()
		var out, errb testproc.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd, &out, &errb
	}
	acked := func(errb *testproc.Buffer, n int) func() bool {
		return func() bool {
			return bytes.Contains([]byte(errb.String()), []byte(fmt.Sprintf(" %d rows acknowledged", n)))
		}
	}
	cmd, out, errb := follow()
	require.Eventually(t, acked(errb, 50), 20*time.Second, 20*time.Millisecond, "stderr: %s", errb.String())
	write(file, false, 50, 80)
	require.NoError(t, os.Rename(file, file+".1"))
	write(file, true, 80, 100)
	require.Eventually(t, acked(errb, 100), 20*time.Second, 20*time.Millisecond, "stderr: %s", errb.String())
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "exit 0 after SIGTERM; stderr: %s", errb.String())
	var res followJSON
	require.NoError(t, json.Unmarshal([]byte(out.String()), &res), out.String())
	require.Equal(t, 100, res.Acknowledged)
	require.Zero(t, res.Pending)
	require.Equal(t, uint64(7), res.Sealed) // 6 of 16 rows, then the last 4 on SIGTERM
	require.Contains(t, errb.String(), "done live: 100 rows acknowledged, 0 skipped (already stored), 7 batches sealed, 0 pending")

	var q queryJSON
	c.json(&q, "query", "-stream", "live", "-kind", "window", "-cols", "v", "-tfrom", "0", "-tto", "2000000")
	require.True(t, q.Verified)
	require.Equal(t, uint64(100), *q.Rows)
	require.Len(t, q.Batches, 7)
	require.Equal(t, []string{strconv.FormatInt(sum, 10)}, q.Raw)

	// Again over the rotated file: its rows are stored already.
	cmd, out, errb = follow()
	require.Eventually(t, func() bool { return bytes.Contains([]byte(errb.String()), []byte("20 skipped")) }, 20*time.Second, 20*time.Millisecond, "stderr: %s", errb.String())
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	require.NoError(t, cmd.Wait(), "stderr: %s", errb.String())
	require.NoError(t, json.Unmarshal([]byte(out.String()), &res), out.String())
	require.Zero(t, res.Acknowledged)
	require.Equal(t, 20, res.Skipped)
	c.json(&q, "query", "-stream", "live", "-kind", "window", "-cols", "v", "-tfrom", "0", "-tto", "2000000")
	require.Equal(t, uint64(100), *q.Rows)
}
