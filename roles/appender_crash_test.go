package roles_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

var errCrash = errors.New("test: the owner process died here")

// crashPoint is where the owner "dies": every call of its store and its
// storage client from that point on fails, so the abandoned owner changes
// nothing more, as after a SIGKILL.
type crashPoint int

const (
	crashBuffered      crashPoint = iota // rows acknowledged, no seal begun
	crashSealing                         // the seal's store transaction never commits
	crashSealedNotSent                   // committed, the storage server never told
	crashStoredNoAck                     // the storage server stored it, the owner never heard
)

// dyingStore is an owner store that dies at its crash point.
type dyingStore struct {
	*memory.OwnerStore
	mu   sync.Mutex
	at   crashPoint
	dead bool
}

func (s *dyingStore) isDead() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dead
}

func (s *dyingStore) die() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dead = true
}

func (s *dyingStore) Commit(ctx context.Context, tx *roles.OwnerTx) error {
	if s.isDead() {
		return errCrash
	}
	return s.OwnerStore.Commit(ctx, tx)
}

func (s *dyingStore) AppendRows(ctx context.Context, stream string, rows []roles.Row) error {
	if s.isDead() {
		return errCrash
	}
	return s.OwnerStore.AppendRows(ctx, stream, rows)
}

func (s *dyingStore) SealRows(ctx context.Context, tx *roles.OwnerTx, stream string, through uint64) error {
	if s.isDead() {
		return errCrash
	}
	if s.at == crashSealing && tx != nil {
		s.die()
		return errCrash
	}
	return s.OwnerStore.SealRows(ctx, tx, stream, through)
}

// dyingLink is the abandoned owner's storage client.
type dyingLink struct {
	roles.StorageClient
	s *dyingStore
}

func (l dyingLink) StoreBatch(ctx context.Context, r *roles.StoreBatchRequest) error {
	if l.s.isDead() {
		return errCrash
	}
	switch l.s.at {
	case crashSealedNotSent:
		l.s.die()
		return errCrash
	case crashStoredNoAck:
		err := l.StorageClient.StoreBatch(ctx, r)
		l.s.die()
		if err != nil {
			return err
		}
		return errCrash
	}
	return l.StorageClient.StoreBatch(ctx, r)
}

func (l dyingLink) ApplyState(ctx context.Context, st *roles.SignedState) error {
	if l.s.isDead() {
		return errCrash
	}
	return l.StorageClient.ApplyState(ctx, st)
}

// TestAppenderCrashPoints: the owner dies at each step of a seal (rows
// buffered; inside the seal's transaction; sealed and committed but not
// sent; stored by the server but not acknowledged); a new owner on the same
// stores seals every acknowledged row exactly once: the verified stream
// query counts them all, the storage server holds each batch once, and the
// stream has no gap.
func TestAppenderCrashPoints(t *testing.T) {
	ctx := context.Background()
	for name, at := range map[string]crashPoint{"buffered": crashBuffered, "sealing": crashSealing,
		"sealed-not-stored": crashSealedNotSent, "stored-not-acknowledged": crashStoredNoAck} {
		t.Run(name, func(t *testing.T) {
			ostore, sstore := memory.NewOwnerStore(), memory.NewServerStore()
			l, err := roles.NewLocal(ctx, testCRS(t), ostore, sstore)
			require.NoError(t, err)
			// A first batch sealed normally, then the owner that will die.
			a, err := l.Owner.Appender(ctx, "c", appendSchema, roles.AppendPolicy{MaxRows: 8})
			require.NoError(t, err)
			for i := range 8 {
				require.NoError(t, a.Append(ctx, uint64(i+1), int64(i+1), 0))
			}
			require.NoError(t, a.Close(ctx))

			ds := &dyingStore{OwnerStore: ostore, at: at}
			o, err := roles.NewDataOwner(ctx, testCRS(t), ds, dyingLink{StorageClient: l.Server, s: ds})
			require.NoError(t, err)
			a, err = o.Appender(ctx, "c", appendSchema, roles.AppendPolicy{MaxRows: 8})
			require.NoError(t, err)
			var rows []roles.Row
			for i := 8; i < 20; i++ { // one batch of 8 due, 4 rows buffered
				rows = append(rows, roles.Row{Time: uint64(i + 1), Values: []int64{int64(i + 1), 0}})
			}
			_, err = a.AppendRows(ctx, rows)
			require.NoError(t, err)
			if at == crashBuffered {
				require.NoError(t, a.Flush(ctx)) // the due batch; the crash leaves 4 rows
				ds.die()
			} else {
				require.Eventually(t, ds.isDead, 5*time.Second, time.Millisecond, "the owner reached its crash point")
			}
			// The abandoned owner is never closed.

			l2, err := roles.NewLocal(ctx, testCRS(t), ostore, sstore)
			require.NoError(t, err)
			a2, err := l2.Owner.Appender(ctx, "c", appendSchema, roles.AppendPolicy{MaxRows: 8})
			require.NoError(t, err)
			require.ErrorIs(t, a2.Append(ctx, 20, 0, 0), roles.ErrNotIncreasing, "every acknowledged row is still known")
			require.NoError(t, a2.Append(ctx, 21, 21, 0))
			require.NoError(t, a2.Close(ctx))
			n, total, _ := streamTotals(t, l2, "c")
			require.Equal(t, uint64(21), n)
			require.Equal(t, int64(21*22/2), total)
			infos, err := l2.Server.ListBatches(ctx, "c")
			require.NoError(t, err)
			var held uint32
			for _, in := range infos {
				held += in.Rows
			}
			require.Equal(t, uint32(21), held, "the storage server holds every row once")
		})
	}
}
