package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/errs"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

func TestTimeSpecParse(t *testing.T) {
	utc, err := newTimeSpec("", "", "s")
	require.NoError(t, err)
	paris, err := newTimeSpec("", "Europe/Paris", "s")
	require.NoError(t, err)
	ms, err := newTimeSpec("", "UTC", "ms")
	require.NoError(t, err)
	layout, err := newTimeSpec("02/01/2006 15:04", "UTC", "s")
	require.NoError(t, err)
	unixms, err := newTimeSpec("unix-ms", "UTC", "s")
	require.NoError(t, err)
	rfc, err := newTimeSpec("rfc3339", "UTC", "s")
	require.NoError(t, err)
	const feb1 = 1264982400 // 2010-02-01T00:00:00Z
	const mar1 = 1267401600 // 2010-03-01T00:00:00Z
	for _, c := range []struct {
		ts   *timeSpec
		in   string
		end  bool
		want uint64
	}{
		{utc, "2010-02-01", false, feb1},
		{utc, "2010-03-01", true, mar1 - 1}, // a bare date ends the day before
		{utc, "2010-03-01T00:00:00Z", true, mar1},
		{utc, "1267401600", true, mar1}, // integers as given
		{utc, "2010-02-01 13:00", false, feb1 + 13*3600},
		{utc, "2010-02-01T01:00:00+01:00", false, feb1},
		{paris, "2010-02-01", false, feb1 - 3600},
		{paris, "2010-02-01T00:00:00Z", false, feb1}, // an offset wins over -tz
		{ms, "2010-02-01", false, feb1 * 1000},
		{ms, "2010-03-01", true, mar1*1000 - 1},
		{ms, "2010-02-01T00:00:00.250Z", false, feb1*1000 + 250},
		{layout, "01/02/2010 00:00", false, feb1},
		{unixms, "1264982400000", false, feb1},
		{rfc, "2010-02-01T00:00:00Z", false, feb1},
	} {
		got, err := c.ts.parse(c.in, c.end)
		require.NoError(t, err, c.in)
		require.Equal(t, c.want, got, c.in)
	}
	for _, c := range []struct {
		ts *timeSpec
		in string
	}{
		{utc, "yesterday"},
		{utc, "1969-12-31"},
		{utc, "2010-02-01T00:00:00.5Z"}, // a fraction of a second in seconds
		{utc, "-5"},
		{unixms, "1264982400001"}, // milliseconds into seconds
		{rfc, "2010-02-01"},
		{layout, "2010-02-01"},
		{utc, ""},
	} {
		_, err := c.ts.parse(c.in, false)
		require.Error(t, err, c.in)
	}
	for _, bad := range [][3]string{{"", "Mars/Olympus", "s"}, {"", "UTC", "us"}, {"15:04", "UTC", "s"}} {
		_, err := newTimeSpec(bad[0], bad[1], bad[2])
		require.Error(t, err, bad)
		require.Equal(t, exitInput, exitCode(err), bad)
	}
	require.Equal(t, "2010-02-01T00:00:00Z", utc.show(feb1))
	require.Equal(t, "2010-02-01T00:00:00.000Z", ms.show(feb1*1000))
}

func TestExitCode(t *testing.T) {
	remote := func(e error) error { return transport.ToWire(e).Err() }
	var opErr net.Error = &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}
	for _, c := range []struct {
		err  error
		want int
	}{
		{nil, exitOK},
		{errUsage, exitUsage},
		{fmt.Errorf("verifier: %w", remote(errs.ErrBadProof)), exitRejected},
		{fmt.Errorf("verifier: %w", remote(fmt.Errorf("x: %w", errs.ErrIncomplete))), exitRejected},
		{remote(&roles.StaleStateError{Have: 3, Got: 2}), exitRejected},
		{remote(&roles.RevokedError{Epoch: 2}), exitRejected},
		{remote(errs.ErrWrongChallenge), exitRejected},
		{remote(errs.ErrBadSignature), exitRejected},
		{fmt.Errorf("transport: x: %w: %w", errs.ErrUnavailable, opErr), exitDown},
		{remote(fmt.Errorf("saved by the owner: %w", errs.ErrUnavailable)), exitDown},
		{context.DeadlineExceeded, exitDown},
		{opErr, exitDown},
		{remote(&roles.StreamConflictError{Stream: "s", Reason: "overlap"}), exitInput},
		{remote(errs.ErrUnauthorized), exitInput},
		{remote(errs.ErrUnknownBatch), exitInput},
		{remote(errs.ErrNotFound), exitInput},
		{remote(&roles.InputError{Field: "f", Reason: "r", Err: errs.ErrInvalidInput}), exitInput},
		{&inputError{os.ErrNotExist}, exitInput},
		{errors.New("something else"), exitRejected},
		// The owner refusing a mutation of a revoked batch is input, not a
		// rejected answer; unreachable stays unreachable.
		{ownerRefusal(remote(&roles.RevokedError{Epoch: 2})), exitInput},
		{ownerRefusal(remote(fmt.Errorf("saved: %w", errs.ErrUnavailable))), exitDown},
	} {
		require.Equal(t, c.want, exitCode(c.err), "%v", c.err)
	}
	// Only verification failures are printed "REJECTED".
	require.True(t, rejected(remote(errs.ErrIncomplete)))
	require.False(t, rejected(remote(errs.ErrUnavailable)))
	require.False(t, rejected(errors.New("something else")))
	require.False(t, rejected(remote(errs.ErrConflict)))
	require.False(t, rejected(ownerRefusal(remote(errs.ErrRevoked))))
}

func TestMatchPrefix(t *testing.T) {
	var a, b, c roles.BatchID
	a[0], a[1] = 0xab, 0xcd
	b[0], b[1], b[4] = 0xab, 0xcd, 0x01
	c[0] = 0x12
	l := []roles.BatchInfo{{ID: a}, {ID: b}, {ID: c}}
	got, err := matchPrefix("12000000", l)
	require.NoError(t, err)
	require.Equal(t, c, got)
	got, err = matchPrefix("abcd000001", l)
	require.NoError(t, err)
	require.Equal(t, b, got)
	_, err = matchPrefix("abcd0000", l)
	require.ErrorContains(t, err, "ambiguous")
	require.Equal(t, exitInput, exitCode(err))
	_, err = matchPrefix("ffffffff", l)
	require.ErrorIs(t, err, errs.ErrUnknownBatch)
	require.Equal(t, exitInput, exitCode(err))

	// Short, non-hex and empty prefixes fail before any server is asked
	// (the common's addresses point nowhere).
	cm := newCommon("test")
	cm.storage = "unix:///nonexistent/socket"
	for _, s := range []string{"abc", "abcdefgz", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef00"} {
		_, err := resolveBatch(context.Background(), cm, s)
		require.Equal(t, exitInput, exitCode(err), s)
	}
	_, err = resolveBatch(context.Background(), cm, "")
	require.ErrorIs(t, err, errUsage)
	id, err := resolveBatch(context.Background(), cm, a.String())
	require.NoError(t, err)
	require.Equal(t, a, id)
}

// The JSON documents keep their field names (the README documents them).
func TestJSONShapes(t *testing.T) {
	keys := func(v any) map[string]any {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		return m
	}
	rows := uint64(7)
	q := keys(&queryJSON{Verified: true, Kind: "window", Stream: "s", Epoch: 1, Columns: []string{"a"}, Totals: []string{"1.5"}, Raw: []string{"15"},
		Scales: []int{1}, Window: &windowJSON{From: 1, To: 2, FromUTC: "x", ToUTC: "y"}, Batches: []batchJSON{{ID: "ab"}}, Rows: &rows})
	for _, k := range []string{"verified", "kind", "stream", "epoch", "columns", "totals", "raw", "scales", "window", "batches", "rows"} {
		require.Contains(t, q, k)
	}
	require.Equal(t, map[string]any{"from": 1.0, "to": 2.0, "from_utc": "x", "to_utc": "y"}, q["window"])
	require.Equal(t, []any{1.0}, q["scales"]) // numbers, not base64
	res := batchResultJSON(&transport.VerifyResult{Kind: roles.QueryWindow, Columns: []string{"a"}, Values: []string{"1"}, Raw: []string{"1"}, First: 2, Last: 1}, nil)
	b := keys(res)
	for _, k := range []string{"verified", "kind", "batch", "epoch", "columns", "values", "raw", "first_row", "last_row"} {
		require.Contains(t, b, k)
	}
	in := keys(&ingestJSON{Stream: "s", Batches: []batchJSON{{ID: "ab", Existing: true}}})
	for _, k := range []string{"stream", "schema", "batches", "new", "existing", "rows", "time"} {
		require.Contains(t, in, k)
	}
	require.Equal(t, true, in["batches"].([]any)[0].(map[string]any)["existing"])
	st := keys(&stateJSON{})
	for _, k := range []string{"owner", "storage", "verifier"} {
		require.Contains(t, st, k)
	}
	require.Contains(t, keys(&listJSON{Batches: []batchJSON{}}), "batches")
	v := keys(buildVersion())
	require.Len(t, v, 3)
	require.Equal(t, "v1", v["spec"])
	require.Contains(t, v, "version")
	require.Contains(t, v, "go")
}

// The time and CSV parsers take user input: they fail with an error, never
// panic, and what they accept is strictly increasing.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2010-02-01", "2010-02-01T00:00:00Z", "2010-02-01 13:00", "1267401600", "", "9999999999999999999999", "0000-01-01"} {
		f.Add(s, "", false)
	}
	f.Add("01/02/2010", "02/01/2006", true)
	f.Fuzz(func(t *testing.T, s, layout string, end bool) {
		for _, unit := range []string{"s", "ms"} {
			ts, err := newTimeSpec(layout, "Europe/Paris", unit)
			if err != nil {
				continue
			}
			_, _ = ts.parse(s, end)
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	f.Add("timestamp,x\n1,2.5\n2,-3\n")
	f.Add("timestamp,x,y\n2010-01-01,1,a\n")
	f.Add("\uFEFFtimestamp,x\n1,1e3\n")
	f.Fuzz(func(t *testing.T, in string) {
		ts, _ := newTimeSpec("", "UTC", "s")
		tb, err := readCSV(strings.NewReader(in), csvOptions{timeCol: "timestamp", time: ts})
		if err != nil {
			return
		}
		for i := 1; i < len(tb.times); i++ {
			if tb.times[i] <= tb.times[i-1] {
				t.Fatalf("times not increasing: %v", tb.times)
			}
		}
		if len(tb.values) != len(tb.names) || len(tb.scales) != len(tb.names) {
			t.Fatalf("columns %d, values %d, scales %d", len(tb.names), len(tb.values), len(tb.scales))
		}
	})
}

// A failed ingest says what is stored and that re-running is safe.
func TestIngestFailure(t *testing.T) {
	b := &transport.NewBatch{Timestamps: []uint64{5, 9}}
	remote := func(e error) error { return transport.ToWire(e).Err() }
	saved := ingestFailure(remote(fmt.Errorf("vds: saved by the owner, not yet acknowledged by the storage server: %w", errs.ErrUnavailable)), 3, 10, b)
	require.ErrorContains(t, saved, "batch 4 of 10 (t=5..9): the owner saved the batch")
	notSaved := ingestFailure(remote(fmt.Errorf("sync: %w", errs.ErrUnavailable)), 3, 10, b)
	require.ErrorContains(t, notSaved, "did not store this batch")
	down := ingestFailure(fmt.Errorf("transport: %w", errs.ErrUnavailable), 0, 1, b)
	require.ErrorContains(t, down, "the owner could not be reached")
	for _, err := range []error{saved, notSaved, down} {
		require.ErrorContains(t, err, "re-running the same ingest is safe")
		require.Equal(t, exitDown, exitCode(err))
	}
	conflict := ingestFailure(remote(&roles.StreamConflictError{Stream: "s", Reason: "overlaps batch x"}), 0, 1, b)
	require.NotContains(t, conflict.Error(), "re-running")
	require.Equal(t, exitInput, exitCode(conflict))
}

// Names from peers cannot act on a terminal through -json either, and the
// document still decodes to the same strings.
func TestEscapeJSON(t *testing.T) {
	in := map[string]string{"name": "evil\u202e\u200btxt.exe\U000e0041", "ok": "temp é"}
	b, err := json.MarshalIndent(in, "", "  ")
	require.NoError(t, err)
	out := escapeJSON(b)
	require.NotContains(t, string(out), "\u202e")
	require.Contains(t, string(out), `\u202e`)
	require.Contains(t, string(out), "temp é")
	var back map[string]string
	require.NoError(t, json.Unmarshal(out, &back))
	require.Equal(t, in, back)
}
