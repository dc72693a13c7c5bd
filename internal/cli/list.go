package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vdsproject/vds/internal/errs"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// listJSON is `vds list -json`.
type listJSON struct {
	Batches []batchJSON `json:"batches"`
}

// RunList is `vds list`: the batches the storage server holds.
func RunList(ctx context.Context, args []string) error {
	c := newCommon("list")
	stream := c.fs.String("stream", "", "only this stream")
	asJSON := c.jsonFlag()
	if err := c.parse(args); err != nil {
		return err
	}
	st, err := c.dialStorage(nil)
	if err != nil {
		return err
	}
	defer st.Close()
	sc := transport.StorageClient{T: st}
	l, err := sc.ListBatches(ctx, *stream)
	if err != nil {
		return fmt.Errorf("storage server: %w", err)
	}
	out := listJSON{Batches: []batchJSON{}}
	for _, b := range l {
		revoked := b.Revoked
		bj := batchJSON{ID: b.ID.String(), Stream: b.Stream, Seq: b.Seq, Version: b.Version, Rows: b.Rows, T0: b.FirstTime, T1: b.LastTime, Revoked: &revoked}
		if b.ProofColumns > 0 {
			bj.ProofColumns, bj.ProofBytesColumn = b.ProofColumns, b.ProofBytes/uint64(b.ProofColumns)
		}
		h, err := sc.Header(ctx, b.ID)
		switch {
		case err == nil:
			for _, col := range h.Header.Columns {
				bj.Columns = append(bj.Columns, columnJSON{Name: col.Name, Scale: col.Scale})
			}
		case !errors.Is(err, errs.ErrUnknownBatch) && !errors.Is(err, errs.ErrNotFound) && !errors.Is(err, errs.ErrRevoked):
			return fmt.Errorf("storage server: header of %s: %w", b.ID.Short(), err)
		}
		out.Batches = append(out.Batches, bj)
	}
	if *asJSON {
		return printJSON(out)
	}
	if len(out.Batches) == 0 {
		if *stream != "" {
			fmt.Printf("no batches in stream %s\n", roles.Display(*stream))
		} else {
			fmt.Println("no batches stored yet (vds ingest -file F.csv -stream S)")
		}
		return nil
	}
	for _, b := range out.Batches {
		status := "live"
		if *b.Revoked {
			status = "revoked"
		}
		var cs []string
		for _, col := range b.Columns {
			cs = append(cs, fmt.Sprintf("%s:%d", roles.Display(col.Name), col.Scale))
		}
		tables := "tables 0"
		if b.ProofColumns > 0 {
			tables = fmt.Sprintf("tables %d, %d bytes/column", b.ProofColumns, b.ProofBytesColumn)
		}
		fmt.Printf("%s\t%s/%d v%d\t%d rows\tt=%d..%d\t%s\t%s\t%s\n", b.ID, roles.Display(b.Stream), b.Seq, b.Version, b.Rows, b.T0, b.T1, status, strings.Join(cs, ","), tables)
	}
	return nil
}
