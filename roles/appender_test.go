package roles_test

import (
	"context"
	"errors"
	"math"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

var appendSchema = []roles.ColumnInfo{{Name: "v"}, {Name: "small", Bits: 8}}

// streamTotals queries the whole stream and returns its row count and the
// total of column v, verified.
func streamTotals(t *testing.T, l *roles.Local, stream string) (uint64, int64, int) {
	t.Helper()
	q := &roles.StreamQuery{Stream: stream, Kind: roles.QueryWindow, Columns: []string{"v"}, TimeFrom: 0, TimeTo: math.MaxUint64}
	res, err := l.QueryStream(context.Background(), q)
	require.NoError(t, err)
	require.NoError(t, roles.CheckEntries(0, l.Owner.StreamEntries(stream)))
	return res.Rows, res.Totals[0].Int.Int64(), len(res.Batches)
}

func TestAppenderSealsByCount(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t)
	a, err := l.Owner.Appender(ctx, "live", appendSchema, roles.AppendPolicy{MaxRows: 16})
	require.NoError(t, err)
	var want int64
	for i := range 40 {
		require.NoError(t, a.Append(ctx, uint64(100+i), int64(i), 1))
		want += int64(i)
	}
	require.NoError(t, a.Close(ctx))
	rows, total, batches := streamTotals(t, l, "live")
	require.Equal(t, uint64(40), rows)
	require.Equal(t, want, total)
	require.Equal(t, 3, batches) // 16 + 16 + 8
	es := l.Owner.StreamEntries("live")
	require.Equal(t, uint64(100), es[0].T0)
	require.Equal(t, uint64(115), es[0].T1)
	require.Equal(t, uint64(139), es[2].T1)
	pend, err := l.Owner.Appender(ctx, "live", appendSchema, roles.AppendPolicy{})
	require.NoError(t, err, "a closed appender releases its stream")
	require.Zero(t, pend.Pending())
	require.NoError(t, pend.Close(ctx))
}

func TestAppenderSealsByAge(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t)
	a, err := l.Owner.Appender(ctx, "aged", appendSchema, roles.AppendPolicy{MaxRows: 16, MaxAge: 20 * time.Millisecond})
	require.NoError(t, err)
	defer a.Close(ctx)
	require.NoError(t, a.Append(ctx, 1, 5, 0))
	require.NoError(t, a.Append(ctx, 2, 6, 0))
	// Under load the first row may be sealed alone before the second comes.
	require.Eventually(t, func() bool { return a.Pending() == 0 }, 5*time.Second, 5*time.Millisecond)
	require.NotEmpty(t, l.Owner.StreamEntries("aged"))
	rows, total, _ := streamTotals(t, l, "aged")
	require.Equal(t, uint64(2), rows)
	require.Equal(t, int64(11), total)
}

func TestAppenderFlush(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t)
	a, err := l.Owner.Appender(ctx, "f", appendSchema, roles.AppendPolicy{MaxRows: 16})
	require.NoError(t, err)
	defer a.Close(ctx)
	require.NoError(t, a.Append(ctx, 7, 1, 1))
	require.Empty(t, l.Owner.StreamEntries("f"), "no rule seals one row")
	require.NoError(t, a.Flush(ctx))
	require.Len(t, l.Owner.StreamEntries("f"), 1)
	require.NoError(t, a.Flush(ctx), "nothing to flush")
	require.Len(t, l.Owner.StreamEntries("f"), 1)
}

// TestAppenderRules: each rule's negative case fails with its typed error
// and changes nothing.
func TestAppenderRules(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t)
	a, err := l.Owner.Appender(ctx, "rules", appendSchema, roles.AppendPolicy{MaxRows: 4, MaxPending: 6})
	require.NoError(t, err)
	defer a.Close(ctx)
	require.NoError(t, a.Append(ctx, 10, 1, 1))
	cases := []struct {
		name string
		rows []roles.Row
		want error
	}{
		{"equal time", []roles.Row{{Time: 10, Values: []int64{1, 1}}}, roles.ErrNotIncreasing},
		{"earlier time", []roles.Row{{Time: 9, Values: []int64{1, 1}}}, roles.ErrNotIncreasing},
		{"decreasing within the call", []roles.Row{{Time: 12, Values: []int64{1, 1}}, {Time: 11, Values: []int64{1, 1}}}, roles.ErrNotIncreasing},
		{"too few values", []roles.Row{{Time: 11, Values: []int64{1}}}, roles.ErrRowShape},
		{"too many values", []roles.Row{{Time: 11, Values: []int64{1, 2, 3}}}, roles.ErrRowShape},
		{"value above the bound", []roles.Row{{Time: 11, Values: []int64{1, 256}}}, roles.ErrValueBound},
		{"value below the bound", []roles.Row{{Time: 11, Values: []int64{math.MinInt64, -256}}}, roles.ErrValueBound},
	}
	for _, c := range cases {
		res, err := a.AppendRows(ctx, c.rows)
		require.ErrorIs(t, err, c.want, c.name)
		require.ErrorIs(t, err, roles.ErrInvalidInput, c.name)
		var re *roles.RowError
		require.True(t, errors.As(err, &re), c.name)
		require.Zero(t, res.Acknowledged, c.name)
		require.Equal(t, 1, a.Pending(), c.name)
		require.Equal(t, uint64(10), res.Last, c.name)
	}
	// Back-pressure: the sealer is stopped by an unreachable storage server?
	// Here the limit is hit by one call: more rows than MaxPending at once.
	_, err = a.AppendRows(ctx, make([]roles.Row, 7))
	require.ErrorIs(t, err, roles.ErrTooLarge)
	// The stream has an open appender: Ingest refuses it, and so does a
	// second appender.
	_, err = l.Owner.Ingest(ctx, &roles.Batch{Stream: "rules", Timestamps: []uint64{100}, Columns: []roles.Column{{Name: "v", Values: []int64{1}}}})
	require.ErrorIs(t, err, roles.ErrConflict)
	_, err = l.Owner.Appender(ctx, "rules", appendSchema, roles.AppendPolicy{})
	require.ErrorIs(t, err, roles.ErrAppenderOpen)
	require.NoError(t, a.Close(ctx))
	_, err = a.AppendRows(ctx, []roles.Row{{Time: 11, Values: []int64{1, 1}}})
	require.ErrorIs(t, err, roles.ErrClosed)
}

func TestAppenderBadOptions(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t)
	for name, c := range map[string]struct {
		schema []roles.ColumnInfo
		p      roles.AppendPolicy
	}{
		"rows above n":       {appendSchema, roles.AppendPolicy{MaxRows: testN + 1}},
		"negative age":       {appendSchema, roles.AppendPolicy{MaxAge: -time.Second}},
		"pending below rows": {appendSchema, roles.AppendPolicy{MaxRows: 8, MaxPending: 4}},
		"no columns":         {nil, roles.AppendPolicy{}},
		"duplicate column":   {[]roles.ColumnInfo{{Name: "a"}, {Name: "a"}}, roles.AppendPolicy{}},
		"bad column name":    {[]roles.ColumnInfo{{Name: "a\x00"}}, roles.AppendPolicy{}},
		"scale":              {[]roles.ColumnInfo{{Name: "a", Scale: 31}}, roles.AppendPolicy{}},
		"bits":               {[]roles.ColumnInfo{{Name: "a", Bits: 250}}, roles.AppendPolicy{}},
	} {
		_, err := l.Owner.Appender(ctx, "s", c.schema, c.p)
		require.ErrorIs(t, err, roles.ErrInvalidInput, name)
	}
	_, err := l.Owner.Appender(ctx, "bad/../name", appendSchema, roles.AppendPolicy{})
	require.ErrorIs(t, err, roles.ErrInvalidInput)
}

// unreachable is a storage client that is down.
type unreachable struct{ roles.StorageClient }

func (unreachable) StoreBatch(context.Context, *roles.StoreBatchRequest) error {
	return roles.ErrUnavailable
}
func (unreachable) ApplyState(context.Context, *roles.SignedState) error { return roles.ErrUnavailable }
func (unreachable) LatestState(context.Context) (*roles.SignedState, error) {
	return nil, roles.ErrUnavailable
}

// TestAppenderBackPressure: with the storage server down nothing seals
// (the owner syncs before each batch), rows pile up to MaxPending and the
// next append fails with ErrBufferFull; on reopening with a reachable
// server every pending row is sealed.
func TestAppenderBackPressure(t *testing.T) {
	ctx := context.Background()
	store := memory.NewOwnerStore()
	o, err := roles.NewDataOwner(ctx, testCRS(t), store, unreachable{})
	require.NoError(t, err)
	a, err := o.Appender(ctx, "bp", appendSchema, roles.AppendPolicy{MaxRows: 4, MaxPending: 8})
	require.NoError(t, err)
	for i := range 8 {
		require.NoError(t, a.Append(ctx, uint64(i+1), 1, 0))
	}
	err = a.Append(ctx, 9, 1, 0)
	require.ErrorIs(t, err, roles.ErrBufferFull)
	require.ErrorIs(t, err, roles.ErrUnavailable)
	fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	err = a.Flush(fctx)
	cancel()
	require.Error(t, err)
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	_ = a.Close(cctx)
	cancel()

	l, err := roles.NewLocal(ctx, testCRS(t), store, memory.NewServerStore())
	require.NoError(t, err)
	a, err = l.Owner.Appender(ctx, "bp", appendSchema, roles.AppendPolicy{MaxRows: 4})
	require.NoError(t, err)
	require.Equal(t, 8, a.Pending(), "the acknowledged rows were resumed")
	require.ErrorIs(t, a.Append(ctx, 8, 1, 0), roles.ErrNotIncreasing, "resumed rows count for the order")
	require.NoError(t, a.Close(ctx))
	rows, total, batches := streamTotals(t, l, "bp")
	require.Equal(t, uint64(8), rows)
	require.Equal(t, int64(8), total)
	require.Equal(t, 2, batches)
}

// TestAppenderResume: rows acknowledged by an appender that was never
// closed (a crash) are sealed by the next owner on the same store, exactly
// once, and new rows continue after them; a schema that does not fit the
// pending rows is refused.
func TestAppenderResume(t *testing.T) {
	ctx := context.Background()
	ostore, sstore := memory.NewOwnerStore(), memory.NewServerStore()
	l, err := roles.NewLocal(ctx, testCRS(t), ostore, sstore)
	require.NoError(t, err)
	a, err := l.Owner.Appender(ctx, "r", appendSchema, roles.AppendPolicy{MaxRows: 16})
	require.NoError(t, err)
	for i := range 20 {
		require.NoError(t, a.Append(ctx, uint64(i), int64(i), 0))
	}
	require.Eventually(t, func() bool { return len(l.Owner.StreamEntries("r")) == 1 }, 5*time.Second, time.Millisecond)
	// "Crash": a second owner on the same stores, the first one abandoned.
	l2, err := roles.NewLocal(ctx, testCRS(t), ostore, sstore)
	require.NoError(t, err)
	_, err = l2.Owner.Appender(ctx, "r", appendSchema[:1], roles.AppendPolicy{MaxRows: 16})
	require.ErrorIs(t, err, roles.ErrSchemaMismatch)
	a2, err := l2.Owner.Appender(ctx, "r", appendSchema, roles.AppendPolicy{MaxRows: 16})
	require.NoError(t, err)
	require.Equal(t, 4, a2.Pending())
	require.NoError(t, a2.Append(ctx, 20, 20, 0))
	require.NoError(t, a2.Close(ctx))
	rows, total, batches := streamTotals(t, l2, "r")
	require.Equal(t, uint64(21), rows)
	require.Equal(t, int64(210), total)
	require.Equal(t, 2, batches)
}

// TestAppenderProperty: random calls (sizes, gaps, bad rows mixed in,
// flushes) always end in a stream holding exactly the acknowledged rows,
// in order, each in one batch.
func TestAppenderProperty(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(4) {
		r := mrand.New(mrand.NewPCG(seed, 7))
		l := newLocal(t)
		a, err := l.Owner.Appender(ctx, "p", appendSchema, roles.AppendPolicy{MaxRows: 1 + r.IntN(testN), MaxPending: 64})
		require.NoError(t, err)
		var ts uint64
		var rows uint64
		var total int64
		for range 24 {
			call := make([]roles.Row, 1+r.IntN(5))
			for i := range call {
				ts += 1 + uint64(r.IntN(3))
				call[i] = roles.Row{Time: ts, Values: []int64{r.Int64N(2000) - 1000, r.Int64N(200) - 100}}
			}
			bad := r.IntN(4) == 0
			if bad {
				call[r.IntN(len(call))].Values[1] = 1000 // outside 8 bits
			}
			res, err := a.AppendRows(ctx, call)
			if errors.Is(err, roles.ErrBufferFull) {
				require.NoError(t, a.Flush(ctx))
				res, err = a.AppendRows(ctx, call)
			}
			if bad {
				require.ErrorIs(t, err, roles.ErrValueBound)
				require.Zero(t, res.Acknowledged)
				ts = res.Last
				continue
			}
			require.NoError(t, err)
			require.Equal(t, len(call), res.Acknowledged)
			for _, row := range call {
				rows++
				total += row.Values[0]
			}
			if r.IntN(6) == 0 {
				require.NoError(t, a.Flush(ctx))
			}
		}
		require.NoError(t, a.Close(ctx))
		got, sum, _ := streamTotals(t, l, "p")
		require.Equal(t, rows, got, "seed %d", seed)
		require.Equal(t, total, sum, "seed %d", seed)
	}
}

// TestAppenderUpdateLastBatch: while the stream's appender is open, an
// update of its last batch may not reach the appender's rows (the next
// seal would then break the stream's order); one that stays before them
// goes through.
func TestAppenderUpdateLastBatch(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t)
	a, err := l.Owner.Appender(ctx, "u", appendSchema[:1], roles.AppendPolicy{MaxRows: 2})
	require.NoError(t, err)
	defer a.Close(ctx)
	require.NoError(t, a.Append(ctx, 10, 1))
	require.NoError(t, a.Append(ctx, 20, 2))
	require.NoError(t, a.Flush(ctx))
	require.NoError(t, a.Append(ctx, 30, 3)) // pending
	id := l.Owner.StreamEntries("u")[0].Batch
	upd := func(t1 uint64) error {
		_, _, err := l.Owner.Update(ctx, id, &roles.Batch{Timestamps: []uint64{10, t1}, Columns: []roles.Column{{Name: "v", Values: []int64{1, 5}}}})
		return err
	}
	require.ErrorIs(t, upd(30), roles.ErrConflict, "reaches the pending row")
	require.NoError(t, upd(29))
	require.NoError(t, a.Close(ctx))
	n, total, _ := streamTotals(t, l, "u")
	require.Equal(t, uint64(3), n)
	require.Equal(t, int64(9), total)
}

// lostCommit is an owner store whose next AppendRows commits and then
// reports a failure, as a database connection lost during the commit.
type lostCommit struct {
	*memory.OwnerStore
	lose bool
}

func (s *lostCommit) AppendRows(ctx context.Context, stream string, rows []roles.Row) error {
	if err := s.OwnerStore.AppendRows(ctx, stream, rows); err != nil {
		return err
	}
	if s.lose {
		s.lose = false
		return roles.ErrUnavailable
	}
	return nil
}

// TestAppenderLostCommit: a durable write that reports a failure is taken
// back from the store: the rows count as acknowledged (Last), a retry of
// them is refused as not increasing, and they are sealed once.
func TestAppenderLostCommit(t *testing.T) {
	ctx := context.Background()
	store := &lostCommit{OwnerStore: memory.NewOwnerStore()}
	l, err := roles.NewLocal(ctx, testCRS(t), store, memory.NewServerStore())
	require.NoError(t, err)
	a, err := l.Owner.Appender(ctx, "lc", appendSchema[:1], roles.AppendPolicy{MaxRows: 4})
	require.NoError(t, err)
	require.NoError(t, a.Append(ctx, 1, 1))
	store.lose = true
	rows := []roles.Row{{Time: 2, Values: []int64{2}}, {Time: 3, Values: []int64{3}}}
	res, err := a.AppendRows(ctx, rows)
	require.ErrorIs(t, err, roles.ErrUnavailable)
	require.Equal(t, uint64(3), res.Last, "the committed rows are known")
	require.Equal(t, 3, a.Pending())
	_, err = a.AppendRows(ctx, rows)
	require.ErrorIs(t, err, roles.ErrNotIncreasing)
	require.NoError(t, a.Append(ctx, 4, 4))
	require.NoError(t, a.Close(ctx))
	n, total, batches := streamTotals(t, l, "lc")
	require.Equal(t, uint64(4), n)
	require.Equal(t, int64(10), total)
	require.Equal(t, 1, batches)
}
