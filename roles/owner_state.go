package roles

import (
	"context"
	"fmt"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"

	"github.com/vdsproject/vds/codec"
)

// sign fills in the CRS, owner and format of s and signs it with the
// stream head, now — or just after after (Unix milliseconds), so that a
// re-signature is always later than the one it replaces.
func (o *DataOwner) sign(ctx context.Context, s State, head StreamHead, after int64) (*SignedState, error) {
	return o.signAt(ctx, s, head, max(o.cfg.now().UnixMilli(), after+1), o.signer, o.handovers)
}

// signAt signs s with signer at the issue time iat, with the owner's
// handovers keys.
func (o *DataOwner) signAt(ctx context.Context, s State, head StreamHead, iat int64, signer Signer, keys []Handover) (*SignedState, error) {
	s.Format, s.CRS, s.Owner = FormatVersion, o.CRSDigest(), o.ownerID
	d, err := s.Digest()
	if err != nil {
		return nil, err
	}
	st := &SignedState{State: s, IssuedAt: iat, Head: head, KeyID: signer.KeyID(), Keys: keys}
	if st.Sig, err = signer.Sign(ctx, stateMessage(d, st.IssuedAt, st.KeyID, &st.Head, o.ownerID, keys)); err != nil {
		return nil, fmt.Errorf("vds: sign state: %w", err)
	}
	return st, nil
}

// nextState computes and signs the state that revokes id, with the stream
// head after the change.
func (o *DataOwner) nextState(ctx context.Context, id BatchID, head StreamHead) (*SignedState, error) {
	prev, err := o.store.LatestState(ctx)
	if err != nil {
		return nil, err
	}
	pd, err := prev.State.Digest()
	if err != nil {
		return nil, err
	}
	y := id.Element()
	f := bls.G1Affine(prev.State.Acc)
	next, err := o.acc.Accumulate(&f, &y)
	if err != nil {
		return nil, err
	}
	return o.sign(ctx, State{
		Epoch:   prev.State.Epoch + 1,
		Acc:     codec.G1(next),
		Revoked: &Revocation{X: codec.Scalar(y), Batch: id},
		Prev:    pd,
	}, head, prev.IssuedAt)
}

// resign re-signs the latest state with a stream head (SPEC §11.2).
func (o *DataOwner) resign(ctx context.Context, head StreamHead) (*SignedState, error) {
	prev, err := o.store.LatestState(ctx)
	if err != nil {
		return nil, err
	}
	return o.sign(ctx, prev.State, head, prev.IssuedAt)
}

// Refresh re-signs the latest state with the current time, so verifiers
// with a maximum state age keep accepting it (SPEC §6.1), and pushes it to
// the listeners and the storage server.
func (o *DataOwner) Refresh(ctx context.Context) (*SignedState, error) {
	o.mu.Lock()
	// No sync first: verifiers must stay fresh while the storage server is
	// down. A server that lacks earlier states refuses this one, and Sync
	// sends them in order later.
	st, err := o.resign(ctx, o.streams.head())
	if err == nil {
		err = o.store.Commit(ctx, &OwnerTx{State: st})
	}
	if err != nil {
		o.mu.Unlock()
		return nil, err
	}
	if err := o.handOver(ctx, st, func() error { return o.storage.ApplyState(ctx, st) }); err != nil {
		return st, o.push(err)
	}
	return st, nil
}
