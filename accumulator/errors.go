package accumulator

import (
	"fmt"

	"github.com/vdsproject/vds/internal/errs"
)

// Sentinel errors returned by this package (SPEC §2, §6); they are the same
// values as the identically named errors of package vds.
var (
	// ErrInvalidInput: a nil argument, a length mismatch, an epoch overflow or
	// an unusable key.
	ErrInvalidInput = errs.ErrInvalidInput
	// ErrInvalidEncoding: secret-key bytes of the wrong length or value.
	ErrInvalidEncoding = errs.ErrInvalidEncoding
	// ErrNonCanonical: secret-key bytes that encode a scalar ≥ r.
	ErrNonCanonical = errs.ErrNonCanonical
	// ErrInvalidPoint: a point off the curve or outside the prime-order subgroup.
	ErrInvalidPoint = errs.ErrInvalidPoint
	// ErrIdentity: the identity point given as an accumulator value or public key.
	ErrIdentity = errs.ErrIdentity
	// ErrBadProof: a non-membership witness that does not verify.
	ErrBadProof = errs.ErrBadProof
	// ErrRevoked: the element is in the accumulator (it was revoked), or a
	// witness has u = 0, the form of a membership witness.
	ErrRevoked = errs.ErrRevoked
)

// RevokedError reports that the element whose witness was being updated was
// revoked at Epoch: x_Epoch equals y, so no non-membership witness exists from
// that epoch on (SPEC §6). errors.Is(err, ErrRevoked) holds.
type RevokedError struct {
	// Epoch is the epoch E whose revocation x_E equals the element.
	Epoch uint64
}

// Error implements error.
func (e *RevokedError) Error() string {
	return fmt.Sprintf("accumulator: element revoked at epoch %d", e.Epoch)
}

// Unwrap returns ErrRevoked.
func (e *RevokedError) Unwrap() error { return errs.ErrRevoked }
