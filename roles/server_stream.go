package roles

import (
	"context"
	"fmt"
	"sort"

	"github.com/consensys/gnark-crypto/ecc"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/internal/merkle"
)

// streamsFromInfos derives every stream's entries from a storage server's
// list of batches: for each sequence number, the highest version.
func streamsFromInfos(infos []BatchInfo) *streamSet {
	s := newStreamSet()
	for _, in := range infos { // ordered by stream, seq, version
		es := s.entries[in.Stream]
		e := StreamEntry{Seq: in.Seq, Version: in.Version, Batch: in.ID, T0: in.FirstTime, T1: in.LastTime, Revoked: in.Revoked}
		switch {
		case uint64(len(es)) == in.Seq:
			es = append(es, e)
		case uint64(len(es)) == in.Seq+1 && es[in.Seq].Version <= in.Version:
			es[in.Seq] = e
		default:
			continue // a hole: the head will not match
		}
		s.entries[in.Stream] = es
	}
	return s
}

// AnswerStream answers a stream query (SPEC §11.3–11.5): the completeness
// proof against the latest state, and one aggregated proof for the values
// of every live batch the window meets. A window that meets more than
// MaxStreamBatches entries is answered in segments, all built on the same
// state: the first is returned, the others are in its Rest.
func (s *StorageServer) AnswerStream(ctx context.Context, q *StreamQuery) (*StreamAnswer, error) {
	w, err := s.streamWindow(ctx, q)
	if err != nil {
		return nil, err
	}
	first, err := s.streamSegment(ctx, w, 0, nil)
	if err != nil {
		return nil, err
	}
	for k := uint32(1); k < w.segs; k++ {
		a, err := s.streamSegment(ctx, w, k, nil)
		if err != nil {
			return nil, err
		}
		first.Rest = append(first.Rest, a)
	}
	return first, nil
}

// AnswerStreamSegment answers segment r.Seg of the answer to r.Query
// (SPEC §11.5), on the latest state; the parts of the batches r.Held
// lists come without header and witness.
func (s *StorageServer) AnswerStreamSegment(ctx context.Context, r *StreamRequest) (*StreamAnswer, error) {
	if err := checkStreamRequest(r, s.cfg.limits); err != nil {
		return nil, err
	}
	w, err := s.streamWindow(ctx, &r.Query)
	if err != nil {
		return nil, err
	}
	if r.Seg >= w.segs {
		return nil, invalid("stream request", "segment %d of an answer in %d", r.Seg, w.segs)
	}
	held := make(map[BatchID]bool, len(r.Held))
	for _, id := range r.Held {
		held[id] = true
	}
	return s.streamSegment(ctx, w, r.Seg, held)
}

// checkStreamRequest checks a stream request's shape.
func checkStreamRequest(r *StreamRequest, lim Limits) error {
	if r == nil {
		return invalid("stream request", "nil")
	}
	if err := checkStreamQuery(&r.Query, lim); err != nil {
		return err
	}
	if int(r.Seg) >= lim.MaxStreamSegments {
		return invalid("stream request", "segment %d, at most %d segments", r.Seg, lim.MaxStreamSegments)
	}
	if len(r.Held) > MaxHeldBatches {
		return tooLarge("held headers", len(r.Held), MaxHeldBatches)
	}
	return nil
}

// streamWindow is what every segment of a stream answer is built from.
type streamWindow struct {
	q      *StreamQuery
	latest *SignedState
	proof  StreamProof // Run: the whole run; RunProof: its range proof
	segs   uint32
	size   int // run entries per segment
}

// streamWindow finds the run of a window on the latest state and how it
// splits: in one answer if it has at most MaxStreamBatches+2 entries, else
// in segments of MaxStreamBatches entries (SPEC §11.5).
func (s *StorageServer) streamWindow(ctx context.Context, q *StreamQuery) (*streamWindow, error) {
	if err := checkStreamQuery(q, s.cfg.limits); err != nil {
		return nil, err
	}
	latest, err := s.store.LatestState(ctx)
	if err != nil {
		return nil, err
	}
	infos, err := s.store.List(ctx, "")
	if err != nil {
		return nil, err
	}
	set := streamsFromInfos(infos)
	if set.head() != latest.Head {
		return nil, fmt.Errorf("vds: the storage server's batches do not match the owner's stream head of epoch %d (not in sync yet): %w", latest.State.Epoch, ErrUnknownState)
	}
	es := set.entries[q.Stream]
	if len(es) == 0 {
		return nil, fmt.Errorf("vds: stream %s: %w", Display(q.Stream), ErrNotFound)
	}
	names := set.names()
	idx := sort.SearchStrings(names, q.Stream)
	path, err := merkle.RangeProof(set.streamLeaves(), idx, idx)
	if err != nil {
		return nil, err
	}
	lo, hi := windowRun(es, q.TimeFrom, q.TimeTo)
	m, runLen := s.cfg.limits.MaxStreamBatches, hi-lo+1
	w := &streamWindow{q: q, latest: latest, segs: 1, size: runLen}
	if runLen > m+2 {
		w.segs, w.size = uint32((runLen+m-1)/m), m
		if int(w.segs) > s.cfg.limits.MaxStreamSegments {
			return nil, &InputError{Field: "stream query", Err: ErrTooLarge,
				Reason: fmt.Sprintf("the window meets %d batches, more than the %d × %d an answer in segments may cover: narrow it", hi-lo-1, m, s.cfg.limits.MaxStreamSegments)}
		}
	}
	runProof, err := merkle.RangeProof(entryLeaves(es), lo, hi)
	if err != nil {
		return nil, err
	}
	w.proof = StreamProof{Index: uint64(idx), Root: set.root(q.Stream), Entries: uint64(len(es)), Path: fromMerkle(path),
		Run: append([]StreamEntry(nil), es[lo:hi+1]...), RunProof: fromMerkle(runProof)}
	return w, nil
}

// streamSegment builds segment k of a window's answer: its slice of the
// run (with the range proof if it is the last), its parts and their
// aggregated proof. held names the batches whose parts omit the header.
func (s *StorageServer) streamSegment(ctx context.Context, w *streamWindow, k uint32, held map[BatchID]bool) (*StreamAnswer, error) {
	q, latest := w.q, w.latest
	a, b := int(k)*w.size, min(int(k+1)*w.size, len(w.proof.Run))
	p := w.proof
	p.Run = p.Run[a:b]
	if k+1 < w.segs {
		p.RunProof = nil
	}
	ans := &StreamAnswer{Query: *q, State: *latest, Proof: p}
	if w.segs > 1 {
		ans.Seg, ans.Segs = k, w.segs
	}
	sctx, err := streamContext(q, latest, ans.Proof.Run, ans.Seg, ans.Segs)
	if err != nil {
		return nil, err
	}
	var proofs []bls.G1Affine // π_i of parts (nil for an empty edge), then π̂ of edges
	var edgeProofs []bls.G1Affine
	for i := range ans.Proof.Run {
		e := &ans.Proof.Run[i]
		if e.Revoked || !intersects(e, q.TimeFrom, q.TimeTo) {
			continue
		}
		part, pi, pHat, err := s.streamPart(ctx, q, e, sctx, latest.State.Epoch, held[e.Batch])
		if err != nil {
			return nil, err
		}
		ans.Parts = append(ans.Parts, *part)
		proofs = append(proofs, pi)
		if part.Edge != nil {
			edgeProofs = append(edgeProofs, pHat)
		}
	}
	if len(ans.Parts) == 0 {
		return ans, nil
	}
	gammas := streamGammas(sctx, ans.Parts)
	points := append(proofs, edgeProofs...)
	var pi bls.G1Affine
	if _, err := pi.MultiExp(points, gammas, ecc.MultiExpConfig{}); err != nil {
		return nil, err
	}
	pc := codec.G1(pi)
	ans.Pi = &pc
	return ans, nil
}

// streamPart builds one batch's part of a stream answer: its values, its
// combined column opening π_i (the identity for an edge that selects no
// row) and, for an edge, its boundary-timestamp opening π̂_i; without header
// and witness if the verifier holds the header.
func (s *StorageServer) streamPart(ctx context.Context, q *StreamQuery, e *StreamEntry, sctx []byte, epoch uint64, held bool) (*StreamPart, bls.G1Affine, bls.G1Affine, error) {
	var zero bls.G1Affine
	b, err := s.store.Batch(ctx, e.Batch)
	if err != nil {
		return nil, zero, zero, err
	}
	h := &b.Header.Header
	cols, err := queryColumns(&Query{Columns: q.Columns}, h)
	if err != nil {
		return nil, zero, zero, fmt.Errorf("vds: batch %s of the window: %w", e.Batch.Short(), err)
	}
	part := &StreamPart{}
	if !held {
		w, err := s.witness(ctx, e.Batch)
		if err != nil {
			return nil, zero, zero, err
		}
		if w.Epoch != epoch {
			return nil, zero, zero, fmt.Errorf("vds: batch %s: witness at epoch %d, state at %d: %w", e.Batch.Short(), w.Epoch, epoch, ErrUnknownState)
		}
		hdr := b.Header
		part.Header, part.Witness = &hdr, &WitnessWire{W: codec.G1OrIdentity(w.W), U: codec.Scalar(w.U)}
	}
	l := int(h.Rows)
	weights := commitment.Range(1, l)
	var pHat bls.G1Affine
	if !interior(e, q.TimeFrom, q.TimeTo) {
		first, last := windowRows(b.Data.Times, q.TimeFrom, q.TimeTo)
		rows := BoundaryRows(first, last, l)
		times := make([]uint64, len(rows))
		for i, r := range rows {
			times[i] = b.Data.Times[r-1]
		}
		part.Edge = &EdgeRows{First: first, Last: last, Times: times}
		tw, _ := windowWeights(e.Batch, rows, times)
		if pHat, err = s.openTimes(ctx, b, tw); err != nil { // precompute.go
			return nil, zero, zero, err
		}
		if last < first {
			part.Values = make([]codec.Scalar, len(cols))
			return part, zero, pHat, nil
		}
		weights = commitment.Range(int(first), int(last))
	}
	xs, pi, err := s.openColumns(ctx, b, cols, weights, partContext(sctx, e.Seq, part.Edge), true) // precompute.go
	if err != nil {
		return nil, zero, zero, err
	}
	part.Values = make([]codec.Scalar, len(xs))
	for i := range xs {
		part.Values[i] = codec.Scalar(xs[i])
	}
	return part, pi, pHat, nil
}
