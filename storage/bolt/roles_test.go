package bolt_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
)

// TestWithRoles runs the protocol of package roles on bolt stores — an owner
// and a server file, or one file for both — across a restart: batches,
// a revocation and an update before, queries and another update after.
func TestWithRoles(t *testing.T) {
	crs, err := commitment.Setup(16, rand.Reader)
	require.NoError(t, err)
	for _, shared := range []bool{false, true} {
		name := map[bool]string{false: "two files", true: "one file"}[shared]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			ctx := context.Background()
			open := func() (*roles.Local, func()) {
				o, err := bolt.Open(filepath.Join(dir, "owner.db"))
				require.NoError(t, err)
				s := o
				if !shared {
					s, err = bolt.Open(filepath.Join(dir, "server.db"))
					require.NoError(t, err)
				}
				l, err := roles.NewLocal(ctx, crs, o, s)
				require.NoError(t, err)
				return l, func() { require.NoError(t, o.Close()); require.NoError(t, s.Close()) }
			}
			batch := func(rows int, base int64, t0 uint64) *roles.Batch {
				b := &roles.Batch{Stream: "meters", Timestamps: make([]uint64, rows)}
				c := roles.Column{Name: "kwh", Values: make([]int64, rows)}
				for i := range rows {
					b.Timestamps[i] = t0 + uint64(i)
					c.Values[i] = base + int64(i)
				}
				b.Columns = []roles.Column{c}
				return b
			}
			sum := func(l *roles.Local, id roles.BatchID, rows uint32) (int64, error) {
				res, err := l.Query(ctx, &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: []string{"kwh"}, From: 1, To: rows})
				if err != nil {
					return 0, err
				}
				return res.Values[0].Int.Int64(), nil
			}

			l, closeAll := open()
			var ids []roles.BatchID
			for i := range 3 {
				sh, err := l.Owner.CreateBatch(ctx, batch(8, int64(100*i), 1000+uint64(i)*1000))
				require.NoError(t, err)
				id, err := sh.Header.Digest()
				require.NoError(t, err)
				ids = append(ids, id)
			}
			_, err := l.Owner.Revoke(ctx, ids[0])
			require.NoError(t, err)
			sh, st, err := l.Owner.Update(ctx, ids[1], batch(4, 1000, 2000)) // in the place of ids[1]
			require.NoError(t, err)
			require.EqualValues(t, 2, st.State.Epoch)
			updated, err := sh.Header.Digest()
			require.NoError(t, err)
			got, err := sum(l, updated, 4)
			require.NoError(t, err)
			require.EqualValues(t, 1000+1001+1002+1003, got)
			closeAll()

			l, closeAll = open()
			defer closeAll()
			for _, id := range ids[:2] {
				_, err := sum(l, id, 8)
				require.ErrorIs(t, err, roles.ErrRevoked)
			}
			got, err = sum(l, ids[2], 8)
			require.NoError(t, err)
			require.EqualValues(t, 8*200+28, got)
			got, err = sum(l, updated, 4)
			require.NoError(t, err)
			require.EqualValues(t, 4006, got)
			sh, st, err = l.Owner.Update(ctx, ids[2], batch(2, 5, 3000))
			require.NoError(t, err)
			require.EqualValues(t, 3, st.State.Epoch)
			again, err := sh.Header.Digest()
			require.NoError(t, err)
			got, err = sum(l, again, 2)
			require.NoError(t, err)
			require.EqualValues(t, 11, got)
			list, err := l.Server.ListBatches(ctx, "meters")
			require.NoError(t, err)
			require.Len(t, list, 5)
		})
	}
}
