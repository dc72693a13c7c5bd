package roles_test

import (
	"context"
	"errors"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
)

func sum(v []int64, a, b int) int64 {
	var s int64
	for i := a; i <= b; i++ {
		s += v[i-1]
	}
	return s
}

func TestQueriesVerify(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t)
	b := sampleBatch("sensors", 12, 1)
	id := createBatch(t, ctx, l.Owner, b)
	temp, load := b.Columns[0].Values, b.Columns[1].Values

	t.Run("point", func(t *testing.T) {
		res, err := l.Query(ctx, &roles.Query{Batch: id, Kind: roles.QueryPoint, Columns: []string{"temp"}, Row: 5})
		require.NoError(t, err)
		require.Equal(t, temp[4], res.Values[0].Int.Int64())
	})
	t.Run("range2cols", func(t *testing.T) {
		res, err := l.Query(ctx, &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: []string{"load", "temp"}, From: 2, To: 11})
		require.NoError(t, err)
		require.Equal(t, sum(load, 2, 11), res.Values[0].Int.Int64())
		require.Equal(t, sum(temp, 2, 11), res.Values[1].Int.Int64())
	})
	t.Run("weighted", func(t *testing.T) {
		w := make(codec.ScalarVector, 12)
		var want int64
		for i := range w {
			w[i].SetUint64(uint64(i % 3))
			want += int64(i%3) * temp[i]
		}
		res, err := l.Query(ctx, &roles.Query{Batch: id, Kind: roles.QueryWeighted, Columns: []string{"temp"}, Weights: w})
		require.NoError(t, err)
		require.Equal(t, want, res.Values[0].Int.Int64())
	})
	t.Run("window", func(t *testing.T) {
		for _, tc := range []struct {
			from, to    uint64
			first, last uint32
		}{
			{1015, 1055, 3, 6}, {1010, 1050, 2, 6}, {0, 999, 1, 0}, {1111, 2000, 13, 12}, {1001, 1009, 2, 1}, {0, 5000, 1, 12}, {1110, 1110, 12, 12},
		} {
			res, err := l.Query(ctx, &roles.Query{Batch: id, Kind: roles.QueryWindow, Columns: []string{"temp", "load"}, TimeFrom: tc.from, TimeTo: tc.to})
			require.NoError(t, err, "%+v", tc)
			require.Equal(t, [2]uint32{tc.first, tc.last}, [2]uint32{res.First, res.Last}, "%+v", tc)
			if tc.last >= tc.first {
				require.Equal(t, sum(temp, int(tc.first), int(tc.last)), res.Values[0].Int.Int64())
			} else {
				require.Zero(t, res.Values[0].Int.Sign())
			}
		}
	})
	t.Run("audit", func(t *testing.T) {
		q := &roles.Query{Batch: id, Kind: roles.QueryAudit, Columns: []string{"temp", "load"}, Nonce: []byte("fresh nonce")}
		_, err := l.Query(ctx, q)
		require.NoError(t, err)
		ans, err := l.Server.Answer(ctx, q)
		require.NoError(t, err)
		q2 := *q
		q2.Nonce = []byte("another nonce")
		_, err = l.Verifier.Verify(ctx, &q2, ans)
		require.ErrorIs(t, err, roles.ErrWrongChallenge)
	})
}

func TestRevokeAndUpdate(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t)
	var ids []roles.BatchID
	for i := range 3 {
		ids = append(ids, createBatch(t, ctx, l.Owner, afterStream(l.Owner, sampleBatch("s", 8, uint64(i)))))
	}
	q := func(id roles.BatchID) *roles.Query {
		return &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: []string{"temp"}, From: 1, To: 8}
	}
	old, err := l.Server.Answer(ctx, q(ids[1]))
	require.NoError(t, err)
	_, err = l.Owner.Revoke(ctx, ids[1])
	require.NoError(t, err)
	_, err = l.Query(ctx, q(ids[1]))
	require.ErrorIs(t, err, roles.ErrRevoked)
	_, err = l.Verifier.Verify(ctx, q(ids[1]), old)
	require.True(t, errors.Is(err, roles.ErrStaleState) || errors.Is(err, roles.ErrRevoked), "%v", err)
	for _, id := range []roles.BatchID{ids[0], ids[2]} {
		_, err = l.Query(ctx, q(id))
		require.NoError(t, err)
	}
	nb := sampleBatch("s", 5, 99)
	es := l.Owner.StreamEntries("s")
	for i := range nb.Timestamps { // between its neighbours: after seq 1
		nb.Timestamps[i] += es[1].T1 + 10 - 1000
	}
	sh, st, err := l.Owner.Update(ctx, ids[2], nb)
	require.NoError(t, err)
	require.EqualValues(t, 2, st.State.Epoch)
	require.EqualValues(t, 1, sh.Header.Version)
	newID, _ := sh.Header.Digest()
	_, err = l.Query(ctx, q(ids[2]))
	require.ErrorIs(t, err, roles.ErrRevoked)
	res, err := l.Query(ctx, &roles.Query{Batch: newID, Kind: roles.QueryRange, Columns: []string{"temp"}, From: 1, To: 5})
	require.NoError(t, err)
	require.Equal(t, sum(nb.Columns[0].Values, 1, 5), res.Values[0].Int.Int64())
	_, err = l.Query(ctx, q(ids[0]))
	require.NoError(t, err)
	var _ fr.Element
}
