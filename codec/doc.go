// Package codec turns protocol messages into bytes and back (SPEC §8): a
// small [Codec] interface, its CBOR implementation, and the wire types that
// carry BLS12-381 group elements and scalars with validating decoders.
//
// Messages are Go structs whose group elements and scalars are held in the
// wire types of this package; [CBOR.Marshal] and [CBOR.Unmarshal] refuse a
// type that holds a gnark-crypto type directly, which would travel as raw
// Montgomery limbs and decode unchecked.
//
//	type Answer struct {
//		Proof codec.G1           `cbor:"proof"`
//		W     codec.G1OrIdentity `cbor:"w"`
//		U     codec.Scalar       `cbor:"u"`
//	}
//	b, err := codec.Default().Marshal(Answer{...})
//	err = codec.Default().Unmarshal(b, &answer)
//
// # Wire format
//
// CBOR (RFC 8949) with core deterministic encoding (§4.2.1): shortest heads,
// definite lengths, map keys sorted by their encoded bytes, shortest floats.
// Each group element or scalar is a CBOR tag around one byte string:
//
//   - G1 point: the 48-byte compressed encoding of SPEC §2 (the ZCash
//     BLS12-381 format of gnark-crypto's Bytes: flag bits 0b100 or 0b101 in
//     the top three bits, then x big-endian);
//   - G2 point: the 96-byte compressed encoding, x = x1·u + x0 as x1 ‖ x0;
//   - identity of G1 or G2: an empty byte string under its own tag, so that
//     the identity never travels as ambiguous point bytes;
//   - scalar: 32 bytes big-endian, value < r;
//   - scalar vector: the concatenation of such 32-byte scalars, so a data
//     column of n rows costs 32·n bytes plus a few bytes of head.
//
// # Tags
//
// The tag numbers are "VDS" (0x564453) followed by a one-byte number: 4-byte
// tags in IANA's first-come-first-served range, chosen far from registered
// ones (RFC 9277 holds 55800 and 55801), and frozen for v1:
//
//	tag                      constant          content               Go type
//	0x56445301 (1447318273)  TagG1             bytes .size 48        G1, G1OrIdentity (not the identity)
//	0x56445302 (1447318274)  TagG2             bytes .size 96        G2, G2OrIdentity (not the identity)
//	0x56445303 (1447318275)  TagScalar         bytes .size 32        Scalar
//	0x56445304 (1447318276)  TagG1Identity     bytes .size 0         G1OrIdentity only
//	0x56445305 (1447318277)  TagG2Identity     bytes .size 0         G2OrIdentity only
//	0x56445306 (1447318278)  TagScalarVector   bytes, 32·k bytes     ScalarVector
//
// Any other tag where one of these types is expected, or none, is an error
// wrapping [ErrUnexpectedTag].
//
// # Strictness and limits
//
// Every value has exactly one accepted encoding, so a message cannot be
// re-encoded into different bytes that mean the same thing (malleability).
// Decoding rejects, with errors that errors.Is matches:
//
//   - malformed CBOR, a wrong type, invalid UTF-8: [ErrInvalidEncoding];
//   - a duplicate map key: [ErrDuplicateKey]; a map key that names no field
//     of the target struct (matched case-sensitively): [ErrUnknownField];
//   - bytes after the data item: [ErrTrailingBytes];
//   - anything that is not the canonical encoding of the decoded value — a
//     non-shortest integer or length, an indefinite-length item, unsorted map
//     keys, a missing field the encoder would write, a scalar ≥ r, a
//     coordinate ≥ p, the identity of a [G1OrIdentity] or [G2OrIdentity] as
//     point bytes under TagG1/TagG2: [ErrNonCanonical] (Unmarshal re-encodes
//     what it decoded and compares);
//   - a point whose x has no curve point: [ErrNotOnCurve]; a point outside
//     the prime-order subgroup: [ErrNotInSubgroup] (both wrap
//     [ErrInvalidPoint]);
//   - the identity where SPEC §2 forbids it ([G1], [G2]), under either tag:
//     [ErrIdentity];
//   - input above the configured [Limits] (message size, nesting depth,
//     array length, map size): [ErrTooLarge].
//
// All of these wrap [ErrInvalidInput], and all but ErrTooLarge wrap
// [ErrInvalidEncoding]. Unmarshal decodes into a fresh value and stores it
// only on success. Values decoded into interface types (any) are not
// validated as group elements, and [cbor.RawMessage] fields are copied
// unchecked: messages should use the wire types.
//
// # Compatibility
//
// The wire format, tag numbers and golden vectors of testdata/ are frozen for
// v1. A change to any of them is a new format version, not a patch; the tests
// that compare encodings with the golden vectors fail on such a change.
package codec
