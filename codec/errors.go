package codec

import "github.com/vdsproject/vds/internal/errs"

// Sentinel errors returned by this package. The first six are the same values
// as the identically named errors of package vds; the others specialise
// ErrInvalidEncoding or ErrInvalidPoint, so errors.Is(err, ErrInvalidEncoding)
// holds for every malformed message and errors.Is(err, ErrInvalidInput) for
// every decoding failure.
var (
	// ErrInvalidInput: a bad argument (a nil or non-pointer Unmarshal target,
	// an out-of-range limit, a value of a type that cannot be encoded) or,
	// through the sentinels below, any malformed input.
	ErrInvalidInput = errs.ErrInvalidInput
	// ErrInvalidEncoding: bytes that do not decode to a valid value of the
	// target type. Every decoding error except ErrTooLarge wraps it.
	ErrInvalidEncoding = errs.ErrInvalidEncoding
	// ErrNonCanonical: bytes that decode but are not the unique canonical
	// encoding of the value (a non-shortest integer or length, unsorted map
	// keys, an indefinite-length item, a scalar ≥ r, a coordinate ≥ p).
	ErrNonCanonical = errs.ErrNonCanonical
	// ErrInvalidPoint: a group element off the curve or outside the
	// prime-order subgroup.
	ErrInvalidPoint = errs.ErrInvalidPoint
	// ErrIdentity: the identity point where SPEC §2 forbids it, or an attempt
	// to encode it as a [G1] or [G2].
	ErrIdentity = errs.ErrIdentity
	// ErrTooLarge: a message above [Limits.MaxMessageBytes], or nested, array
	// or map sizes above the other [Limits].
	ErrTooLarge = errs.ErrTooLarge

	// ErrDuplicateKey: a CBOR map with the same key twice.
	ErrDuplicateKey = errs.New("vds: duplicate map key", errs.ErrInvalidEncoding)
	// ErrUnknownField: a CBOR map key that names no field of the target struct.
	ErrUnknownField = errs.New("vds: unknown field", errs.ErrInvalidEncoding)
	// ErrTrailingBytes: bytes after the end of the encoded data item.
	ErrTrailingBytes = errs.New("vds: trailing bytes after data item", errs.ErrInvalidEncoding)
	// ErrUnexpectedTag: a wire type ([G1], [Scalar], …) found something other
	// than one of its own tags: another tag number, or no tag at all.
	ErrUnexpectedTag = errs.New("vds: unexpected CBOR tag", errs.ErrInvalidEncoding)
	// ErrNotOnCurve: a compressed point whose x coordinate has no point on
	// the curve.
	ErrNotOnCurve = errs.New("vds: point not on the curve", errs.ErrInvalidPoint)
	// ErrNotInSubgroup: a point on the curve but outside the prime-order
	// subgroup.
	ErrNotInSubgroup = errs.New("vds: point not in the prime-order subgroup", errs.ErrInvalidPoint)
)
