package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"go.etcd.io/bbolt"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/roles"
)

// revokedAt returns the epoch that revoked id, if any.
func revokedAt(tx *bbolt.Tx, id roles.BatchID) (uint64, bool, error) {
	v := tx.Bucket(bRevoked).Get(id[:])
	if v == nil {
		return 0, false, nil
	}
	if len(v) != 8 {
		return 0, false, fmt.Errorf("bolt: revocation mark of %d bytes: %w", len(v), ErrCorrupt)
	}
	return binary.BigEndian.Uint64(v), true, nil
}

// canPut checks PutBatch's preconditions; exists reports a batch stored
// before (a no-op). Unlike the memory store it needs no "as if revoked"
// argument for UpdateBatch: there the state is applied first, in the same
// transaction.
func canPut(tx *bbolt.Tx, b *roles.StoredBatch) (exists bool, err error) {
	e, ok, err := revokedAt(tx, b.ID)
	if err != nil {
		return false, err
	}
	if ok {
		return false, &roles.RevokedError{Batch: b.ID, Epoch: e}
	}
	h := &b.Header.Header
	if v := tx.Bucket(bInfo).Get(b.ID[:]); v != nil {
		old, err := decode[roles.BatchInfo]("batch info", v)
		if err != nil {
			return false, err
		}
		if old.Seq != h.Seq || old.Stream != h.Stream {
			return false, fmt.Errorf("bolt: batch %s stored with another header: %w", b.ID.Short(), roles.ErrConflict)
		}
		return true, nil
	}
	if v := tx.Bucket(bLive).Get(slotKey(h.Stream, h.Seq)); v != nil {
		var other roles.BatchID
		copy(other[:], v)
		return false, fmt.Errorf("bolt: stream %q sequence %d is held by live batch %s: %w", h.Stream, h.Seq, other.Short(), roles.ErrConflict)
	}
	return false, nil
}

// putBatch stores b as a live batch after checking it with canPut.
func putBatch(tx *bbolt.Tx, b *roles.StoredBatch) error {
	exists, err := canPut(tx, b)
	if err != nil || exists {
		return err
	}
	h := &b.Header.Header
	hdr, err := encode("header", &b.Header)
	if err != nil {
		return err
	}
	data, err := encodeBatchData(&b.Data)
	if err != nil {
		return err
	}
	info, err := encode("batch info", &roles.BatchInfo{ID: b.ID, Stream: h.Stream, Seq: h.Seq, Version: h.Version,
		Rows: h.Rows, FirstTime: h.FirstTime, LastTime: h.LastTime})
	if err != nil {
		return err
	}
	id := clone(b.ID[:])
	for _, p := range []struct {
		bucket, k, v []byte
	}{
		{bHeader, id, hdr},
		{bData, id, data},
		{bInfo, id, info},
		{bList, listKey(h.Stream, h.Seq, h.Version, b.ID), id},
		{bLive, slotKey(h.Stream, h.Seq), id},
	} {
		if err := tx.Bucket(p.bucket).Put(p.k, p.v); err != nil {
			return err
		}
	}
	return nil
}

// PutBatch implements roles.ServerStore in one write transaction.
func (s *Store) PutBatch(ctx context.Context, b *roles.StoredBatch) error {
	return s.update(ctx, func(tx *bbolt.Tx) error { return putBatch(tx, b) })
}

// AppendState implements roles.ServerStore in one write transaction.
func (s *Store) AppendState(ctx context.Context, st *roles.SignedState) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		latest, err := latestState(tx)
		if err != nil {
			return err
		}
		_, err = appendState(tx, latest, st)
		return err
	})
}

// UpdateBatch implements roles.ServerStore: the state and the batch are
// applied in one write transaction, so both are on disk or neither is.
func (s *Store) UpdateBatch(ctx context.Context, st *roles.SignedState, b *roles.StoredBatch) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		latest, err := latestState(tx)
		if err != nil {
			return err
		}
		if _, err := appendState(tx, latest, st); err != nil {
			return err
		}
		// appendState has marked the revoked batch and freed its slot, so
		// putBatch sees the store as it will be; if putBatch fails, the
		// transaction is rolled back, state included.
		return putBatch(tx, b)
	})
}

// Batch implements roles.ServerStore.
func (s *Store) Batch(ctx context.Context, id roles.BatchID) (*roles.StoredBatch, error) {
	var out *roles.StoredBatch
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		h, e, err := header(tx, id)
		if err != nil {
			return err
		}
		d, err := decodeBatchData(tx.Bucket(bData).Get(id[:]))
		if err != nil {
			return fmt.Errorf("bolt: batch %s: %w", id.Short(), err)
		}
		out = &roles.StoredBatch{ID: id, Header: *h, Data: d, RevokedAt: e}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func header(tx *bbolt.Tx, id roles.BatchID) (*roles.SignedHeader, uint64, error) {
	v := tx.Bucket(bHeader).Get(id[:])
	if v == nil {
		return nil, 0, fmt.Errorf("bolt: batch %s: %w", id.Short(), roles.ErrUnknownBatch)
	}
	h, err := decode[roles.SignedHeader]("header", v)
	if err != nil {
		return nil, 0, err
	}
	e, _, err := revokedAt(tx, id)
	if err != nil {
		return nil, 0, err
	}
	return h, e, nil
}

// Header implements roles.ServerStore.
func (s *Store) Header(ctx context.Context, id roles.BatchID) (*roles.SignedHeader, uint64, error) {
	var h *roles.SignedHeader
	var e uint64
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		h, e, err = header(tx, id)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return h, e, nil
}

// List implements roles.ServerStore. The list index is ordered by stream,
// sequence number and version (then id), so List reads it in order.
func (s *Store) List(ctx context.Context, stream string) ([]roles.BatchInfo, error) {
	var out []roles.BatchInfo
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var prefix []byte
		if stream != "" {
			prefix = appendStream(nil, stream)
		}
		info, revoked := tx.Bucket(bInfo), tx.Bucket(bRevoked)
		c := tx.Bucket(bList).Cursor()
		for k, id := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, id = c.Next() {
			v := info.Get(id)
			if v == nil {
				return fmt.Errorf("bolt: listed batch without info: %w", ErrCorrupt)
			}
			bi, err := decode[roles.BatchInfo]("batch info", v)
			if err != nil {
				return err
			}
			bi.Revoked = revoked.Get(id) != nil
			out = append(out, *bi)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// History implements roles.ServerStore. It reads f_from..f_{to−1} and
// x_{from+1}..x_to from the history buckets, where they are stored raw:
// points are decoded without the subgroup check (see the package
// documentation), so 100,000 epochs take milliseconds.
func (s *Store) History(ctx context.Context, from, to uint64) ([]bls.G1Affine, []fr.Element, error) {
	var fs []bls.G1Affine
	var xs []fr.Element
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		if err := checkRange(tx, from, to); err != nil {
			return err
		}
		n := to - from
		fs, xs = make([]bls.G1Affine, n), make([]fr.Element, n)
		cf, cx := tx.Bucket(bAcc).Cursor(), tx.Bucket(bX).Cursor()
		kf, vf := cf.Seek(epochKey(from))
		kx, vx := cx.Seek(epochKey(from + 1))
		for i := range n {
			if i%4096 == 4095 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			e := from + i
			if len(kf) != 8 || binary.BigEndian.Uint64(kf) != e {
				return fmt.Errorf("bolt: f_%d missing: %w", e, ErrCorrupt)
			}
			if len(kx) != 8 || binary.BigEndian.Uint64(kx) != e+1 {
				return fmt.Errorf("bolt: x_%d missing: %w", e+1, ErrCorrupt)
			}
			var err error
			if fs[i], err = g1FromRaw(vf); err != nil {
				return fmt.Errorf("bolt: f_%d: %w", e, err)
			}
			if xs[i], err = scalarFromBytes(vx); err != nil {
				return fmt.Errorf("bolt: x_%d: %w", e+1, err)
			}
			kf, vf = cf.Next()
			kx, vx = cx.Next()
		}
		return nil
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
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bWitness).Get(id[:])
		if v == nil {
			return fmt.Errorf("bolt: witness of %s: %w", id.Short(), roles.ErrNotFound)
		}
		var err error
		if w, err = decodeWitness(v); err != nil {
			return fmt.Errorf("bolt: witness of %s: %w", id.Short(), err)
		}
		return nil
	})
	if err != nil {
		return accumulator.Witness{}, err
	}
	return w, nil
}

// PutWitness implements roles.ServerStore in one write transaction.
func (s *Store) PutWitness(ctx context.Context, id roles.BatchID, w accumulator.Witness) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		if !w.W.IsInfinity() && !w.W.IsOnCurve() {
			return inputError("witness", "W is not on the curve")
		}
		b := tx.Bucket(bWitness)
		if old := b.Get(id[:]); len(old) >= 8 && binary.BigEndian.Uint64(old) >= w.Epoch {
			return nil
		}
		return b.Put(clone(id[:]), encodeWitness(&w))
	})
}
