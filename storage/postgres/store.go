package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/internal/rawenc"
)

var (
	// ErrUnknownSchema is returned (wrapped) by Open when the database
	// holds a schema newer than this package knows, or a migration whose
	// recorded checksum differs from this package's. It wraps
	// roles.ErrInvalidEncoding.
	ErrUnknownSchema = fmt.Errorf("postgres: unknown database schema: %w", roles.ErrInvalidEncoding)
	// ErrCorrupt is returned (wrapped) when a value read from the database
	// does not decode. It wraps roles.ErrInvalidEncoding.
	ErrCorrupt = fmt.Errorf("postgres: corrupt value in the database: %w", roles.ErrInvalidEncoding)
)

// raw decodes the fixed-width layouts, failing with ErrCorrupt.
var raw = rawenc.Codec{Corrupt: ErrCorrupt}

// IsDSN reports whether s names a PostgreSQL database in URL form
// (postgres:// or postgresql://), as the command's -store flag takes it.
func IsDSN(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Option configures Open.
type Option func(*options) error

type options struct {
	maxConns  int32
	txRetries int
	holder    string
}

// WithMaxConns sets the largest number of connections the store's pool
// opens (default: pgxpool's, or pool_max_conns in the DSN).
func WithMaxConns(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 1<<16 {
			return fmt.Errorf("postgres: %d connections, want 1..65536: %w", n, roles.ErrInvalidInput)
		}
		o.maxConns = int32(n)
		return nil
	}
}

// WithHolder names this process in precomputation claims (default
// host:pid:random), for the operator who looks at vds_precompute_claims.
func WithHolder(name string) Option {
	return func(o *options) error {
		if name == "" || len(name) > 200 {
			return fmt.Errorf("postgres: holder name of %d bytes, want 1..200: %w", len(name), roles.ErrInvalidInput)
		}
		o.holder = name
		return nil
	}
}

// DefaultTxRetries is how many times a write transaction is tried again
// after a serialization failure, a deadlock or a unique-key race with
// another replica, before the call fails with roles.ErrUnavailable.
const DefaultTxRetries = 20

// Store is a roles.ServerStore and roles.ProofTableStore in a PostgreSQL
// database, shared by any number of processes. It is safe for concurrent
// use. See the package documentation.
type Store struct {
	pool    *pgxpool.Pool
	opts    options
	closed  atomic.Bool
	release func() // closes the pool once
}

var (
	_ roles.ServerStore       = (*Store)(nil)
	_ roles.ProofTableStore   = (*Store)(nil)
	_ roles.ProofTableClaimer = (*Store)(nil)
)

// Open connects to the database named by dsn (a postgres:// URL or a
// keyword/value string, as pgx reads them), creates or migrates the schema
// (see the package documentation) and returns the store. ctx bounds the
// connection and the migration only. A database that cannot be reached
// fails with an error wrapping roles.ErrUnavailable; a schema this package
// does not know with ErrUnknownSchema.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{txRetries: DefaultTxRetries}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if o.holder == "" {
		host, _ := os.Hostname()
		o.holder = fmt.Sprintf("%s:%d:%08x", host, os.Getpid(), rand.Uint32())
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The error may quote the DSN, password included: do not wrap it.
		return nil, fmt.Errorf("postgres: the DSN does not parse: %w", roles.ErrInvalidInput)
	}
	if o.maxConns > 0 {
		cfg.MaxConns = o.maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", dbErr(ctx, err))
	}
	s := &Store{pool: pool, opts: o}
	s.release = pool.Close
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the pool after the calls in progress end. Every later call
// fails with roles.ErrClosed; closing again is a no-op. It does not change
// the database.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.release()
	return nil
}

// Ping checks that the database answers, for readiness probes: nil, or an
// error wrapping roles.ErrUnavailable (or roles.ErrClosed).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := s.pool.Ping(ctx); err != nil {
		return s.mapErr(ctx, err)
	}
	return nil
}

func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return roles.ErrClosed
	}
	return ctx.Err()
}

// view runs fn outside any explicit transaction: each statement of fn
// reads one consistent snapshot of its own. Reads that need one snapshot
// across statements use a single statement.
//
// A read that failed because its pooled connection had broken (the
// database restarted, a proxy dropped it) is run once more on another
// connection: reads are idempotent.
func (s *Store) view(ctx context.Context, fn func(ctx context.Context, q querier) error) error {
	for attempt := 0; ; attempt++ {
		if err := s.check(ctx); err != nil {
			return err
		}
		err := fn(ctx, s.pool)
		if err == nil {
			return nil
		}
		if attempt == 0 && connLost(ctx, err) {
			continue
		}
		return s.mapErr(ctx, err)
	}
}

// connLost reports whether err is a connection failure rather than an
// answer of the server, a cancelled ctx or one of the store's own errors.
func connLost(ctx context.Context, err error) bool {
	if ctx.Err() != nil || isDomain(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *pgconn.PgError
	return !errors.As(err, &pe) || unavailableCode(pe.Code)
}

// unavailableCode reports whether a SQLSTATE says the connection or the
// server is gone or going (class 08, shutdown, too many connections).
func unavailableCode(code string) bool {
	switch code {
	case codeAdminShutdown, codeCrashShutdown, codeCannotConnectNow, codeTooManyConnections:
		return true
	}
	return strings.HasPrefix(code, "08")
}

// querier is what pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// update runs fn in one SERIALIZABLE transaction and commits it: the whole
// change or nothing. A serialization failure, a deadlock, a unique-key
// race with another process, or a connection failure before anything was
// sent runs fn again (after a short random pause), up to the retry limit;
// fn must therefore decide everything from what it reads in tx.
func (s *Store) update(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	for attempt := 0; ; attempt++ {
		if err := s.check(ctx); err != nil {
			return err
		}
		err := s.tryUpdate(ctx, fn)
		if err == nil {
			return nil
		}
		if isDomain(err) || ctx.Err() != nil || !retryable(err) {
			return s.mapErr(ctx, err)
		}
		if attempt >= s.opts.txRetries {
			return fmt.Errorf("postgres: transaction still conflicting after %d tries: %w: %v", attempt+1, roles.ErrUnavailable, err)
		}
		pause := time.Duration(1+rand.IntN(1<<min(attempt, 6))) * time.Millisecond
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// errBeginLost marks a transaction that could not begin because its pooled
// connection had broken: nothing was done, so it may run again.
var errBeginLost = errors.New("postgres: connection lost before the transaction began")

// tryUpdate runs fn in one SERIALIZABLE transaction and commits it.
func (s *Store) tryUpdate(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		var ce *pgconn.ConnectError
		if connLost(ctx, err) && !errors.As(err, &ce) {
			return fmt.Errorf("%w: %w", errBeginLost, err)
		}
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }() // a no-op after Commit
	if err := fn(ctx, tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// SQLSTATE codes (PostgreSQL appendix A).
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlock             = "40P01"
	codeDuplicateTable       = "42P07"
	codeDuplicateObject      = "42710"
	codeAdminShutdown        = "57P01"
	codeCrashShutdown        = "57P02"
	codeCannotConnectNow     = "57P03"
	codeTooManyConnections   = "53300"
)

// retryable reports whether a failed transaction may simply run again.
func retryable(err error) bool {
	if errors.Is(err, errBeginLost) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeSerializationFailure, codeDeadlock, codeUniqueViolation:
			return true
		}
		return false
	}
	return pgconn.SafeToRetry(err)
}

// domainErrors are the errors the store's own checks return; they pass
// through unchanged.
var domainErrors = []error{
	roles.ErrInvalidInput, roles.ErrInvalidEncoding, roles.ErrTooLarge, roles.ErrConflict,
	roles.ErrRevoked, roles.ErrUnknownState, roles.ErrUnknownBatch, roles.ErrNotFound,
	roles.ErrClosed, roles.ErrUnavailable, roles.ErrNotLeader,
}

func isDomain(err error) bool {
	for _, d := range domainErrors {
		if errors.Is(err, d) {
			return true
		}
	}
	return false
}

// mapErr maps what the driver returned to the library's errors: the
// store's own typed errors unchanged; a cancelled or expired ctx as
// ctx.Err(); a closed store as roles.ErrClosed; an error the server
// reported as itself; and everything else (no connection, connection
// lost, server shutting down) as roles.ErrUnavailable.
func (s *Store) mapErr(ctx context.Context, err error) error {
	if isDomain(err) {
		return err
	}
	if s.closed.Load() {
		return roles.ErrClosed
	}
	return dbErr(ctx, err)
}

func dbErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("postgres: %w", cerr)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("postgres: %w", err)
	}
	// A connection could not be made (whatever the server said, if it
	// said anything). Connection errors can quote the DSN: keep only the
	// server's message.
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	if errors.As(err, &ce) {
		if errors.As(err, &pe) {
			return fmt.Errorf("postgres: cannot connect to the database: %w: %s (SQLSTATE %s)", roles.ErrUnavailable, pe.Message, pe.Code)
		}
		return fmt.Errorf("postgres: cannot connect to the database: %w", roles.ErrUnavailable)
	}
	if errors.As(err, &pe) {
		if unavailableCode(pe.Code) {
			return fmt.Errorf("postgres: database unavailable: %w: %s (SQLSTATE %s)", roles.ErrUnavailable, pe.Message, pe.Code)
		}
		return fmt.Errorf("postgres: database error: %s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	// Not reported by the server: the connection was lost or broke.
	return fmt.Errorf("postgres: database unreachable: %w: %v", roles.ErrUnavailable, err)
}

// encode marshals v with the strict codec, refusing what it could not
// decode again (rawenc.Marshal).
func encode[T any](what string, v *T) ([]byte, error) { return rawenc.Marshal(what, v) }

// decode unmarshals a value the store wrote; failures wrap ErrCorrupt.
func decode[T any](what string, b []byte) (*T, error) { return rawenc.Unmarshal[T](raw, what, b) }

func inputError(field, format string, args ...any) error {
	return &roles.InputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
