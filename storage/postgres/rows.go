package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vdsproject/vds/roles"
)

// The rows appenders acknowledged and have not sealed (roles.RowStore), in
// table vds_owner_rows (migration 0004).

var (
	_ roles.RowStore = (*Store)(nil)
	_ roles.RowStore = (*FencedStore)(nil)
)

// AppendRows implements roles.RowStore in one transaction.
func (s *Store) AppendRows(ctx context.Context, stream string, rows []roles.Row) error {
	return s.appendRows(ctx, stream, rows, 0)
}

// appendRows is AppendRows fenced by token (0: unfenced).
func (s *Store) appendRows(ctx context.Context, stream string, rows []roles.Row, token int64) error {
	if len(rows) == 0 {
		return nil
	}
	for i := 1; i < len(rows); i++ {
		if rows[i].Time <= rows[i-1].Time {
			return fmt.Errorf("postgres: pending row at t=%d does not follow t=%d: %w", rows[i].Time, rows[i-1].Time, roles.ErrConflict)
		}
	}
	ts := make([][]byte, len(rows))
	vals := make([][]byte, len(rows))
	for i, r := range rows {
		ts[i] = seqKey(r.Time)
		v := make([]byte, 0, 8*len(r.Values))
		for _, x := range r.Values {
			v = binary.BigEndian.AppendUint64(v, uint64(x))
		}
		vals[i] = v
	}
	return s.update(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := checkFence(ctx, tx, token); err != nil {
			return err
		}
		var last []byte
		err := tx.QueryRow(ctx, `SELECT t FROM vds_owner_rows WHERE stream = $1 ORDER BY t DESC LIMIT 1`, []byte(stream)).Scan(&last)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		case len(last) != 8:
			return fmt.Errorf("postgres: pending row time of %d bytes: %w", len(last), ErrCorrupt)
		case binary.BigEndian.Uint64(last) >= rows[0].Time:
			return fmt.Errorf("postgres: pending row at t=%d does not follow t=%d: %w", rows[0].Time, binary.BigEndian.Uint64(last), roles.ErrConflict)
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"vds_owner_rows"}, []string{"stream", "t", "vals"},
			pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) { return []any{[]byte(stream), ts[i], vals[i]}, nil }))
		return err
	})
}

// PendingRows implements roles.RowStore.
func (s *Store) PendingRows(ctx context.Context, stream string) ([]roles.Row, error) {
	var out []roles.Row
	err := s.view(ctx, func(ctx context.Context, q querier) error {
		out = nil
		rows, err := q.Query(ctx, `SELECT t, vals FROM vds_owner_rows WHERE stream = $1 ORDER BY t`, []byte(stream))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t, v []byte
			if err := rows.Scan(&t, &v); err != nil {
				return err
			}
			if len(t) != 8 || len(v)%8 != 0 {
				return fmt.Errorf("postgres: pending row of %d+%d bytes: %w", len(t), len(v), ErrCorrupt)
			}
			r := roles.Row{Time: binary.BigEndian.Uint64(t), Values: make([]int64, len(v)/8)}
			for i := range r.Values {
				r.Values[i] = int64(binary.BigEndian.Uint64(v[8*i:]))
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SealRows implements roles.RowStore in one SERIALIZABLE transaction.
func (s *Store) SealRows(ctx context.Context, otx *roles.OwnerTx, stream string, through uint64) error {
	return s.sealRows(ctx, otx, stream, through, 0)
}

// sealRows is SealRows fenced by token (0: unfenced).
func (s *Store) sealRows(ctx context.Context, otx *roles.OwnerTx, stream string, through uint64, token int64) error {
	var apply func(context.Context, pgx.Tx) error
	if otx != nil {
		var err error
		if apply, err = ownerTxApply(otx); err != nil {
			return err
		}
	}
	return s.update(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := checkFence(ctx, tx, token); err != nil {
			return err
		}
		if apply != nil {
			if err := apply(ctx, tx); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `DELETE FROM vds_owner_rows WHERE stream = $1 AND t <= $2`, []byte(stream), seqKey(through))
		return err
	})
}

// AppendRows implements roles.RowStore, fenced.
func (f *FencedStore) AppendRows(ctx context.Context, stream string, rows []roles.Row) error {
	return f.s.appendRows(ctx, stream, rows, f.token)
}

// PendingRows implements roles.RowStore.
func (f *FencedStore) PendingRows(ctx context.Context, stream string) ([]roles.Row, error) {
	return f.s.PendingRows(ctx, stream)
}

// SealRows implements roles.RowStore, fenced.
func (f *FencedStore) SealRows(ctx context.Context, otx *roles.OwnerTx, stream string, through uint64) error {
	return f.s.sealRows(ctx, otx, stream, through, f.token)
}
