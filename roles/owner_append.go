package roles

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// closeAppendersTimeout bounds how long DataOwner.Close waits for its open
// appenders to seal their rows (rows it cannot seal stay pending in the
// store, and are resumed by the next owner).
const closeAppendersTimeout = 30 * time.Second

// WithAppendPolicy sets the policy of the appenders DataOwner.AppendRows
// opens (default: the zero AppendPolicy — batches of n rows, sealed by
// count, Flush and Close only). It is checked when an appender opens.
func WithAppendPolicy(p AppendPolicy) OwnerOption {
	return func(c *ownerConfig) { c.appendPol = p }
}

// AppendRows appends rows to a stream through the stream's open appender,
// opening it with schema and the owner's append policy (WithAppendPolicy)
// on first use; an open appender with another schema fails the call with
// ErrSchemaMismatch. It is the append_rows method of the owner service
// (SPEC §8): see Appender.AppendRows for what it acknowledges. With no
// rows it only reports the stream's last acknowledged timestamp (Last) —
// what a client that lost a response resumes after.
func (o *DataOwner) AppendRows(ctx context.Context, stream string, schema []ColumnInfo, rows []Row) (AppendResult, error) {
	o.mu.Lock()
	a := o.appenders[stream]
	o.mu.Unlock()
	if a == nil {
		var err error
		a, err = o.Appender(ctx, stream, schema, o.cfg.appendPol)
		if err != nil && !errors.Is(err, ErrAppenderOpen) {
			return AppendResult{}, err
		}
		if err != nil { // opened concurrently
			o.mu.Lock()
			a = o.appenders[stream]
			o.mu.Unlock()
			if a == nil {
				return AppendResult{}, err
			}
		}
	}
	if !slices.Equal(a.schema, schema) {
		return AppendResult{}, fmt.Errorf("vds: stream %s: its open appender has columns %v, the call %v: %w", Display(stream), a.schema, schema, ErrSchemaMismatch)
	}
	return a.AppendRows(ctx, rows)
}

// FlushRows seals the pending rows of a stream's open appender (Flush)
// and reports the stream's appender afterwards (Acknowledged 0). A stream
// without an open appender has nothing to seal: the result is zero. It is
// append_rows with flush set (SPEC §11.6), after the call's rows.
func (o *DataOwner) FlushRows(ctx context.Context, stream string) (AppendResult, error) {
	o.mu.Lock()
	a := o.appenders[stream]
	o.mu.Unlock()
	if a == nil {
		return AppendResult{}, nil
	}
	if err := a.Flush(ctx); err != nil {
		return AppendResult{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.resultLocked(0), nil
}

// CloseAppenders closes the owner's open appenders (Appender.Close): their
// rows are sealed, or stay pending if ctx ends first. It returns the first
// error.
func (o *DataOwner) CloseAppenders(ctx context.Context) error {
	o.mu.Lock()
	as := make([]*Appender, 0, len(o.appenders))
	for _, a := range o.appenders {
		as = append(as, a)
	}
	o.mu.Unlock()
	var first error
	for _, a := range as {
		if err := a.Close(ctx); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (o *DataOwner) closeAppenders() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeAppendersTimeout)
	defer cancel()
	return o.CloseAppenders(ctx)
}
