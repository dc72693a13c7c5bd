package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/follow"
	"github.com/vdsproject/vds/internal/testkit"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/transport"
)

// ownerSink is a rowSink straight into an in-process owner; it counts
// the rows it was sent, and can refuse calls as a full buffer would.
type ownerSink struct {
	o    *roles.DataOwner
	mu   sync.Mutex
	sent int
	busy int // refuse this many calls with ErrBufferFull
}

func (s *ownerSink) AppendRows(ctx context.Context, stream string, cols []roles.ColumnInfo, rows []roles.Row) (*transport.AppendResponse, error) {
	s.mu.Lock()
	if s.busy > 0 && len(rows) > 0 {
		s.busy--
		s.mu.Unlock()
		return nil, roles.ErrBufferFull
	}
	s.sent += len(rows)
	s.mu.Unlock()
	r, err := s.o.AppendRows(ctx, stream, cols, rows)
	if err != nil {
		return nil, err
	}
	return &transport.AppendResponse{Acknowledged: uint64(r.Acknowledged), Sealed: r.Sealed, Pending: uint64(r.Pending), Last: r.Last}, nil
}

func (s *ownerSink) FlushRows(ctx context.Context, stream string, cols []roles.ColumnInfo) (*transport.AppendResponse, error) {
	if _, err := s.o.AppendRows(ctx, stream, cols, nil); err != nil {
		return nil, err
	}
	r, err := s.o.FlushRows(ctx, stream)
	if err != nil {
		return nil, err
	}
	return &transport.AppendResponse{Sealed: r.Sealed, Pending: uint64(r.Pending), Last: r.Last}, nil
}

// AppendAll is transport.OwnerClient.AppendAll's contract, simply: retry
// a full buffer, stop on anything else.
func (s *ownerSink) AppendAll(ctx context.Context, stream string, cols []roles.ColumnInfo, rows []roles.Row, chunk int) (int, error) {
	done := 0
	for done < len(rows) {
		part := rows[done:min(done+chunk, len(rows))]
		_, err := s.AppendRows(ctx, stream, cols, part)
		if errors.Is(err, roles.ErrBufferFull) {
			time.Sleep(time.Millisecond)
			continue
		}
		if err != nil {
			return done, err
		}
		done += len(part)
	}
	return done, nil
}

func followSystem(t *testing.T) (*roles.Local, *ownerSink) {
	t.Helper()
	l, err := roles.NewLocal(context.Background(), testkit.CRS(t, 8), memory.NewOwnerStore(), memory.NewServerStore())
	require.NoError(t, err)
	t.Cleanup(func() { l.Owner.Close() })
	return l, &ownerSink{o: l.Owner}
}

func csvLines(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "%d,%d.%d\n", 1000+10*i, i, i%10)
	}
	return b.String()
}

// batchesOf returns each batch's [t0, t1] of the stream.
func batchesOf(l *roles.Local, stream string) [][2]uint64 {
	var out [][2]uint64
	for _, e := range l.Owner.StreamEntries(stream) {
		out = append(out, [2]uint64{e.T0, e.T1})
	}
	return out
}

var followCSV = csvOptions{timeCol: "t", scales: map[string]uint8{"v": 1}}

// TestFollowFileRotationAndSignal: rows of a file that grows and is
// rotated are appended as they come, sealed every -rows rows; a cancelled
// context (SIGINT) seals the rest and ends without error; a second run
// over the same data appends nothing.
func TestFollowFileRotationAndSignal(t *testing.T) {
	l, sink := followSystem(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "live.csv")
	require.NoError(t, os.WriteFile(path, []byte("t,v\n"+csvLines(0, 6)), 0o600))
	f, err := follow.New(path)
	require.NoError(t, err)
	f.Poll = 5 * time.Millisecond
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var status bytes.Buffer
	type result struct {
		r   *followJSON
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := runFollow(ctx, sink, f, followConfig{stream: "s", csv: followCSV, rows: 4, out: &status})
		done <- result{r, err}
	}()
	require.Eventually(t, func() bool { return len(batchesOf(l, "s")) == 1 }, 5*time.Second, 10*time.Millisecond)
	// The file grows (a partial line first), then is rotated.
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, _ = fh.WriteString(csvLines(6, 9) + "1090,9.")
	require.NoError(t, fh.Close())
	require.NoError(t, os.Rename(path, path+".1"))
	require.NoError(t, os.WriteFile(path, []byte("t,v\n"+csvLines(10, 13)), 0o600))
	require.Eventually(t, func() bool { return len(batchesOf(l, "s")) == 3 }, 5*time.Second, 10*time.Millisecond)
	cancel()
	res := <-done
	require.NoError(t, res.err)
	// 6 + 3 + the old file's unfinished "1090,9." + 3 = 13 rows.
	require.Equal(t, 13, res.r.Acknowledged)
	require.Equal(t, [][2]uint64{{1000, 1030}, {1040, 1070}, {1080, 1110}, {1120, 1120}}, batchesOf(l, "s"))
	require.Equal(t, uint64(4), res.r.Sealed)
	require.Zero(t, res.r.Pending)
	require.Contains(t, status.String(), "done s: 13 rows acknowledged, 0 skipped")

	// Again over both files' rows: all skipped, nothing appended.
	again := follow.FromReader(strings.NewReader("t,v\n" + csvLines(0, 13)))
	r2, err := runFollow(context.Background(), sink, again, followConfig{stream: "s", csv: followCSV, rows: 4})
	require.NoError(t, err)
	require.Zero(t, r2.Acknowledged)
	require.Equal(t, 13, r2.Skipped)
	require.Len(t, batchesOf(l, "s"), 4)
	// And with two new rows: only those.
	more := follow.FromReader(strings.NewReader("t,v\n" + csvLines(0, 15)))
	r3, err := runFollow(context.Background(), sink, more, followConfig{stream: "s", csv: followCSV, rows: 4})
	require.NoError(t, err)
	require.Equal(t, 2, r3.Acknowledged)
	require.Equal(t, [2]uint64{1130, 1140}, batchesOf(l, "s")[4])
}

// TestFollowEveryAndBusy: -every seals the unsealed rows once they have
// waited that long; a full buffer is retried, no row lost or doubled.
func TestFollowEveryAndBusy(t *testing.T) {
	l, sink := followSystem(t)
	sink.busy = 3
	r, w, err := os.Pipe()
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := runFollow(context.Background(), sink, follow.FromReader(r), followConfig{stream: "e", csv: followCSV, rows: 8, every: 50 * time.Millisecond})
		done <- err
	}()
	_, _ = w.WriteString("t,v\n" + csvLines(0, 3))
	require.Eventually(t, func() bool { return len(batchesOf(l, "e")) == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, [2]uint64{1000, 1020}, batchesOf(l, "e")[0])
	_, _ = w.WriteString(csvLines(3, 5))
	require.NoError(t, w.Close()) // the end of standard input: seal, exit
	require.NoError(t, <-done)
	require.Equal(t, [][2]uint64{{1000, 1020}, {1030, 1040}}, batchesOf(l, "e"))
	require.Equal(t, 5, sink.sent)
}

// TestFollowBadLines: a wrong line ends the run with an input error (exit
// 4) naming it; the rows before it are appended and sealed.
func TestFollowBadLines(t *testing.T) {
	for name, tc := range map[string]struct{ data, want string }{
		"decreasing":  {"t,v\n1000,1\n1010,2\n1005,3\n", "line 4: timestamp 1005 does not increase strictly after 1010"},
		"too precise": {"t,v\n1000,1\n1010,2\n1020,3.25\n", `line 4, column "v"`},
		"short":       {"t,v\n1000,1\n1010,2\n1020\n", "line 4: 1 fields"},
		"no time col": {"x,v\n1000,1\n", `no timestamp column "t"`},
	} {
		t.Run(name, func(t *testing.T) {
			l, sink := followSystem(t)
			res, err := runFollow(context.Background(), sink, follow.FromReader(strings.NewReader(tc.data)), followConfig{stream: "b", csv: followCSV, rows: 4})
			require.ErrorContains(t, err, tc.want)
			var ie *inputError
			require.True(t, errors.As(err, &ie), "%v is an input error", err)
			if name != "no time col" {
				require.Equal(t, 2, res.Acknowledged)
				require.Equal(t, [][2]uint64{{1000, 1010}}, batchesOf(l, "b"))
			}
		})
	}
}
