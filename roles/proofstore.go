package roles

import (
	"context"
	"fmt"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// ProofTableStore is the part of a ServerStore that keeps precomputed proof
// tables (SPEC §4, "Precomputed openings"): for each column of a stored
// batch, the prefix sums P_1…P_L of its point proofs and V_1…V_L of its
// values, and the same for the timestamps as column index k (the number of
// data columns). Every store
// of this module implements it, and the conformance suite (storage/storetest)
// requires it; a server whose store lacks it answers without tables.
//
// A table is written whole in one atomic step, so a reader sees either no
// table or a complete one; a crash during the precomputation leaves the
// column without a table, and the server computes it again. A revoked
// batch has no tables: the state that revokes it drops them in the same
// atomic step (ServerStore.AppendState and UpdateBatch).
type ProofTableStore interface {
	// PutProofTable stores the table of column col of a stored live
	// batch: prefix[i] is P_{i+1} and values[i] is V_{i+1}, one of each
	// per row. Putting a table again replaces it. It fails with
	// ErrUnknownBatch for a batch that is not stored, with a
	// *RevokedError (ErrRevoked) for a revoked one — checked atomically
	// with the write, so that a table never outlives its batch's
	// revocation — and with ErrInvalidInput for a column or lengths that
	// do not fit the batch.
	PutProofTable(ctx context.Context, id BatchID, col int, prefix []bls.G1Affine, values []fr.Element) error
	// ProofPoints returns P_idx[t] and V_idx[t] of column col for each t
	// (every idx in [1, rows]), or ErrNotFound if that column has no table,
	// or ErrInvalidInput for an index outside the table.
	ProofPoints(ctx context.Context, id BatchID, col int, idx []int) ([]bls.G1Affine, []fr.Element, error)
	// ProofTables returns the columns of a batch that have a table, in
	// increasing order, and the bytes they take in the store.
	ProofTables(ctx context.Context, id BatchID) (cols []int, bytes int64, err error)
}

// ProofTableClaimer is implemented by stores that several servers share
// (storage/postgres), so that they do not compute the same proof table at
// once. Before a server's background worker computes a table, it claims it;
// a column claimed by another server is skipped (answers take the direct
// path until its table is stored, and schedule the batch again). A claim
// lapses after ttl, so a table whose server died is computed by another
// later.
type ProofTableClaimer interface {
	// ClaimProofTable reports whether the caller now holds the claim on
	// the table of column col of batch id, until ttl from now: true if
	// nobody held it, its claim had lapsed, or the caller held it already.
	ClaimProofTable(ctx context.Context, id BatchID, col int, ttl time.Duration) (bool, error)
}

// CheckProofTable checks a table's shape against a stored batch: col in
// [0, k] for k data columns (k is the timestamps) and one point and one
// value per row. Store implementations call it in PutProofTable.
func CheckProofTable(h *Header, col, points, values int) error {
	if col < 0 || col > len(h.Columns) {
		return fmt.Errorf("vds: proof table of column %d, the batch has %d columns and the timestamps: %w", col, len(h.Columns), ErrInvalidInput)
	}
	if points != int(h.Rows) || values != points {
		return fmt.Errorf("vds: proof table of %d points and %d values for %d rows: %w", points, values, h.Rows, ErrInvalidInput)
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
