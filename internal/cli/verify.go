package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// askAndVerify asks the storage server and has the verifier check the
// answer; it prints the verified values, or returns why the answer was
// rejected (exit 1) or could not be checked.
func askAndVerify(ctx context.Context, c *common, q *roles.Query, w *windowJSON, asJSON bool) error {
	qc, err := dialQuery(c)
	if err != nil {
		return err
	}
	defer qc.Close()
	res, err := qc.verify(ctx, q)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(batchResultJSON(res, w))
	}
	printResult(res, w)
	return nil
}

// queryClients are the storage server and the verifier a query asks.
type queryClients struct {
	st, vt   transport.Transport
	storage  transport.StorageClient
	verifier transport.VerifierClient
}

// dialQuery connects to -storage and -verifier.
func dialQuery(c *common) (*queryClients, error) {
	st, err := c.dialStorage(nil)
	if err != nil {
		return nil, err
	}
	vt, err := c.dial(c.verifier)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &queryClients{st: st, vt: vt, storage: transport.StorageClient{T: st}, verifier: transport.VerifierClient{T: vt}}, nil
}

// Close closes both connections.
func (qc *queryClients) Close() {
	qc.st.Close()
	qc.vt.Close()
}

// verify asks the storage server q and has the verifier check the answer.
func (qc *queryClients) verify(ctx context.Context, q *roles.Query) (*transport.VerifyResult, error) {
	ans, err := qc.storage.Answer(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("storage server: %w", err)
	}
	res, err := qc.verifier.Verify(ctx, q, ans)
	if err != nil {
		return nil, fmt.Errorf("verifier: %w", err)
	}
	return res, nil
}

// verifyStream asks the storage server the stream query q and has the
// verifier check the answer (SPEC §11): the headers the verifier already
// holds are named, not sent again, and a window wider than one answer
// comes in segments, all fetched and verified together (§11.5).
func (qc *queryClients) verifyStream(ctx context.Context, q *roles.StreamQuery) (*transport.VerifyStreamResult, error) {
	held, err := qc.verifier.HeldBatches(ctx, q.Stream, q.TimeFrom, q.TimeTo)
	if err != nil {
		return nil, fmt.Errorf("verifier: %w", err)
	}
	ans, err := roles.FetchStream(ctx, qc.storage, q, held)
	if err != nil {
		return nil, fmt.Errorf("storage server: %w", err)
	}
	res, err := qc.verifier.VerifyStream(ctx, q, ans)
	if err != nil {
		return nil, fmt.Errorf("verifier: %w", err)
	}
	return res, nil
}

// streamBatches are the batches a verified stream answer covers.
func streamBatches(res *transport.VerifyStreamResult) []batchJSON {
	out := []batchJSON{}
	for _, e := range res.Batches {
		out = append(out, batchJSON{ID: e.Batch.String(), Stream: res.Stream, Seq: e.Seq, Version: e.Version, T0: e.T0, T1: e.T1})
	}
	return out
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
	qc, err := dialQuery(c)
	if err != nil {
		return err
	}
	defer qc.Close()
	res, err := qc.verifyStream(ctx, q)
	if err != nil {
		return err
	}
	rows := res.Rows
	out := &queryJSON{Verified: true, Kind: q.Kind.String(), Stream: res.Stream, Epoch: res.Epoch, Columns: res.Columns,
		Totals: res.Totals, Raw: res.Raw, Window: w, Rows: &rows, Batches: streamBatches(res)}
	for _, sc := range res.Scales {
		out.Scales = append(out.Scales, int(sc))
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
