package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	bolt "go.etcd.io/bbolt"

	"github.com/vdsproject/vds/roles"
)

// Proof tables (roles.ProofTableStore) live in a bucket of their own,
// created on first use so that files written before it existed open
// unchanged: key batch id (32) ‖ column (2, big-endian), value the prefix
// sums P_1…P_L as L gnark-crypto RawBytes of 96 bytes each. A table is
// written in one transaction, so a crash leaves a column with its whole
// table or none. Points are read back like the accumulator history:
// encoding, range and curve checked, subgroup not (see the package
// documentation); only the points an answer needs are decoded.
var bProofs = []byte("s.proofs")

var _ roles.ProofTableStore = (*Store)(nil)

func tableKey(id roles.BatchID, col int) []byte {
	return binary.BigEndian.AppendUint16(clone(id[:]), uint16(col))
}

// PutProofTable implements roles.ProofTableStore in one write transaction.
func (s *Store) PutProofTable(ctx context.Context, id roles.BatchID, col int, prefix []bls.G1Affine) error {
	val := make([]byte, 0, len(prefix)*g1RawSize)
	for i := range prefix {
		if !prefix[i].IsInfinity() && !prefix[i].IsOnCurve() {
			return inputError("proof table", "point %d is not on the curve", i+1)
		}
		raw := prefix[i].RawBytes()
		val = append(val, raw[:]...)
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		h, _, err := header(tx, id)
		if err != nil {
			return err
		}
		if err := roles.CheckProofTable(&h.Header, col, len(prefix)); err != nil {
			return err
		}
		b, err := tx.CreateBucketIfNotExists(bProofs)
		if err != nil {
			return err
		}
		return b.Put(tableKey(id, col), val)
	})
}

// ProofPoints implements roles.ProofTableStore.
func (s *Store) ProofPoints(ctx context.Context, id roles.BatchID, col int, idx []int) ([]bls.G1Affine, error) {
	out := make([]bls.G1Affine, len(idx))
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var v []byte
		if b := tx.Bucket(bProofs); b != nil && col >= 0 && col <= 0xffff {
			v = b.Get(tableKey(id, col))
		}
		if v == nil {
			return fmt.Errorf("boltstore: proof table of batch %s column %d: %w", id.Short(), col, roles.ErrNotFound)
		}
		if len(v)%g1RawSize != 0 {
			return fmt.Errorf("boltstore: proof table of %d bytes: %w", len(v), ErrCorrupt)
		}
		if err := roles.CheckProofIndexes(idx, len(v)/g1RawSize); err != nil {
			return err
		}
		for k, i := range idx {
			p, err := g1FromRaw(v[(i-1)*g1RawSize : i*g1RawSize])
			if err != nil {
				return fmt.Errorf("boltstore: proof table of batch %s column %d: %w", id.Short(), col, err)
			}
			out[k] = p
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ProofTables implements roles.ProofTableStore.
func (s *Store) ProofTables(ctx context.Context, id roles.BatchID) ([]int, int64, error) {
	var cols []int
	var size int64
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bHeader).Get(id[:]) == nil {
			return fmt.Errorf("boltstore: proof tables of batch %s: %w", id.Short(), roles.ErrUnknownBatch)
		}
		b := tx.Bucket(bProofs)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(id[:]); k != nil && bytes.HasPrefix(k, id[:]); k, v = c.Next() {
			if len(k) != len(id)+2 {
				return fmt.Errorf("boltstore: proof table key of %d bytes: %w", len(k), ErrCorrupt)
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
