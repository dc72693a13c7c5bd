//go:build linux

package cli

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
)

// Issue 17's "done when", as a user runs it: a year of hourly rows sealed
// daily (365 batches of 24 rows) is one stream whose yearly window — far
// more batches than one answer covers — verifies with one command, cold
// and then warm (the verifier holds the headers); a storage server that
// drops a batch from the middle of a segment, or a whole segment, is
// rejected as incomplete.
func TestStreamYearWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	c := startedCLI(t, 32)
	dir := c.dir

	y0, y1 := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC)
	file := filepath.Join(dir, "year.csv")
	times, temp, dew := weather(t, file, y0, y1, 3)
	require.Len(t, times, 8760)
	out := c.ok("ingest", "-file", file, "-stream", "paris", "-time-col", "time", "-cols", "temp,dew", "-rows", "24")
	require.Contains(t, out, "365 batches: 365 new")

	sums := func(from, to int64) (rows uint64, st, sd int64) {
		for i, ts := range times {
			if ts >= from && ts <= to {
				rows++
				st += temp[i]
				sd += dew[i]
			}
		}
		return
	}
	check := func(tfrom, tto string, from, to int64, batches int) {
		t.Helper()
		var q queryJSON
		c.json(&q, "query", "-stream", "paris", "-kind", "window", "-cols", "temp,dew", "-tfrom", tfrom, "-tto", tto)
		rows, st, sd := sums(from, to)
		require.True(t, q.Verified)
		require.Equal(t, batches, len(q.Batches))
		require.Equal(t, rows, *q.Rows)
		require.Equal(t, []string{strconv.FormatInt(st, 10), strconv.FormatInt(sd, 10)}, q.Raw)
	}
	// The whole year: cold (every header sent), then warm.
	check("2010-01-01", "2011-01-01", y0.Unix(), y1.Unix()-1, 365)
	check("2010-01-01", "2011-01-01", y0.Unix(), y1.Unix()-1, 365)
	// Two edge days (1 and 301, from 0) and 299 whole ones.
	a, b := y0.Add(36*time.Hour), y0.Add((24*301+12)*time.Hour)
	check(a.Format(time.RFC3339), b.Format(time.RFC3339), a.Unix(), b.Unix(), 301)
	out = c.ok("query", "-stream", "paris", "-kind", "window", "-cols", "temp", "-tfrom", "2010-01-01", "-tto", "2011-01-01")
	require.Contains(t, out, "verified stream window query on paris")
	require.Contains(t, out, "365 batches, 8760 rows in the window")

	// A storage server that leaves out a batch of the middle (of the
	// second segment), or the last segment (announcing one segment fewer):
	// rejected, exit 1, no total.
	for name, tamper := range map[string]func(a *roles.StreamAnswer){
		"batch dropped from the middle": func(a *roles.StreamAnswer) {
			if a.Seg == 1 {
				a.Proof.Run = append(a.Proof.Run[:5], a.Proof.Run[6:]...)
				a.Parts = append(a.Parts[:5], a.Parts[6:]...)
			}
		},
		"segment dropped": func(a *roles.StreamAnswer) {
			if a.Segs > 1 {
				a.Segs--
			}
		},
	} {
		proxy := tamperingStorage(t, c.addr[3], tamper)
		out, errOut, code := c.run("query", "-storage", proxy, "-stream", "paris", "-kind", "window", "-cols", "temp,dew", "-tfrom", "2010-01-01", "-tto", "2011-01-01")
		require.Equal(t, exitRejected, code, "%s: %s %s", name, out, errOut)
		require.Contains(t, errOut, "REJECTED", name)
		require.Contains(t, errOut, "complete", name)
		require.NotContains(t, out, "sum(", name)
	}
}
