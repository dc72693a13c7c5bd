package cli

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"

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
	batch := c.fs.String("batch", "", "batch id (hex), or a unique prefix of at least 8 hex digits")
	stream := c.fs.String("stream", "", "stream: a window or point query over every live batch of the stream")
	kind := c.fs.String("kind", "range", "point, range, window or weighted (with -stream: window or point)")
	cols := c.fs.String("cols", "", "comma-separated columns")
	row := c.fs.Uint("row", 0, "batch point: the row (from 1)")
	from := c.fs.Uint("from", 0, "range: first row (default 1)")
	to := c.fs.Uint("to", 0, "range: last row (default: the batch's last)")
	tfrom := c.fs.String("tfrom", "", "window: first time (inclusive)")
	tto := c.fs.String("tto", "", "window: last time (inclusive; a bare date means the end of the day before)")
	at := c.fs.String("at", "", "stream point: the time")
	weights := c.fs.String("weights", "", "weighted: comma-separated integer weights w1,w2,…")
	ranges := c.fs.String("ranges", "", "several batch range queries at once, verified together: a-b,c-d,…")
	rows := c.fs.String("rows", "", "several batch point queries at once, verified together: r1,r2,…")
	tf := addTimeFlags(c, false)
	asJSON := c.fs.Bool("json", false, "print one JSON document")
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

// RunAudit is `vds audit`: a batch, or every live batch of a stream range,
// audited with a fresh nonce.
func RunAudit(ctx context.Context, args []string) error {
	c := newCommon("audit")
	batch := c.fs.String("batch", "", "batch id (hex), or a unique prefix of at least 8 hex digits")
	stream := c.fs.String("stream", "", "audit every live batch of this stream in -tfrom..-tto (a stream range)")
	tfrom := c.fs.String("tfrom", "", "stream audit: first time (inclusive)")
	tto := c.fs.String("tto", "", "stream audit: last time (inclusive; a bare date means the end of the day before)")
	cols := c.fs.String("cols", "", "comma-separated columns")
	tf := addTimeFlags(c, false)
	asJSON := c.fs.Bool("json", false, "print one JSON document")
	if err := c.parse(args); err != nil {
		return err
	}
	if *stream != "" {
		if *batch != "" {
			return usageErrorf("audit: give -stream or -batch, not both")
		}
		if len(splitList(*cols)) == 0 {
			return usageErrorf("audit: -cols is required")
		}
		spec, err := tf.spec()
		if err != nil {
			return err
		}
		w, err := parseWindow(spec, "audit", *tfrom, *tto)
		if err != nil {
			return err
		}
		return auditStream(ctx, c, &roles.StreamQuery{Stream: *stream, Kind: roles.QueryWindow, Columns: splitList(*cols), TimeFrom: w.From, TimeTo: w.To}, w, *asJSON)
	}
	id, err := resolveBatch(ctx, c, *batch)
	if err != nil {
		return err
	}
	nonce := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	return askAndVerify(ctx, c, &roles.Query{Batch: id, Kind: roles.QueryAudit, Columns: splitList(*cols), Nonce: nonce}, nil, *asJSON)
}

// askAndVerify asks the storage server and has the verifier check the
// answer; it prints the verified values, or returns why the answer was
// rejected (exit 1) or could not be checked.
func askAndVerify(ctx context.Context, c *common, q *roles.Query, w *windowJSON, asJSON bool) error {
	st, vt, err := dialQuery(c)
	if err != nil {
		return err
	}
	defer st.Close()
	defer vt.Close()
	ans, err := transport.StorageClient{T: st}.Answer(ctx, q)
	if err != nil {
		return fmt.Errorf("storage server: %w", err)
	}
	res, err := transport.VerifierClient{T: vt}.Verify(ctx, q, ans)
	if err != nil {
		return fmt.Errorf("verifier: %w", err)
	}
	if asJSON {
		return printJSON(batchResultJSON(res, w))
	}
	printResult(res, w)
	return nil
}

func dialQuery(c *common) (st, vt transport.Transport, err error) {
	if st, err = c.dialStorage(nil); err != nil {
		return nil, nil, err
	}
	if vt, err = c.dial(c.verifier); err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, vt, nil
}

func batchResultJSON(res *transport.VerifyResult, w *windowJSON) *queryJSON {
	out := &queryJSON{Verified: true, Kind: res.Kind.String(), Batch: res.Batch.String(), Epoch: res.Epoch,
		Columns: res.Columns, Values: res.Values, Raw: res.Raw, Window: w}
	if res.Kind == roles.QueryWindow {
		f, l := res.First, res.Last
		out.FirstRow, out.LastRow = &f, &l
	}
	if out.Columns == nil {
		out.Columns = []string{}
	}
	return out
}

func printResult(res *transport.VerifyResult, w *windowJSON) {
	where := ""
	switch {
	case res.Kind == roles.QueryWindow && res.Last < res.First:
		where = ", no row in the window"
	case res.Kind == roles.QueryWindow:
		where = fmt.Sprintf(", rows %d..%d", res.First, res.Last)
	}
	if res.Kind == roles.QueryAudit {
		fmt.Printf("verified: audit of %s passed (batch %s, epoch %d): the server holds the data\n", strings.Join(displayAll(res.Columns), ", "), res.Batch.Short(), res.Epoch)
		return
	}
	fmt.Printf("verified %s query (batch %s, epoch %d%s):\n", res.Kind, res.Batch.Short(), res.Epoch, where)
	if w != nil {
		printWindow(w)
	}
	for i, col := range res.Columns {
		fmt.Printf("  %s = %s\n", roles.Display(col), res.Values[i])
	}
}

func printWindow(w *windowJSON) {
	fmt.Printf("  window %s .. %s (t=%d..%d, inclusive)\n", w.FromUTC, w.ToUTC, w.From, w.To)
}

// askStream asks a stream query and has the verifier check it (SPEC §11).
func askStream(ctx context.Context, c *common, q *roles.StreamQuery, w *windowJSON, asJSON bool) error {
	st, vt, err := dialQuery(c)
	if err != nil {
		return err
	}
	defer st.Close()
	defer vt.Close()
	ans, err := transport.StorageClient{T: st}.AnswerStream(ctx, q)
	if err != nil {
		return fmt.Errorf("storage server: %w", err)
	}
	res, err := transport.VerifierClient{T: vt}.VerifyStream(ctx, q, ans)
	if err != nil {
		return fmt.Errorf("verifier: %w", err)
	}
	rows := res.Rows
	out := &queryJSON{Verified: true, Kind: q.Kind.String(), Stream: res.Stream, Epoch: res.Epoch, Columns: res.Columns,
		Totals: res.Totals, Raw: res.Raw, Window: w, Rows: &rows, Batches: []batchJSON{}}
	for _, sc := range res.Scales {
		out.Scales = append(out.Scales, int(sc))
	}
	for _, e := range res.Batches {
		out.Batches = append(out.Batches, batchJSON{ID: e.Batch.String(), Stream: res.Stream, Seq: e.Seq, Version: e.Version, T0: e.T0, T1: e.T1})
	}
	if asJSON {
		return printJSON(out)
	}
	fmt.Printf("verified stream %s query on %s (epoch %d): %s, %s in the window\n", q.Kind, roles.Display(res.Stream), res.Epoch, plural(len(res.Batches), "batch", "batches"), plural(int(res.Rows), "row", "rows"))
	printWindow(w)
	label := "sum"
	if q.Kind == roles.QueryPoint {
		label = "value"
	}
	for i, col := range res.Columns {
		fmt.Printf("  %s(%s) = %s\n", label, roles.Display(col), res.Totals[i])
	}
	return nil
}

// plural is "1 batch", "2 batches".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// auditStream audits a stream range (SPEC §11.4): the verified window query
// names exactly the live batches of the range, and each is audited with a
// fresh nonce.
func auditStream(ctx context.Context, c *common, q *roles.StreamQuery, w *windowJSON, asJSON bool) error {
	st, vt, err := dialQuery(c)
	if err != nil {
		return err
	}
	defer st.Close()
	defer vt.Close()
	storage, verifier := transport.StorageClient{T: st}, transport.VerifierClient{T: vt}
	ans, err := storage.AnswerStream(ctx, q)
	if err != nil {
		return fmt.Errorf("storage server: %w", err)
	}
	res, err := verifier.VerifyStream(ctx, q, ans)
	if err != nil {
		return fmt.Errorf("verifier: %w", err)
	}
	nonce := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	out := &queryJSON{Verified: true, Kind: "audit", Stream: res.Stream, Epoch: res.Epoch, Columns: res.Columns, Window: w, Batches: []batchJSON{}}
	for _, e := range res.Batches {
		aq := &roles.Query{Batch: e.Batch, Kind: roles.QueryAudit, Columns: q.Columns, Nonce: nonce}
		a, err := storage.Answer(ctx, aq)
		if err != nil {
			return fmt.Errorf("storage server: audit of batch %s: %w", e.Batch.Short(), err)
		}
		if _, err := verifier.Verify(ctx, aq, a); err != nil {
			return fmt.Errorf("verifier: audit of batch %s: %w", e.Batch.Short(), err)
		}
		out.Batches = append(out.Batches, batchJSON{ID: e.Batch.String(), Stream: res.Stream, Seq: e.Seq, Version: e.Version, T0: e.T0, T1: e.T1})
	}
	if asJSON {
		return printJSON(out)
	}
	fmt.Printf("verified: audit of stream %s (epoch %d): every one of the %s of the range holds its data (%s)\n",
		roles.Display(res.Stream), res.Epoch, plural(len(res.Batches), "live batch", "live batches"), strings.Join(displayAll(q.Columns), ", "))
	printWindow(w)
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
