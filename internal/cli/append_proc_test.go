//go:build linux

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/testproc"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// TestAppendRowsSurvivesSIGKILL is issue 17's "done when": a client
// appends 100,000 rows at full speed through `vds owner serve`'s
// append_rows (batches of 4096 rows, bbolt owner store) while the owner is
// SIGKILLed at five random points and restarted. After each restart the
// stream's last acknowledged timestamp is at least every timestamp a
// response acknowledged (no acknowledged row lost); the client resumes
// after it. At the end one verified stream query over everything counts
// exactly the acknowledged rows with exactly their total, in gap-free
// batches that never overlap (no row in two batches).
func TestAppendRowsSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	const (
		total = 100_000
		chunk = 1000
		kills = 5
	)
	bin := testproc.Build(t)
	dir := t.TempDir()
	sock := func(name string) string { return "unix://" + filepath.Join(dir, name+".sock") }
	c := &streamCLI{t: t, bin: bin, dir: dir, addr: []string{"-owner", sock("o"), "-verifier", sock("v"), "-storage", sock("s")}}
	c.ok("setup", "-n", "4096", "-q")
	testproc.Start(t, bin, "storage", "serve", "-dir", dir, "-listen", sock("s"), "-precompute=false")
	waitUp(t, sock("s"), transport.ServiceStorage)
	startOwner := func() *testproc.Proc {
		return testproc.Start(t, bin, "owner", "serve", "-dir", dir, "-storage", sock("s"), "-verifier", sock("v"),
			"-listen", sock("o"), "-append-rows", "4096", "-append-age", "300ms")
	}
	owner := startOwner()
	waitUp(t, sock("o"), transport.ServiceOwner)
	testproc.Start(t, bin, "verifier", "serve", "-dir", dir, "-owner", sock("o"), "-storage", sock("s"), "-listen", sock("v"))
	waitUp(t, sock("v"), transport.ServiceVerifier)

	value := func(ts uint64) int64 { return int64(ts%1000) - 400 }
	cols := []roles.ColumnInfo{{Name: "v"}}
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, 17))
	t.Logf("kill points from seed %d", seed)
	// Kill points: after these many acknowledged rows, plus a random delay
	// so that the kill lands inside a call, a seal or a store.
	var at []int64
	for range kills {
		at = append(at, 2000+r.Int64N(total-12_000))
	}
	slices.Sort(at)
	var acked atomic.Int64 // highest timestamp a response acknowledged (= rows, ts from 1)
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		for i, a := range at {
			for acked.Load() < a {
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(time.Duration(r.IntN(400)) * time.Millisecond)
			t.Logf("kill %d: SIGKILL the owner after %d acknowledged rows", i+1, acked.Load())
			owner.Kill()
			owner = startOwner() // the client retries until it answers
		}
	}()

	tr, err := transport.Dial(sock("o"), transport.WithRetries(0, 0))
	require.NoError(t, err)
	defer tr.Close()
	oc := transport.OwnerClient{T: tr}
	ctx := context.Background()
	next := uint64(1) // the timestamp of the next row to send
	var calls, lost, full int
	deadline := time.Now().Add(3 * time.Minute)
	for next <= total {
		require.True(t, time.Now().Before(deadline), "bounded: 100,000 rows in 3 minutes")
		n := min(uint64(chunk), total-next+1)
		rows := make([]roles.Row, n)
		for i := range rows {
			ts := next + uint64(i)
			rows[i] = roles.Row{Time: ts, Values: []int64{value(ts)}}
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		res, err := oc.AppendRows(cctx, "live", cols, rows)
		cancel()
		calls++
		if err == nil {
			require.Equal(t, n, res.Acknowledged)
			require.Equal(t, next+n-1, res.Last)
			acked.Store(int64(res.Last))
			next = res.Last + 1
			continue
		}
		if errors.Is(err, roles.ErrBufferFull) {
			full++
			time.Sleep(20 * time.Millisecond)
			continue
		}
		require.NotErrorIs(t, err, roles.ErrInvalidInput, "rows are only refused by a rule: none is broken")
		// The outcome is unknown (the owner died): ask the restarted owner
		// for the stream's last acknowledged row, and resume after it.
		lost++
		for {
			time.Sleep(20 * time.Millisecond)
			require.True(t, time.Now().Before(deadline), "the owner comes back")
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			res, err := oc.AppendRows(cctx, "live", cols, nil)
			cancel()
			if err != nil {
				continue
			}
			require.GreaterOrEqual(t, int64(res.Last), acked.Load(), "every acknowledged row survived the crash")
			require.LessOrEqual(t, res.Last, next+n-1, "only rows the client sent")
			acked.Store(int64(res.Last))
			next = res.Last + 1
			break
		}
	}
	<-killed
	t.Logf("%d rows acknowledged in %d calls; %d calls lost to a kill, %d refused with buffer_full", acked.Load(), calls, lost, full)
	require.Equal(t, int64(total), acked.Load())

	// The last rows are sealed by age.
	require.Eventually(t, func() bool {
		res, err := oc.AppendRows(ctx, "live", cols, nil)
		return err == nil && res.Pending == 0
	}, 60*time.Second, 50*time.Millisecond)

	var want int64
	for ts := uint64(1); ts <= total; ts++ {
		want += value(ts)
	}
	var q queryJSON
	require.Eventually(t, func() bool {
		// The verifier takes the owner's last state a moment later.
		out, _, code := c.run("query", "-stream", "live", "-kind", "window", "-cols", "v", "-tfrom", "0", "-tto", "1000000", "-json")
		return code == 0 && jsonInto(out, &q) == nil && q.Rows != nil && *q.Rows == total
	}, 30*time.Second, 200*time.Millisecond)
	require.True(t, q.Verified)
	require.Equal(t, uint64(total), *q.Rows, "the rows the client saw acknowledged, each once")
	require.Equal(t, []string{strconv.FormatInt(want, 10)}, q.Raw, "their total")
	l := c.list()
	require.GreaterOrEqual(t, len(l.Batches), total/4096+1)
	var rowsSum uint64
	for i, b := range l.Batches {
		require.Equal(t, uint64(i), b.Seq, "gap-free")
		if i > 0 {
			require.Equal(t, l.Batches[i-1].T1+1, b.T0, "batch %d follows batch %d without a gap or an overlap", i, i-1)
		}
		require.LessOrEqual(t, b.Rows, uint32(4096))
		rowsSum += uint64(b.Rows)
	}
	require.Equal(t, uint64(total), rowsSum, "no row in two batches")
	t.Logf("%d batches", len(l.Batches))
}

func jsonInto(s string, v any) error { return json.Unmarshal([]byte(s), v) }
