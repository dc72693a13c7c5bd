package roles

import (
	"context"
	"errors"
	"fmt"

	"github.com/vdsproject/vds/codec"
)

// push records that the storage server may lack something and wraps the
// error of a call to it.
func (o *DataOwner) push(err error) error {
	if err == nil {
		return nil
	}
	o.synced.Store(false)
	return fmt.Errorf("vds: saved by the owner, not yet acknowledged by the storage server (retried by Sync; re-running the same request is safe): %w", err)
}

// InSync reports whether the storage server is known to hold everything the
// owner has acknowledged or committed to; after a failed push it is false
// until Sync succeeds.
func (o *DataOwner) InSync() bool { return o.synced.Load() }

// Sync sends the storage server everything the owner has committed to and
// the server may lack: pending batches and updates, and missing states in
// epoch order. It runs before the first operation after NewDataOwner and
// after any failed push.
func (o *DataOwner) Sync(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.synced.Store(false)
	return o.syncLocked(ctx)
}

// syncLocked is Sync with o.mu held. It takes pushMu, so that it runs
// after the pushes of earlier operations.
func (o *DataOwner) syncLocked(ctx context.Context) error {
	if o.synced.Load() {
		return nil
	}
	o.pushMu.Lock()
	defer o.pushMu.Unlock()
	pending, err := o.store.Pending(ctx)
	if err != nil {
		return err
	}
	updates := map[uint64]PendingOp{} // by the epoch of their state
	var stores []PendingOp
	reqs := map[BatchID]*UpdateBatchRequest{}
	for _, p := range pending {
		switch p.Kind {
		case PendingUpdate:
			var r UpdateBatchRequest
			if err := codec.Default().Unmarshal(p.Request, &r); err != nil {
				return fmt.Errorf("vds: pending update %s: %w", p.ID.Short(), err)
			}
			updates[r.State.State.Epoch] = p
			reqs[p.ID] = &r
		default:
			stores = append(stores, p)
		}
	}
	mine, err := o.store.LatestState(ctx)
	if err != nil {
		return err
	}
	next := uint64(0)
	theirs, err := o.storage.LatestState(ctx)
	switch {
	case err == nil:
		next = theirs.State.Epoch + 1
		if theirs.State.Epoch > mine.State.Epoch {
			return fmt.Errorf("vds: storage server is at epoch %d, the owner at %d: %w", theirs.State.Epoch, mine.State.Epoch, ErrConflict)
		}
	case errors.Is(err, ErrUnknownState):
	default:
		return o.push(err)
	}
	done := func(id BatchID) error { return o.store.Commit(ctx, &OwnerTx{DeletePending: []BatchID{id}}) }
	for e := next; e <= mine.State.Epoch; e++ {
		if p, ok := updates[e]; ok {
			if err := o.storage.UpdateBatch(ctx, reqs[p.ID]); err != nil {
				return o.push(err)
			}
			if err := done(p.ID); err != nil {
				return err
			}
			delete(updates, e)
			continue
		}
		sts, err := o.store.States(ctx, e, e)
		if err != nil {
			return err
		}
		if err := o.storage.ApplyState(ctx, &sts[0]); err != nil {
			return o.push(err)
		}
	}
	if theirs != nil && theirs.State.Epoch == mine.State.Epoch && theirs.IssuedAt < mine.IssuedAt {
		if err := o.storage.ApplyState(ctx, mine); err != nil {
			return o.push(err)
		}
	}
	// Updates whose state the server already had: store the new version.
	for _, p := range updates {
		if err := o.storage.UpdateBatch(ctx, reqs[p.ID]); err != nil {
			return o.push(err)
		}
		if err := done(p.ID); err != nil {
			return err
		}
	}
	for _, p := range stores {
		var r StoreBatchRequest
		if err := codec.Default().Unmarshal(p.Request, &r); err != nil {
			return fmt.Errorf("vds: pending batch %s: %w", p.ID.Short(), err)
		}
		if err := o.storage.StoreBatch(ctx, &r); err != nil && !errors.Is(err, ErrRevoked) {
			return o.push(err)
		}
		if err := done(p.ID); err != nil {
			return err
		}
	}
	o.synced.Store(true)
	return nil
}
