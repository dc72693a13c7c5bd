package accumulator

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

func TestSecretKeyRoundTrip(t *testing.T) {
	t.Parallel()
	sk, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sk.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != SecretKeySize {
		t.Fatalf("encoding has %d bytes, want %d", len(b), SecretKeySize)
	}
	sk2, err := UnmarshalSecretKey(b)
	if err != nil {
		t.Fatal(err)
	}
	if !sk2.scalar().Equal(sk.scalar()) {
		t.Fatal("decoded secret differs")
	}
	b2, err := sk2.MarshalBinary()
	if err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("re-encoding differs: %v", err)
	}
	pk, pk2 := sk.PublicKey(), sk2.PublicKey()
	if !pk.Equal(&pk2) || pk.IsInfinity() {
		t.Fatal("public keys differ or are the identity")
	}
	// P = s·ĝ.
	_, _, _, g2 := bls.Generators()
	var want bls.G2Affine
	want.ScalarMultiplication(&g2, sk.scalar().BigInt(new(big.Int)))
	if !pk.Equal(&want) {
		t.Fatal("public key is not s·ĝ")
	}
}

func TestUnmarshalSecretKeyRejects(t *testing.T) {
	t.Parallel()
	r := fr.Modulus().FillBytes(make([]byte, 32))
	rPlus1 := fr.Modulus()
	rPlus1.Add(rPlus1, big.NewInt(1))
	ones := bytes.Repeat([]byte{0xff}, 32)
	valid := make([]byte, 32)
	valid[31] = 1
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"nil", nil, ErrInvalidEncoding},
		{"31 bytes", valid[1:], ErrInvalidEncoding},
		{"33 bytes", append([]byte{0}, valid...), ErrInvalidEncoding},
		{"64 bytes", append(append([]byte(nil), valid...), valid...), ErrInvalidEncoding},
		{"zero", make([]byte, 32), ErrInvalidEncoding},
		{"r", r, ErrNonCanonical},
		{"r+1", rPlus1.FillBytes(make([]byte, 32)), ErrNonCanonical},
		{"all ones", ones, ErrNonCanonical},
	} {
		sk, err := UnmarshalSecretKey(tc.b)
		if !errors.Is(err, tc.want) || sk != nil {
			t.Errorf("%s: got (%v, %v), want %v", tc.name, sk, err, tc.want)
		}
	}
	if sk, err := UnmarshalSecretKey(valid); err != nil || !sk.scalar().IsOne() {
		t.Errorf("s = 1 rejected: %v", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestGenerateKeyRejects(t *testing.T) {
	t.Parallel()
	if _, err := GenerateKey(zeroReader{}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("all-zero randomness: got %v, want ErrInvalidInput", err)
	}
	short := io.LimitReader(bytes.NewReader(bytes.Repeat([]byte{1}, 64)), 63)
	if _, err := GenerateKey(short); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short randomness: got %v, want io.ErrUnexpectedEOF", err)
	}
	a, err1 := GenerateKey(nil)
	b, err2 := GenerateKey(nil)
	if err1 != nil || err2 != nil || a.scalar().Equal(b.scalar()) {
		t.Errorf("two keys from crypto/rand: %v, %v, equal = %v", err1, err2, err1 == nil && err2 == nil && a.scalar().Equal(b.scalar()))
	}
}

func TestAccumulate(t *testing.T) {
	t.Parallel()
	sk, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	f := Initial()
	x := randomElement(t)
	got, err := sk.Accumulate(&f, &x)
	if err != nil {
		t.Fatal(err)
	}
	var k fr.Element
	k.Add(&x, sk.scalar())
	if want := mulBase(&k); !got.Equal(&want) {
		t.Fatal("Accumulate is not (x+s)·f")
	}

	var minusS fr.Element
	minusS.Neg(sk.scalar())
	var identity bls.G1Affine
	identity.SetInfinity()
	for _, tc := range []struct {
		name string
		f    *bls.G1Affine
		x    *fr.Element
		want error
	}{
		{"x = −s", &f, &minusS, ErrInvalidInput},
		{"identity f", &identity, &x, ErrIdentity},
		{"nil f", nil, &x, ErrInvalidInput},
		{"nil x", &f, nil, ErrInvalidInput},
	} {
		if _, err := sk.Accumulate(tc.f, tc.x); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestSecretKeyZero(t *testing.T) {
	t.Parallel()
	sk, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := sk.scalar()
	sk.Zero()
	if !s.IsZero() {
		t.Fatal("Zero left the secret in memory")
	}
	sk.Zero() // idempotent
	var nilKey *SecretKey
	nilKey.Zero()
	for name, k := range map[string]*SecretKey{"wiped": sk, "zero value": {}, "nil": nil} {
		if _, err := k.MarshalBinary(); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: MarshalBinary: got %v", name, err)
		}
		f, x := Initial(), randomElement(t)
		if _, err := k.Accumulate(&f, &x); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: Accumulate: got %v", name, err)
		}
		if pk := k.PublicKey(); !pk.IsInfinity() {
			t.Errorf("%s: PublicKey is not the identity", name)
		}
	}
}

// TestSecretKeyFormat checks that no fmt verb reveals s, whether the key is
// printed directly, through a pointer, or inside another struct.
func TestSecretKeyFormat(t *testing.T) {
	t.Parallel()
	sk, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	raw := sk.scalar().Bytes()
	forbidden := []string{
		sk.scalar().String(), // decimal
		sk.scalar().Text(16), // hex
		sk.scalar().Text(10), // decimal
		hex.EncodeToString(raw[:]),
		strings.ToUpper(hex.EncodeToString(raw[:])),
		string(raw[:]),
	}
	for _, limb := range sk.scalar() { // Montgomery form, as %v of the array would show it
		forbidden = append(forbidden, fmt.Sprint(limb), fmt.Sprintf("%x", limb))
	}
	type exported struct{ K SecretKey }
	type unexported struct{ k SecretKey }
	type viaPointer struct{ k *SecretKey }
	values := map[string]any{
		"value":      *sk,
		"pointer":    sk,
		"exported":   exported{*sk},
		"unexported": unexported{*sk},
		"viaPointer": viaPointer{sk},
		"slice":      []*SecretKey{sk},
		"map":        map[string]SecretKey{"k": *sk},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
			out := fmt.Sprintf(verb, v)
			for _, bad := range forbidden {
				if len(bad) >= 8 && strings.Contains(out, bad) {
					t.Errorf("%s with %s leaks the secret: %q", name, verb, out)
				}
			}
		}
	}
	if got := fmt.Sprint(sk); got != redacted {
		t.Errorf("fmt.Sprint(sk) = %q, want %q", got, redacted)
	}
	if got := fmt.Sprintf("%#v", *sk); got != redacted {
		t.Errorf("%%#v = %q, want %q", got, redacted)
	}
}
