package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"go.etcd.io/bbolt"

	"github.com/vdsproject/vds/roles"
)

// Secrets implements roles.OwnerStore. The key material is never logged;
// the returned value is a fresh copy.
func (s *Store) Secrets(ctx context.Context) (*roles.OwnerSecrets, error) {
	var sec *roles.OwnerSecrets
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bOwner).Get(keySecrets)
		if v == nil {
			return fmt.Errorf("bolt: owner keys: %w", roles.ErrNotFound)
		}
		var err error
		sec, err = decode[roles.OwnerSecrets]("owner keys", v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return sec, nil
}

// InitSecrets implements roles.OwnerStore in one write transaction.
func (s *Store) InitSecrets(ctx context.Context, sec *roles.OwnerSecrets) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bOwner)
		if b.Get(keySecrets) != nil {
			return fmt.Errorf("bolt: owner keys already initialised: %w", roles.ErrConflict)
		}
		v, err := encode("owner keys", sec)
		if err != nil {
			return err
		}
		return b.Put(keySecrets, v)
	})
}

// RotateKey implements roles.OwnerStore in one bbolt write transaction:
// the new seed and the state are on disk together or not at all.
func (s *Store) RotateKey(ctx context.Context, seed []byte, st *roles.SignedState) error {
	if len(seed) == 0 || st == nil {
		return inputError("key rotation", "empty seed or no state")
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bOwner)
		v := b.Get(keySecrets)
		if v == nil {
			return fmt.Errorf("bolt: owner keys: %w", roles.ErrNotFound)
		}
		sec, err := decode[roles.OwnerSecrets]("owner keys", v)
		if err != nil {
			return err
		}
		latest, err := latestState(tx)
		if err != nil {
			return err
		}
		if _, err := appendState(tx, latest, st); err != nil {
			return err
		}
		clear(sec.SigningSeed)
		sec.SigningSeed = seed
		nv, err := encode("owner keys", sec)
		clear(sec.Accumulator)
		if err != nil {
			return err
		}
		return b.Put(keySecrets, nv)
	})
}

// ReserveSeq implements roles.OwnerStore in one write transaction.
func (s *Store) ReserveSeq(ctx context.Context, stream string) (uint64, error) {
	var n uint64
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bSeq)
		k := []byte(stream)
		if len(k) == 0 {
			k = []byte{0} // bbolt refuses empty keys; stream names are text
		} else if k[0] == 0 {
			k = append([]byte{0}, k...) // keep "\x00…" apart from ""
		}
		if v := b.Get(k); v != nil {
			if len(v) != 8 {
				return fmt.Errorf("bolt: sequence number of %d bytes: %w", len(v), ErrCorrupt)
			}
			n = binary.BigEndian.Uint64(v)
		}
		if n == math.MaxUint64 {
			return inputError("stream", "%q has no sequence number left", stream)
		}
		return b.Put(k, epochKey(n+1))
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Record implements roles.OwnerStore.
func (s *Store) Record(ctx context.Context, id roles.BatchID) (*roles.BatchRecord, error) {
	var r *roles.BatchRecord
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bRecord).Get(id[:])
		if v == nil {
			return fmt.Errorf("bolt: batch %s: %w", id.Short(), roles.ErrUnknownBatch)
		}
		var err error
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
	var out []roles.BatchRecord
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bRecord).ForEach(func(k, v []byte) error {
			r, err := decode[roles.BatchRecord]("batch record", v)
			if err != nil {
				return err
			}
			out = append(out, *r)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Commit implements roles.OwnerStore: the whole transaction is one bbolt
// write transaction, so either all of it is on disk or none of it. The
// state goes into the file's one chain with all its effects (accumulator
// history, revocation mark), as ServerStore.AppendState would apply it.
func (s *Store) Commit(ctx context.Context, otx *roles.OwnerTx) error {
	return s.update(ctx, func(tx *bbolt.Tx) error { return commitOwner(tx, otx) })
}

// commitOwner applies otx inside the write transaction tx.
func commitOwner(tx *bbolt.Tx, otx *roles.OwnerTx) error {
	{
		if otx.State != nil {
			latest, err := latestState(tx)
			if err != nil {
				return err
			}
			if _, err := appendState(tx, latest, otx.State); err != nil {
				return err
			}
		}
		recs := tx.Bucket(bRecord)
		for i := range otx.Records {
			r := &otx.Records[i]
			v, err := encode("batch record", r)
			if err != nil {
				return err
			}
			if err := recs.Put(clone(r.ID[:]), v); err != nil {
				return err
			}
		}
		pend, idx := tx.Bucket(bPending), tx.Bucket(bPendIdx)
		for _, id := range otx.DeletePending {
			c := idx.Cursor()
			for k, _ := c.Seek(id[:]); k != nil && bytes.HasPrefix(k, id[:]); k, _ = c.Seek(id[:]) {
				if err := pend.Delete(k[len(id):]); err != nil {
					return err
				}
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		for i := range otx.PutPending {
			p := &otx.PutPending[i]
			v, err := encode("pending operation", p)
			if err != nil {
				return err
			}
			n, err := pend.NextSequence()
			if err != nil {
				return err
			}
			if err := pend.Put(epochKey(n), v); err != nil {
				return err
			}
			if err := idx.Put(binary.BigEndian.AppendUint64(clone(p.ID[:]), n), nil); err != nil {
				return err
			}
		}
		return nil
	}
}

// Pending implements roles.OwnerStore: the operations in the order they were
// added.
func (s *Store) Pending(ctx context.Context) ([]roles.PendingOp, error) {
	var out []roles.PendingOp
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bPending).ForEach(func(_, v []byte) error {
			p, err := decode[roles.PendingOp]("pending operation", v)
			if err != nil {
				return err
			}
			out = append(out, *p)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
