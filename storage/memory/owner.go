package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/vdsproject/vds/roles"
)

// OwnerStore is an in-memory roles.OwnerStore, for tests and examples.
type OwnerStore struct {
	mu      sync.Mutex
	closed  bool
	secrets *roles.OwnerSecrets
	states  []roles.SignedState
	seqs    map[string]uint64
	records map[roles.BatchID]roles.BatchRecord
	pending []roles.PendingOp
	rows    map[string][]roles.Row // pending rows per stream (RowStore)
}

// NewOwnerStore returns an empty in-memory owner store.
func NewOwnerStore() *OwnerStore {
	return &OwnerStore{seqs: map[string]uint64{}, records: map[roles.BatchID]roles.BatchRecord{}}
}

var (
	_ roles.OwnerStore = (*OwnerStore)(nil)
	_ roles.Pinger     = (*OwnerStore)(nil)
)

func (m *OwnerStore) check(ctx context.Context) error {
	if m.closed {
		return roles.ErrClosed
	}
	return ctx.Err()
}

// Ping implements Pinger: roles.ErrClosed after Close.
func (m *OwnerStore) Ping(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.check(ctx)
}

// Secrets implements roles.OwnerStore.
func (m *OwnerStore) Secrets(ctx context.Context) (*roles.OwnerSecrets, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	if m.secrets == nil {
		return nil, fmt.Errorf("vds: owner keys: %w", roles.ErrNotFound)
	}
	return &roles.OwnerSecrets{SigningSeed: slices.Clone(m.secrets.SigningSeed), Accumulator: slices.Clone(m.secrets.Accumulator)}, nil
}

// InitSecrets implements roles.OwnerStore.
func (m *OwnerStore) InitSecrets(ctx context.Context, s *roles.OwnerSecrets) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	if m.secrets != nil {
		return fmt.Errorf("vds: owner keys already initialised: %w", roles.ErrConflict)
	}
	m.secrets = &roles.OwnerSecrets{SigningSeed: slices.Clone(s.SigningSeed), Accumulator: slices.Clone(s.Accumulator)}
	return nil
}

// LatestState implements roles.OwnerStore.
func (m *OwnerStore) LatestState(ctx context.Context) (*roles.SignedState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	return latestState(m.states)
}

// States implements roles.OwnerStore.
func (m *OwnerStore) States(ctx context.Context, from, to uint64) ([]roles.SignedState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	return statesRange(m.states, from, to)
}

// ReserveSeq implements roles.OwnerStore.
func (m *OwnerStore) ReserveSeq(ctx context.Context, stream string) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return 0, err
	}
	s := m.seqs[stream]
	m.seqs[stream] = s + 1
	return s, nil
}

// Record implements roles.OwnerStore.
func (m *OwnerStore) Record(ctx context.Context, id roles.BatchID) (*roles.BatchRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	r, ok := m.records[id]
	if !ok {
		return nil, fmt.Errorf("vds: batch %s: %w", id.Short(), roles.ErrUnknownBatch)
	}
	return &r, nil
}

// Records implements roles.OwnerStore.
func (m *OwnerStore) Records(ctx context.Context) ([]roles.BatchRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	out := make([]roles.BatchRecord, 0, len(m.records))
	for _, r := range m.records {
		out = append(out, r)
	}
	return out, nil
}

// Commit implements roles.OwnerStore.
func (m *OwnerStore) Commit(ctx context.Context, tx *roles.OwnerTx) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	return m.commitLocked(tx)
}

// commitLocked applies tx with m.mu held.
func (m *OwnerStore) commitLocked(tx *roles.OwnerTx) error {
	if tx.State != nil {
		if err := m.commitState(tx.State); err != nil {
			return err
		}
	}
	for _, r := range tx.Records {
		m.records[r.ID] = r
	}
	for _, id := range tx.DeletePending {
		m.pending = slices.DeleteFunc(m.pending, func(p roles.PendingOp) bool { return p.ID == id })
	}
	for _, p := range tx.PutPending {
		p.Request = slices.Clone(p.Request)
		m.pending = append(m.pending, p)
	}
	return nil
}

// commitState applies st to the chain as Commit does; m.mu is held.
func (m *OwnerStore) commitState(st *roles.SignedState) error {
	var latest, held *roles.SignedState
	if len(m.states) > 0 {
		latest = &m.states[len(m.states)-1]
	}
	if e := st.State.Epoch; e < uint64(len(m.states)) {
		held = &m.states[e]
	}
	step, err := roles.NextStep(latest, held, st)
	if err != nil {
		return err
	}
	switch step {
	case roles.StepAppend:
		m.states = append(m.states, *st)
	case roles.StepReplace:
		m.states[st.State.Epoch] = *st
	}
	return nil
}

// RotateKey implements roles.OwnerStore: the seed and the state change
// together, under the store's lock.
func (m *OwnerStore) RotateKey(ctx context.Context, seed []byte, st *roles.SignedState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	if len(seed) == 0 || st == nil {
		return &roles.InputError{Field: "key rotation", Reason: "empty seed or no state"}
	}
	if m.secrets == nil {
		return fmt.Errorf("vds: owner keys: %w", roles.ErrNotFound)
	}
	if err := m.commitState(st); err != nil {
		return err
	}
	m.secrets = &roles.OwnerSecrets{SigningSeed: slices.Clone(seed), Accumulator: m.secrets.Accumulator}
	return nil
}

// Pending implements roles.OwnerStore.
func (m *OwnerStore) Pending(ctx context.Context) ([]roles.PendingOp, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	return slices.Clone(m.pending), nil
}

// Close implements roles.OwnerStore.
func (m *OwnerStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}
