package roles

import (
	"context"
	"fmt"
	"io"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/codec"
)

// commitBatch commits to a batch and signs its header.
func (o *DataOwner) commitBatch(ctx context.Context, b *Batch, enc *encoded, seq uint64, version uint32) (*SignedHeader, *BatchData, error) {
	times, cols := enc.times, enc.cols
	k := len(cols)
	data := &BatchData{Times: append([]uint64(nil), b.Timestamps...), Columns: make([]codec.ScalarVector, k), Gammas: make([]codec.Scalar, k)}
	h := Header{
		Format: FormatVersion, CRS: o.CRSDigest(), Owner: o.ownerID, KeyID: o.signer.KeyID(),
		Stream: b.Stream, Seq: seq, Version: version, Rows: uint32(len(times)),
		Columns: make([]ColumnInfo, k), Commits: make([]codec.G1, k),
		FirstTime: b.Timestamps[0], LastTime: b.Timestamps[len(times)-1],
	}
	tg, err := o.scalar()
	if err != nil {
		return nil, nil, err
	}
	tc, err := o.pk.CommitG2(times, tg)
	if err != nil {
		return nil, nil, err
	}
	h.TimeCommit, data.TimeGamma = codec.G2(tc), codec.Scalar(tg)
	for c := range cols {
		g, err := o.scalar()
		if err != nil {
			return nil, nil, err
		}
		cm, err := o.pk.CommitG1(cols[c], g)
		if err != nil {
			return nil, nil, err
		}
		h.Columns[c] = ColumnInfo{Name: b.Columns[c].Name, Scale: b.Columns[c].Scale, Bits: enc.bits[c]}
		h.Commits[c], data.Columns[c], data.Gammas[c] = codec.G1(cm), codec.ScalarVector(cols[c]), codec.Scalar(g)
	}
	id, err := h.Digest()
	if err != nil {
		return nil, nil, err
	}
	sig, err := o.signer.Sign(ctx, id[:])
	if err != nil {
		return nil, nil, fmt.Errorf("vds: sign header: %w", err)
	}
	return &SignedHeader{Header: h, Sig: sig}, data, nil
}

// scalar draws commitment randomness.
func (o *DataOwner) scalar() (fr.Element, error) {
	var b [48]byte
	if _, err := io.ReadFull(o.cfg.rand, b[:]); err != nil {
		return fr.Element{}, fmt.Errorf("vds: randomness: %w", err)
	}
	var e fr.Element
	e.SetBigInt(new(big.Int).SetBytes(b[:]))
	clear(b[:])
	return e, nil
}

// IngestResult is the outcome of DataOwner.Ingest.
type IngestResult struct {
	// Header is the signed header of the batch: the new one, or the one
	// already stored with the same content.
	Header *SignedHeader
	// Existing is set when the stream already held a live batch with
	// exactly this content (SPEC §11.1): nothing new was stored.
	Existing bool
}

// CreateBatch is Ingest returning only the header: the new batch's, or that
// of the live batch of the stream with exactly the same content.
func (o *DataOwner) CreateBatch(ctx context.Context, b *Batch) (*SignedHeader, error) {
	r, err := o.Ingest(ctx, b)
	if r == nil {
		return nil, err
	}
	return r.Header, err
}

// Ingest commits to a new batch at the end of its stream, signs its header
// and the state with the new stream head, and stores both on the storage
// server (create_batch of SPEC §8, §11). It is safe to retry: a batch whose
// content equals a live batch of the stream is not stored again (Existing
// is set), and a batch that overlaps a live batch, or starts before the end
// of the stream, fails with a *StreamConflictError. The batch is durable in
// the owner's store before it is sent; if the storage server cannot be
// reached the returned error wraps the transport error, the result is
// still returned, and the batch is sent again by Sync or the next
// operation.
func (o *DataOwner) Ingest(ctx context.Context, b *Batch) (*IngestResult, error) {
	o.mu.Lock()
	res, req, err := o.ingestLocked(ctx, b, nil)
	if err != nil || req == nil {
		o.mu.Unlock()
		return res, err
	}
	if err := o.handOver(ctx, req.State, func() error { return o.storage.StoreBatch(ctx, req) }); err != nil {
		return res, o.push(err)
	}
	id, _ := req.Header.Header.Digest()
	return res, o.store.Commit(ctx, &OwnerTx{DeletePending: []BatchID{id}})
}

// ingestLocked commits b and signs the state with the new stream head,
// with o.mu held, and returns the request for the storage server (nil for
// an existing batch). commit makes the batch durable (nil: the store's
// Commit).
func (o *DataOwner) ingestLocked(ctx context.Context, b *Batch, commit func(*OwnerTx) error) (*IngestResult, *StoreBatchRequest, error) {
	if err := o.syncLocked(ctx); err != nil {
		return nil, nil, err
	}
	if b == nil {
		return nil, nil, invalid("batch", "nil")
	}
	if _, open := o.appenders[b.Stream]; open && commit == nil {
		return nil, nil, &StreamConflictError{Stream: b.Stream, Reason: "the stream has an open appender: its rows are appended through it"}
	}
	enc, err := b.encode(o.pk.N(), o.cfg.limits)
	if err != nil {
		return nil, nil, err
	}
	content, err := contentHash(b, enc)
	if err != nil {
		return nil, nil, err
	}
	if id, ok := o.streams.content[b.Stream][content]; ok {
		rec, err := o.store.Record(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		if rec.RevokedAt == 0 && rec.Header != nil {
			return &IngestResult{Header: rec.Header, Existing: true}, nil, nil
		}
	}
	t0, t1 := b.Timestamps[0], b.Timestamps[len(b.Timestamps)-1]
	es := o.streams.entries[b.Stream]
	if err := placeNew(b.Stream, es, t0, t1); err != nil {
		return nil, nil, err
	}
	seq := uint64(len(es))
	sh, data, err := o.commitBatch(ctx, b, enc, seq, 0)
	if err != nil {
		return nil, nil, err
	}
	id, _ := sh.Header.Digest()
	next := o.streams.clone()
	next.put(b.Stream, StreamEntry{Seq: seq, Batch: id, T0: t0, T1: t1})
	next.addContent(b.Stream, content, id)
	st, err := o.resign(ctx, next.head())
	if err != nil {
		return nil, nil, err
	}
	req := &StoreBatchRequest{Header: *sh, Data: *data, State: st}
	reqBytes, err := codec.Default().Marshal(req)
	if err != nil {
		return nil, nil, err
	}
	rec := BatchRecord{ID: id, Stream: b.Stream, Seq: seq, T0: t0, T1: t1, Content: content, Header: sh}
	if commit == nil {
		commit = func(tx *OwnerTx) error { return o.store.Commit(ctx, tx) }
	}
	if err := commit(&OwnerTx{State: st, Records: []BatchRecord{rec}, PutPending: []PendingOp{{ID: id, Kind: PendingStore, Request: reqBytes}}}); err != nil {
		return nil, nil, err
	}
	o.streams = next
	return &IngestResult{Header: sh}, req, nil
}

// placeNew checks that a batch spanning t0..t1 can be appended to a stream
// with entries es (SPEC §11.1): it overlaps no live entry and starts after
// the last entry.
func placeNew(stream string, es []StreamEntry, t0, t1 uint64) error {
	for i := len(es) - 1; i >= 0 && es[i].T1 >= t0; i-- {
		if e := es[i]; !e.Revoked && e.T0 <= t1 {
			id := e.Batch
			return &StreamConflictError{Stream: stream, Batch: &id,
				Reason: fmt.Sprintf("the batch (t=%d..%d) overlaps batch %s (seq %d, t=%d..%d)", t0, t1, id, e.Seq, e.T0, e.T1)}
		}
	}
	if n := len(es); n > 0 && t0 <= es[n-1].T1 {
		last := es[n-1]
		return &StreamConflictError{Stream: stream,
			Reason: fmt.Sprintf("the batch starts at t=%d, before the end of the stream (seq %d ends at t=%d): new batches go at the end; to replace a batch, update it", t0, last.Seq, last.T1)}
	}
	return nil
}
