package cli

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/vdsproject/vds/internal/errs"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// timeFlags are the flags that say how times are read: -tz and
// -time-unit, and -time-format where a file is read.
type timeFlags struct {
	format, tz, unit *string
}

func addTimeFlags(c *common, withFormat bool) timeFlags {
	var tf timeFlags
	if withFormat {
		tf.format = c.fs.String("time-format", "auto", "timestamps in the file: auto (integers as given, else RFC 3339 or a date), rfc3339, unix, unix-ms or a Go layout such as \"2006-01-02 15:04\"")
	}
	tf.tz = c.fs.String("tz", "UTC", "IANA time zone of times written without an offset, e.g. Europe/Paris")
	tf.unit = c.fs.String("time-unit", "s", "the stream's timestamps count unix seconds (s) or milliseconds (ms); ingest and query must agree")
	return tf
}

func (tf timeFlags) spec() (*timeSpec, error) {
	f := ""
	if tf.format != nil {
		f = *tf.format
	}
	return newTimeSpec(f, *tf.tz, *tf.unit)
}

// specAndScales checks the time flags and parses -scale.
func (tf timeFlags) specAndScales(scales string) (*timeSpec, map[string]uint8, error) {
	spec, err := tf.spec()
	if err != nil {
		return nil, nil, err
	}
	sc, err := parseScales(scales)
	return spec, sc, err
}

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

type columnJSON struct {
	Name  string `json:"name"`
	Scale uint8  `json:"scale"`
}

type timeUnitsJSON struct {
	Format string `json:"format"`
	Unit   string `json:"unit"` // "s" or "ms"
	TZ     string `json:"tz"`
}

// batchJSON is a batch in the JSON output of ingest and list.
type batchJSON struct {
	ID       string       `json:"id"`
	Stream   string       `json:"stream"`
	Seq      uint64       `json:"seq"`
	Version  uint32       `json:"version"`
	Rows     uint32       `json:"rows,omitempty"` // ingest, list
	T0       uint64       `json:"t0"`
	T1       uint64       `json:"t1"`
	Existing bool         `json:"existing,omitempty"` // ingest: already stored
	Revoked  *bool        `json:"revoked,omitempty"`  // list
	Columns  []columnJSON `json:"columns,omitempty"`  // list
	// list: the storage server's precomputed proof tables (columns with
	// one, the timestamps counting as one, and the bytes per column).
	ProofColumns     uint32 `json:"proof_columns,omitempty"`
	ProofBytesColumn uint64 `json:"proof_bytes_per_column,omitempty"`
}

// RunIngest is `vds ingest -file F.csv -stream S`: the file's rows become
// batches of the stream, created through the owner.
func RunIngest(ctx context.Context, args []string) error {
	c := newCommon("ingest")
	file := c.fs.String("file", "", "CSV file: a header row, a timestamp column and numeric columns")
	stream := c.fs.String("stream", "", "stream the batches belong to")
	timeCol := c.fs.String("time-col", "timestamp", "name of the timestamp column")
	cols := c.fs.String("cols", "", "data columns to ingest, e.g. temp,dew (default: every column but the timestamp)")
	rows := c.fs.Int("rows", 0, "rows per batch (default: the CRS capacity)")
	scales := c.fs.String("scale", "", "decimal places per column, e.g. temp=1,load=2 (default: the most places in the file)")
	tf := addTimeFlags(c, true)
	asJSON := c.fs.Bool("json", false, "print one JSON document")
	if err := c.parse(args); err != nil {
		return err
	}
	if *file == "" || *stream == "" {
		fmt.Fprintln(os.Stderr, "vds ingest: -file and -stream are required")
		return errUsage
	}
	spec, sc, err := tf.specAndScales(*scales)
	if err != nil {
		return err
	}
	t, err := readCSVFile(*file, csvOptions{timeCol: *timeCol, cols: splitListOrNil(*cols), scales: sc, time: spec})
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
	out := ingestJSON{Stream: *stream, Rows: len(t.times), Schema: schemaJSON{TimeColumn: *timeCol},
		Time: timeUnitsJSON{Format: *tf.format, Unit: *tf.unit, TZ: *tf.tz}}
	for i, name := range t.names {
		out.Schema.Columns = append(out.Schema.Columns, columnJSON{Name: name, Scale: t.scales[i]})
	}
	if !*asJSON {
		var cs []string
		for _, col := range out.Schema.Columns {
			cs = append(cs, fmt.Sprintf("%s (scale %d)", roles.Display(col.Name), col.Scale))
		}
		fmt.Printf("schema: %s; timestamps from column %s as %s (-time-format %s, -tz %s)\n", strings.Join(cs, ", "), roles.Display(*timeCol), spec.unitName(), *tf.format, *tf.tz)
		fmt.Printf("%d rows, %s .. %s, in %d batches of at most %d rows\n", len(t.times), spec.show(t.times[0]), spec.show(t.times[len(t.times)-1]), len(bs), n)
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

// minPrefix is the fewest hex digits a batch id prefix may have.
const minPrefix = 8

// resolveBatch turns a batch id or a unique prefix of one (at least
// minPrefix hex digits) into a batch id, asking the storage server's list
// for a prefix.
func resolveBatch(ctx context.Context, c *common, s string) (roles.BatchID, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "":
		return roles.BatchID{}, usageErrorf("-batch is required")
	case len(s) == 2*len(roles.BatchID{}):
		id, err := roles.ParseBatchID(s)
		if err != nil {
			return id, &inputError{fmt.Errorf("-batch: %w", err)}
		}
		return id, nil
	case len(s) < minPrefix || len(s) > 2*len(roles.BatchID{}):
		return roles.BatchID{}, inputErrorf("-batch %q: want a batch id or a prefix of at least %d hex digits", s, minPrefix)
	}
	if _, err := hex.DecodeString(s[:len(s)&^1]); err != nil || !isHex(s) {
		return roles.BatchID{}, inputErrorf("-batch %q: not hexadecimal", s)
	}
	st, err := c.dialStorage(nil)
	if err != nil {
		return roles.BatchID{}, err
	}
	defer st.Close()
	l, err := transport.StorageClient{T: st}.ListBatches(ctx, "")
	if err != nil {
		return roles.BatchID{}, fmt.Errorf("storage server: %w", err)
	}
	return matchPrefix(s, l)
}

// matchPrefix returns the one batch of l whose id starts with prefix.
func matchPrefix(prefix string, l []roles.BatchInfo) (roles.BatchID, error) {
	var found []roles.BatchID
	for _, b := range l {
		if strings.HasPrefix(b.ID.String(), prefix) {
			found = append(found, b.ID)
		}
	}
	switch len(found) {
	case 0:
		return roles.BatchID{}, fmt.Errorf("-batch %s: %w (no batch id starts with it; see vds list)", prefix, errs.ErrUnknownBatch)
	case 1:
		return found[0], nil
	}
	return roles.BatchID{}, inputErrorf("-batch %s: ambiguous prefix of %d batches (%s, %s, …): give more digits", prefix, len(found), found[0].Short(), found[1].Short())
}

func isHex(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// usageErrorf prints a usage message and returns errUsage (exit 2).
func usageErrorf(format string, a ...any) error {
	fmt.Fprintf(os.Stderr, "vds: "+format+"\n", a...)
	return errUsage
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// splitListOrNil is splitList, nil for an empty list.
func splitListOrNil(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return splitList(s)
}
