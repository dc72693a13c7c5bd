package cli

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vdsproject/vds/internal/follow"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// followFlushTimeout bounds how long `vds ingest -follow` sends its last
// rows and seals them after SIGINT/SIGTERM or the end of its input.
const followFlushTimeout = 30 * time.Second

// followSend is how many rows one append_rows call carries at most, and
// followIdle how long rows wait for more before they are sent anyway.
const (
	followSend = transport.DefaultAppendChunk
	followIdle = 100 * time.Millisecond
)

// rowSink is where `vds ingest -follow` sends rows: the owner's
// append_rows (transport.OwnerClient), or a fake in tests.
type rowSink interface {
	AppendAll(ctx context.Context, stream string, columns []roles.ColumnInfo, rows []roles.Row, chunk int) (int, error)
	AppendRows(ctx context.Context, stream string, columns []roles.ColumnInfo, rows []roles.Row) (*transport.AppendResponse, error)
	FlushRows(ctx context.Context, stream string, columns []roles.ColumnInfo) (*transport.AppendResponse, error)
}

// followConfig is what `vds ingest -follow` was asked to do.
type followConfig struct {
	stream string
	csv    csvOptions
	rows   int           // seal a batch every rows rows
	every  time.Duration // and this long after its first row at the latest (0: never)
	status time.Duration // a status line this often on stderr (0: only the last)
	out    io.Writer     // status lines
}

// followJSON is `vds ingest -follow -json`: what the run did.
type followJSON struct {
	Stream       string  `json:"stream"`
	Acknowledged int     `json:"acknowledged"`
	Skipped      int     `json:"skipped"` // rows at or before the stream's last row: already stored
	Sealed       uint64  `json:"sealed"`
	Pending      uint64  `json:"pending"`
	Last         uint64  `json:"last"`
	Seconds      float64 `json:"seconds"`
}

// parsedRow is a row read from the input, or the error that ends it.
type parsedRow struct {
	row roles.Row
	err error
}

// csvRows turns the lines of a followed CSV file into rows: the first
// line of each file is its header (the first file's names the columns;
// after a rotation a line equal to it is skipped), and the rest are rows
// whose timestamps must increase strictly. Rows at or before after are
// skipped (counted in *skipped): the stream holds them already.
type csvRows struct {
	o       csvOptions
	spec    *timeSpec
	head    string
	tcol    int
	idx     []int
	names   []string
	file    int
	line    int
	prev    uint64
	hasPrev bool
}

// parse returns the row of one line, or ok false for a header line.
func (c *csvRows) parse(l follow.Line) (r roles.Row, ok bool, err error) {
	if l.File != c.file {
		c.file, c.line = l.File, 0
	}
	c.line++
	text := string(l.Text)
	if c.head == "" {
		rec, err := csvRecord(text)
		if err != nil {
			return r, false, inputErrorf("line 1: header: %w", err)
		}
		if c.tcol, c.idx, c.names, err = csvColumns(rec, c.o); err != nil {
			return r, false, &inputError{err}
		}
		c.head = text
		return r, false, nil
	}
	if c.line == 1 && text == c.head {
		return r, false, nil // the header of a rotated file
	}
	if strings.TrimSpace(text) == "" {
		return r, false, nil
	}
	where := fmt.Sprintf("file %d, line %d", c.file+1, c.line)
	if c.file == 0 {
		where = fmt.Sprintf("line %d", c.line)
	}
	rec, err := csvRecord(text)
	if err != nil {
		return r, false, inputErrorf("%s: %w", where, err)
	}
	if len(rec) <= max(c.tcol, slices.Max(c.idx)) {
		return r, false, inputErrorf("%s: %d fields, the header has more", where, len(rec))
	}
	ts, err := c.spec.parse(strings.TrimSpace(rec[c.tcol]), false)
	if err != nil {
		return r, false, inputErrorf("%s: timestamp: %w", where, err)
	}
	if c.hasPrev && ts <= c.prev {
		return r, false, inputErrorf("%s: timestamp %d does not increase strictly after %d", where, ts, c.prev)
	}
	c.prev, c.hasPrev = ts, true
	r = roles.Row{Time: ts, Values: make([]int64, len(c.idx))}
	for j, i := range c.idx {
		scale := c.o.scales[c.names[j]]
		v, err := roles.ParseDecimal(strings.TrimSpace(rec[i]), scale)
		if err != nil {
			return r, false, inputErrorf("%s, column %q: %w (a live stream's decimal places are fixed: give them with -scale %s=PLACES)", where, c.names[j], err, c.names[j])
		}
		if !v.IsInt64() {
			return r, false, inputErrorf("%s, column %q: %s does not fit 64 bits at scale %d", where, c.names[j], rec[i], scale)
		}
		r.Values[j] = v.Int64()
	}
	return r, true, nil
}

// schema is the appender's schema of the header's data columns.
func (c *csvRows) schema() []roles.ColumnInfo {
	out := make([]roles.ColumnInfo, len(c.names))
	for j, name := range c.names {
		out[j] = roles.ColumnInfo{Name: name, Scale: c.o.scales[name]}
	}
	return out
}

func csvRecord(text string) ([]string, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1
	return r.Read()
}

// readHeader reads lines until the first file's header is parsed.
func (c *csvRows) readHeader(ctx context.Context, f *follow.Follower) error {
	for c.head == "" {
		l, err := f.Next(ctx)
		if errors.Is(err, io.EOF) {
			return inputErrorf("no header line")
		}
		if err != nil {
			return err
		}
		if _, _, err := c.parse(l); err != nil {
			return err
		}
	}
	return nil
}

// readRows sends the rows after the header to out until the input ends,
// ctx ends or a line is wrong; the last item is the error that ended it
// (io.EOF at the end of the input).
func (c *csvRows) readRows(ctx context.Context, f *follow.Follower, out chan<- parsedRow) {
	defer close(out)
	for {
		l, err := f.Next(ctx)
		if err != nil {
			out <- parsedRow{err: err}
			return
		}
		r, ok, err := c.parse(l)
		if err != nil {
			out <- parsedRow{err: err}
			return
		}
		if ok {
			select {
			case out <- parsedRow{row: r}:
			case <-ctx.Done():
				return
			}
		}
	}
}

// sealCount follows the number of batches the owner's appender reports
// sealed (a counter that starts again when the owner restarts).
type sealCount struct {
	base, last, total uint64
	started           bool
}

func (s *sealCount) see(sealed uint64) {
	switch {
	case !s.started:
		s.base, s.last, s.started = sealed, sealed, true
	case sealed < s.last: // a new owner process
		s.total += s.last - s.base
		s.base, s.last = 0, sealed
	default:
		s.last = sealed
	}
}

func (s *sealCount) n() uint64 { return s.total + s.last - s.base }

// runFollow is `vds ingest -follow`: rows of f, as they come, appended to
// the stream through sink, sealed every cfg.rows rows (or cfg.every after
// the first unsealed one); on the end of the input or of ctx (SIGINT,
// SIGTERM) the rows read are sent and sealed, and it returns nil.
func runFollow(ctx context.Context, sink rowSink, f *follow.Follower, cfg followConfig) (*followJSON, error) {
	spec := cfg.csv.time
	if spec == nil {
		spec = &timeSpec{format: "unix", loc: time.UTC}
	}
	cr := &csvRows{o: cfg.csv, spec: spec}
	if err := cr.readHeader(ctx, f); err != nil {
		if ctx.Err() != nil {
			return &followJSON{Stream: cfg.stream}, nil
		}
		return nil, err
	}
	cols := cr.schema()
	// Outlives a SIGINT: the last rows are sent and sealed within
	// followFlushTimeout.
	sendCtx, cancelSend := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSend()
	stopped := context.AfterFunc(ctx, func() {
		time.AfterFunc(followFlushTimeout, cancelSend)
	})
	defer stopped()

	res, err := sink.AppendRows(sendCtx, cfg.stream, cols, nil)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", roles.Display(cfg.stream), err)
	}
	out := &followJSON{Stream: cfg.stream, Last: res.Last, Pending: res.Pending}
	var seals sealCount
	seals.see(res.Sealed)
	unsealed := int(res.Pending)
	var firstUnsealed time.Time
	if unsealed > 0 {
		firstUnsealed = time.Now()
	}
	start := time.Now()
	// mu guards out, seals and unsealed: the loop below changes them, the
	// status goroutine reads them.
	var mu sync.Mutex

	flush := func() error {
		r, err := sink.FlushRows(sendCtx, cfg.stream, cols)
		if err != nil {
			return fmt.Errorf("seal the stream's rows: %w", err)
		}
		mu.Lock()
		seals.see(r.Sealed)
		out.Pending, out.Last = r.Pending, max(out.Last, r.Last)
		unsealed, firstUnsealed = int(r.Pending), time.Time{}
		mu.Unlock()
		return nil
	}
	var buf []roles.Row
	send := func() error {
		for len(buf) > 0 {
			k := min(len(buf), cfg.rows-unsealed)
			if k <= 0 {
				if err := flush(); err != nil {
					return err
				}
				continue
			}
			n, err := sink.AppendAll(sendCtx, cfg.stream, cols, buf[:k], followSend)
			mu.Lock()
			out.Acknowledged += n
			if n > 0 {
				out.Last = buf[n-1].Time
				if unsealed == 0 {
					firstUnsealed = time.Now()
				}
				unsealed += n
			}
			mu.Unlock()
			buf = buf[n:]
			if err != nil {
				return err
			}
			if unsealed >= cfg.rows {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return nil
	}
	status := func(final bool) {
		if cfg.out == nil || (!final && cfg.status <= 0) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		el := time.Since(start)
		rate := float64(out.Acknowledged) / max(el.Seconds(), 1e-3)
		word := "following"
		if final {
			word = "done"
		}
		fmt.Fprintf(cfg.out, "%s %s: %d rows acknowledged, %d skipped (already stored), %d batches sealed, %d pending, %.0f rows/s on average\n",
			word, roles.Display(cfg.stream), out.Acknowledged, out.Skipped, seals.n(), unsealed, rate)
	}

	rows := make(chan parsedRow, 2*followSend)
	readCtx, stopRead := context.WithCancel(ctx)
	defer stopRead()
	go cr.readRows(readCtx, f, rows)
	idle := time.NewTicker(followIdle)
	defer idle.Stop()
	// Status lines on their own clock: a send may wait (an owner
	// restarting, a full buffer) while the lines go on.
	stopStatus := make(chan struct{})
	statusDone := make(chan struct{})
	go func() {
		defer close(statusDone)
		if cfg.status <= 0 {
			return
		}
		t := time.NewTicker(cfg.status)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				status(false)
			case <-stopStatus:
				return
			}
		}
	}()
	endStatus := sync.OnceFunc(func() { close(stopStatus); <-statusDone })
	defer endStatus()
	skip := func(r roles.Row) bool {
		if res.Last == 0 || r.Time > res.Last {
			return false
		}
		mu.Lock()
		out.Skipped++
		mu.Unlock()
		return true
	}
	var ended error
	for ended == nil {
		select {
		case p, ok := <-rows:
			switch {
			case !ok:
				ended = io.EOF
			case p.err != nil:
				ended = p.err
			case skip(p.row):
			default:
				buf = append(buf, p.row)
				if len(buf) >= followSend {
					if err := send(); err != nil {
						return out, err
					}
				}
			}
		case <-idle.C:
			if err := send(); err != nil {
				return out, err
			}
			if cfg.every > 0 && unsealed > 0 && time.Since(firstUnsealed) >= cfg.every {
				if err := flush(); err != nil {
					return out, err
				}
			}
		}
	}
	// The end of the input, of ctx, or a wrong line: what was read before
	// is sent and sealed all the same.
	stopRead()
	for p := range rows {
		if p.err == nil && !skip(p.row) {
			buf = append(buf, p.row)
		}
	}
	err = send()
	if err == nil && unsealed > 0 {
		err = flush()
	}
	endStatus()
	out.Sealed, out.Seconds = seals.n(), time.Since(start).Seconds()
	status(true)
	if err != nil {
		return out, err
	}
	if errors.Is(ended, io.EOF) || errors.Is(ended, context.Canceled) || ctx.Err() != nil {
		return out, nil
	}
	return out, ended
}

// openFollow opens what -follow reads: standard input for "" or "-", else
// the file, followed across rotations.
func openFollow(path string) (*follow.Follower, error) {
	if path == "" || path == "-" {
		return follow.FromReader(os.Stdin), nil
	}
	f, err := follow.New(path)
	if err != nil {
		return nil, &inputError{err}
	}
	return f, nil
}
