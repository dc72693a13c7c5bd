package roles

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/consensys/gnark-crypto/ecc"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
)

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

// segmentsOf returns a stream answer's segments: ans, then its Rest.
func segmentsOf(ans *StreamAnswer) []*StreamAnswer {
	return append([]*StreamAnswer{ans}, ans.Rest...)
}

// precheckStream checks what a stream answer proves without any of its
// parts (SPEC §11.5, §12.4): the query each segment answers, that the
// segments are all there, in order, on one state (signature, freshness:
// the held one), the limits, the one completeness proof over their whole
// run, and each segment's number of parts (parts[k]). It returns the held
// state and, per segment, the live entries its parts must be, in order.
func (v *Verifier) precheckStream(ctx context.Context, q *StreamQuery, segs []*StreamAnswer, parts []int) (*SignedState, [][]*StreamEntry, error) {
	if err := checkStreamQuery(q, v.cfg.limits); err != nil {
		return nil, nil, err
	}
	lim := v.cfg.limits
	n := len(segs)
	if n == 0 || n != len(parts) {
		return nil, nil, invalid("verify", "%d segments and %d part counts", n, len(parts))
	}
	if n > lim.MaxStreamSegments {
		return nil, nil, tooLarge("stream answer segments", n, lim.MaxStreamSegments)
	}
	qa, _ := codec.Default().Marshal(q)
	s0 := segs[0]
	if s0 == nil {
		return nil, nil, invalid("verify", "nil segment")
	}
	if want := max(int(s0.Segs), 1); want != n {
		return nil, nil, incomplete("%d segments of an answer in %d", n, want)
	}
	st0, err := codec.Default().Marshal(&s0.State)
	if err != nil {
		return nil, nil, invalid("stream answer", "state: %v", err)
	}
	var run []StreamEntry
	for k, a := range segs {
		if a == nil {
			return nil, nil, invalid("verify", "nil segment")
		}
		qb, err := codec.Default().Marshal(&a.Query)
		if err != nil || !bytes.Equal(qa, qb) {
			return nil, nil, fmt.Errorf("vds: the answer is for another stream query: %w", ErrBadProof)
		}
		seg, count := uint32(k), uint32(n)
		if n == 1 {
			count = 0
		}
		if a.Seg != seg || a.Segs != count {
			return nil, nil, incomplete("segment %d of %d where segment %d of %d belongs", a.Seg, a.Segs, seg, count)
		}
		p := &a.Proof
		if len(p.Run) > lim.MaxStreamBatches+2 || parts[k] > lim.MaxStreamBatches {
			return nil, nil, tooLarge("stream answer", max(len(p.Run)-2, parts[k]), lim.MaxStreamBatches)
		}
		if len(p.Run) == 0 {
			return nil, nil, incomplete("segment %d has an empty run", k)
		}
		if k > 0 {
			sb, err := codec.Default().Marshal(&a.State)
			if err != nil || !bytes.Equal(st0, sb) {
				return nil, nil, incomplete("segment %d is built on another state than segment 0", k)
			}
			if p.Index != s0.Proof.Index || p.Root != s0.Proof.Root || p.Entries != s0.Proof.Entries || !slices.Equal(p.Path, s0.Proof.Path) {
				return nil, nil, incomplete("segment %d proves another stream than segment 0", k)
			}
		}
		if k < n-1 && len(p.RunProof) > 0 {
			return nil, nil, incomplete("segment %d of %d carries a range proof (only the last does)", k, n)
		}
		run = append(run, p.Run...)
	}
	held, err := v.streamState(ctx, &s0.State)
	if err != nil {
		return nil, nil, err
	}
	merged := s0.Proof
	merged.Run, merged.RunProof = run, segs[n-1].Proof.RunProof
	if err := checkRun(q, &held.Head, &merged); err != nil {
		return nil, nil, err
	}
	live := make([][]*StreamEntry, n)
	for k, a := range segs {
		for i := range a.Proof.Run {
			if e := &a.Proof.Run[i]; !e.Revoked && intersects(e, q.TimeFrom, q.TimeTo) {
				live[k] = append(live[k], e)
			}
		}
		if parts[k] != len(live[k]) {
			return nil, nil, incomplete("%d batch parts for %d live batches in the window (segment %d)", parts[k], len(live[k]), k)
		}
	}
	return held, live, nil
}

// PrecheckStream checks a stream answer — its segments segs, their parts
// not yet decoded — before any header in it is decoded (SPEC §8, §11.4):
// everything precheckStream checks, and that every part is the batch of
// its live entry. header(k, i) returns the digest of the encoding of part
// i of segment k's header, or false if the part has none; a part without
// header must be of a batch whose header the verifier holds. parts[k] is
// segment k's number of parts. A transport calls it so that no peer can
// make the verifier decode the group elements of headers that are not the
// owner's batches of that window; VerifyStream checks all of it again.
func (v *Verifier) PrecheckStream(ctx context.Context, q *StreamQuery, segs []*StreamAnswer, parts []int, header func(k, i int) (BatchID, bool)) error {
	if q == nil || header == nil {
		return invalid("verify", "nil query or header digests")
	}
	_, live, err := v.precheckStream(ctx, q, segs, parts)
	if err != nil {
		return err
	}
	for k := range live {
		for i, e := range live[k] {
			d, ok := header(k, i)
			switch {
			case !ok && v.heldHeader(e.Batch) == nil:
				return incomplete("part %d omits the header of batch %s, which the verifier does not hold", i, e.Batch.Short())
			case ok && d != e.Batch:
				return incomplete("part %d is not the batch of entry %d", i, e.Seq)
			}
		}
	}
	return nil
}

// streamCheck gathers, over every segment of a stream answer, what its
// one multi-pairing and its totals need.
//
// The segments' aggregated equations are merged into one with random
// coefficients r_k (r_0 = 1; SPEC §11.5): segment k's γ are scaled by r_k
// and the proofs combined as Σ r_k·π_k, so that the interior batches of
// one length share one MSM and one pair over every segment.
type streamCheck struct {
	res  *StreamResult
	sums [][]Value // per column, each batch's exact sum with its scale
	ys   []fr.Element
	ws   []accumulator.Witness
	ids  []BatchID

	groups   map[int]*commitment.ColumnTerm // interior batches by length
	order    []int
	edgeCols []commitment.ColumnTerm
	times    []commitment.TimeTerm
	x        fr.Element
	pis      []bls.G1Affine
	rs       []fr.Element
}

// coefficient returns r_k for the next segment: 1 for the first, then
// fresh random 128-bit values.
func (c *streamCheck) coefficient() (fr.Element, error) {
	var r fr.Element
	if len(c.rs) == 0 {
		r.SetOne()
		return r, nil
	}
	var buf [16]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return r, fmt.Errorf("vds: randomness: %w", err)
	}
	buf[0] |= 0x80 // never zero
	r.SetBytes(buf[:])
	return r, nil
}

// addAggregate adds the merged equation of every segment to b.
func (c *streamCheck) addAggregate(b *commitment.Batch) error {
	cols := c.edgeCols
	for _, l := range c.order {
		cols = append(cols, *c.groups[l])
	}
	pi := c.pis[0]
	if len(c.pis) > 1 {
		if _, err := pi.MultiExp(c.pis, c.rs, ecc.MultiExpConfig{}); err != nil {
			return proofInput(err)
		}
	}
	if err := b.AddAggregate(cols, c.times, &c.x, &pi); err != nil {
		return proofInput(err)
	}
	return nil
}

// VerifyStream checks a stream answer (SPEC §11.3–11.5): the state is the
// verifier's latest; the entries are exactly those of the stream that meet
// the window, with their neighbours, over every segment of a split answer
// (ans and ans.Rest); every live one has a part that is that entry's batch
// (its header, or one the verifier holds), unrevoked, with values that the
// committed data implies — all in one multi-pairing with one final
// exponentiation. It returns the exact totals.
func (v *Verifier) VerifyStream(ctx context.Context, q *StreamQuery, ans *StreamAnswer) (*StreamResult, error) {
	if q == nil || ans == nil {
		return nil, invalid("verify", "nil query or answer")
	}
	segs := segmentsOf(ans)
	parts := make([]int, len(segs))
	for k, a := range segs {
		if a == nil {
			return nil, invalid("verify", "nil segment")
		}
		parts[k] = len(a.Parts)
	}
	st, live, err := v.precheckStream(ctx, q, segs, parts)
	if err != nil {
		return nil, err
	}
	c := &streamCheck{res: &StreamResult{Stream: q.Stream, Epoch: st.State.Epoch, IssuedAt: st.IssuedAt, Columns: q.Columns, Totals: make([]Value, len(q.Columns))},
		sums: make([][]Value, len(q.Columns)), groups: map[int]*commitment.ColumnTerm{}}
	b := v.vk.NewBatch()
	equations := 0
	for k, a := range segs {
		if len(live[k]) == 0 {
			if a.Pi != nil {
				return nil, fmt.Errorf("vds: a proof for no batch: %w", ErrBadProof)
			}
			continue
		}
		if err := v.addStreamSegment(c, q, st, a, live[k]); err != nil {
			return nil, err
		}
		equations++
	}
	if equations == 0 {
		for i := range c.res.Totals {
			c.res.Totals[i] = Value{Int: new(big.Int)}
		}
		return c.res, nil
	}
	if err := c.addAggregate(b); err != nil {
		return nil, err
	}
	if len(c.ws) > 0 {
		// Every non-membership equation in one: e(Σ rᵢwᵢ, ĝˢ)·e(Σ rᵢ(yᵢwᵢ − uᵢg − f), ĝ) = 1.
		f := bls.G1Affine(st.State.Acc)
		aw, bw, bad, err := accumulator.AggregateTerms(&f, c.ys, c.ws)
		if err != nil {
			if bad < 0 {
				return nil, fmt.Errorf("vds: witnesses: %w", err)
			}
			if errors.Is(err, ErrRevoked) {
				return nil, fmt.Errorf("vds: batch %s: non-membership witness with u = 0: %w", c.ids[bad].Short(), err)
			}
			return nil, fmt.Errorf("vds: witness of batch %s: %w", c.ids[bad].Short(), err)
		}
		b.Equation()
		b.PairFixed(&aw, v.accKey)
		b.PairGenerator(&bw)
	}
	if err := b.Verify(); err != nil {
		return nil, fmt.Errorf("vds: stream answer does not verify: %w", ErrBadProof)
	}
	for i := range c.sums {
		c.res.Totals[i] = addScaled(c.sums[i])
	}
	return c.res, nil
}

// heldHeader returns the header of a batch the verifier has verified
// before, or nil.
func (v *Verifier) heldHeader(id BatchID) *Header {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.headers[id]
}

// addStreamSegment adds one segment's aggregated opening, scaled by its
// r_k, and its parts' witnesses, totals and batches to c (SPEC §11.4,
// §11.5): per part, the header (verified, or held), the values, the edge
// rows; and the segment's proof π.
func (v *Verifier) addStreamSegment(c *streamCheck, q *StreamQuery, st *SignedState, a *StreamAnswer, live []*StreamEntry) error {
	if a.Pi == nil {
		return fmt.Errorf("vds: stream answer without proof: %w", ErrBadProof)
	}
	sctx, err := streamContext(q, st, a.Proof.Run, a.Seg, a.Segs)
	if err != nil {
		return err
	}
	from, to := q.TimeFrom, q.TimeTo
	res := c.res
	gammas := streamGammas(sctx, a.Parts)
	r, err := c.coefficient()
	if err != nil {
		return err
	}
	if len(c.rs) > 0 {
		for i := range gammas {
			gammas[i].Mul(&gammas[i], &r)
		}
	}
	pi := bls.G1Affine(*a.Pi)
	if a.Segs > 1 && (pi.IsInfinity() || !pi.IsOnCurve() || !pi.IsInSubGroup()) {
		return fmt.Errorf("vds: proof of segment %d: not a point of the group other than the identity: %w", a.Seg, ErrBadProof)
	}
	c.pis, c.rs = append(c.pis, pi), append(c.rs, r)
	x := &c.x
	edge := 0
	for i, e := range live {
		part := &a.Parts[i]
		var id BatchID
		var h *Header
		switch {
		case part.Header != nil && part.Witness != nil:
			if id, h, err = v.verifyHeader(part.Header); err != nil {
				return err
			}
			// Not revoked at the state's epoch: checked for every part at
			// once by the caller.
			c.ys = append(c.ys, id.Element())
			c.ws = append(c.ws, accumulator.Witness{W: bls.G1Affine(part.Witness.W), U: fr.Element(part.Witness.U), Epoch: st.State.Epoch})
			c.ids = append(c.ids, id)
		case part.Header == nil && part.Witness == nil:
			// A held header: its entry, unrevoked under the signed head,
			// shows the batch live (SPEC §11.5).
			if h = v.heldHeader(e.Batch); h == nil {
				return incomplete("part %d omits the header of batch %s, which the verifier does not hold", i, e.Batch.Short())
			}
			id = e.Batch
		default:
			return fmt.Errorf("vds: part %d has a header without witness or a witness without header: %w", i, ErrBadProof)
		}
		if id != e.Batch || h.Stream != q.Stream || h.Seq != e.Seq || h.Version != e.Version || h.FirstTime != e.T0 || h.LastTime != e.T1 {
			return incomplete("part %d is not the batch of entry %d", i, e.Seq)
		}
		cols, err := queryColumns(&Query{Columns: q.Columns}, h)
		if err != nil {
			return err
		}
		if len(part.Values) != len(cols) {
			return fmt.Errorf("vds: %d values for %d columns in part %d: %w", len(part.Values), len(cols), i, ErrBadProof)
		}
		xs := make([]fr.Element, len(cols))
		for c := range cols {
			xs[c] = fr.Element(part.Values[c])
		}
		l := int(h.Rows)
		weights := commitment.Range(1, l)
		if interior(e, from, to) {
			if part.Edge != nil {
				return fmt.Errorf("vds: rows given for interior batch %s: %w", id.Short(), ErrBadProof)
			}
			res.Rows += uint64(l)
		} else {
			eg := part.Edge
			if eg == nil {
				return fmt.Errorf("vds: edge batch %s without its rows: %w", id.Short(), ErrBadProof)
			}
			rows := BoundaryRows(eg.First, eg.Last, l)
			if err := checkWindow(h, eg.First, eg.Last, rows, eg.Times, from, to); err != nil {
				return fmt.Errorf("vds: edge batch %s: %w", id.Short(), err)
			}
			if len(live)+edge >= len(gammas) {
				return fmt.Errorf("vds: more edge batches than coefficients: %w", ErrBadProof)
			}
			tw, tx := windowWeights(id, rows, eg.Times)
			g := gammas[len(live)+edge]
			edge++
			c.times = append(c.times, commitment.TimeTerm{C: bls.G2Affine(h.TimeCommit), S: g, W: tw})
			var t fr.Element
			t.Mul(&g, &tx)
			x.Add(x, &t)
			if eg.Last < eg.First {
				for c := range xs {
					if !xs[c].IsZero() {
						return fmt.Errorf("vds: edge batch %s selects no row but claims a sum: %w", id.Short(), ErrBadProof)
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
		for k, ci := range cols {
			var s fr.Element
			s.Mul(&gammas[i], &rho[k])
			term.C = append(term.C, bls.G1Affine(h.Commits[ci]))
			term.S = append(term.S, s)
			t.Mul(&s, &xs[k])
			x.Add(x, &t)
			c.sums[k] = append(c.sums[k], Value{Int: ToBig(&xs[k]), Scale: h.Columns[ci].Scale})
		}
		if part.Edge != nil {
			c.edgeCols = append(c.edgeCols, term)
		} else if g, ok := c.groups[l]; ok {
			g.C, g.S = append(g.C, term.C...), append(g.S, term.S...)
		} else {
			c.groups[l] = &term
			c.order = append(c.order, l)
		}
		res.Batches = append(res.Batches, *e)
	}
	if edge != len(gammas)-len(live) {
		return fmt.Errorf("vds: %d edge batches, %d coefficients: %w", edge, len(gammas)-len(live), ErrBadProof)
	}
	return nil
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
