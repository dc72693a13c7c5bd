package roles

import (
	"context"

	"github.com/vdsproject/vds/commitment"
)

// Local is the three roles wired together in one process: an owner whose
// storage client is the server itself, and a verifier anchored at the
// owner's state that catches up from the server and receives every new
// state from the owner, synchronously (DeliverInline, so it has no maximum state age).
// It is meant for tests, examples and small deployments.
type Local struct {
	CRS      *commitment.CRS
	Owner    *DataOwner
	Server   *StorageServer
	Verifier *Verifier
}

// NewLocal wires a DataOwner, a StorageServer and a Verifier around one CRS
// and the given stores (memory.NewOwnerStore and memory.NewServerStore for a
// system that lives in memory). The owner's limits (WithOwnerLimits) are
// the server's and the verifier's too.
func NewLocal(ctx context.Context, crs *commitment.CRS, owner OwnerStore, server ServerStore, opts ...OwnerOption) (*Local, error) {
	// The owner's keys decide the server's configuration, and the owner
	// needs a storage client: start the owner against a deferred client.
	d := &deferredStorage{}
	o, err := NewDataOwner(ctx, crs, owner, d, opts...)
	if err != nil {
		return nil, err
	}
	s, err := NewStorageServer(crs, o.Keys(), server, WithServerLimits(o.cfg.limits))
	if err != nil {
		return nil, err
	}
	d.StorageClient = s
	// The verifier receives every state synchronously from the owner in
	// this process, so it needs no maximum state age (and no owner
	// heartbeat).
	v, err := NewVerifier(crs.VerifierKey(), o.Keys(), WithTrustedSource(o), WithStateSource(s), WithoutMaxStateAge(), WithVerifierLimits(o.cfg.limits))
	if err != nil {
		return nil, err
	}
	if err := o.Sync(ctx); err != nil {
		return nil, err
	}
	o.Subscribe(v, DeliverInline())
	return &Local{CRS: crs, Owner: o, Server: s, Verifier: v}, nil
}

// Query asks the server and verifies its answer.
func (l *Local) Query(ctx context.Context, q *Query) (*Result, error) {
	ans, err := l.Server.Answer(ctx, q)
	if err != nil {
		return nil, err
	}
	return l.Verifier.Verify(ctx, q, ans)
}

type deferredStorage struct{ StorageClient }

// QueryStream asks the server about a stream's time window and verifies its
// answer (SPEC §11).
func (l *Local) QueryStream(ctx context.Context, q *StreamQuery) (*StreamResult, error) {
	ans, err := l.Server.AnswerStream(ctx, q)
	if err != nil {
		return nil, err
	}
	return l.Verifier.VerifyStream(ctx, q, ans)
}
