package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/jackc/pgx/v5"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/internal/rawenc"
)

// seqKey is a sequence number as 8 big-endian bytes, so that BYTEA order is
// numeric order.
func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq) }

// epochArg checks that an epoch fits a BIGINT column. Epochs count
// revocations from 0, so this never fails in practice.
func epochArg(e uint64) (int64, error) {
	if e > math.MaxInt64 {
		return 0, fmt.Errorf("postgres: epoch %d: %w", e, roles.ErrTooLarge)
	}
	return int64(e), nil
}

// latestState returns the newest state, or nil for an empty chain.
func latestState(ctx context.Context, q querier) (*roles.SignedState, error) {
	var e int64
	var v []byte
	err := q.QueryRow(ctx, `SELECT epoch, state FROM vds_states ORDER BY epoch DESC LIMIT 1`).Scan(&e, &v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeState(e, v)
}

func decodeState(e int64, v []byte) (*roles.SignedState, error) {
	st, err := decode[roles.SignedState](fmt.Sprintf("state of epoch %d", e), v)
	if err != nil {
		return nil, err
	}
	if e < 0 || st.State.Epoch != uint64(e) {
		return nil, fmt.Errorf("postgres: state of epoch %d stored under epoch %d: %w", st.State.Epoch, e, ErrCorrupt)
	}
	return st, nil
}

// appendState applies st to the chain as roles.ServerStore.AppendState
// does, deciding with roles.NextStep exactly as the other stores: on
// StepAppend it also records f_E and x_E and the revocation, frees the
// revoked batch's live slot and drops its proof tables.
func appendState(ctx context.Context, tx pgx.Tx, st *roles.SignedState) error {
	latest, err := latestState(ctx, tx)
	if err != nil {
		return err
	}
	e := st.State.Epoch
	ea, err := epochArg(e)
	if err != nil {
		return err
	}
	var held *roles.SignedState
	if latest != nil && e <= latest.State.Epoch {
		if e == latest.State.Epoch {
			held = latest
		} else {
			var v []byte
			err := tx.QueryRow(ctx, `SELECT state FROM vds_states WHERE epoch = $1`, ea).Scan(&v)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			if err == nil {
				if held, err = decodeState(ea, v); err != nil {
					return err
				}
			}
		}
	}
	step, err := roles.NextStep(latest, held, st)
	if err != nil || step == roles.StepNoop {
		return err
	}
	enc, err := encode("state", st)
	if err != nil {
		return err
	}
	if step == roles.StepReplace {
		_, err := tx.Exec(ctx, `UPDATE vds_states SET state = $2 WHERE epoch = $1`, ea, enc)
		return err
	}
	// StepAppend.
	f := bls.G1Affine(st.State.Acc)
	var x []byte
	if r := st.State.Revoked; r != nil {
		xe := fr.Element(r.X)
		x = rawenc.ScalarBytes(&xe)
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO vds_states (epoch, state, acc, x) VALUES ($1, $2, $3, $4)`, ea, enc, rawenc.G1Raw(&f), x)
	if r := st.State.Revoked; r != nil {
		b.Queue(`INSERT INTO vds_revoked (id, epoch) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch`, r.Batch[:], ea)
		b.Queue(`DELETE FROM vds_live WHERE id = $1`, r.Batch[:])
		b.Queue(`DELETE FROM vds_proof_tables WHERE id = $1`, r.Batch[:])
	}
	return tx.SendBatch(ctx, b).Close()
}

// putBatch stores b as a live batch after checking PutBatch's
// preconditions; a batch stored before is a no-op.
func putBatch(ctx context.Context, tx pgx.Tx, b *roles.StoredBatch) error {
	h := &b.Header.Header
	seq := seqKey(h.Seq)
	var revokedAt *int64
	var oldStream, oldSeq, other []byte
	err := tx.QueryRow(ctx, `SELECT
		(SELECT epoch FROM vds_revoked WHERE id = $1),
		(SELECT stream FROM vds_batches WHERE id = $1),
		(SELECT seq FROM vds_batches WHERE id = $1),
		(SELECT id FROM vds_live WHERE stream = $2 AND seq = $3)`, b.ID[:], []byte(h.Stream), seq).
		Scan(&revokedAt, &oldStream, &oldSeq, &other)
	if err != nil {
		return err
	}
	if revokedAt != nil {
		return &roles.RevokedError{Batch: b.ID, Epoch: uint64(*revokedAt)}
	}
	if oldStream != nil {
		if string(oldStream) != h.Stream || string(oldSeq) != string(seq) {
			return fmt.Errorf("postgres: batch %s stored with another header: %w", b.ID.Short(), roles.ErrConflict)
		}
		return nil
	}
	if other != nil {
		var o roles.BatchID
		copy(o[:], other)
		return fmt.Errorf("postgres: stream %q sequence %d is held by live batch %s: %w", h.Stream, h.Seq, o.Short(), roles.ErrConflict)
	}
	hdr, err := encode("header", &b.Header)
	if err != nil {
		return err
	}
	data, err := rawenc.EncodeBatchData(&b.Data)
	if err != nil {
		return err
	}
	bt := &pgx.Batch{}
	bt.Queue(`INSERT INTO vds_batches (id, stream, seq, version, nrows, ncols, first_time, last_time, header, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		b.ID[:], []byte(h.Stream), seq, int64(h.Version), int64(h.Rows), int64(len(h.Columns)),
		int64(h.FirstTime), int64(h.LastTime), hdr, data)
	bt.Queue(`INSERT INTO vds_live (stream, seq, id) VALUES ($1, $2, $3)`, []byte(h.Stream), seq, b.ID[:])
	return tx.SendBatch(ctx, bt).Close()
}

// PutBatch implements roles.ServerStore in one transaction.
func (s *Store) PutBatch(ctx context.Context, b *roles.StoredBatch) error {
	return s.update(ctx, func(ctx context.Context, tx pgx.Tx) error { return putBatch(ctx, tx, b) })
}

// AppendState implements roles.ServerStore in one transaction.
func (s *Store) AppendState(ctx context.Context, st *roles.SignedState) error {
	return s.update(ctx, func(ctx context.Context, tx pgx.Tx) error { return appendState(ctx, tx, st) })
}

// UpdateBatch implements roles.ServerStore: the state and the batch in one
// transaction, so both are committed or neither is.
func (s *Store) UpdateBatch(ctx context.Context, st *roles.SignedState, b *roles.StoredBatch) error {
	return s.update(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := appendState(ctx, tx, st); err != nil {
			return err
		}
		// appendState has recorded the revocation and freed the slot, so
		// putBatch sees the store as it will be; if putBatch fails, the
		// transaction is rolled back, state included.
		return putBatch(ctx, tx, b)
	})
}

const selectBatch = `SELECT b.header, coalesce(r.epoch, 0) FROM vds_batches b
	LEFT JOIN vds_revoked r ON r.id = b.id WHERE b.id = $1`

const selectBatchData = `SELECT b.header, coalesce(r.epoch, 0), b.data FROM vds_batches b
	LEFT JOIN vds_revoked r ON r.id = b.id WHERE b.id = $1`

// Batch implements roles.ServerStore (one statement).
func (s *Store) Batch(ctx context.Context, id roles.BatchID) (*roles.StoredBatch, error) {
	var out *roles.StoredBatch
	err := s.view(ctx, func(ctx context.Context, q querier) error {
		var hdr, data []byte
		var e int64
		err := q.QueryRow(ctx, selectBatchData, id[:]).Scan(&hdr, &e, &data)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: batch %s: %w", id.Short(), roles.ErrUnknownBatch)
		}
		if err != nil {
			return err
		}
		h, err := decode[roles.SignedHeader]("header", hdr)
		if err != nil {
			return err
		}
		d, err := raw.BatchData(data)
		if err != nil {
			return fmt.Errorf("postgres: batch %s: %w", id.Short(), err)
		}
		out = &roles.StoredBatch{ID: id, Header: *h, Data: d, RevokedAt: uint64(e)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Header implements roles.ServerStore (one statement).
func (s *Store) Header(ctx context.Context, id roles.BatchID) (*roles.SignedHeader, uint64, error) {
	var h *roles.SignedHeader
	var e int64
	err := s.view(ctx, func(ctx context.Context, q querier) error {
		var hdr []byte
		err := q.QueryRow(ctx, selectBatch, id[:]).Scan(&hdr, &e)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: batch %s: %w", id.Short(), roles.ErrUnknownBatch)
		}
		if err != nil {
			return err
		}
		h, err = decode[roles.SignedHeader]("header", hdr)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return h, uint64(e), nil
}

// List implements roles.ServerStore (one statement), ordered by stream
// (bytewise), sequence number, version and id.
func (s *Store) List(ctx context.Context, stream string) ([]roles.BatchInfo, error) {
	var out []roles.BatchInfo
	err := s.view(ctx, func(ctx context.Context, q querier) error {
		sql := `SELECT b.id, b.stream, b.seq, b.version, b.nrows, b.first_time, b.last_time, r.id IS NOT NULL
			FROM vds_batches b LEFT JOIN vds_revoked r ON r.id = b.id `
		args := []any{}
		if stream != "" {
			sql += `WHERE b.stream = $1 `
			args = append(args, []byte(stream))
		}
		rows, err := q.Query(ctx, sql+`ORDER BY b.stream, b.seq, b.version, b.id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, st, seq []byte
			var ver, nrows, t0, t1 int64
			var revoked bool
			if err := rows.Scan(&id, &st, &seq, &ver, &nrows, &t0, &t1, &revoked); err != nil {
				return err
			}
			if len(id) != len(roles.BatchID{}) || len(seq) != 8 || ver < 0 || ver > math.MaxUint32 || nrows < 0 || nrows > math.MaxUint32 {
				return fmt.Errorf("postgres: batch row: %w", ErrCorrupt)
			}
			bi := roles.BatchInfo{Stream: string(st), Seq: binary.BigEndian.Uint64(seq), Version: uint32(ver),
				Rows: uint32(nrows), FirstTime: uint64(t0), LastTime: uint64(t1), Revoked: revoked}
			copy(bi.ID[:], id)
			out = append(out, bi)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// LatestState returns the newest state of the chain, read from the
// database on every call, or an error wrapping roles.ErrUnknownState.
func (s *Store) LatestState(ctx context.Context) (*roles.SignedState, error) {
	var st *roles.SignedState
	err := s.view(ctx, func(ctx context.Context, q querier) error {
		var err error
		st, err = latestState(ctx, q)
		if err == nil && st == nil {
			err = fmt.Errorf("postgres: no state yet: %w", roles.ErrUnknownState)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// chainRange reads the rows of epochs from..to together with the number
// of held states, in one statement (one snapshot), and checks that they
// are all held. cols are the columns of vds_states to read; each is
// passed to scan with the epoch.
func chainRange(ctx context.Context, q querier, from, to uint64, cols string, scan func(e int64, vals []any) error, dest func() []any) error {
	if from > to {
		return inputError("epochs", "from %d > to %d", from, to)
	}
	held := int64(0)
	var n uint64
	{
		rows, err := q.Query(ctx, `SELECT h.n, s.epoch, `+cols+` FROM
			(SELECT coalesce(max(epoch) + 1, 0) AS n FROM vds_states) h
			LEFT JOIN vds_states s ON s.epoch >= $1 AND s.epoch <= $2 ORDER BY s.epoch`,
			int64(min(from, math.MaxInt64)), int64(min(to, math.MaxInt64)))
		if err != nil {
			return err
		}
		defer rows.Close()
		want := from
		for rows.Next() {
			var e *int64
			vals := dest()
			if err := rows.Scan(append([]any{&held, &e}, vals...)...); err != nil {
				return err
			}
			if e == nil {
				break // no row in range
			}
			if uint64(*e) != want {
				return fmt.Errorf("postgres: state of epoch %d missing: %w", want, ErrCorrupt)
			}
			if err := scan(*e, vals); err != nil {
				return err
			}
			want++
			n++
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if to >= uint64(held) {
		return &roles.MissingStatesError{From: max(from, uint64(held)), To: to}
	}
	if n != to-from+1 {
		return fmt.Errorf("postgres: states of epochs %d..%d missing: %w", from, to, ErrCorrupt)
	}
	return nil
}

// States implements roles.ServerStore (one statement).
func (s *Store) States(ctx context.Context, from, to uint64) ([]roles.SignedState, error) {
	var out []roles.SignedState
	err := s.view(ctx, func(ctx context.Context, q querier) error {
		out = nil
		return chainRange(ctx, q, from, to, "s.state", func(e int64, vals []any) error {
			st, err := decodeState(e, *vals[0].(*[]byte))
			if err != nil {
				return err
			}
			out = append(out, *st)
			return nil
		}, func() []any { return []any{new([]byte)} })
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// History implements roles.ServerStore (one statement): f_from..f_{to−1}
// and x_{from+1}..x_to, decoded without the subgroup check (see the
// package documentation).
func (s *Store) History(ctx context.Context, from, to uint64) ([]bls.G1Affine, []fr.Element, error) {
	var fs []bls.G1Affine
	var xs []fr.Element
	err := s.view(ctx, func(ctx context.Context, q querier) error {
		// Room for the epochs asked, up to a bound: the chain may be
		// shorter than the range (then the call fails), and a caller's
		// range must not decide an allocation.
		n := 0
		if from <= to {
			n = int(min(to-from, 1<<16))
		}
		fs, xs = make([]bls.G1Affine, 0, n), make([]fr.Element, 0, n)
		return chainRange(ctx, q, from, to, "s.acc, s.x", func(e int64, vals []any) error {
			if uint64(e) < to {
				f, err := raw.G1FromRaw(*vals[0].(*[]byte))
				if err != nil {
					return fmt.Errorf("postgres: f_%d: %w", e, err)
				}
				fs = append(fs, f)
			}
			if uint64(e) > from {
				x, err := raw.Scalar(*vals[1].(*[]byte))
				if err != nil {
					return fmt.Errorf("postgres: x_%d: %w", e, err)
				}
				xs = append(xs, x)
			}
			return nil
		}, func() []any { return []any{new([]byte), new([]byte)} })
	})
	if err != nil {
		return nil, nil, err
	}
	return fs, xs, nil
}

// Witness implements roles.ServerStore. The witness point is decoded
// without the subgroup check, like the history.
func (s *Store) Witness(ctx context.Context, id roles.BatchID) (accumulator.Witness, error) {
	var w accumulator.Witness
	err := s.view(ctx, func(ctx context.Context, q querier) error {
		var v []byte
		err := q.QueryRow(ctx, `SELECT witness FROM vds_witnesses WHERE id = $1`, id[:]).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: witness of %s: %w", id.Short(), roles.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if w, err = raw.Witness(v); err != nil {
			return fmt.Errorf("postgres: witness of %s: %w", id.Short(), err)
		}
		return nil
	})
	if err != nil {
		return accumulator.Witness{}, err
	}
	return w, nil
}

// PutWitness implements roles.ServerStore in one statement: an upsert that
// replaces the cached witness only with one of a later epoch, so replicas
// racing to cache witnesses of the same batch keep the newest.
func (s *Store) PutWitness(ctx context.Context, id roles.BatchID, w accumulator.Witness) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if !w.W.IsInfinity() && !w.W.IsOnCurve() {
		return inputError("witness", "W is not on the curve")
	}
	e, err := epochArg(w.Epoch)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO vds_witnesses (id, epoch, witness) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch, witness = excluded.witness
		WHERE vds_witnesses.epoch < excluded.epoch`, id[:], e, rawenc.EncodeWitness(&w))
	if err != nil {
		return s.mapErr(ctx, err)
	}
	return nil
}
