package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"go.etcd.io/bbolt"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/internal/rawenc"
)

// Proof tables (roles.ProofTableStore) live in a bucket of their own,
// created on first use so that files written before it existed open
// unchanged: key batch id (32) ‖ column (2, big-endian), value one row of
// 128 bytes per row i = 1…L: P_i as gnark-crypto RawBytes (96 bytes) ‖ V_i
// as a canonical big-endian scalar (32 bytes). A table is
// written in one transaction, so a crash leaves a column with its whole
// table or none. Points are read back like the accumulator history:
// encoding, range and curve checked, subgroup not (see the package
// documentation); only the points an answer needs are decoded.
var bProofs = []byte("s.proofs")

var _ roles.ProofTableStore = (*Store)(nil)

// tableRow is the size of one row of a stored table.
const tableRow = rawenc.TableRow

func tableKey(id roles.BatchID, col int) []byte {
	return binary.BigEndian.AppendUint16(clone(id[:]), uint16(col))
}

// PutProofTable implements roles.ProofTableStore in one write transaction.
func (s *Store) PutProofTable(ctx context.Context, id roles.BatchID, col int, prefix []bls.G1Affine, values []fr.Element) error {
	val, err := rawenc.EncodeTable(prefix, values)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		h, revoked, err := header(tx, id)
		if err != nil {
			return err
		}
		if revoked != 0 {
			return &roles.RevokedError{Batch: id, Epoch: revoked}
		}
		if err := roles.CheckProofTable(&h.Header, col, len(prefix), len(values)); err != nil {
			return err
		}
		b, err := tx.CreateBucketIfNotExists(bProofs)
		if err != nil {
			return err
		}
		return b.Put(tableKey(id, col), val)
	})
}

// dropTables deletes every table of a batch (it is being revoked).
func dropTables(tx *bbolt.Tx, id roles.BatchID) error {
	b := tx.Bucket(bProofs)
	if b == nil {
		return nil
	}
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(id[:]); k != nil && bytes.HasPrefix(k, id[:]); k, _ = c.Next() {
		keys = append(keys, clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// ProofPoints implements roles.ProofTableStore.
func (s *Store) ProofPoints(ctx context.Context, id roles.BatchID, col int, idx []int) ([]bls.G1Affine, []fr.Element, error) {
	out := make([]bls.G1Affine, len(idx))
	vals := make([]fr.Element, len(idx))
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var v []byte
		if b := tx.Bucket(bProofs); b != nil && col >= 0 && col <= 0xffff {
			v = b.Get(tableKey(id, col))
		}
		if v == nil {
			return fmt.Errorf("bolt: proof table of batch %s column %d: %w", id.Short(), col, roles.ErrNotFound)
		}
		if len(v)%tableRow != 0 {
			return fmt.Errorf("bolt: proof table of %d bytes: %w", len(v), ErrCorrupt)
		}
		if err := roles.CheckProofIndexes(idx, len(v)/tableRow); err != nil {
			return err
		}
		for k, i := range idx {
			p, x, err := raw.TableRowAt(v, i)
			if err != nil {
				return fmt.Errorf("bolt: proof table of batch %s column %d: %w", id.Short(), col, err)
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

// ProofTables implements roles.ProofTableStore.
func (s *Store) ProofTables(ctx context.Context, id roles.BatchID) ([]int, int64, error) {
	var cols []int
	var size int64
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bHeader).Get(id[:]) == nil {
			return fmt.Errorf("bolt: proof tables of batch %s: %w", id.Short(), roles.ErrUnknownBatch)
		}
		b := tx.Bucket(bProofs)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(id[:]); k != nil && bytes.HasPrefix(k, id[:]); k, v = c.Next() {
			if len(k) != len(id)+2 {
				return fmt.Errorf("bolt: proof table key of %d bytes: %w", len(k), ErrCorrupt)
			}
			cols = append(cols, int(binary.BigEndian.Uint16(k[len(id):])))
			size += int64(len(v))
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return cols, size, nil
}
