package codec

import (
	"bytes"
	"fmt"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
)

// G1 is a point of G1 other than the identity, on the wire as
// TagG1(bytes .size 48): the compressed encoding of SPEC §2. It is the type of
// commitments, proofs, accumulator values and public keys, which SPEC §2
// forbids to be the identity: decoding rejects the identity with an error
// wrapping [ErrIdentity], whichever way it is encoded, and encoding it fails.
//
// Decoding checks the length, the flag bits, that x < p, that x is the
// abscissa of a curve point, and that the point lies in the prime-order
// subgroup. Convert with G1(p) and (*bls.G1Affine)(&g).
type G1 bls.G1Affine

// G1OrIdentity is a point of G1 that may be the identity: the non-membership
// witness w of SPEC §6, the identity at epoch 0. A non-identity point is on
// the wire exactly as a [G1]; the identity is TagG1Identity(empty byte string), and
// decoding rejects the identity in any other form (ErrNonCanonical).
type G1OrIdentity bls.G1Affine

// G2 is a point of G2 other than the identity, on the wire as
// TagG2(bytes .size 96); it follows the rules of [G1].
type G2 bls.G2Affine

// G2OrIdentity is a point of G2 that may be the identity, encoded as
// TagG2Identity(empty byte string); it follows the rules of [G1OrIdentity].
type G2OrIdentity bls.G2Affine

// Masks of the three flag bits in the first byte of a compressed point
// (the ZCash BLS12-381 serialisation that gnark-crypto follows).
const (
	flagMask              = 0b111 << 5
	flagCompressed        = 0b100 << 5
	flagCompressedLargest = 0b101 << 5
	flagCompressedInf     = 0b110 << 5
)

// MarshalCBOR encodes p as TagG1(48 bytes). It fails with ErrIdentity if p is
// the identity. It does not re-check that p is on the curve: p comes from
// group arithmetic or from a validated decoding.
func (p G1) MarshalCBOR() ([]byte, error) {
	return marshalG1("G1", (*bls.G1Affine)(&p), false)
}

// UnmarshalCBOR sets *p from a TagG1 item, fully validated (see [G1]). On
// error *p is unchanged.
func (p *G1) UnmarshalCBOR(data []byte) error {
	if p == nil {
		return fmt.Errorf("codec: G1: UnmarshalCBOR on nil pointer: %w", ErrInvalidInput)
	}
	q, err := unmarshalG1("G1", data, false)
	if err != nil {
		return err
	}
	*p = G1(q)
	return nil
}

// MarshalCBOR encodes p as TagG1(48 bytes), or as TagG1Identity(empty byte string) if p is
// the identity.
func (p G1OrIdentity) MarshalCBOR() ([]byte, error) {
	return marshalG1("G1OrIdentity", (*bls.G1Affine)(&p), true)
}

// UnmarshalCBOR sets *p from a TagG1 or TagG1Identity item, fully validated
// (see [G1OrIdentity]). On error *p is unchanged.
func (p *G1OrIdentity) UnmarshalCBOR(data []byte) error {
	if p == nil {
		return fmt.Errorf("codec: G1OrIdentity: UnmarshalCBOR on nil pointer: %w", ErrInvalidInput)
	}
	q, err := unmarshalG1("G1OrIdentity", data, true)
	if err != nil {
		return err
	}
	*p = G1OrIdentity(q)
	return nil
}

// MarshalCBOR encodes p as TagG2(96 bytes). It fails with ErrIdentity if p is
// the identity. Like [G1.MarshalCBOR], it does not re-check p.
func (p G2) MarshalCBOR() ([]byte, error) {
	return marshalG2("G2", (*bls.G2Affine)(&p), false)
}

// UnmarshalCBOR sets *p from a TagG2 item, fully validated (see [G2]). On
// error *p is unchanged.
func (p *G2) UnmarshalCBOR(data []byte) error {
	if p == nil {
		return fmt.Errorf("codec: G2: UnmarshalCBOR on nil pointer: %w", ErrInvalidInput)
	}
	q, err := unmarshalG2("G2", data, false)
	if err != nil {
		return err
	}
	*p = G2(q)
	return nil
}

// MarshalCBOR encodes p as TagG2(96 bytes), or as TagG2Identity(empty byte string) if p is
// the identity.
func (p G2OrIdentity) MarshalCBOR() ([]byte, error) {
	return marshalG2("G2OrIdentity", (*bls.G2Affine)(&p), true)
}

// UnmarshalCBOR sets *p from a TagG2 or TagG2Identity item, fully validated
// (see [G2OrIdentity]). On error *p is unchanged.
func (p *G2OrIdentity) UnmarshalCBOR(data []byte) error {
	if p == nil {
		return fmt.Errorf("codec: G2OrIdentity: UnmarshalCBOR on nil pointer: %w", ErrInvalidInput)
	}
	q, err := unmarshalG2("G2OrIdentity", data, true)
	if err != nil {
		return err
	}
	*p = G2OrIdentity(q)
	return nil
}

func marshalG1(name string, p *bls.G1Affine, allowIdentity bool) ([]byte, error) {
	if p.IsInfinity() {
		if !allowIdentity {
			return nil, fmt.Errorf("codec: %s: cannot encode the identity: %w", name, ErrIdentity)
		}
		return appendTagged(make([]byte, 0, taggedSize(TagG1Identity, 0)), TagG1Identity, nil), nil
	}
	b := p.Bytes()
	return appendTagged(make([]byte, 0, taggedSize(TagG1, len(b))), TagG1, b[:]), nil
}

func marshalG2(name string, p *bls.G2Affine, allowIdentity bool) ([]byte, error) {
	if p.IsInfinity() {
		if !allowIdentity {
			return nil, fmt.Errorf("codec: %s: cannot encode the identity: %w", name, ErrIdentity)
		}
		return appendTagged(make([]byte, 0, taggedSize(TagG2Identity, 0)), TagG2Identity, nil), nil
	}
	b := p.Bytes()
	return appendTagged(make([]byte, 0, taggedSize(TagG2, len(b))), TagG2, b[:]), nil
}

func unmarshalG1(name string, data []byte, allowIdentity bool) (bls.G1Affine, error) {
	tag, content, err := readTagged(name, data, TagG1, TagG1Identity)
	if err != nil {
		return bls.G1Affine{}, err
	}
	if tag == TagG1Identity {
		if err := checkIdentity(name, content, allowIdentity); err != nil {
			return bls.G1Affine{}, err
		}
		return bls.G1Affine{}, nil // (0, 0) is gnark-crypto's identity
	}
	return setG1(name, content, allowIdentity)
}

func unmarshalG2(name string, data []byte, allowIdentity bool) (bls.G2Affine, error) {
	tag, content, err := readTagged(name, data, TagG2, TagG2Identity)
	if err != nil {
		return bls.G2Affine{}, err
	}
	if tag == TagG2Identity {
		if err := checkIdentity(name, content, allowIdentity); err != nil {
			return bls.G2Affine{}, err
		}
		return bls.G2Affine{}, nil
	}
	return setG2(name, content, allowIdentity)
}

// checkIdentity validates the content of an identity tag.
func checkIdentity(name string, content []byte, allowIdentity bool) error {
	if !allowIdentity {
		return fmt.Errorf("codec: %s: identity point not allowed: %w", name, ErrIdentity)
	}
	if len(content) != 0 {
		return fmt.Errorf("codec: %s: identity tag encloses %d bytes, want none: %w", name, len(content), ErrInvalidEncoding)
	}
	return nil
}

// checkFlags validates the flag bits of a compressed point.
func checkFlags(name string, b0 byte, allowIdentity bool) error {
	switch b0 & flagMask {
	case flagCompressed, flagCompressedLargest:
		return nil
	case flagCompressedInf:
		if !allowIdentity {
			return fmt.Errorf("codec: %s: identity point not allowed: %w", name, ErrIdentity)
		}
		// The value is allowed, but only under its own tag.
		return fmt.Errorf("codec: %s: identity encoded as point bytes, want its own tag: %w", name, ErrNonCanonical)
	default:
		return fmt.Errorf("codec: %s: flag bits %03b are not those of a compressed point: %w", name, b0>>5, ErrInvalidEncoding)
	}
}

// setG1 decodes and validates a 48-byte compressed G1 point. gnark-crypto's
// SetBytes also accepts uncompressed and identity encodings and ignores
// trailing bytes, so the form is checked here first.
func setG1(name string, b []byte, allowIdentity bool) (bls.G1Affine, error) {
	if len(b) != bls.SizeOfG1AffineCompressed {
		return bls.G1Affine{}, fmt.Errorf("codec: %s: %d bytes, want %d: %w", name, len(b), bls.SizeOfG1AffineCompressed, ErrInvalidEncoding)
	}
	if err := checkFlags(name, b[0], allowIdentity); err != nil {
		return bls.G1Affine{}, err
	}
	var x [fp.Bytes]byte
	copy(x[:], b)
	x[0] &^= flagMask
	if err := new(fp.Element).SetBytesCanonical(x[:]); err != nil {
		return bls.G1Affine{}, fmt.Errorf("codec: %s: x coordinate not below p: %w", name, ErrNonCanonical)
	}
	var p bls.G1Affine
	if _, err := p.SetBytes(b); err != nil {
		// Curve or subgroup: tell which, off the hot path.
		var q bls.G1Affine
		if bls.NewDecoder(bytes.NewReader(b), bls.NoSubgroupChecks()).Decode(&q) == nil {
			return bls.G1Affine{}, fmt.Errorf("codec: %s: %w", name, ErrNotInSubgroup)
		}
		return bls.G1Affine{}, fmt.Errorf("codec: %s: %w", name, ErrNotOnCurve)
	}
	// Every accepted point has exactly one encoding (this also rules out the
	// y = 0 case, where both sign flags name the same point).
	if p.IsInfinity() || p.Bytes() != [bls.SizeOfG1AffineCompressed]byte(b) {
		return bls.G1Affine{}, fmt.Errorf("codec: %s: point does not re-encode to its bytes: %w", name, ErrNonCanonical)
	}
	return p, nil
}

// setG2 is setG1 for a 96-byte compressed G2 point, x = x1·u + x0 encoded as
// x1 ‖ x0.
func setG2(name string, b []byte, allowIdentity bool) (bls.G2Affine, error) {
	if len(b) != bls.SizeOfG2AffineCompressed {
		return bls.G2Affine{}, fmt.Errorf("codec: %s: %d bytes, want %d: %w", name, len(b), bls.SizeOfG2AffineCompressed, ErrInvalidEncoding)
	}
	if err := checkFlags(name, b[0], allowIdentity); err != nil {
		return bls.G2Affine{}, err
	}
	var x [2 * fp.Bytes]byte
	copy(x[:], b)
	x[0] &^= flagMask
	if new(fp.Element).SetBytesCanonical(x[:fp.Bytes]) != nil || new(fp.Element).SetBytesCanonical(x[fp.Bytes:]) != nil {
		return bls.G2Affine{}, fmt.Errorf("codec: %s: x coordinate not below p: %w", name, ErrNonCanonical)
	}
	var p bls.G2Affine
	if _, err := p.SetBytes(b); err != nil {
		var q bls.G2Affine
		if bls.NewDecoder(bytes.NewReader(b), bls.NoSubgroupChecks()).Decode(&q) == nil {
			return bls.G2Affine{}, fmt.Errorf("codec: %s: %w", name, ErrNotInSubgroup)
		}
		return bls.G2Affine{}, fmt.Errorf("codec: %s: %w", name, ErrNotOnCurve)
	}
	if p.IsInfinity() || p.Bytes() != [bls.SizeOfG2AffineCompressed]byte(b) {
		return bls.G2Affine{}, fmt.Errorf("codec: %s: point does not re-encode to its bytes: %w", name, ErrNonCanonical)
	}
	return p, nil
}
