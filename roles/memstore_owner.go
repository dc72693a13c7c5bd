package roles

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// MemoryOwnerStore is an in-memory OwnerStore, for tests and examples.
type MemoryOwnerStore struct {
	mu      sync.Mutex
	closed  bool
	secrets *OwnerSecrets
	states  []SignedState
	seqs    map[string]uint64
	records map[BatchID]BatchRecord
	pending []PendingOp
}

// NewMemoryOwnerStore returns an empty in-memory owner store.
func NewMemoryOwnerStore() *MemoryOwnerStore {
	return &MemoryOwnerStore{seqs: map[string]uint64{}, records: map[BatchID]BatchRecord{}}
}

var (
	_ OwnerStore = (*MemoryOwnerStore)(nil)
	_ Pinger     = (*MemoryOwnerStore)(nil)
)

func (m *MemoryOwnerStore) check(ctx context.Context) error {
	if m.closed {
		return ErrClosed
	}
	return ctx.Err()
}

// Ping implements Pinger: ErrClosed after Close.
func (m *MemoryOwnerStore) Ping(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.check(ctx)
}

// Secrets implements OwnerStore.
func (m *MemoryOwnerStore) Secrets(ctx context.Context) (*OwnerSecrets, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	if m.secrets == nil {
		return nil, fmt.Errorf("vds: owner keys: %w", ErrNotFound)
	}
	return &OwnerSecrets{SigningSeed: slices.Clone(m.secrets.SigningSeed), Accumulator: slices.Clone(m.secrets.Accumulator)}, nil
}

// InitSecrets implements OwnerStore.
func (m *MemoryOwnerStore) InitSecrets(ctx context.Context, s *OwnerSecrets) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	if m.secrets != nil {
		return fmt.Errorf("vds: owner keys already initialised: %w", ErrConflict)
	}
	m.secrets = &OwnerSecrets{SigningSeed: slices.Clone(s.SigningSeed), Accumulator: slices.Clone(s.Accumulator)}
	return nil
}

// LatestState implements OwnerStore.
func (m *MemoryOwnerStore) LatestState(ctx context.Context) (*SignedState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	if len(m.states) == 0 {
		return nil, fmt.Errorf("vds: no state yet: %w", ErrUnknownState)
	}
	s := m.states[len(m.states)-1]
	return &s, nil
}

// States implements OwnerStore.
func (m *MemoryOwnerStore) States(ctx context.Context, from, to uint64) ([]SignedState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	return statesRange(m.states, from, to)
}

// ReserveSeq implements OwnerStore.
func (m *MemoryOwnerStore) ReserveSeq(ctx context.Context, stream string) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return 0, err
	}
	s := m.seqs[stream]
	m.seqs[stream] = s + 1
	return s, nil
}

// Record implements OwnerStore.
func (m *MemoryOwnerStore) Record(ctx context.Context, id BatchID) (*BatchRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	r, ok := m.records[id]
	if !ok {
		return nil, fmt.Errorf("vds: batch %s: %w", id.Short(), ErrUnknownBatch)
	}
	return &r, nil
}

// Records implements OwnerStore.
func (m *MemoryOwnerStore) Records(ctx context.Context) ([]BatchRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	out := make([]BatchRecord, 0, len(m.records))
	for _, r := range m.records {
		out = append(out, r)
	}
	return out, nil
}

// Commit implements OwnerStore.
func (m *MemoryOwnerStore) Commit(ctx context.Context, tx *OwnerTx) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	var step ChainStep
	if tx.State != nil {
		var latest, held *SignedState
		if len(m.states) > 0 {
			latest = &m.states[len(m.states)-1]
		}
		if e := tx.State.State.Epoch; e < uint64(len(m.states)) {
			held = &m.states[e]
		}
		var err error
		if step, err = NextStep(latest, held, tx.State); err != nil {
			return err
		}
	}
	switch step {
	case StepAppend:
		m.states = append(m.states, *tx.State)
	case StepReplace:
		m.states[tx.State.State.Epoch] = *tx.State
	}
	for _, r := range tx.Records {
		m.records[r.ID] = r
	}
	for _, id := range tx.DeletePending {
		m.pending = slices.DeleteFunc(m.pending, func(p PendingOp) bool { return p.ID == id })
	}
	for _, p := range tx.PutPending {
		p.Request = slices.Clone(p.Request)
		m.pending = append(m.pending, p)
	}
	return nil
}

// Pending implements OwnerStore.
func (m *MemoryOwnerStore) Pending(ctx context.Context) ([]PendingOp, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	return slices.Clone(m.pending), nil
}

// Close implements OwnerStore.
func (m *MemoryOwnerStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}
