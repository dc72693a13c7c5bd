package codec

import (
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// Scalar is an element of Fr, on the wire as TagScalar(bytes .size 32): the
// big-endian encoding of its value in [0, r). Zero is a valid scalar.
// Decoding rejects a value ≥ r with an error wrapping [ErrNonCanonical]
// (gnark-crypto's SetBytes would silently reduce it). Convert with
// Scalar(e) and fr.Element(s).
type Scalar fr.Element

// ScalarVector is a vector of Fr elements (a data column, SPEC §4), on the
// wire as TagScalarVector around ONE byte string: the concatenated 32-byte
// big-endian encodings, each < r. The empty (or nil) vector is an empty byte
// string and decodes to an empty, non-nil vector. Convert with
// ScalarVector(col) and []fr.Element(v).
type ScalarVector []fr.Element

// MarshalCBOR encodes s as TagScalar(32 bytes).
func (s Scalar) MarshalCBOR() ([]byte, error) {
	e := fr.Element(s)
	b := e.Bytes()
	return appendTagged(make([]byte, 0, taggedSize(TagScalar, fr.Bytes)), TagScalar, b[:]), nil
}

// UnmarshalCBOR sets *s from a TagScalar item holding exactly 32 bytes that
// encode a value < r. On error *s is unchanged.
func (s *Scalar) UnmarshalCBOR(data []byte) error {
	if s == nil {
		return fmt.Errorf("codec: Scalar: UnmarshalCBOR on nil pointer: %w", ErrInvalidInput)
	}
	_, content, err := readTagged("Scalar", data, TagScalar)
	if err != nil {
		return err
	}
	if len(content) != fr.Bytes {
		return fmt.Errorf("codec: Scalar: %d bytes, want %d: %w", len(content), fr.Bytes, ErrInvalidEncoding)
	}
	e, err := fr.BigEndian.Element((*[fr.Bytes]byte)(content))
	if err != nil {
		return fmt.Errorf("codec: Scalar: value not below r: %w", ErrNonCanonical)
	}
	*s = Scalar(e)
	return nil
}

// MarshalCBOR encodes v as TagScalarVector(32·len(v) bytes).
func (v ScalarVector) MarshalCBOR() ([]byte, error) {
	n := fr.Bytes * len(v)
	out := make([]byte, 0, taggedSize(TagScalarVector, n))
	out = appendHead(out, majorTag, TagScalarVector)
	out = appendHead(out, majorByteString, uint64(n))
	start := len(out)
	out = out[:start+n]
	for i := range v {
		fr.BigEndian.PutElement((*[fr.Bytes]byte)(out[start+fr.Bytes*i:]), v[i])
	}
	return out, nil
}

// UnmarshalCBOR sets *v from a TagScalarVector item whose byte string has a
// length that is a multiple of 32 and holds values < r. It allocates the
// result once and copies nothing else. On error *v is unchanged.
func (v *ScalarVector) UnmarshalCBOR(data []byte) error {
	if v == nil {
		return fmt.Errorf("codec: ScalarVector: UnmarshalCBOR on nil pointer: %w", ErrInvalidInput)
	}
	_, content, err := readTagged("ScalarVector", data, TagScalarVector)
	if err != nil {
		return err
	}
	if len(content)%fr.Bytes != 0 {
		return fmt.Errorf("codec: ScalarVector: %d bytes, not a multiple of %d: %w", len(content), fr.Bytes, ErrInvalidEncoding)
	}
	out := make(ScalarVector, len(content)/fr.Bytes)
	for i := range out {
		e, err := fr.BigEndian.Element((*[fr.Bytes]byte)(content[fr.Bytes*i:]))
		if err != nil {
			return fmt.Errorf("codec: ScalarVector: element %d not below r: %w", i, ErrNonCanonical)
		}
		out[i] = e
	}
	*v = out
	return nil
}
