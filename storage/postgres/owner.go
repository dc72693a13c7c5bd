package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"

	"github.com/vdsproject/vds/roles"
)

// The data owner's store (roles.OwnerStore), in tables of its own
// (migration 0002). The state chain is the one of the server tables, as in
// a storage/bolt file that holds both roles: LatestState and States
// serve both interfaces, and a state committed by the owner is applied
// with all its effects. An owner store holds the owner's key material: give
// it a database of its own, which the storage servers cannot read.

var _ roles.OwnerStore = (*Store)(nil)

// Secrets implements roles.OwnerStore. The key material is never logged.
func (s *Store) Secrets(ctx context.Context) (*roles.OwnerSecrets, error) {
	var sec *roles.OwnerSecrets
	err := s.view(ctx, func(ctx context.Context, q querier) error {
		var v []byte
		err := q.QueryRow(ctx, `SELECT secrets FROM vds_owner_secrets`).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: owner keys: %w", roles.ErrNotFound)
		}
		if err != nil {
			return err
		}
		sec, err = decode[roles.OwnerSecrets]("owner keys", v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return sec, nil
}

// InitSecrets implements roles.OwnerStore in one statement.
func (s *Store) InitSecrets(ctx context.Context, sec *roles.OwnerSecrets) error {
	return s.initSecrets(ctx, sec, 0)
}

// initSecrets is InitSecrets fenced by token (0: unfenced).
func (s *Store) initSecrets(ctx context.Context, sec *roles.OwnerSecrets, token int64) error {
	v, err := encode("owner keys", sec)
	if err != nil {
		return err
	}
	return s.update(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := checkFence(ctx, tx, token); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO vds_owner_secrets (secrets) VALUES ($1) ON CONFLICT DO NOTHING`, v)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: owner keys already initialised: %w", roles.ErrConflict)
		}
		return nil
	})
}

// RotateKey implements roles.OwnerStore in one SERIALIZABLE transaction:
// the new seed and the state are committed together or not at all.
func (s *Store) RotateKey(ctx context.Context, seed []byte, st *roles.SignedState) error {
	return s.rotateKey(ctx, seed, st, 0)
}

// rotateKey is RotateKey fenced by token (0: unfenced): an owner whose
// term ended rotates nothing.
func (s *Store) rotateKey(ctx context.Context, seed []byte, st *roles.SignedState, token int64) error {
	if len(seed) == 0 || st == nil {
		return inputError("key rotation", "empty seed or no state")
	}
	return s.update(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := checkFence(ctx, tx, token); err != nil {
			return err
		}
		var v []byte
		err := tx.QueryRow(ctx, `SELECT secrets FROM vds_owner_secrets FOR UPDATE`).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: owner keys: %w", roles.ErrNotFound)
		}
		if err != nil {
			return err
		}
		sec, err := decode[roles.OwnerSecrets]("owner keys", v)
		if err != nil {
			return err
		}
		if err := appendState(ctx, tx, st); err != nil {
			return err
		}
		clear(sec.SigningSeed)
		sec.SigningSeed = seed
		nv, err := encode("owner keys", sec)
		clear(sec.Accumulator)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE vds_owner_secrets SET secrets = $1`, nv)
		return err
	})
}

// ReserveSeq implements roles.OwnerStore in one transaction.
func (s *Store) ReserveSeq(ctx context.Context, stream string) (uint64, error) {
	return s.reserveSeq(ctx, stream, 0)
}

// reserveSeq is ReserveSeq fenced by token (0: unfenced).
func (s *Store) reserveSeq(ctx context.Context, stream string, token int64) (uint64, error) {
	var n uint64
	err := s.update(ctx, func(ctx context.Context, tx pgx.Tx) error {
		n = 0
		if err := checkFence(ctx, tx, token); err != nil {
			return err
		}
		var v []byte
		err := tx.QueryRow(ctx, `SELECT next FROM vds_owner_seq WHERE stream = $1`, []byte(stream)).Scan(&v)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err == nil {
			if len(v) != 8 {
				return fmt.Errorf("postgres: sequence number of %d bytes: %w", len(v), ErrCorrupt)
			}
			n = binary.BigEndian.Uint64(v)
		}
		if n == math.MaxUint64 {
			return inputError("stream", "%q has no sequence number left", stream)
		}
		_, err = tx.Exec(ctx, `INSERT INTO vds_owner_seq (stream, next) VALUES ($1, $2)
			ON CONFLICT (stream) DO UPDATE SET next = excluded.next`, []byte(stream), seqKey(n+1))
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Record implements roles.OwnerStore.
func (s *Store) Record(ctx context.Context, id roles.BatchID) (*roles.BatchRecord, error) {
	var r *roles.BatchRecord
	err := s.view(ctx, func(ctx context.Context, q querier) error {
		var v []byte
		err := q.QueryRow(ctx, `SELECT record FROM vds_owner_records WHERE id = $1`, id[:]).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: batch %s: %w", id.Short(), roles.ErrUnknownBatch)
		}
		if err != nil {
			return err
		}
		r, err = decode[roles.BatchRecord]("batch record", v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Records implements roles.OwnerStore.
func (s *Store) Records(ctx context.Context) ([]roles.BatchRecord, error) {
	return listOf[roles.BatchRecord](ctx, s, "batch record", `SELECT record FROM vds_owner_records ORDER BY id`)
}

// Pending implements roles.OwnerStore: the operations in the order they
// were added.
func (s *Store) Pending(ctx context.Context) ([]roles.PendingOp, error) {
	return listOf[roles.PendingOp](ctx, s, "pending operation", `SELECT op FROM vds_owner_pending ORDER BY n`)
}

// listOf decodes every value one column of a query returns.
func listOf[T any](ctx context.Context, s *Store, what, sql string) ([]T, error) {
	var out []T
	err := s.view(ctx, func(ctx context.Context, q querier) error {
		out = nil
		rows, err := q.Query(ctx, sql)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v []byte
			if err := rows.Scan(&v); err != nil {
				return err
			}
			r, err := decode[T](what, v)
			if err != nil {
				return err
			}
			out = append(out, *r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Commit implements roles.OwnerStore in one SERIALIZABLE transaction: the
// state (into the one chain, with all its effects), the records and the
// pending operations, all committed or none.
func (s *Store) Commit(ctx context.Context, otx *roles.OwnerTx) error {
	return s.commit(ctx, otx, 0)
}

// commit is Commit fenced by token (0: unfenced): the fence is checked,
// and the lease row locked, before anything is written.
func (s *Store) commit(ctx context.Context, otx *roles.OwnerTx, token int64) error {
	apply, err := ownerTxApply(otx)
	if err != nil {
		return err
	}
	return s.update(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := checkFence(ctx, tx, token); err != nil {
			return err
		}
		return apply(ctx, tx)
	})
}

// ownerTxApply encodes otx and returns the function that applies it inside
// a transaction.
func ownerTxApply(otx *roles.OwnerTx) (func(context.Context, pgx.Tx) error, error) {
	recs := make([][]byte, len(otx.Records))
	for i := range otx.Records {
		v, err := encode("batch record", &otx.Records[i])
		if err != nil {
			return nil, err
		}
		recs[i] = v
	}
	pend := make([][]byte, len(otx.PutPending))
	for i := range otx.PutPending {
		v, err := encode("pending operation", &otx.PutPending[i])
		if err != nil {
			return nil, err
		}
		pend[i] = v
	}
	return func(ctx context.Context, tx pgx.Tx) error {
		if otx.State != nil {
			if err := appendState(ctx, tx, otx.State); err != nil {
				return err
			}
		}
		b := &pgx.Batch{}
		for i := range otx.Records {
			b.Queue(`INSERT INTO vds_owner_records (id, record) VALUES ($1, $2)
				ON CONFLICT (id) DO UPDATE SET record = excluded.record`, otx.Records[i].ID[:], recs[i])
		}
		for _, id := range otx.DeletePending {
			b.Queue(`DELETE FROM vds_owner_pending WHERE id = $1`, id[:])
		}
		if b.Len() > 0 {
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
		}
		if len(pend) == 0 {
			return nil
		}
		var n int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(n), 0) FROM vds_owner_pending`).Scan(&n); err != nil {
			return err
		}
		b = &pgx.Batch{}
		for i := range pend {
			b.Queue(`INSERT INTO vds_owner_pending (n, id, op) VALUES ($1, $2, $3)`, n+1+int64(i), otx.PutPending[i].ID[:], pend[i])
		}
		return tx.SendBatch(ctx, b).Close()
	}, nil
}
