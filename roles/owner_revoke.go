package roles

import (
	"context"
	"fmt"

	"github.com/vdsproject/vds/codec"
)

// Revoke revokes a batch (revoke_batch of SPEC §8): it signs the state of the
// next epoch, whose accumulator value includes the batch's element and whose
// stream head marks the entry revoked, stores it, and applies it on the
// storage server.
func (o *DataOwner) Revoke(ctx context.Context, id BatchID) (*SignedState, error) {
	o.mu.Lock()
	st, err := o.revokeLocked(ctx, id)
	if err != nil {
		o.mu.Unlock()
		return nil, err
	}
	if err := o.handOver(ctx, st, func() error { return o.storage.ApplyState(ctx, st) }); err != nil {
		return st, o.push(err)
	}
	return st, nil
}

// revokeLocked signs and stores the state that revokes id, with o.mu held.
func (o *DataOwner) revokeLocked(ctx context.Context, id BatchID) (*SignedState, error) {
	if err := o.syncLocked(ctx); err != nil {
		return nil, err
	}
	rec, err := o.liveRecord(ctx, id)
	if err != nil {
		return nil, err
	}
	next := o.streams.clone()
	if es := next.entries[rec.Stream]; rec.Seq < uint64(len(es)) && es[rec.Seq].Batch == id {
		e := es[rec.Seq]
		e.Revoked = true
		next.put(rec.Stream, e)
		delete(next.content[rec.Stream], rec.Content)
	}
	st, err := o.nextState(ctx, id, next.head())
	if err != nil {
		return nil, err
	}
	rec.RevokedAt = st.State.Epoch
	if err := o.store.Commit(ctx, &OwnerTx{State: st, Records: []BatchRecord{*rec}}); err != nil {
		return nil, err
	}
	o.streams = next
	return st, nil
}

func (o *DataOwner) liveRecord(ctx context.Context, id BatchID) (*BatchRecord, error) {
	rec, err := o.store.Record(ctx, id)
	if err != nil {
		return nil, err
	}
	if rec.RevokedAt != 0 {
		return nil, &RevokedError{Batch: id, Epoch: rec.RevokedAt}
	}
	return rec, nil
}

// UpdatePlan is what an update would change (DataOwner.CheckUpdate).
type UpdatePlan struct {
	Stream         string
	Seq            uint64
	OldBatch       BatchID
	OldVersion     uint32
	NewVersion     uint32
	OldT0, OldT1   uint64
	NewT0, NewT1   uint64
	OldRows        uint32
	NewRows        uint32
	Columns        []ColumnInfo // unchanged by the update
	NeighbourLimit [2]*uint64   // the previous entry's t1 and the next one's t0, if any
}

// CheckUpdate checks that b can replace batch id (SPEC §11.1, item 3) and
// returns what the update would change, without changing anything.
func (o *DataOwner) CheckUpdate(ctx context.Context, id BatchID, b *Batch) (*UpdatePlan, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	plan, _, _, _, err := o.planUpdate(ctx, id, b)
	return plan, err
}

// planUpdate checks an update and returns its plan, the old record, the
// new batch (with its stream filled in) encoded, and its content hash.
func (o *DataOwner) planUpdate(ctx context.Context, id BatchID, b *Batch) (*UpdatePlan, *BatchRecord, *encoded, Hash, error) {
	fail := func(err error) (*UpdatePlan, *BatchRecord, *encoded, Hash, error) { return nil, nil, nil, Hash{}, err }
	if b == nil {
		return fail(invalid("batch", "nil"))
	}
	rec, err := o.liveRecord(ctx, id)
	if err != nil {
		return fail(err)
	}
	if b.Stream == "" {
		b.Stream = rec.Stream
	}
	if b.Stream != rec.Stream {
		return fail(&StreamConflictError{Stream: b.Stream, Batch: &id,
			Reason: fmt.Sprintf("an update keeps the stream: batch %s is in stream %s", id, Display(rec.Stream))})
	}
	enc, err := b.encode(o.pk.N(), o.cfg.limits)
	if err != nil {
		return fail(err)
	}
	content, err := contentHash(b, enc)
	if err != nil {
		return fail(err)
	}
	if content == rec.Content {
		return fail(invalid("update", "the new version of batch %s has the same content as the current one: nothing to update", id))
	}
	if rec.Header == nil {
		return fail(fmt.Errorf("vds: the owner has no header of batch %s: %w", id, ErrNotFound))
	}
	old := &rec.Header.Header
	if len(old.Columns) != len(b.Columns) {
		return fail(&StreamConflictError{Stream: rec.Stream, Batch: &id,
			Reason: fmt.Sprintf("an update keeps the columns: %d columns, the batch has %d", len(b.Columns), len(old.Columns))})
	}
	for i, c := range b.Columns {
		oc := old.Columns[i]
		if c.Name != oc.Name || c.Scale != oc.Scale || enc.bits[i] != oc.Bits {
			return fail(&StreamConflictError{Stream: rec.Stream, Batch: &id,
				Reason: fmt.Sprintf("an update keeps the column names, scales and bounds: column %d is %s (scale %d, %d bits), the batch has %s (scale %d, %d bits)",
					i+1, Display(c.Name), c.Scale, enc.bits[i], Display(oc.Name), oc.Scale, oc.Bits)})
		}
	}
	t0, t1 := b.Timestamps[0], b.Timestamps[len(b.Timestamps)-1]
	plan := &UpdatePlan{Stream: rec.Stream, Seq: rec.Seq, OldBatch: id, OldVersion: rec.Version, NewVersion: rec.Version + 1,
		OldT0: rec.T0, OldT1: rec.T1, NewT0: t0, NewT1: t1, OldRows: old.Rows, NewRows: uint32(len(b.Timestamps)),
		Columns: append([]ColumnInfo(nil), old.Columns...)}
	es := o.streams.entries[rec.Stream]
	if rec.Seq > 0 && rec.Seq-1 < uint64(len(es)) {
		p := es[rec.Seq-1]
		plan.NeighbourLimit[0] = &p.T1
		if t0 <= p.T1 {
			return fail(&StreamConflictError{Stream: rec.Stream, Batch: &p.Batch,
				Reason: fmt.Sprintf("the new version starts at t=%d, not after the previous batch (seq %d ends at t=%d)", t0, p.Seq, p.T1)})
		}
	}
	if rec.Seq+1 < uint64(len(es)) {
		nx := es[rec.Seq+1]
		plan.NeighbourLimit[1] = &nx.T0
		if t1 >= nx.T0 {
			return fail(&StreamConflictError{Stream: rec.Stream, Batch: &nx.Batch,
				Reason: fmt.Sprintf("the new version ends at t=%d, not before the next batch (seq %d starts at t=%d)", t1, nx.Seq, nx.T0)})
		}
	}
	if a := o.appenders[rec.Stream]; a != nil && rec.Seq+1 == uint64(len(es)) {
		if floor := a.floor(); t1 > floor {
			return fail(&StreamConflictError{Stream: rec.Stream, Batch: &id,
				Reason: fmt.Sprintf("the new version ends at t=%d, after t=%d: the stream's open appender holds rows from there", t1, floor)})
		}
	}
	return plan, rec, enc, content, nil
}

// Update replaces a batch by a new version (update_batch of SPEC §8): the old
// version is revoked and the new one, with the same stream, sequence number,
// columns, scales and bounds, a time range still between its neighbours and
// the next version number, is stored — as one operation that survives a
// crash in between (it is durable in the owner's store as one transaction
// and applied on the storage server as one). b.Stream may be empty;
// otherwise it must be the old version's stream. Anything else fails with
// a *StreamConflictError or an *InputError, changing nothing.
func (o *DataOwner) Update(ctx context.Context, id BatchID, b *Batch) (*SignedHeader, *SignedState, error) {
	o.mu.Lock()
	req, err := o.updateLocked(ctx, id, b)
	if err != nil {
		o.mu.Unlock()
		return nil, nil, err
	}
	sh, st := &req.Header, &req.State
	if err := o.handOver(ctx, st, func() error { return o.storage.UpdateBatch(ctx, req) }); err != nil {
		return sh, st, o.push(err)
	}
	newID, _ := sh.Header.Digest()
	return sh, st, o.store.Commit(ctx, &OwnerTx{DeletePending: []BatchID{newID}})
}

// updateLocked signs and stores the new version of id and the state that
// revokes the old one, with o.mu held, and returns the request for the
// storage server.
func (o *DataOwner) updateLocked(ctx context.Context, id BatchID, b *Batch) (*UpdateBatchRequest, error) {
	if err := o.syncLocked(ctx); err != nil {
		return nil, err
	}
	if b == nil {
		return nil, invalid("batch", "nil")
	}
	nb := *b
	_, rec, enc, content, err := o.planUpdate(ctx, id, &nb)
	if err != nil {
		return nil, err
	}
	sh, data, err := o.commitBatch(ctx, &nb, enc, rec.Seq, rec.Version+1)
	if err != nil {
		return nil, err
	}
	newID, _ := sh.Header.Digest()
	t0, t1 := nb.Timestamps[0], nb.Timestamps[len(nb.Timestamps)-1]
	next := o.streams.clone()
	next.put(rec.Stream, StreamEntry{Seq: rec.Seq, Version: rec.Version + 1, Batch: newID, T0: t0, T1: t1})
	delete(next.content[rec.Stream], rec.Content)
	next.addContent(rec.Stream, content, newID)
	st, err := o.nextState(ctx, id, next.head())
	if err != nil {
		return nil, err
	}
	req := &UpdateBatchRequest{State: *st, Header: *sh, Data: *data}
	reqBytes, err := codec.Default().Marshal(req)
	if err != nil {
		return nil, err
	}
	rec.RevokedAt = st.State.Epoch
	newRec := BatchRecord{ID: newID, Stream: rec.Stream, Seq: rec.Seq, Version: rec.Version + 1, T0: t0, T1: t1, Content: content, Header: sh}
	if err := o.store.Commit(ctx, &OwnerTx{State: st, Records: []BatchRecord{*rec, newRec},
		PutPending: []PendingOp{{ID: newID, Kind: PendingUpdate, Request: reqBytes}}}); err != nil {
		return nil, err
	}
	o.streams = next
	return req, nil
}
