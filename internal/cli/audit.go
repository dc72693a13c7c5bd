package cli

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/vdsproject/vds/roles"
)

// RunAudit is `vds audit`: a batch, or every live batch of a stream range,
// audited with a fresh nonce.
func RunAudit(ctx context.Context, args []string) error {
	c := newCommon("audit")
	batch := c.batchFlag(batchHelp)
	stream := c.fs.String("stream", "", "audit every live batch of this stream in -tfrom..-tto (a stream range)")
	tfrom, tto := c.windowFlags("stream audit")
	cols := c.fs.String("cols", "", "comma-separated columns")
	tf := addTimeFlags(c, false)
	asJSON := c.jsonFlag()
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
	nonce, err := freshNonce()
	if err != nil {
		return err
	}
	return askAndVerify(ctx, c, &roles.Query{Batch: id, Kind: roles.QueryAudit, Columns: splitList(*cols), Nonce: nonce}, nil, *asJSON)
}

// auditStream audits a stream range (SPEC §11.4): the verified window query
// names exactly the live batches of the range, and each is audited with a
// fresh nonce.
func auditStream(ctx context.Context, c *common, q *roles.StreamQuery, w *windowJSON, asJSON bool) error {
	qc, err := dialQuery(c)
	if err != nil {
		return err
	}
	defer qc.Close()
	res, err := qc.verifyStream(ctx, q)
	if err != nil {
		return err
	}
	nonce, err := freshNonce()
	if err != nil {
		return err
	}
	out := &queryJSON{Verified: true, Kind: "audit", Stream: res.Stream, Epoch: res.Epoch, Columns: res.Columns, Window: w, Batches: streamBatches(res)}
	for _, e := range res.Batches {
		aq := &roles.Query{Batch: e.Batch, Kind: roles.QueryAudit, Columns: q.Columns, Nonce: nonce}
		a, err := qc.storage.Answer(ctx, aq)
		if err != nil {
			return fmt.Errorf("storage server: audit of batch %s: %w", e.Batch.Short(), err)
		}
		if _, err := qc.verifier.Verify(ctx, aq, a); err != nil {
			return fmt.Errorf("verifier: audit of batch %s: %w", e.Batch.Short(), err)
		}
	}
	if asJSON {
		return printJSON(out)
	}
	fmt.Printf("verified: audit of stream %s (epoch %d): every one of the %s of the range holds its data (%s)\n",
		roles.Display(res.Stream), res.Epoch, plural(len(res.Batches), "live batch", "live batches"), strings.Join(displayAll(q.Columns), ", "))
	printWindow(w)
	return nil
}

// freshNonce returns the random challenge of an audit.
func freshNonce() ([]byte, error) {
	nonce := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return nonce, nil
}
