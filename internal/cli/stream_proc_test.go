//go:build linux

package cli

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/internal/testproc"
	"github.com/vdsproject/vds/roles"
)

// The "done when", as a user would run it: a stream of a few
// thousand hourly rows with decimals and RFC 3339 times ingests with one
// command; monthly window sums come back verified, equal to sums of the
// file; re-running the ingest changes nothing; an ingest interrupted by a
// storage server killed with SIGKILL, re-run, stores every batch once; an
// update is shown by -dry-run and refused (exit 4, nothing changed) when it
// changes the columns or leaves its place.
func TestStreamCommandEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	c := startedCLI(t, 256)
	bin, dir := c.bin, c.dir

	// Empty list says so.
	require.Contains(t, c.ok("list"), "no batches")

	jan := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	may := time.Date(2010, 5, 1, 0, 0, 0, 0, time.UTC)
	file := filepath.Join(dir, "weather.csv")
	times, temp, dew := weather(t, file, jan, may, 1)
	require.Len(t, times, 2880)

	// Without -cols the station column is named, with the flag that skips it.
	_, errOut, code := c.run("ingest", "-file", file, "-stream", "paris", "-time-col", "time")
	require.Equal(t, exitInput, code, errOut)
	require.Contains(t, errOut, `column "station" is not numeric`)
	require.Contains(t, errOut, "-cols")
	_, errOut, code = c.run("ingest", "-file", file, "-stream", "paris", "-time-col", "time", "-cols", "temp,dew", "-scale", "wind=1")
	require.Equal(t, exitInput, code, errOut)
	require.Contains(t, errOut, `-scale: no data column "wind"`)

	ingest := []string{"ingest", "-file", file, "-stream", "paris", "-time-col", "time", "-cols", "temp,dew"}
	out := c.ok(ingest...)
	require.Contains(t, out, "schema: temp (scale 1), dew (scale 2)")
	require.Contains(t, out, "12 batches: 12 new, 0 already stored")
	before := c.list()
	require.Len(t, before.Batches, 12)
	require.Equal(t, []columnJSON{{"temp", 1}, {"dew", 2}}, before.Batches[0].Columns)

	// Monthly sums, verified, against the file.
	month := func(m time.Month) (q queryJSON) {
		from := time.Date(2010, m, 1, 0, 0, 0, 0, time.UTC)
		c.json(&q, "query", "-stream", "paris", "-kind", "window", "-cols", "temp,dew",
			"-tfrom", from.Format("2006-01-02"), "-tto", from.AddDate(0, 1, 0).Format("2006-01-02"))
		return q
	}
	sums := func(m time.Month) (rows uint64, st, sd int64) {
		from := time.Date(2010, m, 1, 0, 0, 0, 0, time.UTC).Unix()
		to := time.Date(2010, m+1, 1, 0, 0, 0, 0, time.UTC).Unix()
		for i, ts := range times {
			if ts >= from && ts < to {
				rows, st, sd = rows+1, st+temp[i], sd+dew[i]
			}
		}
		return
	}
	for m := time.January; m <= time.April; m++ {
		q := month(m)
		rows, st, sd := sums(m)
		require.True(t, q.Verified)
		require.Equal(t, rows, *q.Rows, m)
		require.Equal(t, []string{strconv.FormatInt(st, 10), strconv.FormatInt(sd, 10)}, q.Raw, m)
		require.Equal(t, []string{dec(st, 1), dec(sd, 2)}, q.Totals, m)
		require.Equal(t, []int{1, 2}, q.Scales)
		require.Equal(t, time.Date(2010, m+1, 1, 0, 0, 0, 0, time.UTC).Unix()-1, int64(q.Window.To))
		require.NotEmpty(t, q.Batches)
	}
	// The human form prints the resolved window.
	out = c.ok("query", "-stream", "paris", "-kind", "window", "-cols", "temp", "-tfrom", "2010-02-01", "-tto", "2010-03-01")
	require.Contains(t, out, "window 2010-02-01T00:00:00Z .. 2010-02-28T23:59:59Z (t=1264982400..1267401599, inclusive)")
	_, st, _ := sums(time.February)
	require.Contains(t, out, "sum(temp) = "+dec(st, 1))
	// A point at a time.
	var pt queryJSON
	c.json(&pt, "query", "-stream", "paris", "-kind", "point", "-cols", "temp", "-at", "2010-03-15T12:00:00Z")
	i := (time.Date(2010, 3, 15, 12, 0, 0, 0, time.UTC).Unix() - jan.Unix()) / 3600
	require.Equal(t, []string{strconv.FormatInt(temp[i], 10)}, pt.Raw)

	// An audit of a stream range: every live batch of February audited.
	out = c.ok("audit", "-stream", "paris", "-cols", "temp,dew", "-tfrom", "2010-02-01", "-tto", "2010-03-01")
	require.Contains(t, out, "verified: audit of stream paris")
	require.Contains(t, out, "holds its data")
	var au queryJSON
	c.json(&au, "audit", "-stream", "paris", "-cols", "temp", "-tfrom", "2010-02-01", "-tto", "2010-03-01")
	require.Equal(t, "audit", au.Kind)
	require.NotEmpty(t, au.Batches)

	// Usage errors exit 2, help 0.
	_, _, code = c.run("query", "-stream", "paris", "-kind", "window", "-cols", "temp", "-tfrom", "2010-02-01")
	require.Equal(t, exitUsage, code)
	_, errOut, code = c.run("query", "-h")
	require.Equal(t, exitOK, code)
	require.Contains(t, errOut, "exactly")

	// A batch by a prefix; a range without rows is the whole batch.
	first := before.Batches[0]
	var whole queryJSON
	c.json(&whole, "query", "-batch", first.ID[:10], "-kind", "range", "-cols", "temp")
	var s0 int64
	for _, v := range temp[:first.Rows] {
		s0 += v
	}
	require.Equal(t, []string{strconv.FormatInt(s0, 10)}, whole.Raw)

	// Re-running the ingest stores nothing new.
	var again ingestJSON
	c.json(&again, ingest...)
	require.Equal(t, 0, again.New)
	require.Equal(t, 12, again.Existing)
	require.Equal(t, before, c.list())

	// Other data over a stored time range is refused, naming the batch.
	overlap := filepath.Join(dir, "overlap.csv")
	weather(t, overlap, time.Date(2010, 4, 30, 0, 0, 0, 0, time.UTC), may.Add(48*time.Hour), 3)
	_, errOut, code = c.run("ingest", "-file", overlap, "-stream", "paris", "-time-col", "time", "-cols", "temp,dew")
	require.Equal(t, exitInput, code, errOut)
	require.Contains(t, errOut, "overlaps batch "+before.Batches[11].ID)
	require.Equal(t, before, c.list())

	// A second file, ingested in small batches; the storage server is
	// killed in the middle.
	file2 := filepath.Join(dir, "weather2.csv")
	weather(t, file2, may, time.Date(2010, 7, 1, 0, 0, 0, 0, time.UTC), 2)
	ingest2 := []string{"ingest", "-file", file2, "-stream", "paris", "-time-col", "time", "-cols", "temp,dew", "-rows", "16"}
	cmd := exec.Command(bin, c.args(ingest2...)...)
	cmd.Env = testproc.Env()
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var errBuf testproc.Buffer
	cmd.Stderr = &errBuf
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(stdout)
	stored := 0
	for stored < 3 && sc.Scan() {
		if strings.Contains(sc.Text(), "\tparis/") {
			stored++
		}
	}
	require.Equal(t, 3, stored, errBuf.String())
	pid, err := readPid(filepath.Join(dir, "run", "storage.pid"))
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	for sc.Scan() { // drain
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "the ingest finished before the kill")
	require.Equal(t, exitDown, ee.ExitCode(), errBuf.String())
	require.Contains(t, errBuf.String(), "re-running the same ingest is safe")
	require.NotContains(t, errBuf.String(), "REJECTED")
	t.Logf("interrupted ingest: %s", errBuf.String())
	for i := 0; alive(pid) && i < 100; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	c.ok("start") // restarts the storage server only
	var rerun ingestJSON
	c.json(&rerun, ingest2...)
	require.Equal(t, 92, len(rerun.Batches)) // 1464 rows in batches of 16
	require.GreaterOrEqual(t, rerun.Existing, 3)
	after := c.list()
	require.Len(t, after.Batches, 12+92)
	ids := map[string]bool{}
	for i, b := range after.Batches {
		require.False(t, ids[b.ID], "batch %s listed twice", b.ID)
		ids[b.ID] = true
		require.Equal(t, uint64(i), b.Seq)
		if i > 0 {
			require.Less(t, after.Batches[i-1].T1, b.T0, "batches %d and %d overlap", i-1, i)
		}
	}
	var again2 ingestJSON
	c.json(&again2, ingest2...)
	require.Equal(t, 92, again2.Existing)
	require.Equal(t, after, c.list())

	// update: -dry-run shows the plan; other columns, or another place, are
	// refused with exit 4 and nothing changes.
	target := after.Batches[2] // rows 512..767 of the first file
	upd := func(name string, cols string, from time.Time, rows int) string {
		p := filepath.Join(dir, name)
		var b strings.Builder
		b.WriteString("time," + cols + "\n")
		for k := 0; k < rows; k++ {
			fmt.Fprintf(&b, "%s,1.0,2.00\n", from.Add(time.Duration(k)*time.Hour).Format(time.RFC3339))
		}
		require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o600))
		return p
	}
	t0 := time.Unix(int64(target.T0), 0).UTC()
	good := upd("good.csv", "temp,dew", t0, 10)
	out = c.ok("update", "-batch", target.ID[:12], "-file", good, "-time-col", "time", "-dry-run")
	require.Contains(t, out, "dry run")
	require.Contains(t, out, "rows: 256 -> 10")
	require.Contains(t, out, "temp (scale 1), dew (scale 2)")
	for _, bad := range []string{
		upd("cols.csv", "temp,wind", t0, 10),
		upd("year.csv", "temp,dew", t0.AddDate(1, 0, 0), 2),
		upd("overlap.csv", "temp,dew", t0.Add(-2*time.Hour), 10),
	} {
		_, errOut, code := c.run("update", "-batch", target.ID, "-file", bad, "-time-col", "time")
		require.Equal(t, exitInput, code, "%s: %s", bad, errOut)
	}
	require.Equal(t, after, c.list())

	// The real update: the monthly sums follow it (the old version, rows
	// 513..768 from 2010-01-22T08:00Z to 2010-02-01T23:00Z, is replaced by
	// 10 rows of temp 1.0, dew 2.00).
	out = c.ok("update", "-batch", target.ID[:8], "-file", good, "-time-col", "time")
	require.Contains(t, out, "version 1")
	l := c.list()
	require.Len(t, l.Batches, len(after.Batches)+1)
	newTimes := append(append([]int64{}, times[:512]...), times[768:]...)
	newTemp := append(append([]int64{}, temp[:512]...), temp[768:]...)
	newDew := append(append([]int64{}, dew[:512]...), dew[768:]...)
	for k := 0; k < 10; k++ {
		newTimes = append(newTimes, t0.Unix()+int64(k)*3600)
		newTemp, newDew = append(newTemp, 10), append(newDew, 200)
	}
	times, temp, dew = newTimes, newTemp, newDew
	for m := time.January; m <= time.February; m++ {
		q := month(m)
		rows, st, sd := sums(m)
		require.Equal(t, rows, *q.Rows, m)
		require.Equal(t, []string{strconv.FormatInt(st, 10), strconv.FormatInt(sd, 10)}, q.Raw, m)
	}

	// The old version is revoked: asking for it is rejected (exit 1).
	_, errOut, code = c.run("query", "-batch", target.ID, "-kind", "range", "-cols", "temp")
	require.Equal(t, exitRejected, code, errOut)
	require.Contains(t, errOut, "REJECTED")
	// Revoking or updating it again is refused by the owner: exit 4.
	_, errOut, code = c.run("revoke", "-batch", target.ID)
	require.Equal(t, exitInput, code, errOut)
	require.NotContains(t, errOut, "REJECTED")
	_, errOut, code = c.run("update", "-batch", target.ID, "-file", good, "-time-col", "time", "-dry-run")
	require.Equal(t, exitInput, code, errOut)

	// A storage server that tampers with its stream answers is rejected:
	// exit 1, "REJECTED", never a total.
	for name, tamper := range map[string]func(a *roles.StreamAnswer){
		"value changed": func(a *roles.StreamAnswer) {
			var one fr.Element
			one.SetOne()
			v := fr.Element(a.Parts[0].Values[0])
			v.Add(&v, &one)
			a.Parts[0].Values[0] = codec.Scalar(v)
		},
		"batch left out": func(a *roles.StreamAnswer) { a.Parts = a.Parts[1:] },
	} {
		proxy := tamperingStorage(t, c.addr[3], tamper)
		out, errOut, code := c.run("query", "-storage", proxy, "-stream", "paris", "-kind", "window", "-cols", "temp,dew", "-tfrom", "2010-03-01", "-tto", "2010-04-01")
		require.Equal(t, exitRejected, code, "%s: %s %s", name, out, errOut)
		require.Contains(t, errOut, "REJECTED", name)
		require.NotContains(t, out, "sum(", name)
	}

	c.ok("stop")
	// With the servers down: exit 3, never "REJECTED".
	_, errOut, code = c.run("query", "-stream", "paris", "-kind", "window", "-cols", "temp", "-tfrom", "2010-02-01", "-tto", "2010-03-01")
	require.Equal(t, exitDown, code, errOut)
	require.NotContains(t, errOut, "REJECTED")
}
