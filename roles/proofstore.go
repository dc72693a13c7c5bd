package roles

import (
	"context"
	"fmt"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
)

// ProofTableStore is the part of a ServerStore that keeps precomputed proof
// tables (SPEC §4, "Precomputed openings"): for each column of a stored
// batch, the prefix sums P_1…P_L of its point proofs, and the same for the
// timestamps as column index k (the number of data columns). Every store
// of this module implements it, and the conformance suite (roles/storetest)
// requires it; a server whose store lacks it answers without tables.
//
// A table is written whole in one atomic step, so a reader sees either no
// table or a complete one; a crash during the precomputation leaves the
// column without a table, and the server computes it again.
type ProofTableStore interface {
	// PutProofTable stores the table of column col of a stored batch
	// (revoked or not): prefix[i] is P_{i+1}, one point per row. Putting a
	// table again replaces it. It fails with ErrUnknownBatch for a batch
	// that is not stored and with ErrInvalidInput for a column or length
	// that does not fit the batch.
	PutProofTable(ctx context.Context, id BatchID, col int, prefix []bls.G1Affine) error
	// ProofPoints returns P_idx[t] of column col for each t (every idx in
	// [1, rows]), or ErrNotFound if that column has no table, or
	// ErrInvalidInput for an index outside the table.
	ProofPoints(ctx context.Context, id BatchID, col int, idx []int) ([]bls.G1Affine, error)
	// ProofTables returns the columns of a batch that have a table, in
	// increasing order, and the bytes they take in the store.
	ProofTables(ctx context.Context, id BatchID) (cols []int, bytes int64, err error)
}

// CheckProofTable checks a table's shape against a stored batch: col in
// [0, k] for k data columns (k is the timestamps) and one point per row.
// Store implementations call it in PutProofTable.
func CheckProofTable(h *Header, col, points int) error {
	if col < 0 || col > len(h.Columns) {
		return fmt.Errorf("vds: proof table of column %d, the batch has %d columns and the timestamps: %w", col, len(h.Columns), ErrInvalidInput)
	}
	if points != int(h.Rows) {
		return fmt.Errorf("vds: proof table of %d points for %d rows: %w", points, h.Rows, ErrInvalidInput)
	}
	return nil
}

// CheckProofIndexes checks that every index lies in [1, rows].
func CheckProofIndexes(idx []int, rows int) error {
	for _, i := range idx {
		if i < 1 || i > rows {
			return fmt.Errorf("vds: proof table index %d outside [1, %d]: %w", i, rows, ErrInvalidInput)
		}
	}
	return nil
}

type tableKey struct {
	id  BatchID
	col int
}

// PutProofTable implements ProofTableStore. The table is kept as given;
// the caller must not modify it afterwards.
func (m *MemoryServerStore) PutProofTable(ctx context.Context, id BatchID, col int, prefix []bls.G1Affine) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	b, ok := m.batches[id]
	if !ok {
		return fmt.Errorf("vds: proof table of batch %s: %w", id.Short(), ErrUnknownBatch)
	}
	if err := CheckProofTable(&b.Header.Header, col, len(prefix)); err != nil {
		return err
	}
	if m.tables == nil {
		m.tables = map[tableKey][]bls.G1Affine{}
	}
	m.tables[tableKey{id, col}] = prefix
	return nil
}

// ProofPoints implements ProofTableStore.
func (m *MemoryServerStore) ProofPoints(ctx context.Context, id BatchID, col int, idx []int) ([]bls.G1Affine, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	t, ok := m.tables[tableKey{id, col}]
	if !ok {
		return nil, fmt.Errorf("vds: proof table of batch %s column %d: %w", id.Short(), col, ErrNotFound)
	}
	if err := CheckProofIndexes(idx, len(t)); err != nil {
		return nil, err
	}
	out := make([]bls.G1Affine, len(idx))
	for k, i := range idx {
		out[k] = t[i-1]
	}
	return out, nil
}

// memTablePointSize is what the memory store reports per stored point:
// the size of an affine point in memory.
const memTablePointSize = 96

// ProofTables implements ProofTableStore.
func (m *MemoryServerStore) ProofTables(ctx context.Context, id BatchID) ([]int, int64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return nil, 0, err
	}
	b, ok := m.batches[id]
	if !ok {
		return nil, 0, fmt.Errorf("vds: proof tables of batch %s: %w", id.Short(), ErrUnknownBatch)
	}
	var cols []int
	var size int64
	for c := 0; c <= len(b.Header.Header.Columns); c++ {
		if t, ok := m.tables[tableKey{id, c}]; ok {
			cols = append(cols, c)
			size += int64(len(t)) * memTablePointSize
		}
	}
	return cols, size, nil
}
