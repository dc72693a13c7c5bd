package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/pgtest"
	"github.com/vdsproject/vds/internal/testkit"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/storage/postgres"
	"github.com/vdsproject/vds/storage/storetest"
)

const testTTL = 400 * time.Millisecond

// TestLease: acquisition, a held lease refused to another holder, renewal,
// expiry, takeover with a larger token, release, and a fenced write refused
// once its term ended — with nothing written.
func TestLease(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	a := openDSN(t, dsn, "owner-a")
	b := openDSN(t, dsn, "owner-b")

	_, err := a.CurrentLease(ctx)
	require.ErrorIs(t, err, roles.ErrNotFound)
	la, err := a.AcquireLease(ctx, "", testTTL)
	require.NoError(t, err)
	require.Equal(t, "owner-a", la.Holder)
	require.Equal(t, int64(1), la.Token)

	_, err = b.AcquireLease(ctx, "", testTTL)
	var held *postgres.LeaseHeldError
	require.ErrorAs(t, err, &held)
	require.Equal(t, "owner-a", held.Holder)
	require.ErrorIs(t, err, postgres.ErrLeaseHeld)
	require.ErrorIs(t, err, roles.ErrNotLeader)

	la2, err := a.RenewLease(ctx, la, testTTL)
	require.NoError(t, err)
	require.Equal(t, la.Token, la2.Token)
	require.False(t, la2.Expires.Before(la.Expires))

	_, err = a.AcquireLease(ctx, "", time.Millisecond)
	require.ErrorIs(t, err, roles.ErrInvalidInput)

	// A fenced write of the current term commits.
	fa := a.Fenced(la2)
	require.NoError(t, fa.InitSecrets(ctx, &roles.OwnerSecrets{SigningSeed: make([]byte, 32), Accumulator: []byte{1}}))
	_, err = fa.ReserveSeq(ctx, "s")
	require.NoError(t, err)

	// The lease lapses: renewal and fenced writes are refused even before
	// anybody takes over.
	time.Sleep(testTTL + 100*time.Millisecond)
	_, err = a.RenewLease(ctx, la2, testTTL)
	require.ErrorIs(t, err, postgres.ErrFenced)
	_, err = fa.ReserveSeq(ctx, "s")
	require.ErrorIs(t, err, postgres.ErrFenced)

	lb, err := b.AcquireLease(ctx, "", testTTL)
	require.NoError(t, err)
	require.Equal(t, la.Token+1, lb.Token)
	fb := b.Fenced(lb)
	n, err := fb.ReserveSeq(ctx, "s")
	require.NoError(t, err)
	require.Equal(t, uint64(1), n, "the refused write reserved nothing")

	// The old term stays fenced, whatever it writes.
	_, err = fa.ReserveSeq(ctx, "s")
	require.ErrorIs(t, err, roles.ErrNotLeader)
	require.ErrorIs(t, fa.Commit(ctx, &roles.OwnerTx{DeletePending: []roles.BatchID{{1}}}), postgres.ErrFenced)
	require.ErrorIs(t, fa.InitSecrets(ctx, &roles.OwnerSecrets{SigningSeed: make([]byte, 32), Accumulator: []byte{2}}), postgres.ErrFenced)

	// Release hands over at once; releasing again, or an old term, is a no-op.
	require.NoError(t, b.ReleaseLease(ctx, lb))
	require.NoError(t, b.ReleaseLease(ctx, lb))
	require.NoError(t, a.ReleaseLease(ctx, la))
	_, err = fb.ReserveSeq(ctx, "s")
	require.ErrorIs(t, err, postgres.ErrFenced)
	la3, err := a.AcquireLease(ctx, "", testTTL)
	require.NoError(t, err)
	require.Equal(t, lb.Token+1, la3.Token)
	cur, err := b.CurrentLease(ctx)
	require.NoError(t, err)
	require.Equal(t, la3.Token, cur.Token)
	require.Equal(t, "owner-a", cur.Holder)
}

// TestLeaseNoFork: two data owners share one owner store. A leads and
// creates batches; A is paused past its lease (it stops renewing); B takes
// over, loads the state from the store and revokes; A wakes up and tries
// to revoke, update, refresh and create: every attempt is refused with
// ErrNotLeader, and the store never holds two states for one epoch.
func TestLeaseNoFork(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	crs := testkit.CRS(t, 8)
	sa := openDSN(t, dsn, "owner-a")
	sb := openDSN(t, dsn, "owner-b")
	server := memory.NewServerStore()

	la, err := sa.AcquireLease(ctx, "", testTTL)
	require.NoError(t, err)
	a, err := roles.NewLocal(ctx, crs, sa.Fenced(la), server)
	require.NoError(t, err)
	var ids []roles.BatchID
	for i := range 3 {
		sh, err := a.Owner.CreateBatch(ctx, batch("s", uint64(i)))
		require.NoError(t, err)
		id, err := sh.Header.Digest()
		require.NoError(t, err)
		ids = append(ids, id)
	}
	_, err = a.Owner.Revoke(ctx, ids[0])
	require.NoError(t, err)

	// A is "paused": it does not renew. B waits for the lease to lapse.
	_, err = sb.AcquireLease(ctx, "", testTTL)
	require.ErrorIs(t, err, postgres.ErrLeaseHeld)
	deadline := time.Now().Add(5 * time.Second)
	var lb *postgres.Lease
	for lb == nil {
		lb, err = sb.AcquireLease(ctx, "", testTTL)
		if err != nil {
			require.ErrorIs(t, err, postgres.ErrLeaseHeld)
			require.True(t, time.Now().Before(deadline), "the lease never lapsed")
			time.Sleep(50 * time.Millisecond)
		}
	}
	b, err := roles.NewDataOwner(ctx, crs, sb.Fenced(lb), a.Server)
	require.NoError(t, err)
	ka, kb := a.Owner.Keys(), b.Keys()
	require.Equal(t, ka.ID(), kb.ID(), "B loads A's keys from the store")
	st, err := b.Revoke(ctx, ids[1])
	require.NoError(t, err)
	require.Equal(t, uint64(2), st.State.Epoch)

	// A wakes up: nothing it does is accepted.
	_, err = a.Owner.Revoke(ctx, ids[2])
	require.ErrorIs(t, err, roles.ErrNotLeader)
	_, err = a.Owner.Revoke(ctx, ids[1])
	require.Error(t, err)
	_, err = a.Owner.Refresh(ctx)
	require.ErrorIs(t, err, roles.ErrNotLeader)
	_, _, err = a.Owner.Update(ctx, ids[2], batch("s", 99))
	require.ErrorIs(t, err, roles.ErrNotLeader)
	_, err = a.Owner.CreateBatch(ctx, batch("s", 7))
	require.ErrorIs(t, err, roles.ErrNotLeader)
	secBefore, err := sb.Secrets(ctx)
	require.NoError(t, err)
	_, err = a.Owner.RotateKey(ctx)
	require.ErrorIs(t, err, roles.ErrNotLeader)
	secAfter, err := sb.Secrets(ctx)
	require.NoError(t, err)
	require.Equal(t, secBefore.SigningSeed, secAfter.SigningSeed, "a fenced owner rotated the key")

	// One state per epoch, a chain that B extends.
	latest, err := sa.LatestState(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(2), latest.State.Epoch)
	require.Equal(t, st.Sig, latest.Sig)
	sts, err := sa.States(ctx, 0, latest.State.Epoch)
	require.NoError(t, err)
	seen := map[uint64]bool{}
	for i, s := range sts {
		require.Equal(t, uint64(i), s.State.Epoch)
		require.False(t, seen[s.State.Epoch])
		seen[s.State.Epoch] = true
	}
	srv, err := a.Server.LatestState(ctx)
	require.NoError(t, err)
	require.Equal(t, st.Sig, srv.Sig, "the storage server holds B's state, not A's")
	st3, err := b.Revoke(ctx, ids[2])
	require.NoError(t, err)
	require.Equal(t, uint64(3), st3.State.Epoch)
	require.False(t, errors.Is(err, roles.ErrNotLeader))

	// The leader rotates; an owner opened on the store afterwards (the
	// next term) signs with the new key.
	rot, err := b.RotateKey(ctx)
	require.NoError(t, err)
	require.NoError(t, sb.ReleaseLease(ctx, lb))
	lc, err := sa.AcquireLease(ctx, "", testTTL)
	require.NoError(t, err)
	c, err := roles.NewDataOwner(ctx, crs, sa.Fenced(lc), a.Server)
	require.NoError(t, err)
	st4, err := c.Refresh(ctx)
	require.NoError(t, err)
	require.Equal(t, rot.KeyID, st4.KeyID)
	require.Len(t, st4.Keys, 1)
}

func openDSN(t *testing.T, dsn, holder string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, postgres.WithHolder(holder))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// batch is a small batch of stream with one column, distinct per seed.
func batch(stream string, seed uint64) *roles.Batch {
	b := &roles.Batch{Stream: stream, Timestamps: []uint64{1000 + seed*100, 1001 + seed*100}}
	b.Columns = []roles.Column{{Name: "v", Values: []int64{int64(seed), int64(seed) + 1}}}
	return b
}

// TestLeaseFencedRotation: an owner whose term ended rotates nothing — its
// RotateKey is refused with ErrFenced and leaves the seed and the chain as
// they were — while the owner of the current term rotates.
func TestLeaseFencedRotation(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	a := openDSN(t, dsn, "owner-a")
	b := openDSN(t, dsn, "owner-b")
	la, err := a.AcquireLease(ctx, "", testTTL)
	require.NoError(t, err)
	fa := a.Fenced(la)
	old := &roles.OwnerSecrets{SigningSeed: bytes32(1), Accumulator: []byte{1}}
	require.NoError(t, fa.InitSecrets(ctx, old))
	g := storetest.NewState(t, nil, roles.BatchID{})
	require.NoError(t, fa.Commit(ctx, &roles.OwnerTx{State: g}))

	require.NoError(t, a.ReleaseLease(ctx, la))
	lb, err := b.AcquireLease(ctx, "", testTTL)
	require.NoError(t, err)
	fb := b.Fenced(lb)

	err = fa.RotateKey(ctx, bytes32(2), storetest.Resign(t, g, g.IssuedAt+1))
	require.ErrorIs(t, err, postgres.ErrFenced)
	require.ErrorIs(t, err, roles.ErrNotLeader)
	sec, err := b.Secrets(ctx)
	require.NoError(t, err)
	require.Equal(t, old.SigningSeed, sec.SigningSeed, "a fenced rotation kept the old seed")
	latest, err := b.LatestState(ctx)
	require.NoError(t, err)
	require.Equal(t, *g, *latest, "a fenced rotation committed no state")

	rot := storetest.Resign(t, g, g.IssuedAt+2)
	require.NoError(t, fb.RotateKey(ctx, bytes32(3), rot))
	sec, err = a.Secrets(ctx)
	require.NoError(t, err)
	require.Equal(t, bytes32(3), sec.SigningSeed)
	require.Equal(t, old.Accumulator, sec.Accumulator)
	latest, err = a.LatestState(ctx)
	require.NoError(t, err)
	require.Equal(t, *rot, *latest)
}

func bytes32(b byte) []byte {
	out := make([]byte, 32)
	for i := range out {
		out[i] = b
	}
	return out
}
