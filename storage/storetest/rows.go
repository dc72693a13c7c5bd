package storetest

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
)

// RowOwnerStore is an owner store that keeps appenders' pending rows.
type RowOwnerStore interface {
	roles.OwnerStore
	roles.RowStore
}

// TestRowStore runs the conformance suite of roles.RowStore. open is called
// once per subtest and must return an empty store; the suite closes it.
func TestRowStore(t *testing.T, open func(t *testing.T) RowOwnerStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s RowOwnerStore)
	}{
		{"Empty", rowsEmpty},
		{"Order", rowsOrder},
		{"Streams", rowsStreams},
		{"SealAtomic", rowsSealAtomic},
		{"Close", rowsClose},
		{"Concurrent", rowsConcurrent},
	}
	for _, tc := range tests {
		runCase(t, tc.name, open, tc.fn)
	}
}

func rowsOf(from, n uint64, k int) []roles.Row {
	out := make([]roles.Row, n)
	for i := range out {
		ts := from + uint64(i)*3
		out[i] = roles.Row{Time: ts, Values: make([]int64, k)}
		for c := range k {
			out[i].Values[c] = int64(ts)*int64(c+1) - 7
		}
	}
	return out
}

func requireRows(t *testing.T, s RowOwnerStore, stream string, want []roles.Row) {
	t.Helper()
	got, err := s.PendingRows(bg, stream)
	require.NoError(t, err)
	if len(want) == 0 {
		require.Empty(t, got)
		return
	}
	require.Equal(t, want, got)
}

func rowsEmpty(t *testing.T, s RowOwnerStore) {
	requireRows(t, s, "s", nil)
	require.NoError(t, s.SealRows(bg, nil, "s", math.MaxUint64), "sealing nothing")
	require.NoError(t, s.AppendRows(bg, "s", nil), "appending nothing")
	requireRows(t, s, "s", nil)
}

func rowsOrder(t *testing.T, s RowOwnerStore) {
	a := rowsOf(10, 5, 2)
	require.NoError(t, s.AppendRows(bg, "s", a[:2]))
	require.NoError(t, s.AppendRows(bg, "s", a[2:]))
	requireRows(t, s, "s", a)
	extremes := []roles.Row{{Time: math.MaxUint64 - 1, Values: []int64{math.MinInt64, math.MaxInt64}}}
	for name, bad := range map[string][]roles.Row{
		"equal to the last":      {{Time: a[4].Time, Values: []int64{1, 2}}},
		"before the last":        {{Time: 0, Values: []int64{1, 2}}},
		"decreasing in the call": {{Time: 100, Values: []int64{1, 2}}, {Time: 99, Values: []int64{1, 2}}},
		"equal in the call":      {{Time: 100, Values: []int64{1, 2}}, {Time: 100, Values: []int64{1, 2}}},
	} {
		require.ErrorIs(t, s.AppendRows(bg, "s", bad), roles.ErrConflict, name)
		requireRows(t, s, "s", a)
	}
	require.NoError(t, s.AppendRows(bg, "s", extremes))
	requireRows(t, s, "s", append(a, extremes...))
}

func rowsStreams(t *testing.T, s RowOwnerStore) {
	// Names that are prefixes of each other, and one byte longer.
	names := []string{"a", "ab", "a/b", "b", "a\xffz"}
	for i, n := range names {
		require.NoError(t, s.AppendRows(bg, n, rowsOf(uint64(i), 3, i+1)), n)
	}
	for i, n := range names {
		requireRows(t, s, n, rowsOf(uint64(i), 3, i+1))
	}
	// A time before another stream's rows is fine.
	require.NoError(t, s.AppendRows(bg, "c", rowsOf(0, 1, 1)))
	require.NoError(t, s.SealRows(bg, nil, "a", math.MaxUint64))
	requireRows(t, s, "a", nil)
	for i, n := range names[1:] {
		requireRows(t, s, n, rowsOf(uint64(i+1), 3, i+2))
	}
}

func rowsSealAtomic(t *testing.T, s RowOwnerStore) {
	sts := commitChain(t, s, 2)
	rows := rowsOf(100, 6, 1)
	require.NoError(t, s.AppendRows(bg, "s", rows))
	require.NoError(t, s.AppendRows(bg, "t", rows))
	before := snapOwner(t, s)
	rec := newRecord(t, "s", 0)
	p := newPending(t, roles.PendingStore)
	gap := NewState(t, NewState(t, sts[1], RandomID(t)), RandomID(t))
	err := s.SealRows(bg, &roles.OwnerTx{State: gap, Records: []roles.BatchRecord{rec}, PutPending: []roles.PendingOp{p}}, "s", rows[2].Time)
	require.Error(t, err, "a state out of order fails the whole seal")
	require.Equal(t, before, snapOwner(t, s))
	requireRows(t, s, "s", rows)
	_, err = s.Record(bg, rec.ID)
	require.ErrorIs(t, err, roles.ErrUnknownBatch)

	next := NewState(t, sts[1], RandomID(t))
	require.NoError(t, s.SealRows(bg, &roles.OwnerTx{State: next, Records: []roles.BatchRecord{rec}, PutPending: []roles.PendingOp{p}}, "s", rows[2].Time))
	requireRows(t, s, "s", rows[3:])
	requireRows(t, s, "t", rows)
	got, err := s.Record(bg, rec.ID)
	require.NoError(t, err)
	require.Equal(t, rec, *got)
	pend, err := s.Pending(bg)
	require.NoError(t, err)
	require.Equal(t, []roles.PendingOp{p}, pend)
	latest, err := s.LatestState(bg)
	require.NoError(t, err)
	require.Equal(t, *next, *latest)
	// Through a time between rows.
	require.NoError(t, s.SealRows(bg, nil, "s", rows[4].Time+1))
	requireRows(t, s, "s", rows[5:])
	// Appends continue after the last row ever appended, not after the last
	// sealed one: the remaining row still orders them.
	require.ErrorIs(t, s.AppendRows(bg, "s", rowsOf(rows[5].Time, 1, 1)), roles.ErrConflict)
}

func rowsClose(t *testing.T, s RowOwnerStore) {
	require.NoError(t, s.AppendRows(bg, "s", rowsOf(1, 2, 1)))
	require.NoError(t, s.Close())
	require.ErrorIs(t, s.AppendRows(bg, "s", rowsOf(10, 1, 1)), roles.ErrClosed)
	_, err := s.PendingRows(bg, "s")
	require.ErrorIs(t, err, roles.ErrClosed)
	require.ErrorIs(t, s.SealRows(bg, nil, "s", 5), roles.ErrClosed)
}

func rowsConcurrent(t *testing.T, s RowOwnerStore) {
	var wg sync.WaitGroup
	errs := make(chan error, 4*8)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("s%d", g)
			for i := range 8 {
				errs <- s.AppendRows(bg, stream, rowsOf(uint64(i*10), 2, 1))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for g := range 4 {
		got, err := s.PendingRows(bg, fmt.Sprintf("s%d", g))
		require.NoError(t, err)
		require.Len(t, got, 16)
	}
}
