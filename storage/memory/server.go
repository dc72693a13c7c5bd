package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/roles"
)

type slot struct {
	stream string
	seq    uint64
}

// ServerStore is an in-memory roles.ServerStore, for tests and for servers
// that do not need to survive a restart.
type ServerStore struct {
	mu        sync.RWMutex
	closed    bool
	batches   map[roles.BatchID]*roles.StoredBatch
	live      map[slot]roles.BatchID
	revoked   map[roles.BatchID]uint64
	states    []roles.SignedState
	fs        []bls.G1Affine // f_0..f_E
	xs        []fr.Element   // x_1..x_E at index 0..E−1
	witnesses map[roles.BatchID]accumulator.Witness
	tables    map[tableKey]memTable // proofstore.go
}

// NewServerStore returns an empty in-memory server store.
func NewServerStore() *ServerStore {
	return &ServerStore{
		batches:   map[roles.BatchID]*roles.StoredBatch{},
		live:      map[slot]roles.BatchID{},
		revoked:   map[roles.BatchID]uint64{},
		witnesses: map[roles.BatchID]accumulator.Witness{},
	}
}

var (
	_ roles.ServerStore     = (*ServerStore)(nil)
	_ roles.Pinger          = (*ServerStore)(nil)
	_ roles.ProofTableStore = (*ServerStore)(nil)
)

func (m *ServerStore) check(ctx context.Context) error {
	if m.closed {
		return roles.ErrClosed
	}
	return ctx.Err()
}

// Ping implements Pinger: roles.ErrClosed after Close.
func (m *ServerStore) Ping(ctx context.Context) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.check(ctx)
}

// PutBatch implements roles.ServerStore.
func (m *ServerStore) PutBatch(ctx context.Context, b *roles.StoredBatch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	return m.putBatch(b)
}

// canPut checks PutBatch's preconditions, as if the batch revoking were
// already revoked.
func (m *ServerStore) canPut(b *roles.StoredBatch, revoking *roles.BatchID) (exists bool, err error) {
	if e, ok := m.revoked[b.ID]; ok || (revoking != nil && *revoking == b.ID) {
		return false, &roles.RevokedError{Batch: b.ID, Epoch: e}
	}
	if old, ok := m.batches[b.ID]; ok {
		if old.Header.Header.Seq != b.Header.Header.Seq || old.Header.Header.Stream != b.Header.Header.Stream {
			return false, fmt.Errorf("vds: batch %s stored with another header: %w", b.ID.Short(), roles.ErrConflict)
		}
		return true, nil
	}
	k := slot{b.Header.Header.Stream, b.Header.Header.Seq}
	if other, ok := m.live[k]; ok && (revoking == nil || other != *revoking) {
		return false, fmt.Errorf("vds: stream %q sequence %d is held by live batch %s: %w", k.stream, k.seq, other.Short(), roles.ErrConflict)
	}
	return false, nil
}

func (m *ServerStore) putBatch(b *roles.StoredBatch) error {
	exists, err := m.canPut(b, nil)
	if err != nil || exists {
		return err
	}
	c := *b
	c.RevokedAt = 0
	m.batches[b.ID] = &c
	m.live[slot{b.Header.Header.Stream, b.Header.Header.Seq}] = b.ID
	return nil
}

// AppendState implements roles.ServerStore.
func (m *ServerStore) AppendState(ctx context.Context, st *roles.SignedState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	step, err := m.nextStep(st)
	if err != nil {
		return err
	}
	m.apply(st, step)
	return nil
}

func (m *ServerStore) nextStep(st *roles.SignedState) (roles.ChainStep, error) {
	var latest, held *roles.SignedState
	if len(m.states) > 0 {
		latest = &m.states[len(m.states)-1]
	}
	if e := st.State.Epoch; e < uint64(len(m.states)) {
		held = &m.states[e]
	}
	return roles.NextStep(latest, held, st)
}

func (m *ServerStore) apply(st *roles.SignedState, step roles.ChainStep) {
	switch step {
	case roles.StepReplace:
		m.states[st.State.Epoch] = *st
	case roles.StepAppend:
		m.states = append(m.states, *st)
		m.fs = append(m.fs, bls.G1Affine(st.State.Acc))
		if r := st.State.Revoked; r != nil {
			m.xs = append(m.xs, fr.Element(r.X))
			m.revoked[r.Batch] = st.State.Epoch
			m.dropTables(r.Batch)
			if b, ok := m.batches[r.Batch]; ok {
				b.RevokedAt = st.State.Epoch
				k := slot{b.Header.Header.Stream, b.Header.Header.Seq}
				if m.live[k] == r.Batch {
					delete(m.live, k)
				}
			}
		}
	}
}

// UpdateBatch implements roles.ServerStore.
func (m *ServerStore) UpdateBatch(ctx context.Context, st *roles.SignedState, b *roles.StoredBatch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	// Check both before changing anything, so that a failure changes nothing.
	step, err := m.nextStep(st)
	if err != nil {
		return err
	}
	var revoking *roles.BatchID
	if step == roles.StepAppend && st.State.Revoked != nil {
		revoking = &st.State.Revoked.Batch
	}
	if _, err := m.canPut(b, revoking); err != nil {
		return err
	}
	m.apply(st, step)
	return m.putBatch(b)
}

// Batch implements roles.ServerStore.
func (m *ServerStore) Batch(ctx context.Context, id roles.BatchID) (*roles.StoredBatch, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	b, ok := m.batches[id]
	if !ok {
		return nil, fmt.Errorf("vds: batch %s: %w", id.Short(), roles.ErrUnknownBatch)
	}
	c := *b
	return &c, nil
}

// Header implements roles.ServerStore.
func (m *ServerStore) Header(ctx context.Context, id roles.BatchID) (*roles.SignedHeader, uint64, error) {
	b, err := m.Batch(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	return &b.Header, b.RevokedAt, nil
}

// List implements roles.ServerStore.
func (m *ServerStore) List(ctx context.Context, stream string) ([]roles.BatchInfo, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	var out []roles.BatchInfo
	for _, b := range m.batches {
		if stream == "" || b.Header.Header.Stream == stream {
			out = append(out, infoOf(b))
		}
	}
	roles.SortBatchInfos(out)
	return out, nil
}

// infoOf summarises a stored batch.
func infoOf(b *roles.StoredBatch) roles.BatchInfo {
	h := &b.Header.Header
	return roles.BatchInfo{ID: b.ID, Stream: h.Stream, Seq: h.Seq, Version: h.Version, Rows: h.Rows,
		FirstTime: h.FirstTime, LastTime: h.LastTime, Revoked: b.RevokedAt != 0}
}

// LatestState implements roles.ServerStore.
func (m *ServerStore) LatestState(ctx context.Context) (*roles.SignedState, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	return latestState(m.states)
}

// States implements roles.ServerStore.
func (m *ServerStore) States(ctx context.Context, from, to uint64) ([]roles.SignedState, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	return statesRange(m.states, from, to)
}

// latestState returns a copy of the last state of a chain, or
// roles.ErrUnknownState for an empty one.
func latestState(states []roles.SignedState) (*roles.SignedState, error) {
	if len(states) == 0 {
		return nil, fmt.Errorf("vds: no state yet: %w", roles.ErrUnknownState)
	}
	s := states[len(states)-1]
	return &s, nil
}

// statesRange returns a copy of the states of epochs from..to of a chain
// held in a slice indexed by epoch.
func statesRange(states []roles.SignedState, from, to uint64) ([]roles.SignedState, error) {
	if from > to {
		return nil, &roles.InputError{Field: "epochs", Reason: fmt.Sprintf("from %d > to %d", from, to)}
	}
	if to >= uint64(len(states)) {
		return nil, &roles.MissingStatesError{From: max(from, uint64(len(states))), To: to}
	}
	return slices.Clone(states[from : to+1]), nil
}

// History implements roles.ServerStore.
func (m *ServerStore) History(ctx context.Context, from, to uint64) ([]bls.G1Affine, []fr.Element, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return nil, nil, err
	}
	if from > to {
		return nil, nil, &roles.InputError{Field: "epochs", Reason: fmt.Sprintf("from %d > to %d", from, to)}
	}
	if to >= uint64(len(m.fs)) {
		return nil, nil, &roles.MissingStatesError{From: max(from, uint64(len(m.fs))), To: to}
	}
	return m.fs[from:to:to], m.xs[from:to:to], nil
}

// Witness implements roles.ServerStore.
func (m *ServerStore) Witness(ctx context.Context, id roles.BatchID) (accumulator.Witness, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return accumulator.Witness{}, err
	}
	w, ok := m.witnesses[id]
	if !ok {
		return w, fmt.Errorf("vds: witness of %s: %w", id.Short(), roles.ErrNotFound)
	}
	return w, nil
}

// PutWitness implements roles.ServerStore.
func (m *ServerStore) PutWitness(ctx context.Context, id roles.BatchID, w accumulator.Witness) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	if old, ok := m.witnesses[id]; ok && old.Epoch >= w.Epoch {
		return nil
	}
	m.witnesses[id] = w
	return nil
}

// Close implements roles.ServerStore.
func (m *ServerStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}
