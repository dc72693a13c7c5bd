package bolt_test

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
	"github.com/vdsproject/vds/storage/storetest"
)

var bg = context.Background()

// TestReopen checks that everything a closed store held is there after
// reopening it, for both roles, and that the chain goes on.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := bolt.Open(path)
	require.NoError(t, err)

	// Server side.
	b1 := storetest.NewBatch(t, "s", 0, 0, 300, 3)
	b2 := storetest.NewBatch(t, "s", 1, 0, 10, 1)
	b3 := storetest.NewBatch(t, "t", 0, 0, 10, 2)
	for _, b := range []*roles.StoredBatch{b1, b2, b3} {
		require.NoError(t, s.PutBatch(bg, b))
	}
	g := storetest.NewState(t, nil, roles.BatchID{})
	s1 := storetest.NewState(t, g, b2.ID)
	s2 := storetest.NewState(t, s1, b1.ID)
	b1v1 := storetest.NewBatch(t, "s", 0, 1, 20, 3)
	require.NoError(t, s.AppendState(bg, g))
	require.NoError(t, s.AppendState(bg, s1))
	require.NoError(t, s.UpdateBatch(bg, s2, b1v1))
	r2 := storetest.Resign(t, s2, s2.IssuedAt+1)
	require.NoError(t, s.AppendState(bg, r2))
	w := accumulator.Witness{W: storetest.RandomG1(t), U: storetest.RandomScalar(t), Epoch: 2}
	require.NoError(t, s.PutWitness(bg, b3.ID, w))
	require.NoError(t, s.PutWitness(bg, b1v1.ID, accumulator.InitialWitness()))

	// Owner side, in the same file.
	sec := &roles.OwnerSecrets{SigningSeed: []byte("0123456789abcdef0123456789abcdef"), Accumulator: []byte("fedcba9876543210fedcba9876543210")}
	require.NoError(t, s.InitSecrets(bg, sec))
	for range 3 {
		_, err := s.ReserveSeq(bg, "s")
		require.NoError(t, err)
	}
	rec := roles.BatchRecord{ID: b1.ID, Stream: "s", Seq: 0, RevokedAt: 2}
	p1 := roles.PendingOp{ID: b3.ID, Kind: roles.PendingStore, Request: []byte("req-1")}
	p2 := roles.PendingOp{ID: b1v1.ID, Kind: roles.PendingUpdate, Request: []byte("req-2")}
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{Records: []roles.BatchRecord{rec}, PutPending: []roles.PendingOp{p1, p2}}))

	wantList, err := s.List(bg, "")
	require.NoError(t, err)
	wantFs, wantXs, err := s.History(bg, 0, 2)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s, err = bolt.Open(path)
	require.NoError(t, err)
	defer s.Close()

	for _, c := range []struct {
		b         *roles.StoredBatch
		revokedAt uint64
	}{{b1, 2}, {b2, 1}, {b3, 0}, {b1v1, 0}} {
		got, err := s.Batch(bg, c.b.ID)
		require.NoError(t, err)
		require.Equal(t, c.b.Header, got.Header)
		require.Equal(t, c.b.Data, got.Data)
		require.Equal(t, c.revokedAt, got.RevokedAt)
	}
	list, err := s.List(bg, "")
	require.NoError(t, err)
	require.Equal(t, wantList, list)
	require.Len(t, list, 4)
	sts, err := s.States(bg, 0, 2)
	require.NoError(t, err)
	require.Equal(t, []roles.SignedState{*g, *s1, *r2}, sts)
	fs, xs, err := s.History(bg, 0, 2)
	require.NoError(t, err)
	require.Equal(t, wantFs, fs)
	require.Equal(t, wantXs, xs)
	require.Equal(t, []bls.G1Affine{bls.G1Affine(g.State.Acc), bls.G1Affine(s1.State.Acc)}, fs)
	require.Equal(t, []fr.Element{fr.Element(s1.State.Revoked.X), fr.Element(s2.State.Revoked.X)}, xs)
	gotW, err := s.Witness(bg, b3.ID)
	require.NoError(t, err)
	require.Equal(t, w, gotW)
	gotW, err = s.Witness(bg, b1v1.ID)
	require.NoError(t, err)
	require.Equal(t, accumulator.InitialWitness(), gotW)

	gotSec, err := s.Secrets(bg)
	require.NoError(t, err)
	require.Equal(t, sec, gotSec)
	n, err := s.ReserveSeq(bg, "s")
	require.NoError(t, err)
	require.Equal(t, uint64(3), n)
	gotRec, err := s.Record(bg, b1.ID)
	require.NoError(t, err)
	require.Equal(t, rec, *gotRec)
	pend, err := s.Pending(bg)
	require.NoError(t, err)
	require.Equal(t, []roles.PendingOp{p1, p2}, pend)

	// The invariants hold across the reopen.
	require.ErrorIs(t, s.PutBatch(bg, b1), roles.ErrRevoked)
	require.ErrorIs(t, s.PutBatch(bg, storetest.NewBatch(t, "s", 0, 2, 4, 1)), roles.ErrConflict)
	require.ErrorIs(t, s.AppendState(bg, storetest.NewState(t, s1, storetest.RandomID(t))), roles.ErrConflict)
	require.ErrorIs(t, s.InitSecrets(bg, sec), roles.ErrConflict)
	s3 := storetest.NewState(t, s2, b1v1.ID) // links to s2's digest, which r2 shares
	require.NoError(t, s.Commit(bg, &roles.OwnerTx{State: s3, DeletePending: []roles.BatchID{p1.ID}}))
	_, e, err := s.Header(bg, b1v1.ID)
	require.NoError(t, err)
	require.Equal(t, uint64(3), e, "a state committed by the owner role revokes in the shared chain")
	pend, err = s.Pending(bg)
	require.NoError(t, err)
	require.Equal(t, []roles.PendingOp{p2}, pend)
}

func TestFileMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.db")
	s, err := bolt.Open(path)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	requireMode(t, path, 0o600)

	// An existing store file that others can read is tightened.
	for _, mode := range []os.FileMode{0o644, 0o666, 0o640, 0o604, 0o700} {
		require.NoError(t, os.Chmod(path, mode))
		s, err := bolt.Open(path)
		require.NoError(t, err)
		requireMode(t, path, 0o600)
		require.NoError(t, s.Close())
	}
	// So is an existing empty file (a new store).
	empty := filepath.Join(dir, "empty.db")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	require.NoError(t, os.Chmod(empty, 0o644))
	s, err = bolt.Open(empty)
	require.NoError(t, err)
	requireMode(t, empty, 0o600)
	require.NoError(t, s.Close())
}

func requireMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, want, fi.Mode().Perm(), "mode of %s", path)
}

func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := bolt.Open(path)
	require.NoError(t, err)
	start := time.Now()
	_, err = bolt.Open(path, bolt.WithLockTimeout(100*time.Millisecond))
	require.ErrorIs(t, err, bolt.ErrLocked)
	require.ErrorIs(t, err, roles.ErrUnavailable)
	require.Less(t, time.Since(start), 2*time.Second)
	require.NoError(t, s.Close())
	s, err = bolt.Open(path, bolt.WithLockTimeout(100*time.Millisecond))
	require.NoError(t, err, "the lock is released by Close")
	require.NoError(t, s.Close())
}

func TestOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	for _, d := range []time.Duration{0, -time.Second} {
		_, err := bolt.Open(path, bolt.WithLockTimeout(d))
		require.ErrorIs(t, err, roles.ErrInvalidInput)
	}
	_, err := os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist, "invalid options create no file")
}

func TestFormatVersion(t *testing.T) {
	dir := t.TempDir()

	// A store of another layout version is refused, and left as it was.
	path := filepath.Join(dir, "store.db")
	s, err := bolt.Open(path)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	setFormat(t, path, 2)
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	_, err = bolt.Open(path)
	require.ErrorIs(t, err, bolt.ErrUnknownFormat)
	require.ErrorContains(t, err, "layout version 2")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, before, after)
	setFormat(t, path, bolt.FormatVersion)
	s, err = bolt.Open(path)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	// A bbolt file of something else.
	other := filepath.Join(dir, "other.db")
	db, err := bbolt.Open(other, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("foo")); return err }))
	require.NoError(t, db.Close())
	_, err = bolt.Open(other)
	require.ErrorIs(t, err, bolt.ErrUnknownFormat)

	// Not a bbolt file at all.
	junk := filepath.Join(dir, "junk.db")
	require.NoError(t, os.WriteFile(junk, make([]byte, 8192), 0o600))
	_, err = bolt.Open(junk)
	require.Error(t, err)
}

func setFormat(t *testing.T, path string, v uint64) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("format"), binary.BigEndian.AppendUint64(nil, v))
	}))
	require.NoError(t, db.Close())
}
