package vds

import (
	"github.com/vdsproject/vds/internal/errs"
	"github.com/vdsproject/vds/roles"
)

// The error tree. Every error vds returns matches one of these with
// errors.Is; more specific errors wrap more general ones (ErrIdentity wraps
// ErrInvalidPoint, which wraps ErrInvalidEncoding, which wraps
// ErrInvalidInput; ErrWrongChallenge wraps ErrBadProof). The values are
// shared with the sub-packages: vds.ErrBadProof == commitment.ErrBadProof.
var (
	// ErrInvalidInput: malformed or out-of-range input, from a caller or a peer.
	ErrInvalidInput = errs.ErrInvalidInput
	// ErrInvalidEncoding: bytes that do not decode to a valid value.
	ErrInvalidEncoding = errs.ErrInvalidEncoding
	// ErrNonCanonical: an encoding that is not the unique canonical one
	// (a scalar ≥ r, a non-shortest integer, …).
	ErrNonCanonical = errs.ErrNonCanonical
	// ErrInvalidPoint: a point off the curve or outside the prime-order subgroup.
	ErrInvalidPoint = errs.ErrInvalidPoint
	// ErrIdentity: the identity point where SPEC §2 forbids it.
	ErrIdentity = errs.ErrIdentity
	// ErrTooLarge: an input above a configured limit.
	ErrTooLarge = errs.ErrTooLarge
	// ErrBadProof: an answer that does not verify.
	ErrBadProof = errs.ErrBadProof
	// ErrWrongChallenge: an audit answered for another nonce.
	ErrWrongChallenge = errs.ErrWrongChallenge
	// ErrIncomplete: a stream answer that does not prove it covers exactly
	// the live batches of its window.
	ErrIncomplete = errs.ErrIncomplete
	// ErrBadSignature: a header or state not signed by the owner.
	ErrBadSignature = errs.ErrBadSignature
	// ErrCRSMismatch: parameters other than the ones used or pinned.
	ErrCRSMismatch = errs.ErrCRSMismatch
	// ErrInvalidCRS: a CRS without the structure of SPEC §3.
	ErrInvalidCRS = errs.ErrInvalidCRS
	// ErrRevoked: the batch is revoked.
	ErrRevoked = errs.ErrRevoked
	// ErrStaleState: a state or answer older than the one held or allowed.
	ErrStaleState = errs.ErrStaleState
	// ErrUnknownState: states that are needed and cannot be obtained.
	ErrUnknownState = errs.ErrUnknownState
	// ErrUnknownBatch: no such batch.
	ErrUnknownBatch = errs.ErrUnknownBatch
	// ErrConflict: a different object is already stored in its place.
	ErrConflict = errs.ErrConflict
	// ErrNotFound: a store has no such record.
	ErrNotFound = errs.ErrNotFound
	// ErrUnavailable: a peer could not be reached; the call may be retried.
	ErrUnavailable = errs.ErrUnavailable
	// ErrClosed: the object was closed.
	ErrClosed = errs.ErrClosed
	// ErrUnauthorized: a call of an owner mutation (create_batch,
	// revoke_batch, update_batch, refresh) without the owner's credentials.
	ErrUnauthorized = errs.ErrUnauthorized
	// ErrNotLeader: an owner that does not hold the owner's lease refused
	// a call (or its store refused a write of a lapsed lease); nothing was
	// done, and the call may go to the leading owner.
	ErrNotLeader = errs.ErrNotLeader
)

// Typed errors that carry evidence; use errors.As.
type (
	// InputError says which input was wrong and why.
	InputError = roles.InputError
	// MissingStatesError names the epochs a party lacks.
	MissingStatesError = roles.MissingStatesError
	// StaleStateError reports an epoch older than the one held.
	StaleStateError = roles.StaleStateError
	// RevokedError names a revoked batch and the epoch that revoked it.
	RevokedError = roles.RevokedError
	// StreamConflictError reports a write that would break a stream's order.
	StreamConflictError = roles.StreamConflictError
)

// Errors of appended rows (Appender, append_rows); the same values as
// those of package roles.
var (
	// ErrNotIncreasing: a row's timestamp is not after the stream's
	// previous row. It wraps ErrInvalidInput.
	ErrNotIncreasing = roles.ErrNotIncreasing
	// ErrRowShape: a row with another number of values than the schema
	// has columns. It wraps ErrInvalidInput.
	ErrRowShape = roles.ErrRowShape
	// ErrValueBound: a value outside its column's bound. It wraps
	// ErrInvalidInput.
	ErrValueBound = roles.ErrValueBound
	// ErrBufferFull: the appender holds as many unsealed rows as its
	// policy allows; retry later. It wraps ErrUnavailable.
	ErrBufferFull = roles.ErrBufferFull
)

// RowError says which appended row broke which rule; use errors.As.
type RowError = roles.RowError
