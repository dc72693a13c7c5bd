package transport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vdsproject/vds/internal/errs"
	"github.com/vdsproject/vds/roles"
)

// DefaultAppendChunk is the number of rows AppendAll sends per call by
// default.
const DefaultAppendChunk = 1000

// Backoff of AppendAll between a failed call and the next.
const (
	appendRetryFirst = 20 * time.Millisecond
	appendRetryMax   = 2 * time.Second
)

// ErrOtherWriter: after a call whose outcome was unknown, the owner
// reported a last acknowledged row that neither the rows acknowledged
// before nor the call's rows explain — another client appends to the
// stream. It wraps roles.ErrConflict.
var ErrOtherWriter = fmt.Errorf("transport: the stream's last row is not one this client sent: %w", roles.ErrConflict)

// AppendAll appends rows (timestamps strictly increasing) to a stream
// through append_rows, in calls of at most chunk rows (0:
// DefaultAppendChunk), and returns how many of them, from the first, are
// acknowledged — durable in the owner's store. It retries, with a backoff,
// until ctx ends: while the owner answers buffer_full, not_leader or
// unavailable, and after a call whose outcome is unknown (a broken
// connection, an owner restarting) — asking then for the stream's last
// acknowledged row and sending only the rows after it, so that no row is
// appended twice. A refusal that a retry cannot change (a row that breaks
// a rule, another schema, no credentials) is returned at once. It assumes
// it is the stream's only writer (ErrOtherWriter otherwise).
func (c OwnerClient) AppendAll(ctx context.Context, stream string, columns []roles.ColumnInfo, rows []roles.Row, chunk int) (int, error) {
	if chunk <= 0 {
		chunk = DefaultAppendChunk
	}
	done := 0
	var backoff time.Duration
	for done < len(rows) {
		part := rows[done:min(done+chunk, len(rows))]
		res, err := c.AppendRows(ctx, stream, columns, part)
		if err == nil {
			if res.Acknowledged != uint64(len(part)) {
				return done, fmt.Errorf("transport: append_rows acknowledged %d of %d rows: %w", res.Acknowledged, len(part), roles.ErrConflict)
			}
			done += len(part)
			backoff = 0
			continue
		}
		if final(err) || ctx.Err() != nil {
			return done, err
		}
		// Unknown outcome, or nothing done: learn what was acknowledged.
		for {
			backoff = min(max(2*backoff, appendRetryFirst), appendRetryMax)
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return done, fmt.Errorf("transport: append_rows: %w (last error: %w)", ctx.Err(), err)
			case <-t.C:
			}
			res, err = c.AppendRows(ctx, stream, columns, nil)
			if err == nil {
				break
			}
			if final(err) {
				return done, err
			}
		}
		prev := uint64(0)
		if done > 0 {
			prev = rows[done-1].Time
		}
		if (done > 0 && res.Last < prev) || res.Last > part[len(part)-1].Time {
			return done, fmt.Errorf("transport: stream %s ends at t=%d, the rows acknowledged so far at t=%d, the call's at t=%d: %w",
				roles.Display(stream), res.Last, prev, part[len(part)-1].Time, ErrOtherWriter)
		}
		for done < len(rows) && rows[done].Time <= res.Last && rows[done].Time >= part[0].Time {
			done++
		}
	}
	return done, nil
}

// final reports whether an append_rows error is one a retry cannot
// change: a refused row or request, another schema or appender, no
// credentials. Anything else (buffer_full, not_leader, unavailable, a
// transport failure, an internal error) may pass.
func final(err error) bool {
	return errors.Is(err, roles.ErrInvalidInput) || errors.Is(err, roles.ErrConflict) ||
		errors.Is(err, errs.ErrUnauthorized) || errors.Is(err, roles.ErrTooLarge)
}
