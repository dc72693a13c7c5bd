package memory

import (
	"context"
	"fmt"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/roles"
)

type tableKey struct {
	id  roles.BatchID
	col int
}

// memTable is a table of the memory store.
type memTable struct {
	prefix []bls.G1Affine
	values []fr.Element
}

// PutProofTable implements roles.ProofTableStore. The table is kept as given;
// the caller must not modify it afterwards.
func (m *ServerStore) PutProofTable(ctx context.Context, id roles.BatchID, col int, prefix []bls.G1Affine, values []fr.Element) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	b, ok := m.batches[id]
	if !ok {
		return fmt.Errorf("vds: proof table of batch %s: %w", id.Short(), roles.ErrUnknownBatch)
	}
	if b.RevokedAt != 0 {
		return &roles.RevokedError{Batch: id, Epoch: b.RevokedAt}
	}
	if err := roles.CheckProofTable(&b.Header.Header, col, len(prefix), len(values)); err != nil {
		return err
	}
	if m.tables == nil {
		m.tables = map[tableKey]memTable{}
	}
	m.tables[tableKey{id, col}] = memTable{prefix, values}
	return nil
}

// dropTables removes the tables of a batch (it is being revoked). The
// caller holds m.mu for writing.
func (m *ServerStore) dropTables(id roles.BatchID) {
	for k := range m.tables {
		if k.id == id {
			delete(m.tables, k)
		}
	}
}

// ProofPoints implements roles.ProofTableStore.
func (m *ServerStore) ProofPoints(ctx context.Context, id roles.BatchID, col int, idx []int) ([]bls.G1Affine, []fr.Element, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return nil, nil, err
	}
	t, ok := m.tables[tableKey{id, col}]
	if !ok {
		return nil, nil, fmt.Errorf("vds: proof table of batch %s column %d: %w", id.Short(), col, roles.ErrNotFound)
	}
	if err := roles.CheckProofIndexes(idx, len(t.prefix)); err != nil {
		return nil, nil, err
	}
	pts := make([]bls.G1Affine, len(idx))
	vals := make([]fr.Element, len(idx))
	for k, i := range idx {
		pts[k], vals[k] = t.prefix[i-1], t.values[i-1]
	}
	return pts, vals, nil
}

// memTableRowSize is what the memory store reports per row of a table: an
// affine point and a scalar in memory.
const memTableRowSize = 96 + 32

// ProofTables implements roles.ProofTableStore.
func (m *ServerStore) ProofTables(ctx context.Context, id roles.BatchID) ([]int, int64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return nil, 0, err
	}
	b, ok := m.batches[id]
	if !ok {
		return nil, 0, fmt.Errorf("vds: proof tables of batch %s: %w", id.Short(), roles.ErrUnknownBatch)
	}
	var cols []int
	var size int64
	for c := 0; c <= len(b.Header.Header.Columns); c++ {
		if t, ok := m.tables[tableKey{id, c}]; ok {
			cols = append(cols, c)
			size += int64(len(t.prefix)) * memTableRowSize
		}
	}
	return cols, size, nil
}
