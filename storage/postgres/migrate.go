package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one versioned schema change.
type migration struct {
	version int
	name    string
	sql     string
	sum     [32]byte
}

// migrations returns the embedded migrations in version order. Their file
// names are NNNN_name.sql, numbered 1, 2, … without gaps.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, n := range names {
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("postgres: migration file %s is not named NNNN_name.sql", base)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: strings.TrimSuffix(base, ".sql"), sql: string(b), sum: sha256.Sum256(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("postgres: migration %s out of sequence (want version %d)", m.name, i+1)
		}
	}
	return out, nil
}

// SchemaVersion is the schema version this package creates and reads: the
// number of its migrations.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS vds_schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   BYTEA NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`

// migrate brings the schema to SchemaVersion. Several processes may run it
// at once: each migration is applied in one transaction that first inserts
// its row into vds_schema_migrations; a second process inserting the same
// version waits on the primary key until the first commits, then inserts
// nothing and skips the migration (or, if the first rolled back, applies it
// itself). No advisory lock is used.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if err := s.retryDDL(ctx, func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, createMigrationsTable)
		return err
	}); err != nil {
		return fmt.Errorf("postgres: create the migrations table: %w", err)
	}
	if err := s.checkNewest(ctx, len(ms)); err != nil {
		return err
	}
	for _, m := range ms {
		if err := s.retryDDL(ctx, func(ctx context.Context) error { return s.apply(ctx, m) }); err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.name, err)
		}
	}
	return nil
}

// checkNewest refuses a database whose schema is newer than this package.
func (s *Store) checkNewest(ctx context.Context, known int) error {
	var newest int
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM vds_schema_migrations`).Scan(&newest)
	if err != nil {
		return fmt.Errorf("postgres: read the schema version: %w", s.mapErr(ctx, err))
	}
	if newest > known {
		return fmt.Errorf("postgres: the database has schema version %d, this program knows versions up to %d: %w", newest, known, ErrUnknownSchema)
	}
	return nil
}

// apply applies one migration unless it is recorded, and checks the
// checksum of a recorded one.
func (s *Store) apply(ctx context.Context, m migration) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO vds_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)
			ON CONFLICT (version) DO NOTHING`, m.version, m.name, m.sum[:])
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var sum []byte
			if err := tx.QueryRow(ctx, `SELECT checksum FROM vds_schema_migrations WHERE version = $1`, m.version).Scan(&sum); err != nil {
				return err
			}
			if !bytes.Equal(sum, m.sum[:]) {
				return fmt.Errorf("recorded with another checksum (the file was changed after it was applied): %w", ErrUnknownSchema)
			}
			return nil
		}
		_, err = tx.Exec(ctx, m.sql)
		return err
	})
}

// retryDDL runs fn again when it lost a race with another process creating
// the same object (PostgreSQL's CREATE … IF NOT EXISTS is not safe against
// a concurrent creation) or a serialization failure.
func (s *Store) retryDDL(ctx context.Context, fn func(ctx context.Context) error) error {
	for attempt := 0; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		var pe *pgconn.PgError
		race := errors.As(err, &pe) && (pe.Code == codeUniqueViolation || pe.Code == codeDuplicateTable ||
			pe.Code == codeDuplicateObject || pe.Code == codeSerializationFailure || pe.Code == codeDeadlock)
		if !race || attempt >= s.opts.txRetries {
			if errors.Is(err, ErrUnknownSchema) {
				return err
			}
			return s.mapErr(ctx, err)
		}
		select {
		case <-time.After(time.Duration(1+rand.IntN(20)) * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
