package roles

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// AppendPolicy says when an Appender seals its unsealed rows into a batch:
// once MaxRows rows are unsealed, MaxAge after the first of them was
// appended, or on Flush or Close, whichever comes first.
type AppendPolicy struct {
	// MaxRows is the number of rows that seals a batch (0: the CRS
	// capacity n; at most n).
	MaxRows int
	// MaxAge seals the unsealed rows this long after the first of them
	// was appended (0: by count, Flush and Close only).
	MaxAge time.Duration
	// MaxPending bounds the rows acknowledged and not sealed yet (0: four
	// times MaxRows; at least MaxRows): beyond it an append fails with
	// ErrBufferFull, so that memory stays bounded when sealing falls behind.
	MaxPending int
}

// AppendResult is the outcome of Appender.AppendRows.
type AppendResult struct {
	// Acknowledged is the number of rows of the call now durable in the
	// owner's store (all of them, or none on error).
	Acknowledged int
	// Sealed is the number of batches this appender has sealed so far.
	Sealed uint64
	// Pending is the number of acknowledged rows not sealed yet.
	Pending int
	// Last is the timestamp of the last acknowledged row of the stream (0
	// if none).
	Last uint64
}

// MaxOpenAppenders caps the appenders one owner holds open at once (each
// holds up to its policy's MaxPending rows in memory): opening one more
// fails with ErrTooLarge.
const MaxOpenAppenders = 1024

// sealRetryFirst and sealRetryMax bound the backoff between attempts to
// seal after a failed one (a storage server or store that is down).
const (
	sealRetryFirst = 100 * time.Millisecond
	sealRetryMax   = 5 * time.Second
)

// Appender appends rows to one stream of its owner, continuously: each row
// is acknowledged once it is durable in the owner's store (a RowStore), and
// the unsealed rows are sealed into batches of the stream (committed,
// signed, stored at the storage server) as its AppendPolicy says, in the
// background. A crash at any point loses no acknowledged row and seals none
// twice: the store commits a batch and removes its rows in one step, and
// opening the stream's appender again resumes its pending rows. Its methods
// are safe for concurrent use. Create one with DataOwner.Appender.
type Appender struct {
	o      *DataOwner
	rs     RowStore
	stream string
	schema []ColumnInfo
	pol    AppendPolicy

	mu      sync.Mutex  // guards the fields below; held during AppendRows's durable write
	buf     []Row       // acknowledged, unsealed rows, in time order
	at      []time.Time // when each row of buf was appended
	last    uint64      // the last acknowledged (or sealed) timestamp
	hasLast bool
	sealed  uint64
	flushTo uint64 // seal every row with Time ≤ flushTo
	flush   bool   // flushTo is set
	err     error  // the last seal failure, cleared by a successful seal
	closed  bool
	stale   bool          // a durable write failed and the store was not read since (resyncLocked)
	changed chan struct{} // closed (and replaced) after every seal attempt
	wake    chan struct{} // wakes the sealer (capacity 1)
	stop    chan struct{} // closed by Close once flushed
	done    chan struct{} // closed when the sealer exits
}

// Appender opens the appender of a stream with the given schema (names,
// scales and bounds of its columns; values are int64, Bits 0 meaning
// DefaultBits) and policy. The owner's store must be a RowStore. Rows the
// stream's previous appender acknowledged and did not seal (before a crash)
// are resumed; they must fit the schema (ErrSchemaMismatch). A stream has
// at most one open appender (ErrAppenderOpen), and while it is open the
// stream takes no batches from Ingest. Close it to seal its last rows.
func (o *DataOwner) Appender(ctx context.Context, stream string, schema []ColumnInfo, p AppendPolicy) (*Appender, error) {
	rs, ok := o.store.(RowStore)
	if !ok {
		return nil, invalid("owner store", "%T keeps no pending rows (it is not a RowStore)", o.store)
	}
	lim := o.cfg.limits
	if err := CheckName("stream", stream, lim.MaxNameLen); err != nil {
		return nil, err
	}
	n := o.pk.N()
	if p.MaxRows == 0 {
		p.MaxRows = n
	}
	if p.MaxRows < 1 || p.MaxRows > n {
		return nil, invalid("append policy", "MaxRows %d is not in 1..%d (the CRS capacity)", p.MaxRows, n)
	}
	if p.MaxAge < 0 {
		return nil, invalid("append policy", "MaxAge %s is negative", p.MaxAge)
	}
	if p.MaxPending == 0 {
		p.MaxPending = 4 * p.MaxRows
	}
	if p.MaxPending < p.MaxRows {
		return nil, invalid("append policy", "MaxPending %d is below MaxRows %d", p.MaxPending, p.MaxRows)
	}
	if err := checkSchema(schema, p.MaxRows, lim); err != nil {
		return nil, err
	}
	a := &Appender{o: o, rs: rs, stream: stream, schema: slices.Clone(schema), pol: p,
		changed: make(chan struct{}), wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}

	o.mu.Lock()
	defer o.mu.Unlock()
	if _, open := o.appenders[stream]; open {
		return nil, fmt.Errorf("vds: stream %s: %w", Display(stream), ErrAppenderOpen)
	}
	if len(o.appenders) >= MaxOpenAppenders {
		return nil, tooLarge("open appenders", len(o.appenders)+1, MaxOpenAppenders)
	}
	rows, err := rs.PendingRows(ctx, stream)
	if err != nil {
		return nil, err
	}
	if es := o.streams.entries[stream]; len(es) > 0 {
		end := es[len(es)-1].T1
		a.last, a.hasLast = end, true
		// Rows a committed batch already holds (a store that removed them
		// in another step than the batch's commit) are not pending.
		if i := slices.IndexFunc(rows, func(r Row) bool { return r.Time > end }); i != 0 && len(rows) > 0 {
			if i < 0 {
				i = len(rows)
			}
			if err := rs.SealRows(ctx, nil, stream, end); err != nil {
				return nil, err
			}
			rows = rows[i:]
		}
	}
	for i := range rows {
		if err := a.checkRow(i, &rows[i], a.last, a.hasLast || i > 0); err != nil {
			return nil, fmt.Errorf("vds: stream %s: pending row %d: %w (%w)", Display(stream), i, ErrSchemaMismatch, err)
		}
		a.last, a.hasLast = rows[i].Time, true
	}
	now := time.Now()
	a.buf = rows
	a.at = make([]time.Time, len(rows))
	for i := range a.at {
		a.at[i] = now
	}
	if o.appenders == nil {
		o.appenders = map[string]*Appender{}
	}
	o.appenders[stream] = a
	go a.run()
	a.signal()
	return a, nil
}

// checkSchema checks an appender's columns as encode checks a batch's.
func checkSchema(schema []ColumnInfo, rows int, lim Limits) error {
	if len(schema) == 0 {
		return invalid("schema", "an appender needs at least one column")
	}
	if len(schema) > lim.MaxColumns {
		return tooLarge("schema", len(schema), lim.MaxColumns)
	}
	seen := map[string]bool{}
	for _, c := range schema {
		field := fmt.Sprintf("column %q", c.Name)
		if err := CheckName(field, c.Name, lim.MaxNameLen); err != nil {
			return err
		}
		if seen[c.Name] {
			return invalid(field, "duplicate column name")
		}
		seen[c.Name] = true
		if c.Scale > MaxScale {
			return invalid(field, "scale %d exceeds %d", c.Scale, MaxScale)
		}
		if int(c.Bits) > MaxColumnBits(rows) {
			return invalid(field, "bound of %d bits exceeds %d, the most that keeps every sum over %d rows exact", c.Bits, MaxColumnBits(rows), rows)
		}
	}
	return nil
}

// Stream returns the appender's stream.
func (a *Appender) Stream() string { return a.stream }

// Schema returns the appender's columns.
func (a *Appender) Schema() []ColumnInfo { return slices.Clone(a.schema) }

// checkRow checks row i against the schema and the previous timestamp.
func (a *Appender) checkRow(i int, r *Row, prev uint64, hasPrev bool) error {
	if len(r.Values) != len(a.schema) {
		return &RowError{Stream: a.stream, Index: i, Time: r.Time, Err: ErrRowShape,
			Reason: fmt.Sprintf("%d values for %d columns", len(r.Values), len(a.schema))}
	}
	if hasPrev && r.Time <= prev {
		return &RowError{Stream: a.stream, Index: i, Time: r.Time, Err: ErrNotIncreasing,
			Reason: fmt.Sprintf("timestamp %d is not after %d", r.Time, prev)}
	}
	for c, v := range r.Values {
		if b := a.schema[c].Bits; b != 0 && b < 64 && !fitsBits(v, b) {
			return &RowError{Stream: a.stream, Index: i, Time: r.Time, Err: ErrValueBound,
				Reason: fmt.Sprintf("column %q: %d does not satisfy |v| < 2^%d", a.schema[c].Name, v, b)}
		}
	}
	return nil
}

// Append appends one row: its timestamp, which must be after every earlier
// row's, and one value per column. It returns once the row is durable in
// the owner's store.
func (a *Appender) Append(ctx context.Context, ts uint64, values ...int64) error {
	_, err := a.AppendRows(ctx, []Row{{Time: ts, Values: values}})
	return err
}

// AppendRows appends rows, in order, with one durable write: all of them
// or, on error, none. A row that breaks a rule fails with a *RowError
// (ErrNotIncreasing, ErrRowShape, ErrValueBound); a call that would hold
// more than the policy's MaxPending unsealed rows fails with ErrBufferFull;
// after Close, ErrClosed.
func (a *Appender) AppendRows(ctx context.Context, rows []Row) (AppendResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return a.resultLocked(0), fmt.Errorf("vds: appender of stream %s: %w", Display(a.stream), ErrClosed)
	}
	if a.stale {
		if err := a.resyncLocked(ctx); err != nil {
			return a.resultLocked(0), err
		}
	}
	if len(rows) > a.pol.MaxPending {
		return a.resultLocked(0), tooLarge("rows", len(rows), a.pol.MaxPending)
	}
	prev, has := a.last, a.hasLast
	for i := range rows {
		if err := a.checkRow(i, &rows[i], prev, has); err != nil {
			return a.resultLocked(0), err
		}
		prev, has = rows[i].Time, true
	}
	if len(rows) == 0 {
		return a.resultLocked(0), nil
	}
	if len(a.buf)+len(rows) > a.pol.MaxPending {
		return a.resultLocked(0), fmt.Errorf("vds: stream %s holds %d unsealed rows, %d more exceed %d: %w",
			Display(a.stream), len(a.buf), len(rows), a.pol.MaxPending, ErrBufferFull)
	}
	own := make([]Row, len(rows))
	vals := make([]int64, 0, len(rows)*len(a.schema))
	for i, r := range rows {
		vals = append(vals, r.Values...)
		own[i] = Row{Time: r.Time, Values: vals[len(vals)-len(r.Values):]}
	}
	if err := a.rs.AppendRows(ctx, a.stream, own); err != nil {
		// The write may have committed all the same (a connection lost
		// during the commit): take back what the store holds.
		_ = a.resyncLocked(ctx)
		return a.resultLocked(0), err
	}
	now := time.Now()
	wasEmpty := len(a.buf) == 0
	a.buf = append(a.buf, own...)
	for range own {
		a.at = append(a.at, now)
	}
	a.last, a.hasLast = prev, true
	if wasEmpty || len(a.buf) >= a.pol.MaxRows {
		a.signal()
	}
	return a.resultLocked(len(rows)), nil
}

// resyncLocked adds to the buffer the rows the store holds after the last
// acknowledged one: those of a failed write that committed all the same.
// Until it succeeds, the appender is stale and every append first retries
// it.
func (a *Appender) resyncLocked(ctx context.Context) error {
	a.stale = true
	rows, err := a.rs.PendingRows(ctx, a.stream)
	if err != nil {
		return err
	}
	now := time.Now()
	wasEmpty := len(a.buf) == 0
	for _, r := range rows {
		if !a.hasLast || r.Time > a.last {
			a.buf = append(a.buf, r)
			a.at = append(a.at, now)
			a.last, a.hasLast = r.Time, true
		}
	}
	a.stale = false
	if len(a.buf) > 0 && (wasEmpty || len(a.buf) >= a.pol.MaxRows) {
		a.signal()
	}
	return nil
}

func (a *Appender) resultLocked(acked int) AppendResult {
	r := AppendResult{Acknowledged: acked, Sealed: a.sealed, Pending: len(a.buf)}
	if a.hasLast {
		r.Last = a.last
	}
	return r
}

// floor returns the last timestamp the stream's last batch may end at
// without meeting the appender's rows: just before its first unsealed row,
// or its last acknowledged one (rows to come follow it). Called with the
// owner's lock held (lock order: DataOwner.mu, then Appender.mu).
func (a *Appender) floor() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.buf) > 0 {
		return a.buf[0].Time - 1
	}
	return a.last
}

// Pending returns the number of acknowledged rows not sealed yet.
func (a *Appender) Pending() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.buf)
}

// Flush seals every row acknowledged before the call and returns once they
// are committed (and handed to the storage server), or with the error of a
// failed seal (the rows stay pending and are sealed by a later attempt), or
// when ctx ends.
func (a *Appender) Flush(ctx context.Context) error {
	a.mu.Lock()
	if len(a.buf) == 0 {
		a.mu.Unlock()
		return nil
	}
	through := a.buf[len(a.buf)-1].Time
	if !a.flush || a.flushTo < through {
		a.flushTo, a.flush = through, true
	}
	a.err = nil
	a.mu.Unlock()
	a.signal()
	for {
		a.mu.Lock()
		if len(a.buf) == 0 || a.buf[0].Time > through {
			a.mu.Unlock()
			return nil
		}
		if a.err != nil {
			err := a.err
			a.mu.Unlock()
			return err
		}
		ch := a.changed
		a.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close seals the appender's rows (Flush), stops it and releases its
// stream. On a flush error the appender is stopped all the same: its rows
// stay pending in the store, and the stream's next appender resumes them.
func (a *Appender) Close(ctx context.Context) error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	a.mu.Unlock()
	err := a.Flush(ctx)
	close(a.stop)
	<-a.done
	a.o.mu.Lock()
	if a.o.appenders[a.stream] == a {
		delete(a.o.appenders, a.stream)
	}
	a.o.mu.Unlock()
	return err
}
