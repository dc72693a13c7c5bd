package roles

import (
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
)

// TestCheckWindowHeaderEdges: an opened timestamp of the batch's first or
// last row must be the header's t0 or t1, and no opened timestamp may lie
// outside them (SPEC §7, issue 9 decision D8(a)).
func TestCheckWindowHeaderEdges(t *testing.T) {
	h := &Header{Rows: 5, FirstTime: 10, LastTime: 50}
	times := []uint64{10, 20, 30, 40, 50}
	at := func(rows []int) []uint64 {
		out := make([]uint64, len(rows))
		for i, r := range rows {
			out[i] = times[r-1]
		}
		return out
	}
	cases := []struct {
		name        string
		first, last uint32
		from, to    uint64
	}{
		{"whole", 1, 5, 0, 100},
		{"head", 1, 2, 5, 25},
		{"tail", 4, 5, 35, 60},
		{"inside", 2, 4, 15, 45},
		{"emptyBefore", 1, 0, 0, 5},
		{"emptyAfter", 6, 5, 55, 60},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows := BoundaryRows(tc.first, tc.last, 5)
			require.NoError(t, checkWindow(h, tc.first, tc.last, rows, at(rows), tc.from, tc.to))
			for _, bad := range []*Header{
				{Rows: 5, FirstTime: 9, LastTime: 50},  // t0 below row 1
				{Rows: 5, FirstTime: 11, LastTime: 50}, // t0 above row 1
				{Rows: 5, FirstTime: 10, LastTime: 51},
				{Rows: 5, FirstTime: 10, LastTime: 49},
			} {
				opensEdge := false
				for _, r := range rows {
					opensEdge = opensEdge || (r == 1 && bad.FirstTime != 10) || (r == 5 && bad.LastTime != 50)
				}
				err := checkWindow(bad, tc.first, tc.last, rows, at(rows), tc.from, tc.to)
				if opensEdge {
					require.ErrorIs(t, err, ErrBadProof, "header %d..%d", bad.FirstTime, bad.LastTime)
				}
			}
		})
	}
	// An interior opening outside the header's range is refused too.
	rows := BoundaryRows(3, 3, 5)
	require.ErrorIs(t, checkWindow(&Header{Rows: 5, FirstTime: 10, LastTime: 25}, 3, 3, rows, at(rows), 30, 30), ErrBadProof)
}

// TestQueryOneEncoding: a query other than a weighted one with a present
// but empty weight vector (a second encoding of the same query) is refused.
func TestQueryOneEncoding(t *testing.T) {
	for _, q := range []Query{
		{Kind: QueryPoint, Columns: []string{"a"}, Row: 1},
		{Kind: QueryRange, Columns: []string{"a"}, From: 1, To: 2},
		{Kind: QueryWindow, Columns: []string{"a"}, TimeFrom: 1, TimeTo: 2},
		{Kind: QueryAudit, Columns: []string{"a"}, Nonce: []byte{1}},
	} {
		require.NoError(t, checkQueryShape(&q, 4, DefaultLimits()), q.Kind.String())
		q.Weights = codec.ScalarVector{}
		b, err := codec.Default().Marshal(&q)
		require.NoError(t, err)
		var back Query
		require.NoError(t, codec.Default().Unmarshal(b, &back))
		require.ErrorIs(t, checkQueryShape(&back, 4, DefaultLimits()), ErrInvalidInput, q.Kind.String())
	}
}

// TestElementFitsBits: |x| < 2^b for the integer a field element stands for.
func TestElementFitsBits(t *testing.T) {
	for _, c := range []struct {
		v    int64
		b    int
		want bool
	}{
		{0, 1, true}, {1, 1, true}, {-1, 1, true}, {2, 1, false}, {-2, 1, false},
		{255, 8, true}, {256, 8, false}, {-255, 8, true}, {-256, 8, false},
		{1<<62 + 5, 63, true}, {-(1 << 62), 62, false}, {-(1<<62 - 1), 62, true},
	} {
		var e fr.Element
		e.SetInt64(c.v)
		require.Equal(t, c.want, elementFitsBits(&e, c.b), "%d in %d bits", c.v, c.b)
	}
	var big fr.Element
	big.SetString("123456789012345678901234567890123456789")
	require.False(t, elementFitsBits(&big, 64))
	require.True(t, elementFitsBits(&big, 127))
}
