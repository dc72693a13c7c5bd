package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/vdsproject/vds/internal/errs"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// ingestJSON is `vds ingest -json`.
type ingestJSON struct {
	Stream   string        `json:"stream"`
	Schema   schemaJSON    `json:"schema"`
	Batches  []batchJSON   `json:"batches"`
	New      int           `json:"new"`
	Existing int           `json:"existing"`
	Rows     int           `json:"rows"`
	Time     timeUnitsJSON `json:"time"`
}

type schemaJSON struct {
	TimeColumn string       `json:"time_column"`
	Columns    []columnJSON `json:"columns"`
}

type timeUnitsJSON struct {
	Format string `json:"format"`
	Unit   string `json:"unit"` // "s" or "ms"
	TZ     string `json:"tz"`
}

// RunIngest is `vds ingest -file F.csv -stream S`: the file's rows become
// batches of the stream, created through the owner. With -follow it reads
// rows as they come (standard input, or a file it follows across
// rotations) and appends them through the owner's append_rows (see
// runFollow).
func RunIngest(ctx context.Context, args []string) error {
	c := newCommon("ingest")
	cf := addCSVFlags(c, "CSV file: a header row, a timestamp column and numeric columns",
		"data columns to ingest, e.g. temp,dew (default: every column but the timestamp)",
		"decimal places per column, e.g. temp=1,load=2 (default: the most places in the file)")
	stream := c.fs.String("stream", "", "stream the batches belong to")
	rows := c.fs.Int("rows", 0, "rows per batch (default: the CRS capacity)")
	follow := c.fs.Bool("follow", false, "read rows as they come from -file (followed like tail -F: it keeps growing, may be rotated) or standard input (no -file, or -file -), append them to the stream (append_rows), seal a batch every -rows rows; rows at or before the stream's last one are skipped; SIGINT/SIGTERM seals what was read and exits 0")
	every := c.fs.Duration("every", 0, "-follow: also seal the unsealed rows this long after the first of them (e.g. 1h; 0: by -rows, and at the end, only)")
	statusEvery := c.fs.Duration("status", 2*time.Second, "-follow: print a status line on standard error this often (0: only the last one)")
	asJSON := c.jsonFlag()
	if err := c.parse(args); err != nil {
		return err
	}
	if *follow {
		return runIngestFollow(ctx, c, cf, *stream, *rows, *every, *statusEvery, *asJSON)
	}
	if *cf.file == "" || *stream == "" {
		fmt.Fprintln(os.Stderr, "vds ingest: -file and -stream are required")
		return errUsage
	}
	o, err := cf.options()
	if err != nil {
		return err
	}
	t, err := readCSVFile(*cf.file, o)
	if err != nil {
		return err
	}
	n := *rows
	if n <= 0 {
		if n, err = capacity(ctx, c); err != nil {
			return err
		}
	} else if k, err := capacity(ctx, c); err == nil && n > k {
		return inputErrorf("-rows %d: a batch holds at most %d rows (the CRS capacity)", n, k)
	}
	bs := t.batches(*stream, n)
	out := ingestJSON{Stream: *stream, Rows: len(t.times), Schema: schemaJSON{TimeColumn: *cf.timeCol},
		Time: timeUnitsJSON{Format: *cf.time.format, Unit: *cf.time.unit, TZ: *cf.time.tz}}
	for i, name := range t.names {
		out.Schema.Columns = append(out.Schema.Columns, columnJSON{Name: name, Scale: t.scales[i]})
	}
	if !*asJSON {
		var cs []string
		for _, col := range out.Schema.Columns {
			cs = append(cs, fmt.Sprintf("%s (scale %d)", roles.Display(col.Name), col.Scale))
		}
		fmt.Printf("schema: %s; timestamps from column %s as %s (-time-format %s, -tz %s)\n", strings.Join(cs, ", "), roles.Display(*cf.timeCol), o.time.unitName(), *cf.time.format, *cf.time.tz)
		fmt.Printf("%d rows, %s .. %s, in %d batches of at most %d rows\n", len(t.times), o.time.show(t.times[0]), o.time.show(t.times[len(t.times)-1]), len(bs), n)
	}
	ot, err := c.dialOwner()
	if err != nil {
		return err
	}
	defer ot.Close()
	owner := transport.OwnerClient{T: ot}
	for i, b := range bs {
		r, err := owner.CreateBatch(ctx, b)
		if err != nil {
			return ingestFailure(err, i, len(bs), b)
		}
		h := &r.Header.Header
		id, _ := h.Digest()
		bj := batchJSON{ID: id.String(), Stream: h.Stream, Seq: h.Seq, Version: h.Version, Rows: h.Rows, T0: h.FirstTime, T1: h.LastTime, Existing: r.Existing}
		out.Batches = append(out.Batches, bj)
		if r.Existing {
			out.Existing++
		} else {
			out.New++
		}
		if !*asJSON {
			note := ""
			if r.Existing {
				note = "\talready stored"
			}
			fmt.Printf("%s\t%s/%d\t%d rows\tt=%d..%d%s\n", id, roles.Display(h.Stream), h.Seq, h.Rows, h.FirstTime, h.LastTime, note)
		}
	}
	if *asJSON {
		return printJSON(out)
	}
	fmt.Printf("%d batches: %d new, %d already stored\n", len(bs), out.New, out.Existing)
	return nil
}

// runIngestFollow is `vds ingest -follow`.
func runIngestFollow(ctx context.Context, c *common, cf *csvFlags, stream string, rows int, every, status time.Duration, asJSON bool) error {
	if stream == "" {
		fmt.Fprintln(os.Stderr, "vds ingest -follow: -stream is required")
		return errUsage
	}
	o, err := cf.options()
	if err != nil {
		return err
	}
	if rows <= 0 {
		if rows, err = capacity(ctx, c); err != nil {
			return err
		}
	} else if k, err := capacity(ctx, c); err == nil && rows > k {
		return inputErrorf("-rows %d: a batch holds at most %d rows (the CRS capacity)", rows, k)
	}
	f, err := openFollow(*cf.file)
	if err != nil {
		return err
	}
	defer f.Close()
	ot, err := c.dialOwner()
	if err != nil {
		return err
	}
	defer ot.Close()
	res, err := runFollow(ctx, transport.OwnerClient{T: ot}, f, followConfig{stream: stream, csv: o, rows: rows, every: every, status: status, out: os.Stderr})
	if err != nil {
		if res != nil && res.Acknowledged > 0 {
			return fmt.Errorf("%d rows acknowledged (durable at the owner, re-running skips them), then: %w", res.Acknowledged, err)
		}
		return err
	}
	if asJSON {
		return printJSON(res)
	}
	return nil
}

// ingestFailure explains a failed create_batch: what is stored and that
// re-running the same ingest is safe (SPEC §11.1, idempotent writes).
func ingestFailure(err error, i, n int, b *transport.NewBatch) error {
	where := fmt.Sprintf("batch %d of %d (t=%d..%d)", i+1, n, b.Timestamps[0], b.Timestamps[len(b.Timestamps)-1])
	var re *transport.RemoteError
	switch {
	case errors.Is(err, errs.ErrUnavailable) && errors.As(err, &re) && strings.Contains(re.Message, "saved by the owner"):
		// The owner's Ingest says so (roles.DataOwner.Ingest); the wire
		// carries it as the message of an "unavailable" error.
		return fmt.Errorf("%s: the owner saved the batch, but the storage server has not acknowledged it yet (the owner sends it again on its next operation); re-running the same ingest is safe: stored batches are reported \"already stored\", never stored twice: %w", where, err)
	case errors.Is(err, errs.ErrUnavailable) && errors.As(err, &re):
		return fmt.Errorf("%s: the owner could not reach the storage server and did not store this batch (batches before it are stored); re-running the same ingest is safe: stored batches are reported \"already stored\", never stored twice: %w", where, err)
	case errors.Is(err, errs.ErrUnavailable):
		return fmt.Errorf("%s: the owner could not be reached (batches before it are stored); re-running the same ingest is safe: stored batches are reported \"already stored\", never stored twice: %w", where, err)
	}
	return fmt.Errorf("%s: %w", where, err)
}

// capacity returns the CRS capacity from the data directory.
func capacity(ctx context.Context, c *common) (int, error) {
	crs, err := c.loadCRS()
	if err != nil {
		return 0, fmt.Errorf("%w (or give -rows)", err)
	}
	return crs.N(), nil
}
