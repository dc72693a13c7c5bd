package roles

import (
	"context"
	"slices"
	"time"
)

// The appender's sealer: the background goroutine that seals rows as they
// fall due (AppendPolicy), one batch at a time.

func (a *Appender) signal() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// due returns how many rows of buf to seal now (0: none) and, if none,
// how long until the oldest is due (0: no deadline).
func (a *Appender) dueLocked(now time.Time) (int, time.Duration) {
	n := len(a.buf)
	if n == 0 {
		return 0, 0
	}
	k := min(n, a.pol.MaxRows)
	switch {
	case n >= a.pol.MaxRows, a.flush && a.buf[0].Time <= a.flushTo:
		return k, 0
	case a.pol.MaxAge > 0:
		if wait := a.at[0].Add(a.pol.MaxAge).Sub(now); wait > 0 {
			return 0, wait
		}
		return k, 0
	}
	return 0, 0
}

// run is the sealer: it seals rows as they fall due, one batch at a time,
// until stop.
func (a *Appender) run() {
	defer close(a.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var backoff time.Duration
	var retryAt time.Time
	for {
		now := time.Now()
		a.mu.Lock()
		k, wait := a.dueLocked(now)
		if k > 0 && now.Before(retryAt) {
			k, wait = 0, retryAt.Sub(now)
		}
		var rows []Row
		if k > 0 {
			rows = a.buf[:k:k]
		}
		a.mu.Unlock()
		if k == 0 {
			var timer *time.Timer
			var fire <-chan time.Time
			if wait > 0 {
				timer = time.NewTimer(wait)
				fire = timer.C
			}
			select {
			case <-a.wake:
			case <-fire:
			case <-a.stop:
				return
			}
			if timer != nil {
				timer.Stop()
			}
			continue
		}
		err := a.o.sealRows(ctx, a.rs, a.stream, a.schema, rows)
		a.mu.Lock()
		if err == nil {
			a.buf = slices.Delete(a.buf, 0, k)
			a.at = slices.Delete(a.at, 0, k)
			a.sealed++
			a.err = nil
			if len(a.buf) == 0 || a.buf[0].Time > a.flushTo {
				a.flush = false
			}
			backoff, retryAt = 0, time.Time{}
		} else {
			a.err = err
			backoff = min(max(2*backoff, sealRetryFirst), sealRetryMax)
			retryAt = time.Now().Add(backoff)
		}
		close(a.changed)
		a.changed = make(chan struct{})
		a.mu.Unlock()
	}
}

// sealRows commits rows as the next batch of the stream and, in the same
// store transaction, removes them from the pending rows; then hands the
// batch to the storage server as Ingest does. A failed push is not a failed
// seal: the batch is committed and Sync sends it.
func (o *DataOwner) sealRows(ctx context.Context, rs RowStore, stream string, schema []ColumnInfo, rows []Row) error {
	b := &Batch{Stream: stream, Timestamps: make([]uint64, len(rows)), Columns: make([]Column, len(schema))}
	for c, ci := range schema {
		b.Columns[c] = Column{Name: ci.Name, Scale: ci.Scale, Bits: ci.Bits, Values: make([]int64, len(rows))}
	}
	for i, r := range rows {
		b.Timestamps[i] = r.Time
		for c, v := range r.Values {
			b.Columns[c].Values[i] = v
		}
	}
	through := rows[len(rows)-1].Time
	o.mu.Lock()
	_, req, err := o.ingestLocked(ctx, b, func(tx *OwnerTx) error { return rs.SealRows(ctx, tx, stream, through) })
	if err != nil || req == nil {
		o.mu.Unlock()
		if err == nil { // the same content is a live batch already
			err = rs.SealRows(ctx, nil, stream, through)
		}
		return err
	}
	if err := o.handOver(ctx, req.State, func() error { return o.storage.StoreBatch(ctx, req) }); err != nil {
		_ = o.push(err)
		return nil
	}
	id, _ := req.Header.Header.Digest()
	if err := o.store.Commit(ctx, &OwnerTx{DeletePending: []BatchID{id}}); err != nil {
		o.synced.Store(false)
	}
	return nil
}
