package roles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"

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
