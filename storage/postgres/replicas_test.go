package postgres_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/internal/pgtest"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/storage/postgres"
	"github.com/vdsproject/vds/storage/storetest"
)

func open(t *testing.T, dsn string, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func meterBatch(rows int, base int64, t0 uint64) *roles.Batch {
	b := &roles.Batch{Stream: "meters", Timestamps: make([]uint64, rows)}
	c := roles.Column{Name: "kwh", Values: make([]int64, rows)}
	for i := range rows {
		b.Timestamps[i] = t0 + uint64(i)
		c.Values[i] = base + int64(i)
	}
	b.Columns = []roles.Column{c}
	return b
}

// TestTwoReplicas runs two storage servers on one database: the owner
// pushes to replica A only, and replica B answers every query from what A
// stored, follows A's revocations at once, and a B that was down (its
// store closed) catches up from the database when it comes back.
func TestTwoReplicas(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	crs, err := commitment.Setup(16, rand.Reader)
	require.NoError(t, err)

	storeA := open(t, dsn)
	ownerStore := open(t, pgtest.DSN(t))                   // the owner's own database
	l, err := roles.NewLocal(ctx, crs, ownerStore, storeA) // the owner pushes to A
	require.NoError(t, err)
	defer l.Server.Close()
	newB := func() (*roles.StorageServer, *postgres.Store) {
		s := open(t, dsn)
		b, err := roles.NewStorageServer(crs, l.Owner.Keys(), s)
		require.NoError(t, err)
		return b, s
	}
	b, storeB := newB()
	ask := func(srv *roles.StorageServer, id roles.BatchID, rows uint32) (*roles.Query, *roles.Answer, error) {
		q := &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: []string{"kwh"}, From: 1, To: rows}
		ans, err := srv.Answer(ctx, q)
		return q, ans, err
	}
	create := func(rows int, base int64, t0 uint64) roles.BatchID {
		sh, err := l.Owner.CreateBatch(ctx, meterBatch(rows, base, t0))
		require.NoError(t, err)
		id, err := sh.Header.Digest()
		require.NoError(t, err)
		return id
	}

	id1 := create(8, 100, 1000)
	id2 := create(8, 200, 2000)
	for _, srv := range []*roles.StorageServer{l.Server, b} {
		q, ans, err := ask(srv, id1, 8)
		require.NoError(t, err)
		res, err := l.Verifier.Verify(ctx, q, ans)
		require.NoError(t, err)
		require.EqualValues(t, 8*100+28, res.Values[0].Int.Int64())
	}
	list, err := b.ListBatches(ctx, "")
	require.NoError(t, err)
	require.Len(t, list, 2)

	// An answer B built before the revocation is refused after it, and B
	// refuses to answer about the revoked batch: it reads the new state
	// from the database, not from a cache.
	q, old, err := ask(b, id1, 8)
	require.NoError(t, err)
	st, err := l.Owner.Revoke(ctx, id1)
	require.NoError(t, err)
	latest, err := b.LatestState(ctx)
	require.NoError(t, err)
	require.Equal(t, st.State.Epoch, latest.State.Epoch)
	_, err = l.Verifier.Verify(ctx, q, old)
	require.Error(t, err, "an answer of the epoch before the revocation")
	_, _, err = ask(b, id1, 8)
	var re *roles.RevokedError
	require.ErrorAs(t, err, &re)
	require.Equal(t, st.State.Epoch, re.Epoch)
	// B's witness of id2 is brought to the new epoch.
	q, ans, err := ask(b, id2, 8)
	require.NoError(t, err)
	require.Equal(t, st.State.Epoch, ans.Epoch)
	_, err = l.Verifier.Verify(ctx, q, ans)
	require.NoError(t, err)

	// B goes down; A receives a batch, an update and a revocation.
	require.NoError(t, b.Close())
	require.NoError(t, storeB.Close())
	id3 := create(4, 300, 3000)
	sh, _, err := l.Owner.Update(ctx, id2, meterBatch(4, 900, 2000))
	require.NoError(t, err)
	id2v1, err := sh.Header.Digest()
	require.NoError(t, err)
	st, err = l.Owner.Revoke(ctx, id3)
	require.NoError(t, err)

	// B comes back: it serves the owner's latest state at once.
	b, _ = newB()
	defer b.Close()
	latest, err = b.LatestState(ctx)
	require.NoError(t, err)
	require.Equal(t, *st, *latest)
	q, ans, err = ask(b, id2v1, 4)
	require.NoError(t, err)
	res, err := l.Verifier.Verify(ctx, q, ans)
	require.NoError(t, err)
	require.EqualValues(t, 4*900+6, res.Values[0].Int.Int64())
	for _, id := range []roles.BatchID{id2, id3} {
		_, _, err = ask(b, id, 4)
		require.ErrorIs(t, err, roles.ErrRevoked)
	}
	states, err := b.States(ctx, 0, st.State.Epoch)
	require.NoError(t, err)
	require.Len(t, states, int(st.State.Epoch)+1)
}

// TestConcurrentPushes has several stores on one database receive the same
// batches and states at once, as replicas do when an owner retries through
// another replica: every push succeeds once, the rest are no-ops, and a
// different state for a held epoch is a conflict.
func TestConcurrentPushes(t *testing.T) {
	dsn := pgtest.DSN(t)
	stores := []*postgres.Store{open(t, dsn), open(t, dsn), open(t, dsn)}
	const rounds = 6
	var batches []*roles.StoredBatch
	for i := range rounds {
		batches = append(batches, storetest.NewBatch(t, "s", uint64(i), 0, 8, 1))
	}
	chain := []*roles.SignedState{storetest.NewState(t, nil, roles.BatchID{})}
	for i := range rounds {
		chain = append(chain, storetest.NewState(t, chain[i], storetest.RandomID(t)))
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errc := make(chan error, 4*len(stores))
	for w := range 4 {
		for _, s := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errc <- func() error {
					for i := range rounds {
						b := batches[(i+w)%rounds]
						if err := s.PutBatch(ctx, b); err != nil {
							return fmt.Errorf("PutBatch: %w", err)
						}
						// The epochs in order; appending a held epoch again is a no-op.
						if err := s.AppendState(ctx, chain[i]); err != nil {
							return fmt.Errorf("AppendState(%d): %w", i, err)
						}
					}
					return s.UpdateBatch(ctx, chain[rounds], batches[0])
				}()
			}()
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		require.NoError(t, err)
	}
	for _, s := range stores {
		list, err := s.List(ctx, "")
		require.NoError(t, err)
		require.Len(t, list, rounds)
		latest, err := s.LatestState(ctx)
		require.NoError(t, err)
		require.Equal(t, *chain[rounds], *latest)
	}
	// A different state for epoch 1: a typed conflict, nothing changed.
	other := storetest.NewState(t, chain[0], storetest.RandomID(t))
	for _, s := range stores {
		require.ErrorIs(t, s.AppendState(ctx, other), roles.ErrConflict)
	}
	// The same batch id with another slot: a conflict.
	moved := *batches[1]
	moved.Header.Header.Seq = 99
	require.ErrorIs(t, stores[2].PutBatch(ctx, &moved), roles.ErrConflict)
}

// TestPrecomputeOnce has two servers with background precomputation on
// one database: the tables of a batch stored through one are computed
// once, by whichever claims each column, and both answer from them.
func TestPrecomputeOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	crs, err := commitment.Setup(16, rand.Reader)
	require.NoError(t, err)
	var puts atomic.Int32
	// A writes its tables slowly, so that B's work overlaps A's.
	storeA := &countingStore{Store: open(t, dsn, postgres.WithHolder("a")), puts: &puts, delay: 300 * time.Millisecond}
	storeB := &countingStore{Store: open(t, dsn, postgres.WithHolder("b")), puts: &puts}
	l, err := roles.NewLocal(ctx, crs, memory.NewOwnerStore(), storeA)
	require.NoError(t, err)
	defer l.Server.Close()
	b, err := roles.NewStorageServer(crs, l.Owner.Keys(), storeB)
	require.NoError(t, err)
	defer b.Close()

	sh, err := l.Owner.CreateBatch(ctx, meterBatch(16, 5, 100))
	require.NoError(t, err)
	id, err := sh.Header.Digest()
	require.NoError(t, err)
	// B schedules the batch too, as a restarted replica does.
	_, err = b.ResumePrecompute(ctx)
	require.NoError(t, err)
	require.NoError(t, l.Server.WaitPrecomputed(ctx))
	require.NoError(t, b.WaitPrecomputed(ctx))
	// Whichever server lost a column's claim skipped it; run the loser
	// again so that every column is done.
	for range 3 {
		if cols, _, err := storeA.ProofTables(ctx, id); err == nil && len(cols) == 2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
		_, err = b.ResumePrecompute(ctx)
		require.NoError(t, err)
		require.NoError(t, b.WaitPrecomputed(ctx))
	}
	cols, _, err := storeB.ProofTables(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []int{0, 1}, cols)
	require.EqualValues(t, 2, puts.Load(), "each table computed and written once across the two servers")
	for _, srv := range []*roles.StorageServer{l.Server, b} {
		q := &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: []string{"kwh"}, From: 3, To: 9}
		ans, err := srv.Answer(ctx, q)
		require.NoError(t, err)
		_, err = l.Verifier.Verify(ctx, q, ans)
		require.NoError(t, err)
	}
}

// countingStore counts the proof tables written through it.
type countingStore struct {
	*postgres.Store
	puts  *atomic.Int32
	delay time.Duration
}

func (c *countingStore) PutProofTable(ctx context.Context, id roles.BatchID, col int, prefix []bls.G1Affine, values []fr.Element) error {
	c.puts.Add(1)
	time.Sleep(c.delay)
	return c.Store.PutProofTable(ctx, id, col, prefix, values)
}

// TestClaims checks the claim protocol of ClaimProofTable.
func TestClaims(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	a, b := open(t, dsn, postgres.WithHolder("a")), open(t, dsn, postgres.WithHolder("b"))
	id := storetest.RandomID(t)
	ok, err := a.ClaimProofTable(ctx, id, 0, time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "a free claim")
	ok, err = b.ClaimProofTable(ctx, id, 0, time.Minute)
	require.NoError(t, err)
	require.False(t, ok, "a claim held by another")
	ok, err = b.ClaimProofTable(ctx, id, 1, time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "another column")
	ok, err = a.ClaimProofTable(ctx, id, 0, time.Millisecond)
	require.NoError(t, err)
	require.True(t, ok, "renewing one's own claim")
	time.Sleep(20 * time.Millisecond)
	ok, err = b.ClaimProofTable(ctx, id, 0, time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "a lapsed claim")
	_, err = a.ClaimProofTable(ctx, id, -1, time.Minute)
	require.ErrorIs(t, err, roles.ErrInvalidInput)
}

// TestMigrations opens several stores on one fresh database at once (the
// migration runs once), and refuses a database with a newer schema or a
// changed migration.
func TestMigrations(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errc := make(chan error, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(ctx, dsn)
			if err == nil {
				err = s.Close()
			}
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		require.NoError(t, err)
	}
	s := open(t, dsn)
	db := rawConn(t, dsn)
	var n, v int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*), max(version) FROM vds_schema_migrations`).Scan(&n, &v))
	require.Equal(t, postgres.SchemaVersion(), n)
	require.Equal(t, postgres.SchemaVersion(), v)
	require.NoError(t, s.Close())

	_, err := db.Exec(ctx, `UPDATE vds_schema_migrations SET checksum = '\x00' WHERE version = 1`)
	require.NoError(t, err)
	_, err = postgres.Open(ctx, dsn)
	require.ErrorIs(t, err, postgres.ErrUnknownSchema)
	require.ErrorIs(t, err, roles.ErrInvalidEncoding)

	_, err = db.Exec(ctx, `INSERT INTO vds_schema_migrations (version, name, checksum) VALUES (999, 'future', '\x00')`)
	require.NoError(t, err)
	_, err = postgres.Open(ctx, dsn)
	require.ErrorIs(t, err, postgres.ErrUnknownSchema)
}

// TestUnavailable checks that a database that cannot be reached, or goes
// away, fails with roles.ErrUnavailable, a bad DSN with
// roles.ErrInvalidInput, and that a broken pooled connection is replaced.
func TestUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := postgres.Open(ctx, "postgres://vds:secret@127.0.0.1:1/vds?connect_timeout=5")
	require.ErrorIs(t, err, roles.ErrUnavailable)
	require.NotContains(t, err.Error(), "secret")
	_, err = postgres.Open(ctx, "postgres://vds:secret@127.0.0.1:99999999/vds")
	require.ErrorIs(t, err, roles.ErrInvalidInput)
	require.NotContains(t, err.Error(), "secret")

	// A database dropped under a live store: every call fails with
	// ErrUnavailable (the connections are closed; new ones are refused).
	dsn := pgtest.DSN(t)
	s := open(t, dsn, postgres.WithMaxConns(1))
	require.NoError(t, s.Ping(ctx))
	name := dbName(t, dsn)
	admin := rawConn(t, pgtest.AdminDSN(t))

	// A connection that broke under the pool (the server ended it) costs
	// a read nothing: it runs again on a new connection.
	var ended int
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = $1 AND pid <> pg_backend_pid()`, name).Scan(&ended))
	require.Equal(t, 1, ended)
	_, err = s.LatestState(ctx)
	require.ErrorIs(t, err, roles.ErrUnknownState)
	// Nor a write, which had not begun.
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = $1 AND pid <> pg_backend_pid()`, name).Scan(&ended))
	require.Equal(t, 1, ended)
	require.NoError(t, s.AppendState(ctx, storetest.NewState(t, nil, roles.BatchID{})))
	_, err = admin.Exec(ctx, `DROP DATABASE `+name+` WITH (FORCE)`)
	require.NoError(t, err)
	_, err = s.LatestState(ctx)
	require.ErrorIs(t, err, roles.ErrUnavailable)
	require.ErrorIs(t, s.Ping(ctx), roles.ErrUnavailable)
	err = s.PutBatch(ctx, storetest.NewBatch(t, "s", 0, 0, 4, 1))
	require.ErrorIs(t, err, roles.ErrUnavailable)
	require.False(t, errors.Is(err, roles.ErrClosed))
}

// TestContextInterruptsQuery: a call blocked in the database (here on a
// lock another session holds) returns when its ctx expires, with
// ctx's error, and the store works on afterwards.
func TestContextInterruptsQuery(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := open(t, dsn)
	ctx := context.Background()
	require.NoError(t, s.AppendState(ctx, storetest.NewState(t, nil, roles.BatchID{})))
	locker := rawConn(t, dsn)
	tx, err := locker.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `LOCK TABLE vds_states IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)

	for name, call := range map[string]func(context.Context) error{
		"LatestState": func(ctx context.Context) error { _, err := s.LatestState(ctx); return err },
		"AppendState": func(ctx context.Context) error {
			return s.AppendState(ctx, storetest.NewState(t, nil, roles.BatchID{}))
		},
	} {
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		err := call(cctx)
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded, name)
	}
	require.NoError(t, tx.Rollback(ctx))
	latest, err := s.LatestState(ctx)
	require.NoError(t, err)
	require.Zero(t, latest.State.Epoch)
}
