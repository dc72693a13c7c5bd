package roles

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
)

// Result is a verified answer.
type Result struct {
	Batch   BatchID
	Header  Header
	Epoch   uint64
	Kind    QueryKind
	Columns []string
	Values  []Value // one per column, in query order
	// First and Last are the rows a time window selected (Last = First−1
	// if none); zero for other kinds.
	First, Last uint32
}

// Verify checks that ans answers q (verify_dc_query, verify_da_audit and
// verify_time_proofs of SPEC §8): the header is the owner's, for this CRS,
// and is the queried batch; the answer is for the verifier's latest epoch
// (catching up first if it is newer); the batch is not revoked (a
// non-membership witness with u ≠ 0); and the values are what the
// committed data implies — all in one multi-pairing. For an audit, q must
// carry the nonce the auditor issued.
func (v *Verifier) Verify(ctx context.Context, q *Query, ans *Answer) (*Result, error) {
	b := v.vk.NewBatch()
	res, err := v.prepare(ctx, q, ans, b, nil)
	if err != nil {
		return nil, err
	}
	return v.check(b, res)
}

// prepare checks everything of an answer but its pairing equations, which
// it adds to b (verify_many.go shares b between answers, and seen between
// the answers that carry the same non-membership equation; nil for one).
func (v *Verifier) prepare(ctx context.Context, q *Query, ans *Answer, b *commitment.Batch, seen *witnessSet) (*Result, error) {
	if q == nil || ans == nil {
		return nil, invalid("verify", "nil query or answer")
	}
	if err := sameQuery(q, &ans.Query); err != nil {
		return nil, err
	}
	id, h, err := v.verifyHeader(&ans.Header)
	if err != nil && v.unknownKey(ans.Header.Header.KeyID) && (v.cfg.source != nil || v.cfg.anchor != nil) && !v.recentlySynced() {
		// A header signed by a key a rotation made (SPEC §6.3) that the
		// verifier has not caught up to: once, then refused.
		if serr := v.Sync(ctx); serr == nil {
			id, h, err = v.verifyHeader(&ans.Header)
		}
	}
	if err != nil {
		return nil, err
	}
	if id != q.Batch {
		return nil, fmt.Errorf("vds: answer carries the header of batch %s, not %s: %w", id.Short(), q.Batch.Short(), ErrBadProof)
	}
	l := int(h.Rows)
	if err := checkQueryShape(q, l, v.cfg.limits); err != nil {
		return nil, err
	}
	cols, err := queryColumns(q, h)
	if err != nil {
		return nil, err
	}
	if len(ans.Values) != len(cols) {
		return nil, fmt.Errorf("vds: %d values for %d columns: %w", len(ans.Values), len(cols), ErrBadProof)
	}
	st, revokedAt, err := v.stateFor(ctx, ans.Epoch, id)
	if err != nil {
		return nil, err
	}
	if revokedAt != 0 {
		return nil, &RevokedError{Batch: id, Epoch: revokedAt}
	}

	// Equation 1: non-membership of y = HFr(acc, D) at the held epoch (u ≠ 0
	// is enforced by Terms).
	y := id.Element()
	f := bls.G1Affine(st.State.Acc)
	wit := accumulator.Witness{W: bls.G1Affine(ans.Witness.W), U: fr.Element(ans.Witness.U), Epoch: ans.Epoch}
	if key := witnessKey(id, &wit); !seen.has(key) {
		a, bb, err := accumulator.TermsNoAccumulatorCheck(&f, &y, &wit) // f was checked with its state
		if err != nil {
			if errors.Is(err, ErrRevoked) {
				return nil, fmt.Errorf("vds: batch %s: non-membership witness with u = 0: %w", id.Short(), err)
			}
			return nil, fmt.Errorf("vds: witness: %w", err)
		}
		b.Equation()
		b.PairFixed(&a, v.accKey)
		b.PairGenerator(&bb)
		seen.add(key)
	}

	res := &Result{Batch: id, Header: *h, Epoch: ans.Epoch, Kind: q.Kind, Columns: q.Columns, Values: make([]Value, len(cols))}
	xs := make([]fr.Element, len(cols))
	for i := range xs {
		xs[i] = fr.Element(ans.Values[i])
		if q.Kind == QueryAudit {
			// A random linear combination, not a sum (SPEC §7).
			res.Values[i] = Value{Int: toUnsigned(&xs[i])}
		} else {
			res.Values[i] = Value{Int: ToBig(&xs[i]), Scale: h.Columns[cols[i]].Scale}
		}
	}
	cs := make([]bls.G1Affine, len(cols))
	for i, c := range cols {
		cs[i] = bls.G1Affine(h.Commits[c])
	}

	var weights commitment.Weights
	var first, last uint32
	if q.Kind == QueryWindow {
		tw := ans.Window
		if tw == nil {
			return nil, fmt.Errorf("vds: time-window answer without boundary proof: %w", ErrBadProof)
		}
		first, last = tw.First, tw.Last
		rows := BoundaryRows(first, last, l)
		if err := checkWindow(h, first, last, rows, tw.Times, q.TimeFrom, q.TimeTo); err != nil {
			return nil, fmt.Errorf("vds: %w", err)
		}
		w, x := windowWeights(id, rows, tw.Times)
		tc, tp := bls.G2Affine(h.TimeCommit), bls.G1Affine(tw.Proof)
		if err := b.AddOpeningG2(&tc, w, &x, &tp); err != nil {
			return nil, proofInput(err)
		}
		res.First, res.Last = first, last
		if last < first {
			if ans.Proof != nil {
				return nil, fmt.Errorf("vds: empty window with a column proof: %w", ErrBadProof)
			}
			for i := range xs {
				if !xs[i].IsZero() {
					return nil, fmt.Errorf("vds: empty window with a non-zero sum: %w", ErrBadProof)
				}
			}
			return res, nil
		}
		weights = commitment.Range(int(first), int(last))
	} else {
		if ans.Window != nil {
			return nil, fmt.Errorf("vds: boundary proof in a %s answer: %w", q.Kind, ErrBadProof)
		}
		weights = queryWeights(q, l, ans.Epoch)
	}
	if ans.Proof == nil {
		return nil, fmt.Errorf("vds: answer without proof: %w", ErrBadProof)
	}
	cctx, err := columnContext(q, first, last)
	if err != nil {
		return nil, err
	}
	proof := bls.G1Affine(*ans.Proof)
	if err := b.AddColumnsPrechecked(cs, weights, xs, &proof, cctx); err != nil { // cs checked with the header
		return nil, proofInput(err)
	}
	return res, nil
}

// maxHeaderCache bounds the verified-header cache.
const maxHeaderCache = 4096

// verifyHeader verifies a signed header (structure, CRS, owner, points,
// signature) and returns its id and the verified header to use. Headers
// already verified are remembered by digest: a later header with the same
// digest is answered with the remembered copy, never with the caller's
// values (whose points a Go caller could set off the curve without changing
// their encoding).
func (v *Verifier) verifyHeader(sh *SignedHeader) (BatchID, *Header, error) {
	id, err := sh.Header.Digest()
	if err != nil {
		return BatchID{}, nil, fmt.Errorf("vds: header: %w", err)
	}
	v.mu.Lock()
	known := v.headers[id]
	v.mu.Unlock()
	if known != nil {
		return id, known, nil
	}
	if id, err = verifyHeader(sh, Hash(v.vk.Digest()), v.keys(), v.ownerID, v.vk.N(), v.cfg.limits); err != nil {
		return BatchID{}, nil, err
	}
	h := cloneHeader(&sh.Header)
	v.mu.Lock()
	if len(v.headers) >= maxHeaderCache {
		clear(v.headers)
	}
	v.headers[id] = h
	v.mu.Unlock()
	return id, h, nil
}

// cloneHeader returns a deep copy of h.
func cloneHeader(h *Header) *Header {
	c := *h
	c.Columns = append([]ColumnInfo(nil), h.Columns...)
	c.Commits = append([]codec.G1(nil), h.Commits...)
	return &c
}

// proofInput reports malformed proof elements (the identity, points outside
// the subgroup) as bad proofs that are also invalid input.
func proofInput(err error) error {
	return fmt.Errorf("vds: %w: %w", ErrBadProof, err)
}

// check evaluates the merged pairing equation and returns res only if it
// holds: a rejected answer yields no result.
func (v *Verifier) check(b *commitment.Batch, res *Result) (*Result, error) {
	if err := b.Verify(); err != nil {
		return nil, fmt.Errorf("vds: answer does not verify: %w", ErrBadProof)
	}
	return res, nil
}

// sameQuery checks that the answer is for the query asked (by canonical
// encoding). An audit answered for another nonce fails with
// ErrWrongChallenge.
func sameQuery(asked, answered *Query) error {
	a, err := codec.Default().Marshal(asked)
	if err != nil {
		return invalid("query", "%v", err)
	}
	b, err := codec.Default().Marshal(answered)
	if err != nil {
		return fmt.Errorf("vds: answered query: %w: %w", ErrBadProof, err)
	}
	if bytes.Equal(a, b) {
		return nil
	}
	if asked.Kind == QueryAudit && answered.Kind == QueryAudit && !bytes.Equal(asked.Nonce, answered.Nonce) {
		return fmt.Errorf("vds: audit answered for nonce %x, issued %x: %w", answered.Nonce, asked.Nonce, ErrWrongChallenge)
	}
	return fmt.Errorf("vds: the answer is for another query: %w", ErrBadProof)
}

// unknownKey reports whether the verifier holds no owner key with this id.
func (v *Verifier) unknownKey(id string) bool {
	_, ok := v.keys().Key(id)
	return !ok
}
