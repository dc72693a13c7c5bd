package roles

import (
	"fmt"

	"github.com/vdsproject/vds/internal/errs"
)

// Sentinel errors; the same values as the identically named errors of
// package vds.
var (
	ErrInvalidInput    = errs.ErrInvalidInput
	ErrInvalidEncoding = errs.ErrInvalidEncoding
	ErrTooLarge        = errs.ErrTooLarge
	ErrBadProof        = errs.ErrBadProof
	ErrBadSignature    = errs.ErrBadSignature
	ErrCRSMismatch     = errs.ErrCRSMismatch
	ErrRevoked         = errs.ErrRevoked
	ErrStaleState      = errs.ErrStaleState
	ErrUnknownState    = errs.ErrUnknownState
	ErrUnknownBatch    = errs.ErrUnknownBatch
	ErrConflict        = errs.ErrConflict
	ErrWrongChallenge  = errs.ErrWrongChallenge
	ErrIncomplete      = errs.ErrIncomplete
	ErrNotFound        = errs.ErrNotFound
	ErrUnavailable     = errs.ErrUnavailable
	ErrClosed          = errs.ErrClosed
	ErrNotLeader       = errs.ErrNotLeader
)

// ErrKeyMismatch: the owner's signer is not the key its state chain is
// signed by (or its store holds no key and it was given no signer). It
// wraps ErrConflict.
var ErrKeyMismatch = fmt.Errorf("vds: the owner's signing key does not match its state chain: %w", ErrConflict)

// InputError says which input was wrong and why. It wraps ErrInvalidInput
// (or a more specific cause).
type InputError struct {
	Field  string // the offending input, e.g. "timestamps[3]"
	Reason string
	Err    error // the sentinel; ErrInvalidInput if nil
}

func (e *InputError) Error() string {
	return fmt.Sprintf("vds: invalid %s: %s", e.Field, e.Reason)
}

// Unwrap returns the sentinel.
func (e *InputError) Unwrap() error {
	if e.Err == nil {
		return ErrInvalidInput
	}
	return e.Err
}

func invalid(field, format string, args ...any) error {
	return &InputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

func tooLarge(field string, got, limit int) error {
	return &InputError{Field: field, Reason: fmt.Sprintf("%d exceeds the limit of %d", got, limit), Err: ErrTooLarge}
}

// MissingStatesError reports states a party needs and does not have: the
// epochs From..To (inclusive). It wraps ErrUnknownState.
type MissingStatesError struct {
	From, To uint64
}

func (e *MissingStatesError) Error() string {
	if e.From == e.To {
		return fmt.Sprintf("vds: missing state of epoch %d", e.From)
	}
	return fmt.Sprintf("vds: missing states of epochs %d..%d", e.From, e.To)
}

// Unwrap returns ErrUnknownState.
func (e *MissingStatesError) Unwrap() error { return ErrUnknownState }

// StaleStateError reports a state or answer older than what is already held
// (or older than allowed). It wraps ErrStaleState.
type StaleStateError struct {
	Have, Got uint64 // epochs
	Reason    string
}

func (e *StaleStateError) Error() string {
	if e.Reason != "" {
		return "vds: stale state: " + e.Reason
	}
	return fmt.Sprintf("vds: stale state: epoch %d, already at epoch %d", e.Got, e.Have)
}

// Unwrap returns ErrStaleState.
func (e *StaleStateError) Unwrap() error { return ErrStaleState }

// RevokedError reports a revoked batch and the epoch that revoked it. It
// wraps ErrRevoked.
type RevokedError struct {
	Batch BatchID
	Epoch uint64 // 0 if unknown
}

func (e *RevokedError) Error() string {
	if e.Epoch == 0 {
		return fmt.Sprintf("vds: batch %s is revoked", e.Batch.Short())
	}
	return fmt.Sprintf("vds: batch %s was revoked at epoch %d", e.Batch.Short(), e.Epoch)
}

// Unwrap returns ErrRevoked.
func (e *RevokedError) Unwrap() error { return ErrRevoked }

// StreamConflictError reports a write that would break a stream's
// invariants (SPEC §11.1): a batch that overlaps a live one, starts before
// the end of the stream, or an update that leaves its place. It wraps
// ErrConflict.
type StreamConflictError struct {
	Stream string
	Reason string
	Batch  *BatchID // the entry it conflicts with, if any
}

func (e *StreamConflictError) Error() string {
	return fmt.Sprintf("vds: stream %s: %s", Display(e.Stream), e.Reason)
}

// Unwrap returns ErrConflict.
func (e *StreamConflictError) Unwrap() error { return ErrConflict }

// ErrRetiredKey: a state signed by an owner signing key that a handover
// retired, for an epoch or issue time after its retirement (SPEC §6.3), or
// a handover that breaks the key chain. It wraps ErrBadSignature.
var ErrRetiredKey = fmt.Errorf("vds: signed by a retired owner key: %w", ErrBadSignature)

// Errors of appended rows (Appender). A row that breaks a rule fails with a
// *RowError wrapping one of the first three, and changes nothing.
var (
	// ErrNotIncreasing: a row's timestamp is not after the previous row's
	// (appended, pending or sealed). It wraps ErrInvalidInput.
	ErrNotIncreasing = fmt.Errorf("vds: timestamps must increase strictly: %w", ErrInvalidInput)
	// ErrRowShape: a row with another number of values than the
	// appender's schema has columns. It wraps ErrInvalidInput.
	ErrRowShape = fmt.Errorf("vds: row does not match the schema: %w", ErrInvalidInput)
	// ErrValueBound: a value outside its column's bound |v| < 2^Bits. It
	// wraps ErrInvalidInput.
	ErrValueBound = fmt.Errorf("vds: value outside its column's bound: %w", ErrInvalidInput)
	// ErrBufferFull: the appender already holds as many unsealed rows as
	// its policy allows; nothing was appended, retry after a seal. It wraps
	// ErrUnavailable.
	ErrBufferFull = fmt.Errorf("vds: the unsealed row buffer is full: %w", ErrUnavailable)
	// ErrAppenderOpen: the stream already has an open appender in this
	// owner. It wraps ErrConflict.
	ErrAppenderOpen = fmt.Errorf("vds: the stream already has an open appender: %w", ErrConflict)
	// ErrSchemaMismatch: the stream's pending rows do not fit the schema an
	// appender was opened with. It wraps ErrConflict.
	ErrSchemaMismatch = fmt.Errorf("vds: pending rows do not fit the appender's schema: %w", ErrConflict)
)

// RowError says which appended row broke which rule. It wraps
// ErrNotIncreasing, ErrRowShape or ErrValueBound.
type RowError struct {
	Stream string
	Index  int    // the row's index in the call
	Time   uint64 // the row's timestamp
	Reason string
	Err    error
}

func (e *RowError) Error() string {
	return fmt.Sprintf("vds: stream %s: row %d (t=%d): %s", Display(e.Stream), e.Index, e.Time, e.Reason)
}

// Unwrap returns the sentinel.
func (e *RowError) Unwrap() error { return e.Err }

// ErrExternalSigner: the owner signs with an external signer (WithSigner:
// a KMS, an HSM, a signer process), whose key is not in the owner's store,
// so DataOwner.RotateKey cannot make and keep a new one. Rotate such an
// owner with DataOwner.Rotate and the new key's signer, then restart it
// with that signer. It wraps ErrConflict.
var ErrExternalSigner = fmt.Errorf("vds: the owner signs with an external signer: rotate the key there (DataOwner.Rotate with the new signer) and restart the owner with it: %w", ErrConflict)
