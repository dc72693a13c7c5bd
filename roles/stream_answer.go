package roles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"sort"

	"github.com/consensys/gnark-crypto/ecc"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/internal/hash"
	"github.com/vdsproject/vds/internal/merkle"
)

// tagStreamWindow domain-separates the coefficients of a stream answer.
const tagStreamWindow = "vds/v1/stream-window"

// StreamQuery asks for the verified sums of columns over every live batch
// of a stream whose rows fall in a time window (SPEC §11.4). Kind is
// QueryWindow, or QueryPoint for the value at one timestamp (TimeFrom =
// TimeTo).
type StreamQuery struct {
	Stream   string    `cbor:"stream"`
	Kind     QueryKind `cbor:"kind"`
	Columns  []string  `cbor:"cols"`
	TimeFrom uint64    `cbor:"tfrom"`
	TimeTo   uint64    `cbor:"tto"`
}

// StreamProof is the completeness proof of SPEC §11.3.
type StreamProof struct {
	Index    uint64        `cbor:"idx"`   // the stream's position among the streams, in name order
	Root     Hash          `cbor:"root"`  // the stream's root
	Entries  uint64        `cbor:"n"`     // the stream's number of entries
	Path     []Hash        `cbor:"path"`  // proof of the stream's leaf in the streams root
	Run      []StreamEntry `cbor:"run"`   // the entries of the window and one neighbour on each side, if any
	RunProof []Hash        `cbor:"proof"` // proof of Run in the stream root
}

// EdgeRows are the rows an edge batch's timestamps select (First..Last,
// Last = First−1 for none) and the timestamps at its boundary rows (SPEC §7).
type EdgeRows struct {
	First uint32   `cbor:"i0"`
	Last  uint32   `cbor:"i1"`
	Times []uint64 `cbor:"t"`
}

// StreamPart is what a stream answer carries for one live batch of the
// window: its header, its non-membership witness at the state's epoch, its
// claimed values (one per column) and, for an edge batch, its rows.
type StreamPart struct {
	Header  SignedHeader   `cbor:"hdr"`
	Witness WitnessWire    `cbor:"wit"`
	Values  []codec.Scalar `cbor:"x"`
	Edge    *EdgeRows      `cbor:"edge,omitempty"`
}

// StreamAnswer is the storage server's answer to a StreamQuery: the signed
// state it is built on, the completeness proof, one part per live batch of
// the window in stream order, and one aggregated proof for every opening.
type StreamAnswer struct {
	Query StreamQuery  `cbor:"q"`
	State SignedState  `cbor:"state"`
	Proof StreamProof  `cbor:"sp"`
	Parts []StreamPart `cbor:"parts"`
	Pi    *codec.G1    `cbor:"pi,omitempty"` // absent only when there is no part
}

// StreamResult is a verified stream answer.
type StreamResult struct {
	Stream   string
	Epoch    uint64
	IssuedAt int64 // of the state the answer was checked against
	Columns  []string
	Totals   []Value       // one per column: the exact sum over every live batch of the window
	Batches  []StreamEntry // the live batches the window covers, in order
	Rows     uint64        // rows of those batches inside the window
}

// checkStreamQuery checks a stream query's shape.
func checkStreamQuery(q *StreamQuery, lim Limits) error {
	if q == nil {
		return invalid("stream query", "nil")
	}
	if err := CheckName("stream", q.Stream, lim.MaxNameLen); err != nil {
		return err
	}
	if len(q.Columns) == 0 || len(q.Columns) > lim.MaxColumns {
		return invalid("stream query", "%d columns outside [1, %d]", len(q.Columns), lim.MaxColumns)
	}
	seen := make(map[string]bool, len(q.Columns))
	for _, c := range q.Columns {
		if seen[c] {
			return invalid("stream query", "column %s repeated", Display(c))
		}
		seen[c] = true
	}
	switch q.Kind {
	case QueryWindow:
		if q.TimeFrom > q.TimeTo {
			return invalid("stream query", "time window %d..%d is reversed", q.TimeFrom, q.TimeTo)
		}
	case QueryPoint:
		if q.TimeFrom != q.TimeTo {
			return invalid("stream query", "a point query names one timestamp: %d..%d", q.TimeFrom, q.TimeTo)
		}
	default:
		return invalid("stream query", "kind %s is not a stream query (window or point)", q.Kind)
	}
	return nil
}

// intersects reports whether an entry's time range meets [from, to].
func intersects(e *StreamEntry, from, to uint64) bool { return e.T1 >= from && e.T0 <= to }

// interior reports whether every row of an entry lies in [from, to].
func interior(e *StreamEntry, from, to uint64) bool { return e.T0 >= from && e.T1 <= to }

// windowRun returns the run lo..hi of entries a window answer proves: the
// entries that meet the window and the nearest one on each side.
func windowRun(es []StreamEntry, from, to uint64) (lo, hi int) {
	a := sort.Search(len(es), func(i int) bool { return es[i].T1 >= from })
	c := sort.Search(len(es), func(i int) bool { return es[i].T0 > to })
	return max(a-1, 0), min(c, len(es)-1)
}

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

// streamContext is the hash every coefficient of a stream answer derives
// from: the query, the state (digest, issue time, head) and the run.
func streamContext(q *StreamQuery, st *SignedState, run []StreamEntry) ([]byte, error) {
	qb, err := codec.Default().Marshal(q)
	if err != nil {
		return nil, invalid("stream query", "%v", err)
	}
	d, err := st.State.Digest()
	if err != nil {
		return nil, err
	}
	parts := [][]byte{qb, d[:], hash.U64(uint64(st.IssuedAt)), st.Head.Root[:]}
	for i := range run {
		l := run[i].Leaf()
		parts = append(parts, l[:])
	}
	h := hash.Sum(tagStreamWindow, parts...)
	return h[:], nil
}

// partContext is the context of one batch's combined column opening.
func partContext(sctx []byte, seq uint64, edge *EdgeRows) []byte {
	ctx := append(append([]byte{}, sctx...), hash.U64(seq)...)
	if edge != nil {
		ctx = append(ctx, hash.U64(uint64(edge.First))...)
		ctx = append(ctx, hash.U64(uint64(edge.Last))...)
	}
	return ctx
}

// streamGammas returns γ_i for every part, then γ'_i for every edge, from
// the context and every claimed value and edge (SPEC §11.4).
func streamGammas(sctx []byte, parts []StreamPart) []fr.Element {
	in := [][]byte{sctx}
	edges := 0
	for i := range parts {
		for _, x := range parts[i].Values {
			xe := fr.Element(x)
			b := xe.Bytes()
			in = append(in, b[:])
		}
		if e := parts[i].Edge; e != nil {
			edges++
			in = append(in, hash.U64(uint64(e.First)), hash.U64(uint64(e.Last)))
			for _, t := range e.Times {
				in = append(in, hash.U64(t))
			}
		}
	}
	return hash.ToFr(tagStreamWindow, len(parts)+edges, in...)
}

// AnswerStream answers a stream query (SPEC §11.3–11.4): the completeness
// proof against the latest state, and one aggregated proof for the values
// of every live batch the window meets.
func (s *StorageServer) AnswerStream(ctx context.Context, q *StreamQuery) (*StreamAnswer, error) {
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
	if hi-lo+1 > s.cfg.limits.MaxStreamBatches+2 {
		return nil, &InputError{Field: "stream query", Err: ErrTooLarge,
			Reason: fmt.Sprintf("the window meets %d batches, more than the %d one answer may cover: narrow it", hi-lo-1, s.cfg.limits.MaxStreamBatches)}
	}
	runProof, err := merkle.RangeProof(entryLeaves(es), lo, hi)
	if err != nil {
		return nil, err
	}
	ans := &StreamAnswer{Query: *q, State: *latest, Proof: StreamProof{Index: uint64(idx), Root: set.root(q.Stream),
		Entries: uint64(len(es)), Path: fromMerkle(path), Run: append([]StreamEntry(nil), es[lo:hi+1]...), RunProof: fromMerkle(runProof)}}
	sctx, err := streamContext(q, latest, ans.Proof.Run)
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
		part, pi, pHat, err := s.streamPart(ctx, q, e, sctx, latest.State.Epoch)
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
	p := codec.G1(pi)
	ans.Pi = &p
	return ans, nil
}

// streamPart builds one batch's part of a stream answer: its values, its
// combined column opening π_i (the identity for an edge that selects no
// row) and, for an edge, its boundary-timestamp opening π̂_i.
func (s *StorageServer) streamPart(ctx context.Context, q *StreamQuery, e *StreamEntry, sctx []byte, epoch uint64) (*StreamPart, bls.G1Affine, bls.G1Affine, error) {
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
	w, err := s.witness(ctx, e.Batch)
	if err != nil {
		return nil, zero, zero, err
	}
	if w.Epoch != epoch {
		return nil, zero, zero, fmt.Errorf("vds: batch %s: witness at epoch %d, state at %d: %w", e.Batch.Short(), w.Epoch, epoch, ErrUnknownState)
	}
	part := &StreamPart{Header: b.Header, Witness: WitnessWire{W: codec.G1OrIdentity(w.W), U: codec.Scalar(w.U)}}
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

// incomplete wraps a completeness failure.
func incomplete(format string, args ...any) error {
	return fmt.Errorf("vds: stream answer: %s: %w", fmt.Sprintf(format, args...), ErrIncomplete)
}

// checkRun checks the completeness proof of a stream answer against the
// state's head (SPEC §11.3).
func checkRun(q *StreamQuery, head *StreamHead, p *StreamProof) error {
	if p.Entries == 0 || len(p.Run) == 0 || p.Index >= head.Streams {
		return incomplete("empty run, stream without entries or stream index %d of %d", p.Index, head.Streams)
	}
	if len(p.Path) > merkle.MaxProof(int(min(head.Streams, 1<<40))) || len(p.RunProof) > merkle.MaxProof(int(min(p.Entries, 1<<40))) {
		return incomplete("proof longer than its tree")
	}
	leaf := StreamLeaf(q.Stream, p.Root, p.Entries)
	root, err := merkle.RangeRoot(int(head.Streams), int(p.Index), []merkle.Hash{leaf}, toMerkle(p.Path))
	if err != nil || root != head.Root {
		return incomplete("stream %s is not in the signed streams root", Display(q.Stream))
	}
	first := p.Run[0].Seq
	if first >= p.Entries || uint64(len(p.Run)) > p.Entries-first {
		return incomplete("run %d+%d outside %d entries", first, len(p.Run), p.Entries)
	}
	if err := CheckEntries(first, p.Run); err != nil {
		return err
	}
	sroot, err := merkle.RangeRoot(int(p.Entries), int(first), entryLeaves(p.Run), toMerkle(p.RunProof))
	if err != nil || sroot != p.Root {
		return incomplete("entries %d..%d are not those of the signed stream", first, first+uint64(len(p.Run))-1)
	}
	from, to := q.TimeFrom, q.TimeTo
	n := len(p.Run)
	for i := range p.Run {
		e := &p.Run[i]
		if intersects(e, from, to) {
			continue
		}
		before, after := e.T1 < from, e.T0 > to
		ok := (i == 0 && before) || (i == n-1 && after)
		if !ok {
			return incomplete("entry %d (t=%d..%d) is neither in the window nor its neighbour", e.Seq, e.T0, e.T1)
		}
	}
	if first > 0 && !(p.Run[0].T1 < from) {
		return incomplete("entry %d before the run may meet the window: the run must start with the entry before it", first-1)
	}
	if last := p.Run[n-1]; last.Seq+1 < p.Entries && !(last.T0 > to) {
		return incomplete("entry %d after the run may meet the window: the run must end with the entry after it", last.Seq+1)
	}
	return nil
}

func fromMerkle(hs []merkle.Hash) []Hash {
	if len(hs) == 0 {
		return nil
	}
	out := make([]Hash, len(hs))
	for i := range hs {
		out[i] = Hash(hs[i])
	}
	return out
}

func toMerkle(hs []Hash) []merkle.Hash {
	out := make([]merkle.Hash, len(hs))
	for i := range hs {
		out[i] = merkle.Hash(hs[i])
	}
	return out
}

// streamState returns the state a stream answer must be checked against:
// the verifier's latest, after taking the answer's state if it is a later
// signature of the held epoch and catching up if it is a later epoch. The
// answer's state must then be exactly the held one: a stream answer built
// on an older head may miss batches (SPEC §11.4).
func (v *Verifier) streamState(ctx context.Context, st *SignedState) (*SignedState, error) {
	d, err := v.checkState(st)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	if v.state != nil && st.State.Epoch == v.state.State.Epoch && d == v.digest && st.IssuedAt > v.state.IssuedAt {
		_ = v.linkLocked(st, d)
	}
	v.mu.Unlock()
	held, _, err := v.stateFor(ctx, st.State.Epoch, BatchID{})
	if err != nil {
		return nil, err
	}
	if st.State.Epoch == held.State.Epoch {
		hd, err := held.State.Digest()
		if err != nil {
			return nil, err
		}
		if hd != d { // the owner signed two states for one epoch
			return nil, fmt.Errorf("vds: the answer's state of epoch %d differs from the held one: %w", st.State.Epoch, ErrConflict)
		}
		if st.IssuedAt > held.IssuedAt { // a later signature of the held state
			v.mu.Lock()
			err := v.linkLocked(st, d)
			v.mu.Unlock()
			if err == nil {
				held = st
			}
		}
	}
	if held.IssuedAt != st.IssuedAt || held.Head != st.Head {
		return nil, &StaleStateError{Have: held.State.Epoch, Got: st.State.Epoch,
			Reason: fmt.Sprintf("the answer's stream head was signed at %d, the verifier holds one signed at %d", st.IssuedAt, held.IssuedAt)}
	}
	return held, nil
}

// precheckStream checks what a stream answer proves without any of its
// parts: the query it answers, its state (signature, freshness: the held
// one), the limits, the completeness proof, and the number of parts. It
// returns the held state and the live entries the parts must be, in order.
func (v *Verifier) precheckStream(ctx context.Context, q, answered *StreamQuery, st *SignedState, p *StreamProof, parts int) (*SignedState, []*StreamEntry, error) {
	if err := checkStreamQuery(q, v.cfg.limits); err != nil {
		return nil, nil, err
	}
	qa, _ := codec.Default().Marshal(q)
	qb, err := codec.Default().Marshal(answered)
	if err != nil || !bytes.Equal(qa, qb) {
		return nil, nil, fmt.Errorf("vds: the answer is for another stream query: %w", ErrBadProof)
	}
	if len(p.Run) > v.cfg.limits.MaxStreamBatches+2 || parts > v.cfg.limits.MaxStreamBatches {
		return nil, nil, tooLarge("stream answer", max(len(p.Run)-2, parts), v.cfg.limits.MaxStreamBatches)
	}
	held, err := v.streamState(ctx, st)
	if err != nil {
		return nil, nil, err
	}
	if err := checkRun(q, &held.Head, p); err != nil {
		return nil, nil, err
	}
	var live []*StreamEntry
	for i := range p.Run {
		if e := &p.Run[i]; !e.Revoked && intersects(e, q.TimeFrom, q.TimeTo) {
			live = append(live, e)
		}
	}
	if parts != len(live) {
		return nil, nil, incomplete("%d batch parts for %d live batches in the window", parts, len(live))
	}
	return held, live, nil
}

// PrecheckStream checks a stream answer before its parts are decoded
// (SPEC §8, §11.4): everything precheckStream checks, and that the parts'
// headers — given by the digests of their encodings — are the batches of
// the live entries, in order (header(i) returns the digest of part i's
// header, computed only once everything else holds). A transport calls it
// so that no peer can make
// the verifier decode the group elements of headers that are not the
// owner's batches of that window; VerifyStream checks all of it again.
func (v *Verifier) PrecheckStream(ctx context.Context, q *StreamQuery, ans *StreamAnswer, parts int, header func(i int) BatchID) error {
	if q == nil || ans == nil || header == nil {
		return invalid("verify", "nil query, answer or header digests")
	}
	_, live, err := v.precheckStream(ctx, q, &ans.Query, &ans.State, &ans.Proof, parts)
	if err != nil {
		return err
	}
	for i, e := range live {
		if header(i) != e.Batch {
			return incomplete("part %d is not the batch of entry %d", i, e.Seq)
		}
	}
	return nil
}

// VerifyStream checks a stream answer (SPEC §11.3–11.4): the state is the
// verifier's latest; the entries are exactly those of the stream that meet
// the window, with their neighbours; every live one has a part whose header
// is that entry's batch, unrevoked, with values that the committed data
// implies — all in one multi-pairing. It returns the exact totals.
func (v *Verifier) VerifyStream(ctx context.Context, q *StreamQuery, ans *StreamAnswer) (*StreamResult, error) {
	if q == nil || ans == nil {
		return nil, invalid("verify", "nil query or answer")
	}
	st, live, err := v.precheckStream(ctx, q, &ans.Query, &ans.State, &ans.Proof, len(ans.Parts))
	if err != nil {
		return nil, err
	}
	from, to := q.TimeFrom, q.TimeTo
	res := &StreamResult{Stream: q.Stream, Epoch: st.State.Epoch, IssuedAt: st.IssuedAt, Columns: q.Columns, Totals: make([]Value, len(q.Columns))}
	if len(live) == 0 {
		if ans.Pi != nil {
			return nil, fmt.Errorf("vds: a proof for no batch: %w", ErrBadProof)
		}
		for i := range res.Totals {
			res.Totals[i] = Value{Int: new(big.Int)}
		}
		return res, nil
	}
	if ans.Pi == nil {
		return nil, fmt.Errorf("vds: stream answer without proof: %w", ErrBadProof)
	}
	sctx, err := streamContext(q, st, ans.Proof.Run)
	if err != nil {
		return nil, err
	}
	gammas := streamGammas(sctx, ans.Parts)
	b := v.vk.NewBatch()
	f := bls.G1Affine(st.State.Acc)
	// Per column, each batch's exact sum with its scale; added up at the
	// largest scale, so batches stored with different scales add exactly.
	sums := make([][]Value, len(q.Columns))
	var ys []fr.Element // the parts' accumulator elements and witnesses
	var ws []accumulator.Witness
	var ids []BatchID
	groups := map[int]*commitment.ColumnTerm{} // interior batches by length
	var order []int
	var edgeCols []commitment.ColumnTerm
	var times []commitment.TimeTerm
	var x fr.Element
	edge := 0
	for i, e := range live {
		part := &ans.Parts[i]
		id, h, err := v.verifyHeader(&part.Header)
		if err != nil {
			return nil, err
		}
		if id != e.Batch || h.Stream != q.Stream || h.Seq != e.Seq || h.Version != e.Version || h.FirstTime != e.T0 || h.LastTime != e.T1 {
			return nil, incomplete("part %d is not the batch of entry %d", i, e.Seq)
		}
		cols, err := queryColumns(&Query{Columns: q.Columns}, h)
		if err != nil {
			return nil, err
		}
		if len(part.Values) != len(cols) {
			return nil, fmt.Errorf("vds: %d values for %d columns in part %d: %w", len(part.Values), len(cols), i, ErrBadProof)
		}
		// Not revoked at the state's epoch: checked for every part at once
		// below.
		ys = append(ys, id.Element())
		ws = append(ws, accumulator.Witness{W: bls.G1Affine(part.Witness.W), U: fr.Element(part.Witness.U), Epoch: st.State.Epoch})
		ids = append(ids, id)

		xs := make([]fr.Element, len(cols))
		for c := range cols {
			xs[c] = fr.Element(part.Values[c])
		}
		l := int(h.Rows)
		weights := commitment.Range(1, l)
		if interior(e, from, to) {
			if part.Edge != nil {
				return nil, fmt.Errorf("vds: rows given for interior batch %s: %w", id.Short(), ErrBadProof)
			}
			res.Rows += uint64(l)
		} else {
			eg := part.Edge
			if eg == nil {
				return nil, fmt.Errorf("vds: edge batch %s without its rows: %w", id.Short(), ErrBadProof)
			}
			rows := BoundaryRows(eg.First, eg.Last, l)
			if err := checkWindow(h, eg.First, eg.Last, rows, eg.Times, from, to); err != nil {
				return nil, fmt.Errorf("vds: edge batch %s: %w", id.Short(), err)
			}
			tw, tx := windowWeights(id, rows, eg.Times)
			g := gammas[len(live)+edge]
			edge++
			times = append(times, commitment.TimeTerm{C: bls.G2Affine(h.TimeCommit), S: g, W: tw})
			var t fr.Element
			t.Mul(&g, &tx)
			x.Add(&x, &t)
			if eg.Last < eg.First {
				for c := range xs {
					if !xs[c].IsZero() {
						return nil, fmt.Errorf("vds: edge batch %s selects no row but claims a sum: %w", id.Short(), ErrBadProof)
					}
				}
				res.Batches = append(res.Batches, *e)
				continue
			}
			weights = commitment.Range(int(eg.First), int(eg.Last))
			res.Rows += uint64(eg.Last - eg.First + 1)
		}
		rho := commitment.ColumnCoefficients(partContext(sctx, e.Seq, part.Edge), xs)
		term := commitment.ColumnTerm{W: weights}
		var t fr.Element
		for c, ci := range cols {
			var s fr.Element
			s.Mul(&gammas[i], &rho[c])
			term.C = append(term.C, bls.G1Affine(h.Commits[ci]))
			term.S = append(term.S, s)
			t.Mul(&s, &xs[c])
			x.Add(&x, &t)
			sums[c] = append(sums[c], Value{Int: ToBig(&xs[c]), Scale: h.Columns[ci].Scale})
		}
		if part.Edge != nil {
			edgeCols = append(edgeCols, term)
		} else if g, ok := groups[l]; ok {
			g.C, g.S = append(g.C, term.C...), append(g.S, term.S...)
		} else {
			groups[l] = &term
			order = append(order, l)
		}
		res.Batches = append(res.Batches, *e)
	}
	for _, l := range order {
		edgeCols = append(edgeCols, *groups[l])
	}
	// Every non-membership equation in one: e(Σ rᵢwᵢ, ĝˢ)·e(Σ rᵢ(yᵢwᵢ − uᵢg − f), ĝ) = 1.
	aw, bw, bad, err := accumulator.AggregateTerms(&f, ys, ws)
	if err != nil {
		if bad < 0 {
			return nil, fmt.Errorf("vds: witnesses: %w", err)
		}
		if errors.Is(err, ErrRevoked) {
			return nil, fmt.Errorf("vds: batch %s: non-membership witness with u = 0: %w", ids[bad].Short(), err)
		}
		return nil, fmt.Errorf("vds: witness of batch %s: %w", ids[bad].Short(), err)
	}
	b.Equation()
	b.PairFixed(&aw, v.accKey)
	b.PairGenerator(&bw)
	if edge != len(gammas)-len(live) {
		return nil, fmt.Errorf("vds: %d edge batches, %d coefficients: %w", edge, len(gammas)-len(live), ErrBadProof)
	}
	pi := bls.G1Affine(*ans.Pi)
	if err := b.AddAggregate(edgeCols, times, &x, &pi); err != nil {
		return nil, proofInput(err)
	}
	if err := b.Verify(); err != nil {
		return nil, fmt.Errorf("vds: stream answer does not verify: %w", ErrBadProof)
	}
	for c := range sums {
		res.Totals[c] = addScaled(sums[c])
	}
	return res, nil
}

// addScaled adds values of possibly different scales exactly, at the
// largest scale.
func addScaled(vs []Value) Value {
	var scale uint8
	for _, v := range vs {
		scale = max(scale, v.Scale)
	}
	total := new(big.Int)
	ten := big.NewInt(10)
	for _, v := range vs {
		t := new(big.Int).Exp(ten, big.NewInt(int64(scale-v.Scale)), nil)
		total.Add(total, t.Mul(t, v.Int))
	}
	return Value{Int: total, Scale: scale}
}

// StreamAnswerer answers stream and batch queries: a StorageServer, or a
// transport client of one.
type StreamAnswerer interface {
	AnswerStream(ctx context.Context, q *StreamQuery) (*StreamAnswer, error)
	Answer(ctx context.Context, q *Query) (*Answer, error)
}

// StreamAuditResult is a verified audit of a stream's time window.
type StreamAuditResult struct {
	Stream  string
	Epoch   uint64
	Columns []string
	Batches []StreamEntry // every live batch of the window, each audited
}

// AuditStream audits a stream range (SPEC §11.4): a verified window query
// names exactly the live batches of stream over [from, to] (its
// completeness proof), and each of them is audited (§7) with the auditor's
// fresh nonce, so that the server shows it still holds every value of every
// batch of the range. It fails with the first answer that does not verify.
func (v *Verifier) AuditStream(ctx context.Context, src StreamAnswerer, stream string, from, to uint64, cols []string, nonce []byte) (*StreamAuditResult, error) {
	q := &StreamQuery{Stream: stream, Kind: QueryWindow, Columns: cols, TimeFrom: from, TimeTo: to}
	ans, err := src.AnswerStream(ctx, q)
	if err != nil {
		return nil, err
	}
	res, err := v.VerifyStream(ctx, q, ans)
	if err != nil {
		return nil, err
	}
	out := &StreamAuditResult{Stream: stream, Epoch: res.Epoch, Columns: cols}
	for _, e := range res.Batches {
		aq := &Query{Batch: e.Batch, Kind: QueryAudit, Columns: cols, Nonce: nonce}
		a, err := src.Answer(ctx, aq)
		if err != nil {
			return nil, fmt.Errorf("vds: audit of batch %s: %w", e.Batch.Short(), err)
		}
		if _, err := v.Verify(ctx, aq, a); err != nil {
			return nil, fmt.Errorf("vds: audit of batch %s: %w", e.Batch.Short(), err)
		}
		out.Batches = append(out.Batches, e)
	}
	return out, nil
}
