package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/jackc/pgx/v5"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/internal/rawenc"
)

// Proof tables (roles.ProofTableStore): one row of vds_proof_tables per
// batch and column, the whole table in one BYTEA of rawenc.TableRow bytes
// per row. A table is written by one statement, so a reader sees the whole
// table or none. ProofPoints reads only the rows an answer needs, with
// substring() on the server, and decodes them like the history (subgroup
// not checked).

// PutProofTable implements roles.ProofTableStore in one SERIALIZABLE
// transaction, so that a table is never stored for a batch that a
// concurrent revocation (which drops its tables) revokes. Putting a table
// again (another replica computed it too) replaces it with identical
// bytes.
func (s *Store) PutProofTable(ctx context.Context, id roles.BatchID, col int, prefix []bls.G1Affine, values []fr.Element) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	val, err := rawenc.EncodeTable(prefix, values)
	if err != nil {
		return err
	}
	return s.update(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var nrows, ncols int64
		var revoked *int64
		err := tx.QueryRow(ctx, `SELECT b.nrows, b.ncols, r.epoch FROM vds_batches b
			LEFT JOIN vds_revoked r ON r.id = b.id WHERE b.id = $1`, id[:]).Scan(&nrows, &ncols, &revoked)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: proof table of batch %s: %w", id.Short(), roles.ErrUnknownBatch)
		}
		if err != nil {
			return err
		}
		if revoked != nil {
			return &roles.RevokedError{Batch: id, Epoch: uint64(*revoked)}
		}
		h := roles.Header{Rows: uint32(nrows), Columns: make([]roles.ColumnInfo, ncols)}
		if err := roles.CheckProofTable(&h, col, len(prefix), len(values)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO vds_proof_tables (id, col, tab) VALUES ($1, $2, $3)
			ON CONFLICT (id, col) DO UPDATE SET tab = excluded.tab`, id[:], int32(col), val)
		return err
	})
}

// ProofPoints implements roles.ProofTableStore in one statement that
// returns the table's length and the requested rows.
func (s *Store) ProofPoints(ctx context.Context, id roles.BatchID, col int, idx []int) ([]bls.G1Affine, []fr.Element, error) {
	out := make([]bls.G1Affine, len(idx))
	vals := make([]fr.Element, len(idx))
	err := s.view(ctx, func(ctx context.Context, q querier) error {
		if col < 0 || col > math.MaxInt32 {
			return fmt.Errorf("postgres: proof table of batch %s column %d: %w", id.Short(), col, roles.ErrNotFound)
		}
		// Indexes are checked against the table's length below; ones that
		// could overflow the offset arithmetic (INTEGER, as substring takes
		// it) are sent as 1: no table has 2²³ rows.
		arg := make([]int64, len(idx))
		for k, i := range idx {
			arg[k] = 1
			if i >= 1 && i <= 1<<23 {
				arg[k] = int64(i)
			}
		}
		rows, err := q.Query(ctx, `SELECT octet_length(t.tab), u.k, substring(t.tab FROM ((u.i - 1) * $4 + 1)::INTEGER FOR $4::INTEGER)
			FROM vds_proof_tables t LEFT JOIN LATERAL unnest($3::BIGINT[]) WITH ORDINALITY AS u (i, k) ON true
			WHERE t.id = $1 AND t.col = $2 ORDER BY u.k`, id[:], int32(col), arg, int64(rawenc.TableRow))
		if err != nil {
			return err
		}
		defer rows.Close()
		found := false
		got := make([][]byte, len(idx))
		size := int64(0)
		for rows.Next() {
			var k *int64
			var row []byte
			if err := rows.Scan(&size, &k, &row); err != nil {
				return err
			}
			found = true
			if k != nil && *k >= 1 && *k <= int64(len(idx)) {
				got[*k-1] = row
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("postgres: proof table of batch %s column %d: %w", id.Short(), col, roles.ErrNotFound)
		}
		if size%rawenc.TableRow != 0 {
			return fmt.Errorf("postgres: proof table of %d bytes: %w", size, ErrCorrupt)
		}
		if err := roles.CheckProofIndexes(idx, int(size/rawenc.TableRow)); err != nil {
			return err
		}
		for k, i := range idx {
			if len(got[k]) != rawenc.TableRow {
				return fmt.Errorf("postgres: proof table row %d: %w", i, ErrCorrupt)
			}
			p, x, err := raw.TableRowAt(got[k], 1)
			if err != nil {
				return fmt.Errorf("postgres: proof table of batch %s column %d: %w", id.Short(), col, err)
			}
			out[k], vals[k] = p, x
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, vals, nil
}

// ProofTables implements roles.ProofTableStore (one statement).
func (s *Store) ProofTables(ctx context.Context, id roles.BatchID) ([]int, int64, error) {
	var cols []int
	var size int64
	err := s.view(ctx, func(ctx context.Context, q querier) error {
		cols, size = nil, 0
		rows, err := q.Query(ctx, `SELECT t.col, octet_length(t.tab) FROM
			(SELECT id FROM vds_batches WHERE id = $1) b LEFT JOIN vds_proof_tables t ON t.id = b.id ORDER BY t.col`, id[:])
		if err != nil {
			return err
		}
		defer rows.Close()
		found := false
		for rows.Next() {
			var c *int32
			var n *int64
			if err := rows.Scan(&c, &n); err != nil {
				return err
			}
			found = true
			if c != nil && n != nil {
				cols = append(cols, int(*c))
				size += *n
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("postgres: proof tables of batch %s: %w", id.Short(), roles.ErrUnknownBatch)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return cols, size, nil
}

// ClaimProofTable implements roles.ProofTableClaimer: it records in
// vds_precompute_claims that this store's holder computes the table of
// column col of batch id until ttl from now (the database's clock), and
// reports whether it got the claim — false while another holder's claim
// has not expired. A holder may renew its own claim.
func (s *Store) ClaimProofTable(ctx context.Context, id roles.BatchID, col int, ttl time.Duration) (bool, error) {
	if err := s.check(ctx); err != nil {
		return false, err
	}
	if col < 0 || col > math.MaxInt32 || ttl <= 0 {
		return false, inputError("claim", "column %d for %v", col, ttl)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO vds_precompute_claims (id, col, holder, expires_at)
		VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond')
		ON CONFLICT (id, col) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE vds_precompute_claims.expires_at < now() OR vds_precompute_claims.holder = excluded.holder`,
		id[:], int32(col), s.opts.holder, ttl.Milliseconds())
	if err != nil {
		return false, s.mapErr(ctx, err)
	}
	return tag.RowsAffected() == 1, nil
}
