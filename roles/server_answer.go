package roles

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
)

// Witness returns the non-membership witness of a stored, live batch at the
// latest epoch (SPEC §6), bringing the cached one up to date first.
func (s *StorageServer) Witness(ctx context.Context, id BatchID) (accumulator.Witness, error) {
	_, revokedAt, err := s.store.Header(ctx, id)
	if err != nil {
		return accumulator.Witness{}, err
	}
	if revokedAt != 0 {
		return accumulator.Witness{}, &RevokedError{Batch: id, Epoch: revokedAt}
	}
	return s.witness(ctx, id)
}

// witness returns the batch's non-membership witness at the latest epoch,
// bringing the cached one up to date with one MSM over the new epochs
// (SPEC §6) and caching the result.
func (s *StorageServer) witness(ctx context.Context, id BatchID) (accumulator.Witness, error) {
	latest, err := s.store.LatestState(ctx)
	if err != nil {
		return accumulator.Witness{}, err
	}
	w, err := s.store.Witness(ctx, id)
	if errors.Is(err, ErrNotFound) {
		w, err = accumulator.InitialWitness(), nil
	}
	if err != nil {
		return accumulator.Witness{}, err
	}
	e := latest.State.Epoch
	if w.Epoch >= e {
		return w, nil
	}
	fs, xs, err := s.store.History(ctx, w.Epoch, e)
	if err != nil {
		return accumulator.Witness{}, err
	}
	y := id.Element()
	w, err = accumulator.Update(w, &y, fs, xs)
	if err != nil {
		var re *accumulator.RevokedError
		if errors.As(err, &re) {
			return accumulator.Witness{}, &RevokedError{Batch: id, Epoch: re.Epoch}
		}
		return accumulator.Witness{}, err
	}
	if err := s.store.PutWitness(ctx, id, w); err != nil {
		return accumulator.Witness{}, err
	}
	return w, nil
}

// Answer answers a query with a proof (generate_dc_proof,
// generate_da_proof and generate_time_proofs of SPEC §8). It refuses
// revoked batches with a *RevokedError.
func (s *StorageServer) Answer(ctx context.Context, q *Query) (*Answer, error) {
	b, err := s.store.Batch(ctx, q.Batch)
	if err != nil {
		return nil, err
	}
	if b.RevokedAt != 0 {
		return nil, &RevokedError{Batch: b.ID, Epoch: b.RevokedAt}
	}
	h := &b.Header.Header
	if err := checkQueryShape(q, int(h.Rows), s.cfg.limits); err != nil {
		return nil, err
	}
	cols, err := queryColumns(q, h)
	if err != nil {
		return nil, err
	}
	w, err := s.witness(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ans := &Answer{
		Query:   *q,
		Header:  b.Header,
		Epoch:   w.Epoch,
		Witness: WitnessWire{W: codec.G1OrIdentity(w.W), U: codec.Scalar(w.U)},
	}
	l := int(h.Rows)
	var weights commitment.Weights
	var first, last uint32
	if q.Kind == QueryWindow {
		first, last = windowRows(b.Data.Times, q.TimeFrom, q.TimeTo)
		rows := BoundaryRows(first, last, l)
		times := make([]uint64, len(rows))
		for i, r := range rows {
			times[i] = b.Data.Times[r-1]
		}
		tw, _ := windowWeights(b.ID, rows, times)
		tproof, err := s.openTimes(ctx, b, tw)
		if err != nil {
			return nil, err
		}
		ans.Window = &WindowProof{First: first, Last: last, Times: times, Proof: codec.G1(tproof)}
		if last < first { // empty window: sums are zero, no column proof
			ans.Values = make([]codec.Scalar, len(cols))
			return ans, nil
		}
		weights = commitment.Range(int(first), int(last))
	} else {
		weights = queryWeights(q, l, w.Epoch)
	}
	cctx, err := columnContext(q, first, last)
	if err != nil {
		return nil, err
	}
	xs, proof, err := s.openColumns(ctx, b, cols, weights, cctx, q.Kind != QueryAudit)
	if err != nil {
		return nil, err
	}
	ans.Values = make([]codec.Scalar, len(xs))
	for i := range xs {
		ans.Values[i] = codec.Scalar(xs[i])
	}
	p := codec.G1(proof)
	ans.Proof = &p
	return ans, nil
}

// randomScalar returns a uniformly random field element.
func randomScalar() (fr.Element, error) {
	var b [48]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fr.Element{}, err
	}
	var e fr.Element
	e.SetBigInt(new(big.Int).SetBytes(b[:]))
	return e, nil
}
