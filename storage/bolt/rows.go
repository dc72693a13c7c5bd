package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/vdsproject/vds/roles"
)

// bRows holds the rows appenders acknowledged and have not sealed
// (roles.RowStore): rowPrefix(stream) ‖ u64(time) → the values, 8 bytes
// big-endian each. The bucket is created on the first append, so files
// written before it existed open unchanged.
var bRows = []byte("o.rows")

var _ roles.RowStore = (*Store)(nil)

// rowPrefix is u16(len(stream)) ‖ stream: no stream's prefix is a prefix
// of another's keys.
func rowPrefix(stream string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(stream))), stream...)
}

// AppendRows implements roles.RowStore in one write transaction.
func (s *Store) AppendRows(ctx context.Context, stream string, rows []roles.Row) error {
	if len(stream) > 0xffff {
		return inputError("stream", "name of %d bytes", len(stream))
	}
	if len(rows) == 0 {
		return nil
	}
	p := rowPrefix(stream)
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bRows)
		if err != nil {
			return err
		}
		b.FillPercent = 1 // keys only ever grow within a stream
		c := b.Cursor()
		var prev uint64
		has := false
		// The last pending row of the stream: the key before the next prefix.
		end := binary.BigEndian.AppendUint64(clone(p), ^uint64(0))
		k, _ := c.Seek(end)
		switch {
		case k == nil:
			k, _ = c.Last()
		case !bytes.Equal(k, end):
			k, _ = c.Prev()
		}
		if k != nil && bytes.HasPrefix(k, p) && len(k) == len(p)+8 {
			prev, has = binary.BigEndian.Uint64(k[len(p):]), true
		}
		for _, r := range rows {
			if has && r.Time <= prev {
				return fmt.Errorf("bolt: pending row at t=%d does not follow t=%d: %w", r.Time, prev, roles.ErrConflict)
			}
			v := make([]byte, 0, 8*len(r.Values))
			for _, x := range r.Values {
				v = binary.BigEndian.AppendUint64(v, uint64(x))
			}
			if err := b.Put(binary.BigEndian.AppendUint64(clone(p), r.Time), v); err != nil {
				return err
			}
			prev, has = r.Time, true
		}
		return nil
	})
}

// PendingRows implements roles.RowStore.
func (s *Store) PendingRows(ctx context.Context, stream string) ([]roles.Row, error) {
	var out []roles.Row
	p := rowPrefix(stream)
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		out = nil
		b := tx.Bucket(bRows)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			if len(k) != len(p)+8 || len(v)%8 != 0 {
				return fmt.Errorf("bolt: pending row of %d+%d bytes: %w", len(k), len(v), ErrCorrupt)
			}
			r := roles.Row{Time: binary.BigEndian.Uint64(k[len(p):]), Values: make([]int64, len(v)/8)}
			for i := range r.Values {
				r.Values[i] = int64(binary.BigEndian.Uint64(v[8*i:]))
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SealRows implements roles.RowStore: the commit and the removal of the
// rows are one bbolt write transaction.
func (s *Store) SealRows(ctx context.Context, otx *roles.OwnerTx, stream string, through uint64) error {
	p := rowPrefix(stream)
	return s.update(ctx, func(tx *bbolt.Tx) error {
		if otx != nil {
			if err := commitOwner(tx, otx); err != nil {
				return err
			}
		}
		b := tx.Bucket(bRows)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Seek(p) {
			if len(k) == len(p)+8 && binary.BigEndian.Uint64(k[len(p):]) > through {
				break
			}
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}
