package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/vdsproject/vds/roles"
)

// manyQueries returns the range queries of ranges ("a-b,…") and the point
// queries of rows ("r,…") on one batch.
func manyQueries(id roles.BatchID, cols []string, ranges, rows string) ([]*roles.Query, error) {
	var qs []*roles.Query
	for _, r := range splitList(ranges) {
		a, b, ok := strings.Cut(r, "-")
		from, err1 := strconv.ParseUint(strings.TrimSpace(a), 10, 32)
		to, err2 := strconv.ParseUint(strings.TrimSpace(b), 10, 32)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("range %q: want first-last", r)
		}
		qs = append(qs, &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: cols, From: uint32(from), To: uint32(to)})
	}
	for _, r := range splitList(rows) {
		row, err := strconv.ParseUint(r, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("row %q: %w", r, err)
		}
		qs = append(qs, &roles.Query{Batch: id, Kind: roles.QueryPoint, Columns: cols, Row: uint32(row)})
	}
	if len(qs) > roles.MaxVerifyMany {
		return nil, fmt.Errorf("%d queries, at most %d at once", len(qs), roles.MaxVerifyMany)
	}
	return qs, nil
}

// askAndVerifyMany asks the storage server each query and has the
// verifier check all the answers in one verify_many call; it prints each
// verified result, or why an answer was rejected.
func askAndVerifyMany(ctx context.Context, c *common, qs []*roles.Query, asJSON bool) error {
	qc, err := dialQuery(c)
	if err != nil {
		return err
	}
	defer qc.Close()
	as := make([]*roles.Answer, len(qs))
	for i, q := range qs {
		if as[i], err = qc.storage.Answer(ctx, q); err != nil {
			return fmt.Errorf("storage server, query %d: %w", i+1, err)
		}
	}
	res, err := qc.verifier.VerifyMany(ctx, qs, as)
	var me *roles.VerifyManyError
	if err != nil && !errors.As(err, &me) {
		return fmt.Errorf("verifier: %w", err)
	}
	out := make([]*queryJSON, 0, len(qs))
	for i := range qs {
		switch {
		case me != nil && me.Errs[i] != nil:
			if !asJSON {
				fmt.Printf("query %d REJECTED: %v\n", i+1, me.Errs[i])
			}
			out = append(out, &queryJSON{Verified: false, Kind: qs[i].Kind.String(), Batch: qs[i].Batch.String(), Columns: qs[i].Columns})
		case asJSON:
			out = append(out, batchResultJSON(res[i], nil))
		default:
			printResult(res[i], nil)
		}
	}
	if asJSON {
		if err := printJSON(out); err != nil {
			return err
		}
	}
	if me != nil {
		return fmt.Errorf("verifier: %d of %d answers rejected: %w", len(me.Unwrap()), len(qs), err)
	}
	return nil
}
