package postgres_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/pgtest"
	"github.com/vdsproject/vds/internal/testkit"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

// TestAppenderOnPostgres: an appender's rows live in the shared owner
// store. An owner of a lease's term appends and seals; after its term
// ends, a fenced append is refused with nothing stored; the next term's
// owner (another process: another Store) resumes the pending rows and
// seals each row once.
func TestAppenderOnPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	crs := testkit.CRS(t, 16)
	a, b := openDSN(t, dsn, "owner-a"), openDSN(t, dsn, "owner-b")
	server := memory.NewServerStore()
	cols := []roles.ColumnInfo{{Name: "v"}}

	la, err := a.AcquireLease(ctx, "", 10*time.Second)
	require.NoError(t, err)
	l1, err := roles.NewLocal(ctx, crs, a.Fenced(la), server)
	require.NoError(t, err)
	ap, err := l1.Owner.Appender(ctx, "pg", cols, roles.AppendPolicy{MaxRows: 8})
	require.NoError(t, err)
	var want int64
	for i := range 11 { // one batch of 8, 3 pending
		require.NoError(t, ap.Append(ctx, uint64(i+1), int64(i)))
		want += int64(i)
	}
	require.Eventually(t, func() bool { return ap.Pending() == 3 }, 10*time.Second, 5*time.Millisecond)

	require.NoError(t, a.ReleaseLease(ctx, la)) // the term ends
	lb, err := b.AcquireLease(ctx, "", 10*time.Second)
	require.NoError(t, err)
	require.ErrorIs(t, ap.Append(ctx, 12, 0), roles.ErrNotLeader, "a fenced append")
	rows, err := b.PendingRows(ctx, "pg")
	require.NoError(t, err)
	require.Len(t, rows, 3, "nothing stored by the refused append")

	l2, err := roles.NewLocal(ctx, crs, b.Fenced(lb), server)
	require.NoError(t, err)
	ap2, err := l2.Owner.Appender(ctx, "pg", cols, roles.AppendPolicy{MaxRows: 8})
	require.NoError(t, err)
	require.Equal(t, 3, ap2.Pending())
	require.NoError(t, ap2.Append(ctx, 12, 11))
	want += 11
	require.NoError(t, ap2.Close(ctx))
	res, err := l2.QueryStream(ctx, &roles.StreamQuery{Stream: "pg", Kind: roles.QueryWindow, Columns: []string{"v"}, TimeTo: math.MaxUint64})
	require.NoError(t, err)
	require.Equal(t, uint64(12), res.Rows)
	require.Equal(t, want, res.Totals[0].Int.Int64())
	require.Len(t, res.Batches, 2)
}
