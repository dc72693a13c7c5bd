package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

const queryHelp = `
A stream query (-stream S) covers every live batch of S in a time window,
with a proof that none is left out, revoked or old:
  vds query -stream S -kind window -cols a,b -tfrom 2010-02-01 -tto 2010-03-01
  vds query -stream S -kind point  -cols a   -at 2010-02-01T13:00:00Z
A batch query (-batch ID, or a unique prefix of at least 8 hex digits) asks
one batch: point -row R, range -from R1 -to R2 (no rows: the whole batch),
window -tfrom/-tto, weighted -weights.

Times: a stream's timestamps are the integers that were ingested. -tfrom,
-tto and -at take unix integers as given, or RFC 3339 (2010-02-01T00:00:00Z),
a date (2010-02-01) or a date and time (2010-02-01 13:00), converted to unix
seconds (-time-unit ms: milliseconds; use the unit the stream was ingested
with). -tz (an IANA name, default UTC) applies to times without an offset.
The window [tfrom, tto] is inclusive, except that a bare date as -tto means
the end of the day before it: -tfrom 2010-02-01 -tto 2010-03-01 is exactly
February. The resolved window is printed with the result.
`

// queryJSON is `vds query -json` and `vds audit -json`.
type queryJSON struct {
	Verified bool     `json:"verified"`
	Kind     string   `json:"kind"`
	Stream   string   `json:"stream,omitempty"`
	Batch    string   `json:"batch,omitempty"`
	Epoch    uint64   `json:"epoch"`
	Columns  []string `json:"columns"`
	Values   []string `json:"values,omitempty"` // decimal, with each column's scale (batch queries)
	Totals   []string `json:"totals,omitempty"` // decimal (stream queries)
	Raw      []string `json:"raw,omitempty"`    // the integers, unscaled
	Scales   []int    `json:"scales,omitempty"`
	// Batch window queries: the rows the window selects (first > last: none).
	FirstRow *uint32 `json:"first_row,omitempty"`
	LastRow  *uint32 `json:"last_row,omitempty"`
	// Window and point queries: the resolved window (inclusive).
	Window *windowJSON `json:"window,omitempty"`
	// Stream queries: the live batches covered and their rows in the window.
	Batches []batchJSON `json:"batches,omitempty"`
	Rows    *uint64     `json:"rows,omitempty"`
}

type windowJSON struct {
	From    uint64 `json:"from"`
	To      uint64 `json:"to"`
	FromUTC string `json:"from_utc"`
	ToUTC   string `json:"to_utc"`
}

// RunQuery is `vds query`: a stream or batch query, answered by the
// storage server and checked by the verifier.
func RunQuery(ctx context.Context, args []string) error {
	c := newCommon("query")
	batch := c.batchFlag(batchHelp)
	stream := c.fs.String("stream", "", "stream: a window or point query over every live batch of the stream")
	kind := c.fs.String("kind", "range", "point, range, window or weighted (with -stream: window or point)")
	cols := c.fs.String("cols", "", "comma-separated columns")
	row := c.fs.Uint("row", 0, "batch point: the row (from 1)")
	from := c.fs.Uint("from", 0, "range: first row (default 1)")
	to := c.fs.Uint("to", 0, "range: last row (default: the batch's last)")
	tfrom, tto := c.windowFlags("window")
	at := c.fs.String("at", "", "stream point: the time")
	weights := c.fs.String("weights", "", "weighted: comma-separated integer weights w1,w2,…")
	ranges := c.fs.String("ranges", "", "several batch range queries at once, verified together: a-b,c-d,…")
	rows := c.fs.String("rows", "", "several batch point queries at once, verified together: r1,r2,…")
	tf := addTimeFlags(c, false)
	asJSON := c.jsonFlag()
	c.fs.Usage = func() {
		fmt.Fprintln(c.fs.Output(), "usage: vds query (-stream S | -batch ID) -kind K -cols c1,c2 [flags]")
		c.fs.PrintDefaults()
		fmt.Fprint(c.fs.Output(), queryHelp)
	}
	if err := c.parse(args); err != nil {
		return err
	}
	spec, err := tf.spec()
	if err != nil {
		return err
	}
	if len(splitList(*cols)) == 0 && *kind != "audit" {
		return usageErrorf("query: -cols is required")
	}
	window := func() (*windowJSON, error) { return parseWindow(spec, "query", *tfrom, *tto) }
	switch {
	case *stream != "" && *batch != "":
		return usageErrorf("query: give -stream or -batch, not both")
	case *stream != "":
		q := &roles.StreamQuery{Stream: *stream, Columns: splitList(*cols)}
		var w *windowJSON
		switch *kind {
		case "window":
			if w, err = window(); err != nil {
				return err
			}
			q.Kind = roles.QueryWindow
		case "point":
			if *at == "" {
				return usageErrorf("query: a stream point query needs -at")
			}
			t, err := spec.parse(*at, false)
			if err != nil {
				return inputErrorf("-at: %w", err)
			}
			w = &windowJSON{From: t, To: t, FromUTC: spec.show(t), ToUTC: spec.show(t)}
			q.Kind = roles.QueryPoint
		default:
			return usageErrorf("query: -kind %s is not a stream query (window or point; or give -batch)", *kind)
		}
		q.TimeFrom, q.TimeTo = w.From, w.To
		return askStream(ctx, c, q, w, *asJSON)
	case *batch == "":
		return usageErrorf("query: -stream or -batch is required")
	}
	if *ranges != "" || *rows != "" {
		id, err := resolveBatch(ctx, c, *batch)
		if err != nil {
			return err
		}
		qs, err := manyQueries(id, splitList(*cols), *ranges, *rows)
		if err != nil {
			return inputErrorf("%w", err)
		}
		return askAndVerifyMany(ctx, c, qs, *asJSON) // many.go
	}
	q := &roles.Query{Columns: splitList(*cols)}
	var w *windowJSON
	switch *kind {
	case "point":
		if *row == 0 {
			return usageErrorf("query: a batch point query needs -row (from 1)")
		}
		q.Kind, q.Row = roles.QueryPoint, uint32(*row)
	case "range":
		q.Kind, q.From, q.To = roles.QueryRange, uint32(*from), uint32(*to)
	case "window":
		if w, err = window(); err != nil {
			return err
		}
		q.Kind, q.TimeFrom, q.TimeTo = roles.QueryWindow, w.From, w.To
	case "weighted":
		q.Kind = roles.QueryWeighted
		for _, s := range splitList(*weights) {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return inputErrorf("weight %q: %w", s, err)
			}
			q.Weights = append(q.Weights, roles.FromInt64(v))
		}
	default:
		return usageErrorf("query: unknown kind %q (point, range, window, weighted; audits: vds audit)", *kind)
	}
	if q.Batch, err = resolveBatch(ctx, c, *batch); err != nil {
		return err
	}
	if q.Kind == roles.QueryRange && (q.From == 0 || q.To == 0) {
		// No rows: the whole batch (or from -from to its end).
		if err := wholeBatch(ctx, c, q); err != nil {
			return err
		}
	}
	return askAndVerify(ctx, c, q, w, *asJSON)
}

// wholeBatch fills a range query's missing ends from the batch's header.
func wholeBatch(ctx context.Context, c *common, q *roles.Query) error {
	st, err := c.dialStorage(nil)
	if err != nil {
		return err
	}
	defer st.Close()
	h, err := transport.StorageClient{T: st}.Header(ctx, q.Batch)
	if err != nil {
		return fmt.Errorf("storage server: %w", err)
	}
	if q.From == 0 {
		q.From = 1
	}
	if q.To == 0 {
		q.To = h.Header.Rows
	}
	return nil
}

// parseWindow resolves -tfrom and -tto into an inclusive window; a missing
// bound is a usage error of cmd.
func parseWindow(spec *timeSpec, cmd, tfrom, tto string) (*windowJSON, error) {
	if tfrom == "" || tto == "" {
		return nil, usageErrorf("%s: a window needs -tfrom and -tto", cmd)
	}
	a, err := spec.parse(tfrom, false)
	if err != nil {
		return nil, inputErrorf("-tfrom: %w", err)
	}
	b, err := spec.parse(tto, true)
	if err != nil {
		return nil, inputErrorf("-tto: %w", err)
	}
	if a > b {
		return nil, inputErrorf("the window %s .. %s is empty or reversed", spec.show(a), spec.show(b))
	}
	return &windowJSON{From: a, To: b, FromUTC: spec.show(a), ToUTC: spec.show(b)}, nil
}
