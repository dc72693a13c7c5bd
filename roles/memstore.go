package roles

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/accumulator"
)

type slot struct {
	stream string
	seq    uint64
}

// MemoryServerStore is an in-memory ServerStore, for tests and for servers
// that do not need to survive a restart.
type MemoryServerStore struct {
	mu        sync.RWMutex
	closed    bool
	batches   map[BatchID]*StoredBatch
	live      map[slot]BatchID
	revoked   map[BatchID]uint64
	states    []SignedState
	fs        []bls.G1Affine // f_0..f_E
	xs        []fr.Element   // x_1..x_E at index 0..E−1
	witnesses map[BatchID]accumulator.Witness
	tables    map[tableKey]memTable // proofstore.go
}

// NewMemoryServerStore returns an empty in-memory server store.
func NewMemoryServerStore() *MemoryServerStore {
	return &MemoryServerStore{
		batches:   map[BatchID]*StoredBatch{},
		live:      map[slot]BatchID{},
		revoked:   map[BatchID]uint64{},
		witnesses: map[BatchID]accumulator.Witness{},
	}
}

var (
	_ ServerStore     = (*MemoryServerStore)(nil)
	_ Pinger          = (*MemoryServerStore)(nil)
	_ ProofTableStore = (*MemoryServerStore)(nil)
)

func (m *MemoryServerStore) check(ctx context.Context) error {
	if m.closed {
		return ErrClosed
	}
	return ctx.Err()
}

// Ping implements Pinger: ErrClosed after Close.
func (m *MemoryServerStore) Ping(ctx context.Context) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.check(ctx)
}

// PutBatch implements ServerStore.
func (m *MemoryServerStore) PutBatch(ctx context.Context, b *StoredBatch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	return m.putBatch(b)
}

// canPut checks PutBatch's preconditions, as if the batch revoking were
// already revoked.
func (m *MemoryServerStore) canPut(b *StoredBatch, revoking *BatchID) (exists bool, err error) {
	if e, ok := m.revoked[b.ID]; ok || (revoking != nil && *revoking == b.ID) {
		return false, &RevokedError{Batch: b.ID, Epoch: e}
	}
	if old, ok := m.batches[b.ID]; ok {
		if old.Header.Header.Seq != b.Header.Header.Seq || old.Header.Header.Stream != b.Header.Header.Stream {
			return false, fmt.Errorf("vds: batch %s stored with another header: %w", b.ID.Short(), ErrConflict)
		}
		return true, nil
	}
	k := slot{b.Header.Header.Stream, b.Header.Header.Seq}
	if other, ok := m.live[k]; ok && (revoking == nil || other != *revoking) {
		return false, fmt.Errorf("vds: stream %q sequence %d is held by live batch %s: %w", k.stream, k.seq, other.Short(), ErrConflict)
	}
	return false, nil
}

func (m *MemoryServerStore) putBatch(b *StoredBatch) error {
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

// AppendState implements ServerStore.
func (m *MemoryServerStore) AppendState(ctx context.Context, st *SignedState) error {
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

func (m *MemoryServerStore) nextStep(st *SignedState) (ChainStep, error) {
	var latest, held *SignedState
	if len(m.states) > 0 {
		latest = &m.states[len(m.states)-1]
	}
	if e := st.State.Epoch; e < uint64(len(m.states)) {
		held = &m.states[e]
	}
	return NextStep(latest, held, st)
}

func (m *MemoryServerStore) apply(st *SignedState, step ChainStep) {
	switch step {
	case StepReplace:
		m.states[st.State.Epoch] = *st
	case StepAppend:
		m.states = append(m.states, *st)
		m.fs = append(m.fs, bls.G1Affine(st.State.Acc))
		if r := st.State.Revoked; r != nil {
			m.xs = append(m.xs, fr.Element(r.X))
			m.revoked[r.Batch] = st.State.Epoch
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

// UpdateBatch implements ServerStore.
func (m *MemoryServerStore) UpdateBatch(ctx context.Context, st *SignedState, b *StoredBatch) error {
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
	var revoking *BatchID
	if step == StepAppend && st.State.Revoked != nil {
		revoking = &st.State.Revoked.Batch
	}
	if _, err := m.canPut(b, revoking); err != nil {
		return err
	}
	m.apply(st, step)
	return m.putBatch(b)
}

// Batch implements ServerStore.
func (m *MemoryServerStore) Batch(ctx context.Context, id BatchID) (*StoredBatch, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	b, ok := m.batches[id]
	if !ok {
		return nil, fmt.Errorf("vds: batch %s: %w", id.Short(), ErrUnknownBatch)
	}
	c := *b
	return &c, nil
}

// Header implements ServerStore.
func (m *MemoryServerStore) Header(ctx context.Context, id BatchID) (*SignedHeader, uint64, error) {
	b, err := m.Batch(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	return &b.Header, b.RevokedAt, nil
}

// List implements ServerStore.
func (m *MemoryServerStore) List(ctx context.Context, stream string) ([]BatchInfo, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	var out []BatchInfo
	for _, b := range m.batches {
		if stream == "" || b.Header.Header.Stream == stream {
			out = append(out, infoOf(b))
		}
	}
	SortBatchInfos(out)
	return out, nil
}

// infoOf summarises a stored batch.
func infoOf(b *StoredBatch) BatchInfo {
	h := &b.Header.Header
	return BatchInfo{ID: b.ID, Stream: h.Stream, Seq: h.Seq, Version: h.Version, Rows: h.Rows,
		FirstTime: h.FirstTime, LastTime: h.LastTime, Revoked: b.RevokedAt != 0}
}

// SortBatchInfos orders batch summaries by stream, sequence number and
// version, as ServerStore.List returns them.
func SortBatchInfos(s []BatchInfo) {
	slices.SortFunc(s, func(a, b BatchInfo) int { return cmpSlot(a.Stream, a.Seq, a.Version, b.Stream, b.Seq, b.Version) })
}

// cmpSlot orders batches by stream, sequence number and version.
func cmpSlot(as string, aseq uint64, aver uint32, bs string, bseq uint64, bver uint32) int {
	if c := strings.Compare(as, bs); c != 0 {
		return c
	}
	if c := cmp.Compare(aseq, bseq); c != 0 {
		return c
	}
	return cmp.Compare(aver, bver)
}

// LatestState implements ServerStore.
func (m *MemoryServerStore) LatestState(ctx context.Context) (*SignedState, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	if len(m.states) == 0 {
		return nil, fmt.Errorf("vds: no state yet: %w", ErrUnknownState)
	}
	s := m.states[len(m.states)-1]
	return &s, nil
}

// States implements ServerStore.
func (m *MemoryServerStore) States(ctx context.Context, from, to uint64) ([]SignedState, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	return statesRange(m.states, from, to)
}

// statesRange returns a copy of the states of epochs from..to of a chain
// held in a slice indexed by epoch.
func statesRange(states []SignedState, from, to uint64) ([]SignedState, error) {
	if from > to {
		return nil, invalid("epochs", "from %d > to %d", from, to)
	}
	if to >= uint64(len(states)) {
		return nil, &MissingStatesError{From: max(from, uint64(len(states))), To: to}
	}
	return slices.Clone(states[from : to+1]), nil
}

// History implements ServerStore.
func (m *MemoryServerStore) History(ctx context.Context, from, to uint64) ([]bls.G1Affine, []fr.Element, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return nil, nil, err
	}
	if from > to {
		return nil, nil, invalid("epochs", "from %d > to %d", from, to)
	}
	if to >= uint64(len(m.fs)) {
		return nil, nil, &MissingStatesError{From: max(from, uint64(len(m.fs))), To: to}
	}
	return m.fs[from:to:to], m.xs[from:to:to], nil
}

// Witness implements ServerStore.
func (m *MemoryServerStore) Witness(ctx context.Context, id BatchID) (accumulator.Witness, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return accumulator.Witness{}, err
	}
	w, ok := m.witnesses[id]
	if !ok {
		return w, fmt.Errorf("vds: witness of %s: %w", id.Short(), ErrNotFound)
	}
	return w, nil
}

// PutWitness implements ServerStore.
func (m *MemoryServerStore) PutWitness(ctx context.Context, id BatchID, w accumulator.Witness) error {
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

// Close implements ServerStore.
func (m *MemoryServerStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}
