package accumulator

import (
	crand "crypto/rand"
	"fmt"
	"io"
	"math/big"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// SecretKeySize is the length of the encoding of a [SecretKey]: the scalar s
// as 32 bytes big-endian (SPEC §2).
const SecretKeySize = fr.Bytes

// SecretKey is the data owner's accumulator secret s ∈ Fr, s ≠ 0 (SPEC §6).
// The zero value, and a key after [SecretKey.Zero], hold no secret: Accumulate
// and MarshalBinary fail with ErrInvalidInput and PublicKey returns the
// identity. Copies of a SecretKey value share s, and Zero wipes it for all.
//
// A SecretKey formats as a redacted placeholder with every fmt verb, also
// when it is an unexported field of another struct (where fmt cannot call its
// methods): s is held behind two pointers, and fmt dereferences at most one.
type SecretKey struct {
	s **fr.Element
}

// GenerateKey draws a fresh accumulator secret s (SPEC §6) from 64 bytes of
// rand reduced modulo r (bias below 2⁻²⁵⁰); rand == nil means crypto/rand. It
// fails if rand fails or yields s = 0.
func GenerateKey(rand io.Reader) (*SecretKey, error) {
	if rand == nil {
		rand = crand.Reader
	}
	var buf [64]byte
	defer clear(buf[:])
	if _, err := io.ReadFull(rand, buf[:]); err != nil {
		return nil, fmt.Errorf("accumulator: generate key: %w", err)
	}
	s := new(fr.Element)
	s.SetBytes(buf[:])
	if s.IsZero() {
		return nil, fmt.Errorf("accumulator: generate key: random source gave s = 0: %w", ErrInvalidInput)
	}
	return newSecretKey(s), nil
}

func newSecretKey(s *fr.Element) *SecretKey { return &SecretKey{s: &s} }

// scalar returns s, or nil if sk holds no secret.
func (sk *SecretKey) scalar() *fr.Element {
	if sk == nil || sk.s == nil || *sk.s == nil || (*sk.s).IsZero() {
		return nil
	}
	return *sk.s
}

// PublicKey returns P = s·ĝ ∈ G2, the owner's public accumulator key (SPEC
// §6). For a key without a secret (zero value, wiped, nil) it returns the
// identity, which every verifier rejects.
func (sk *SecretKey) PublicKey() bls.G2Affine {
	var p bls.G2Affine
	s := sk.scalar()
	if s == nil {
		return p // the identity
	}
	var k big.Int
	s.BigInt(&k)
	p.ScalarMultiplicationBase(&k)
	k.SetUint64(0)
	return p
}

// Accumulate returns (x + s)·f, the accumulator value after revoking x from
// the value f (SPEC §6: f_E = (x_E + s)·f_{E−1}). It fails with ErrIdentity
// if f is the identity and with ErrInvalidInput if x + s = 0, if an argument
// is nil or if the key holds no secret.
func (sk *SecretKey) Accumulate(f *bls.G1Affine, x *fr.Element) (bls.G1Affine, error) {
	var out bls.G1Affine
	s := sk.scalar()
	switch {
	case s == nil:
		return out, fmt.Errorf("accumulator: accumulate: key holds no secret: %w", ErrInvalidInput)
	case f == nil || x == nil:
		return out, fmt.Errorf("accumulator: accumulate: nil argument: %w", ErrInvalidInput)
	case f.IsInfinity():
		return out, fmt.Errorf("accumulator: accumulate: accumulator value: %w", ErrIdentity)
	}
	var e fr.Element
	e.Add(x, s)
	defer e.SetZero()
	if e.IsZero() {
		return out, fmt.Errorf("accumulator: accumulate: x + s = 0: %w", ErrInvalidInput)
	}
	var k big.Int
	e.BigInt(&k)
	out.ScalarMultiplication(f, &k)
	k.SetUint64(0)
	return out, nil
}

// MarshalBinary returns s as SecretKeySize bytes big-endian, for the owner's
// key store (SPEC §2, §6). The caller owns the bytes and should wipe them.
func (sk *SecretKey) MarshalBinary() ([]byte, error) {
	s := sk.scalar()
	if s == nil {
		return nil, fmt.Errorf("accumulator: marshal key: key holds no secret: %w", ErrInvalidInput)
	}
	b := s.Bytes()
	out := append([]byte(nil), b[:]...)
	clear(b[:])
	return out, nil
}

// UnmarshalSecretKey decodes the output of [SecretKey.MarshalBinary]: exactly
// SecretKeySize bytes encoding a scalar 0 < s < r (SPEC §2: canonical, never
// silently reduced).
func UnmarshalSecretKey(b []byte) (*SecretKey, error) {
	if len(b) != SecretKeySize {
		return nil, fmt.Errorf("accumulator: unmarshal key: %d bytes, want %d: %w", len(b), SecretKeySize, ErrInvalidEncoding)
	}
	s := new(fr.Element)
	if err := s.SetBytesCanonical(b); err != nil {
		return nil, fmt.Errorf("accumulator: unmarshal key: scalar not below r: %w", ErrNonCanonical)
	}
	if s.IsZero() {
		return nil, fmt.Errorf("accumulator: unmarshal key: s = 0: %w", ErrInvalidEncoding)
	}
	return newSecretKey(s), nil
}

// Zero overwrites s; afterwards the key holds no secret. It is safe on a nil
// or already wiped key.
func (sk *SecretKey) Zero() {
	if sk == nil || sk.s == nil {
		return
	}
	if *sk.s != nil {
		(*sk.s).SetZero()
		*sk.s = nil
	}
	sk.s = nil
}

const redacted = "accumulator.SecretKey{REDACTED}"

// String returns a placeholder; it never reveals s.
func (SecretKey) String() string { return redacted }

// GoString returns a placeholder, for %#v; it never reveals s.
func (SecretKey) GoString() string { return redacted }

// Format writes a placeholder for every verb (%v, %+v, %#v, %s, %x, %d, …);
// it never reveals s.
func (SecretKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }
