package metrics

import (
	"context"
	"errors"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/roles"
)

// WrapServerStore returns s with every call timed
// (vds_store_operation_duration_seconds, vds_store_operation_errors_total)
// and the batches it acknowledges counted
// (vds_storage_batches_stored_total, vds_storage_rows_stored_total). The
// result implements roles.ProofTableStore if s does (so precomputed proof
// tables keep working), roles.ProofTableClaimer if s does too (so replicas
// sharing s still compute each table once) and always roles.Pinger (s's Ping, else a read of
// its latest state). Closing it closes s. The store's metrics are
// exported from the first call on.
func (m *Metrics) WrapServerStore(s roles.ServerStore) roles.ServerStore {
	m.storeOnce.Do(func() { m.reg.MustRegister(m.batchesStored, m.rowsStored, m.storeSeconds, m.storeErrors) })
	w := &store{s: s, m: m}
	if t, ok := s.(roles.ProofTableStore); ok {
		ts := &tableStore{store: w, t: t}
		if c, ok := s.(roles.ProofTableClaimer); ok {
			return &claimTableStore{tableStore: ts, c: c}
		}
		return ts
	}
	return w
}

// store is a timed ServerStore.
type store struct {
	s roles.ServerStore
	m *Metrics
}

var (
	_ roles.ServerStore       = (*store)(nil)
	_ roles.Pinger            = (*store)(nil)
	_ roles.ProofTableStore   = (*tableStore)(nil)
	_ roles.ProofTableClaimer = (*claimTableStore)(nil)
)

// observe records one call of operation op that started at start.
func (w *store) observe(op string, start time.Time, err error) {
	w.m.storeSeconds.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if err != nil {
		w.m.storeErrors.WithLabelValues(op).Inc()
	}
}

// stored counts an acknowledged batch.
func (w *store) stored(b *roles.StoredBatch) {
	w.m.batchesStored.Inc()
	w.m.rowsStored.Add(float64(b.Header.Header.Rows))
}

func (w *store) PutBatch(ctx context.Context, b *roles.StoredBatch) error {
	start := time.Now()
	err := w.s.PutBatch(ctx, b)
	w.observe("put_batch", start, err)
	if err == nil {
		w.stored(b)
	}
	return err
}

func (w *store) AppendState(ctx context.Context, st *roles.SignedState) error {
	start := time.Now()
	err := w.s.AppendState(ctx, st)
	w.observe("append_state", start, err)
	return err
}

func (w *store) UpdateBatch(ctx context.Context, st *roles.SignedState, b *roles.StoredBatch) error {
	start := time.Now()
	err := w.s.UpdateBatch(ctx, st, b)
	w.observe("update_batch", start, err)
	if err == nil {
		w.stored(b)
	}
	return err
}

func (w *store) Batch(ctx context.Context, id roles.BatchID) (*roles.StoredBatch, error) {
	start := time.Now()
	b, err := w.s.Batch(ctx, id)
	w.observe("batch", start, err)
	return b, err
}

func (w *store) Header(ctx context.Context, id roles.BatchID) (*roles.SignedHeader, uint64, error) {
	start := time.Now()
	h, e, err := w.s.Header(ctx, id)
	w.observe("header", start, err)
	return h, e, err
}

func (w *store) List(ctx context.Context, stream string) ([]roles.BatchInfo, error) {
	start := time.Now()
	l, err := w.s.List(ctx, stream)
	w.observe("list", start, err)
	return l, err
}

func (w *store) LatestState(ctx context.Context) (*roles.SignedState, error) {
	start := time.Now()
	st, err := w.s.LatestState(ctx)
	// An empty chain is an answer, not a failure of the store.
	w.observe("latest_state", start, ignore(err, roles.ErrUnknownState))
	return st, err
}

func (w *store) States(ctx context.Context, from, to uint64) ([]roles.SignedState, error) {
	start := time.Now()
	l, err := w.s.States(ctx, from, to)
	w.observe("states", start, err)
	return l, err
}

func (w *store) History(ctx context.Context, from, to uint64) ([]bls.G1Affine, []fr.Element, error) {
	start := time.Now()
	fs, xs, err := w.s.History(ctx, from, to)
	w.observe("history", start, err)
	return fs, xs, err
}

func (w *store) Witness(ctx context.Context, id roles.BatchID) (accumulator.Witness, error) {
	start := time.Now()
	wit, err := w.s.Witness(ctx, id)
	w.observe("witness", start, ignore(err, roles.ErrNotFound))
	return wit, err
}

func (w *store) PutWitness(ctx context.Context, id roles.BatchID, wit accumulator.Witness) error {
	start := time.Now()
	err := w.s.PutWitness(ctx, id, wit)
	w.observe("put_witness", start, err)
	return err
}

// Ping implements roles.Pinger: the store's Ping, or a read of its latest
// state.
func (w *store) Ping(ctx context.Context) error {
	start := time.Now()
	var err error
	if p, ok := w.s.(roles.Pinger); ok {
		err = p.Ping(ctx)
	} else if _, err = w.s.LatestState(ctx); errors.Is(err, roles.ErrUnknownState) {
		err = nil
	}
	w.observe("ping", start, err)
	return err
}

func (w *store) Close() error { return w.s.Close() }

// ignore returns nil for an error that is an expected answer.
func ignore(err, expected error) error {
	if errors.Is(err, expected) {
		return nil
	}
	return err
}

// tableStore is a timed ServerStore with proof tables.
type tableStore struct {
	*store
	t roles.ProofTableStore
}

func (w *tableStore) PutProofTable(ctx context.Context, id roles.BatchID, col int, prefix []bls.G1Affine, values []fr.Element) error {
	start := time.Now()
	err := w.t.PutProofTable(ctx, id, col, prefix, values)
	w.observe("put_proof_table", start, err)
	return err
}

func (w *tableStore) ProofPoints(ctx context.Context, id roles.BatchID, col int, idx []int) ([]bls.G1Affine, []fr.Element, error) {
	start := time.Now()
	ps, vs, err := w.t.ProofPoints(ctx, id, col, idx)
	w.observe("proof_points", start, ignore(err, roles.ErrNotFound))
	return ps, vs, err
}

func (w *tableStore) ProofTables(ctx context.Context, id roles.BatchID) ([]int, int64, error) {
	start := time.Now()
	cols, n, err := w.t.ProofTables(ctx, id)
	w.observe("proof_tables", start, err)
	return cols, n, err
}

// claimTableStore is a timed ServerStore with proof tables that several
// servers share.
type claimTableStore struct {
	*tableStore
	c roles.ProofTableClaimer
}

func (w *claimTableStore) ClaimProofTable(ctx context.Context, id roles.BatchID, col int, ttl time.Duration) (bool, error) {
	start := time.Now()
	ok, err := w.c.ClaimProofTable(ctx, id, col, ttl)
	w.observe("claim_proof_table", start, err)
	return ok, err
}
