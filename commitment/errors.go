package commitment

import "github.com/vdsproject/vds/internal/errs"

// Sentinel errors returned by this package; they are the same values as the
// identically named errors of package vds.
var (
	// ErrInvalidInput: a vector, weight or parameter out of range.
	ErrInvalidInput = errs.ErrInvalidInput
	// ErrInvalidEncoding: CRS bytes that do not decode.
	ErrInvalidEncoding = errs.ErrInvalidEncoding
	// ErrInvalidPoint: a point off the curve or outside the prime-order subgroup.
	ErrInvalidPoint = errs.ErrInvalidPoint
	// ErrIdentity: the identity point given as a commitment, proof or CRS element.
	ErrIdentity = errs.ErrIdentity
	// ErrTooLarge: a size above a configured cap.
	ErrTooLarge = errs.ErrTooLarge
	// ErrBadProof: an opening that does not verify.
	ErrBadProof = errs.ErrBadProof
	// ErrInvalidCRS: a CRS whose structure is not that of SPEC §3.
	ErrInvalidCRS = errs.ErrInvalidCRS
	// ErrCRSMismatch: a CRS whose digest differs from the pinned one.
	ErrCRSMismatch = errs.ErrCRSMismatch
)
