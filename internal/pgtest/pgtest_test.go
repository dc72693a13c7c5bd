package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestSkipWithoutServer(t *testing.T) {
	t.Setenv(EnvVar, "")
	var skipped bool
	t.Run("inner", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		DSN(t)
		t.Error("not skipped")
	})
	require.True(t, skipped)
}

func TestWithDatabase(t *testing.T) {
	got, err := WithDatabase("postgres://u:p@/postgres?host=/tmp/x&port=5&sslmode=disable", "db1")
	require.NoError(t, err)
	require.Equal(t, "postgres://u:p@/db1?host=/tmp/x&port=5&sslmode=disable", got)
	got, err = WithDatabase("host=/tmp/x dbname=postgres", "db1")
	require.NoError(t, err)
	cfg, err := pgx.ParseConfig(got)
	require.NoError(t, err)
	require.Equal(t, "db1", cfg.Database)
}

// TestDSN creates a database in a subtest and checks that it is empty,
// usable, and gone after the subtest.
func TestDSN(t *testing.T) {
	ctx := context.Background()
	var dsn string
	t.Run("inner", func(t *testing.T) {
		dsn = DSN(t)
		c, err := pgx.Connect(ctx, dsn)
		require.NoError(t, err)
		defer c.Close(ctx)
		var n int
		require.NoError(t, c.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&n))
		require.Zero(t, n)
	})
	if dsn == "" {
		t.Skip(SkipReason)
	}
	_, err := pgx.Connect(ctx, dsn)
	require.Error(t, err, "the database is dropped after the test")
}
