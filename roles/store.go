package roles

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/accumulator"
)

// StoredBatch is a batch as the storage server keeps it.
type StoredBatch struct {
	ID        BatchID
	Header    SignedHeader
	Data      BatchData
	RevokedAt uint64 // the epoch that revoked it; 0 while it is live
}

// ServerStore is the storage server's durable state (SPEC §5–§6): batches,
// the signed state chain with the accumulator history, and cached witnesses.
//
// An implementation keeps every invariant below itself, atomically, so that
// several server processes can share one store; a call that returns nil has
// made its change durable. Callers must not modify returned values (an
// in-memory store may share them).
type ServerStore interface {
	// PutBatch stores a live batch. Storing a batch that is already stored
	// with the same header is a no-op. It fails with ErrRevoked if the id
	// was revoked (even if the batch itself was never stored), and with
	// ErrConflict if another live batch holds the same stream and sequence
	// number.
	PutBatch(ctx context.Context, b *StoredBatch) error
	// AppendState appends the state of epoch latest+1 — epoch 0 into an
	// empty chain — and marks the batch it revokes as revoked at that epoch
	// (a store that is a ProofTableStore drops that batch's proof tables in
	// the same step).
	// A state equal to the one held for its epoch (same digest) is a no-op,
	// or replaces it if it was issued later. A gap fails with a
	// *MissingStatesError; a different state for a held epoch with
	// ErrConflict.
	AppendState(ctx context.Context, st *SignedState) error
	// UpdateBatch appends st (as AppendState) and stores b (as PutBatch) in
	// one atomic step: both happen or neither.
	UpdateBatch(ctx context.Context, st *SignedState, b *StoredBatch) error
	// Batch returns a stored batch, or ErrUnknownBatch.
	Batch(ctx context.Context, id BatchID) (*StoredBatch, error)
	// Header returns a stored batch's signed header and the epoch that
	// revoked it (0 if live), or ErrUnknownBatch.
	Header(ctx context.Context, id BatchID) (*SignedHeader, uint64, error)
	// List returns the stored batches of a stream ("" for all), ordered by
	// stream, sequence number and version.
	List(ctx context.Context, stream string) ([]BatchInfo, error)
	// LatestState returns the newest state, or ErrUnknownState if the chain
	// is empty.
	LatestState(ctx context.Context) (*SignedState, error)
	// States returns the states of epochs from..to inclusive; a
	// *MissingStatesError if some of them are not held.
	States(ctx context.Context, from, to uint64) ([]SignedState, error)
	// History returns the accumulator history a witness update from epoch
	// from to epoch to needs: f_from..f_{to−1} and x_{from+1}..x_to.
	History(ctx context.Context, from, to uint64) ([]bls.G1Affine, []fr.Element, error)
	// Witness returns the cached non-membership witness of a batch, or
	// ErrNotFound.
	Witness(ctx context.Context, id BatchID) (accumulator.Witness, error)
	// PutWitness caches a witness unless a witness of a later epoch is
	// already cached.
	PutWitness(ctx context.Context, id BatchID, w accumulator.Witness) error
	// Close releases the store.
	Close() error
}

// Pinger is implemented by stores that can check they are reachable (a
// database connection, an open file) without reading any state. It is
// optional: StorageServer.Ping and DataOwner.Ping fall back on reading the
// latest state. Health checks call it; it must be cheap.
type Pinger interface {
	// Ping returns nil if the store is usable, else an error saying why
	// not (ErrClosed after Close).
	Ping(ctx context.Context) error
}

// ping checks a store: its Ping if it has one, else a read of its latest
// state (an empty chain is reachable).
func ping(ctx context.Context, store any, latest func(context.Context) (*SignedState, error)) error {
	if p, ok := store.(Pinger); ok {
		return p.Ping(ctx)
	}
	if _, err := latest(ctx); err != nil && !errors.Is(err, ErrUnknownState) {
		return err
	}
	return nil
}

// ChainStep is what appending a state to a chain does.
type ChainStep uint8

// Chain steps.
const (
	StepAppend  ChainStep = iota + 1 // a new epoch
	StepReplace                      // the held state of that epoch, re-signed later
	StepNoop                         // the held state again
)

// NextStep decides how st extends a chain whose latest state is latest (nil
// for an empty chain), given held, the state held for st's epoch if any.
// Store implementations call it to keep the ordering invariant of
// AppendState: it checks epochs, the link to the previous state, and that
// epoch 0 and only epoch 0 revokes nothing. It does not check signatures.
func NextStep(latest, held, st *SignedState) (ChainStep, error) {
	e := st.State.Epoch
	if (e == 0) != (st.State.Revoked == nil) {
		return 0, invalid("state", "epoch %d and its revocation entry disagree", e)
	}
	if latest == nil {
		if e != 0 {
			return 0, &MissingStatesError{From: 0, To: e - 1}
		}
		if st.State.Prev != (Hash{}) {
			return 0, invalid("state", "epoch 0 links to a previous state")
		}
		return StepAppend, nil
	}
	le := latest.State.Epoch
	switch {
	case e > le+1:
		return 0, &MissingStatesError{From: le + 1, To: e - 1}
	case e == le+1:
		prev, err := latest.State.Digest()
		if err != nil {
			return 0, err
		}
		if st.State.Prev != prev {
			return 0, fmt.Errorf("vds: state of epoch %d does not link to the held state of epoch %d: %w", e, le, ErrConflict)
		}
		return StepAppend, nil
	}
	if held == nil {
		return 0, &MissingStatesError{From: e, To: e}
	}
	a, err := held.State.Digest()
	if err != nil {
		return 0, err
	}
	b, err := st.State.Digest()
	if err != nil {
		return 0, err
	}
	if a != b {
		return 0, fmt.Errorf("vds: a different state is held for epoch %d: %w", e, ErrConflict)
	}
	if st.IssuedAt > held.IssuedAt {
		return StepReplace, nil
	}
	return StepNoop, nil
}

// OwnerSecrets is the data owner's key material: the Ed25519 seed and the
// accumulator secret s. It is never logged: String and GoString redact it.
type OwnerSecrets struct {
	SigningSeed []byte `cbor:"sig"`
	Accumulator []byte `cbor:"acc"`
}

// String redacts the secrets.
func (*OwnerSecrets) String() string { return "OwnerSecrets(redacted)" }

// GoString redacts the secrets.
func (s *OwnerSecrets) GoString() string { return s.String() }

// BatchRecord is what the data owner remembers of a batch it created.
type BatchRecord struct {
	ID        BatchID `cbor:"id"`
	Stream    string  `cbor:"stream"`
	Seq       uint64  `cbor:"seq"`
	Version   uint32  `cbor:"ver"`
	RevokedAt uint64  `cbor:"rev,omitempty"`
	T0        uint64  `cbor:"t0"`      // first timestamp
	T1        uint64  `cbor:"t1"`      // last timestamp
	Content   Hash    `cbor:"content"` // H("vds/v1/content", …) of SPEC §11.1
	// Header is the batch's signed header, so that re-ingesting the same
	// content can return it.
	Header *SignedHeader `cbor:"hdr,omitempty"`
}

// PendingKind says what a pending operation sends to the storage server.
type PendingKind uint8

// Pending operation kinds.
const (
	PendingStore  PendingKind = 1 // a StoreBatchRequest
	PendingUpdate PendingKind = 2 // an UpdateBatchRequest
)

// PendingOp is an operation the owner has committed to but the storage
// server may not have acknowledged yet; it is replayed after a crash.
type PendingOp struct {
	ID      BatchID     `cbor:"id"` // the new batch
	Kind    PendingKind `cbor:"kind"`
	Request []byte      `cbor:"req"` // the encoded request
}

// OwnerTx is one atomic change of the owner's store.
type OwnerTx struct {
	State         *SignedState  // appended (epoch latest+1, or 0 into an empty chain) if non-nil
	Records       []BatchRecord // put (replacing a record with the same id)
	PutPending    []PendingOp
	DeletePending []BatchID
}

// OwnerStore is the data owner's durable state: keys, the state chain (the
// public revocation log), what it knows of its batches, and operations not
// yet acknowledged by the storage server. A call that returns nil has made
// its change durable. Key material is stored readable only by the owner.
type OwnerStore interface {
	// Secrets returns the key material, or ErrNotFound.
	Secrets(ctx context.Context) (*OwnerSecrets, error)
	// InitSecrets stores key material once; ErrConflict if some is held.
	InitSecrets(ctx context.Context, s *OwnerSecrets) error
	// LatestState returns the newest state, or ErrUnknownState.
	LatestState(ctx context.Context) (*SignedState, error)
	// States returns the states of epochs from..to inclusive, or a
	// *MissingStatesError.
	States(ctx context.Context, from, to uint64) ([]SignedState, error)
	// ReserveSeq returns the next unused sequence number of a stream and
	// marks it used.
	//
	// Deprecated: the DataOwner derives sequence numbers from its records
	// (SPEC §11.1: gap-free), so that a crash never leaves a hole.
	ReserveSeq(ctx context.Context, stream string) (uint64, error)
	// Record returns the record of a batch, or ErrUnknownBatch.
	Record(ctx context.Context, id BatchID) (*BatchRecord, error)
	// Records returns every batch record, in no particular order.
	Records(ctx context.Context) ([]BatchRecord, error)
	// Commit applies tx atomically. A state out of order fails with a
	// *MissingStatesError (gap) or ErrConflict (epoch already held with a
	// different digest); re-signing the latest state with a later issue
	// time replaces it.
	Commit(ctx context.Context, tx *OwnerTx) error
	// Pending returns the pending operations in the order they were added.
	Pending(ctx context.Context) ([]PendingOp, error)
	// RotateKey replaces the signing seed of the held key material (the
	// accumulator secret stays) and commits st, the state that hands the
	// owner's signing over to the key of seed (SPEC §6.3), as Commit
	// would, in one atomic step: after a crash the store holds either the
	// old seed and the old chain or the new seed and st, never st without
	// its key. It fails with ErrNotFound if no key material is held,
	// ErrInvalidInput for an empty seed or a nil st, and with Commit's
	// errors for a state out of order, changing nothing. No error reveals
	// the seed.
	RotateKey(ctx context.Context, seed []byte, st *SignedState) error
	// Close releases the store.
	Close() error
}

// SortBatchInfos orders batch summaries by stream, sequence number and
// version, as ServerStore.List returns them.
func SortBatchInfos(s []BatchInfo) {
	slices.SortFunc(s, func(a, b BatchInfo) int { return cmpSlot(a.Stream, a.Seq, a.Version, b.Stream, b.Seq, b.Version) })
}

// cmpSlot orders batches by stream, sequence number and version.
func cmpSlot(as string, aseq uint64, aver uint32, bs string, bseq uint64, bver uint32) int {
	if c := strings.Compare(as, bs); c != 0 {
		return c
	}
	if c := cmp.Compare(aseq, bseq); c != 0 {
		return c
	}
	return cmp.Compare(aver, bver)
}
