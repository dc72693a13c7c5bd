package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

func runIngest(ctx context.Context, args []string) error {
	c := newCommon("ingest")
	file := c.fs.String("file", "", "CSV file: a header row, a timestamp column and numeric columns")
	stream := c.fs.String("stream", "", "stream the batches belong to")
	timeCol := c.fs.String("time-col", "timestamp", "name of the timestamp column")
	rows := c.fs.Int("rows", 0, "rows per batch (default: the CRS capacity)")
	scales := c.fs.String("scale", "", "decimal places per column, e.g. temp=1,load=2 (default: the most places in the file)")
	if err := c.parse(args); err != nil {
		return err
	}
	if *file == "" || *stream == "" {
		fmt.Fprintln(os.Stderr, "vds ingest: -file and -stream are required")
		return errUsage
	}
	t, err := readCSVFile(*file, *timeCol, *scales)
	if err != nil {
		return err
	}
	ot, err := c.dialOwner()
	if err != nil {
		return err
	}
	defer ot.Close()
	owner := transport.OwnerClient{T: ot}
	n := *rows
	if n <= 0 {
		if n, err = capacity(ctx, c); err != nil {
			return err
		}
	}
	for i, b := range t.batches(*stream, n) {
		r, err := owner.CreateBatch(ctx, b)
		if err != nil {
			return fmt.Errorf("batch %d: %w", i+1, err)
		}
		h := &r.Header
		id, _ := h.Header.Digest()
		note := ""
		if r.Existing {
			note = "\talready stored"
		}
		fmt.Printf("%s\t%s/%d\t%d rows\tt=%d..%d%s\n", id, roles.Display(h.Header.Stream), h.Header.Seq, h.Header.Rows, h.Header.FirstTime, h.Header.LastTime, note)
	}
	return nil
}

// capacity returns the CRS capacity from the data directory.
func capacity(ctx context.Context, c *common) (int, error) {
	crs, err := c.loadCRS()
	if err != nil {
		return 0, fmt.Errorf("%w (or give -rows)", err)
	}
	return crs.N(), nil
}

func parseBatch(s string) (roles.BatchID, error) {
	if s == "" {
		return roles.BatchID{}, fmt.Errorf("-batch is required")
	}
	return roles.ParseBatchID(s)
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

func runQuery(ctx context.Context, args []string) error {
	c := newCommon("query")
	batch := c.fs.String("batch", "", "batch id (hex)")
	kind := c.fs.String("kind", "range", "point, range, window or weighted")
	cols := c.fs.String("cols", "", "comma-separated columns")
	row := c.fs.Uint("row", 0, "point: the row (from 1)")
	from := c.fs.Uint("from", 0, "range: first row")
	to := c.fs.Uint("to", 0, "range: last row")
	tfrom := c.fs.Uint64("tfrom", 0, "window: first timestamp")
	tto := c.fs.Uint64("tto", 0, "window: last timestamp")
	weights := c.fs.String("weights", "", "weighted: comma-separated integer weights w1,w2,…")
	if err := c.parse(args); err != nil {
		return err
	}
	id, err := parseBatch(*batch)
	if err != nil {
		return err
	}
	q := &roles.Query{Batch: id, Columns: splitList(*cols)}
	switch *kind {
	case "point":
		q.Kind, q.Row = roles.QueryPoint, uint32(*row)
	case "range":
		q.Kind, q.From, q.To = roles.QueryRange, uint32(*from), uint32(*to)
	case "window":
		q.Kind, q.TimeFrom, q.TimeTo = roles.QueryWindow, *tfrom, *tto
	case "weighted":
		q.Kind = roles.QueryWeighted
		for _, w := range splitList(*weights) {
			v, err := strconv.ParseInt(w, 10, 64)
			if err != nil {
				return fmt.Errorf("weight %q: %w", w, err)
			}
			q.Weights = append(q.Weights, roles.FromInt64(v))
		}
	default:
		return fmt.Errorf("unknown kind %q (point, range, window, weighted; audits: vds audit)", *kind)
	}
	return askAndVerify(ctx, c, q)
}

func runAudit(ctx context.Context, args []string) error {
	c := newCommon("audit")
	batch := c.fs.String("batch", "", "batch id (hex)")
	cols := c.fs.String("cols", "", "comma-separated columns")
	if err := c.parse(args); err != nil {
		return err
	}
	id, err := parseBatch(*batch)
	if err != nil {
		return err
	}
	nonce := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	return askAndVerify(ctx, c, &roles.Query{Batch: id, Kind: roles.QueryAudit, Columns: splitList(*cols), Nonce: nonce})
}

// askAndVerify asks the storage server and has the verifier check the
// answer; it prints the verified values, or why the answer was rejected.
func askAndVerify(ctx context.Context, c *common, q *roles.Query) error {
	st, err := c.dial(c.storage)
	if err != nil {
		return err
	}
	defer st.Close()
	vt, err := c.dial(c.verifier)
	if err != nil {
		return err
	}
	defer vt.Close()
	ans, err := transport.StorageClient{T: st}.Answer(ctx, q)
	if err != nil {
		return fmt.Errorf("storage server: %w", err)
	}
	res, err := transport.VerifierClient{T: vt}.Verify(ctx, q, ans)
	if err != nil {
		fmt.Printf("REJECTED: %s\n", safeText(err.Error()))
		return fmt.Errorf("answer rejected")
	}
	printResult(res)
	return nil
}

func printResult(res *transport.VerifyResult) {
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
	for i, col := range res.Columns {
		fmt.Printf("  %s = %s\n", roles.Display(col), res.Values[i])
	}
}

func runRevoke(ctx context.Context, args []string) error {
	c := newCommon("revoke")
	batch := c.fs.String("batch", "", "batch id (hex)")
	if err := c.parse(args); err != nil {
		return err
	}
	id, err := parseBatch(*batch)
	if err != nil {
		return err
	}
	ot, err := c.dialOwner()
	if err != nil {
		return err
	}
	defer ot.Close()
	st, err := transport.OwnerClient{T: ot}.Revoke(ctx, id)
	if err != nil {
		return err
	}
	fmt.Printf("revoked %s at epoch %d\n", id, st.State.Epoch)
	return nil
}

func runUpdate(ctx context.Context, args []string) error {
	c := newCommon("update")
	batch := c.fs.String("batch", "", "batch id (hex) of the version to replace")
	file := c.fs.String("file", "", "CSV file with the new version (one batch)")
	timeCol := c.fs.String("time-col", "timestamp", "name of the timestamp column")
	scales := c.fs.String("scale", "", "decimal places per column (as for ingest)")
	if err := c.parse(args); err != nil {
		return err
	}
	id, err := parseBatch(*batch)
	if err != nil {
		return err
	}
	t, err := readCSVFile(*file, *timeCol, *scales)
	if err != nil {
		return err
	}
	bs := t.batches("", len(t.times))
	ot, err := c.dialOwner()
	if err != nil {
		return err
	}
	defer ot.Close()
	r, err := transport.OwnerClient{T: ot}.Update(ctx, id, bs[0])
	if err != nil {
		return err
	}
	nid, _ := r.Header.Header.Digest()
	fmt.Printf("updated %s/%d to version %d: new batch %s, old one revoked at epoch %d\n", roles.Display(r.Header.Header.Stream), r.Header.Header.Seq, r.Header.Header.Version, nid, r.State.State.Epoch)
	return nil
}

func runState(ctx context.Context, args []string) error {
	c := newCommon("state")
	if err := c.parse(args); err != nil {
		return err
	}
	ot, err := c.dialOwner()
	if err != nil {
		return err
	}
	defer ot.Close()
	st, err := transport.OwnerClient{T: ot}.LatestState(ctx)
	if err != nil {
		return fmt.Errorf("owner: %w", err)
	}
	d, _ := st.State.Digest()
	acc := (*bls.G1Affine)(&st.State.Acc).Bytes()
	fmt.Printf("owner:    epoch %d, state %s…, f = %x…, issued %s, key %s\n", st.State.Epoch, d.String()[:16], acc[:8],
		time.UnixMilli(st.IssuedAt).UTC().Format(time.RFC3339), st.KeyID)
	if r := st.State.Revoked; r != nil {
		fmt.Printf("          epoch %d revoked batch %s\n", st.State.Epoch, r.Batch)
	}
	for _, s := range []struct{ name, addr, svc string }{{"storage", c.storage, transport.ServiceStorage}, {"verifier", c.verifier, transport.ServiceVerifier}} {
		t, err := c.dial(s.addr)
		if err != nil {
			return err
		}
		var h transport.Health
		err = t.Call(ctx, s.svc, "health", &transport.Empty{}, &h)
		t.Close()
		switch {
		case err != nil:
			fmt.Printf("%-9s unreachable: %v\n", s.name+":", err)
		case !h.HasEpoch:
			fmt.Printf("%-9s no state yet\n", s.name+":")
		default:
			fmt.Printf("%-9s epoch %d\n", s.name+":", h.Epoch)
		}
	}
	return nil
}

func runList(ctx context.Context, args []string) error {
	c := newCommon("list")
	stream := c.fs.String("stream", "", "only this stream")
	if err := c.parse(args); err != nil {
		return err
	}
	st, err := c.dial(c.storage)
	if err != nil {
		return err
	}
	defer st.Close()
	l, err := transport.StorageClient{T: st}.ListBatches(ctx, *stream)
	if err != nil {
		return err
	}
	for _, b := range l {
		status := "live"
		if b.Revoked {
			status = "revoked"
		}
		fmt.Printf("%s\t%s/%d v%d\t%d rows\tt=%d..%d\t%s\n", b.ID, roles.Display(b.Stream), b.Seq, b.Version, b.Rows, b.FirstTime, b.LastTime, status)
	}
	return nil
}

// displayAll escapes names for printing (roles.Display).
func displayAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = roles.Display(n)
	}
	return out
}
