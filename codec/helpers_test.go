package codec

import (
	"bytes"
	"math/big"
	"slices"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"
)

// message is a small protocol-like struct mixing every wire type.
type message struct {
	Epoch  uint64       `cbor:"epoch"`
	F      G1           `cbor:"f"`
	W      G1OrIdentity `cbor:"w"`
	U      Scalar       `cbor:"u"`
	PK     G2           `cbor:"pk"`
	H      G2OrIdentity `cbor:"h"`
	Column ScalarVector `cbor:"col"`
	Name   string       `cbor:"name"`
}

func g1Gen() bls.G1Affine {
	_, _, g, _ := bls.Generators()
	return g
}

func g2Gen() bls.G2Affine {
	_, _, _, g := bls.Generators()
	return g
}

func g1Mul(k int64) bls.G1Affine {
	g := g1Gen()
	var p bls.G1Affine
	p.ScalarMultiplication(&g, big.NewInt(k))
	return p
}

func g2Mul(k int64) bls.G2Affine {
	g := g2Gen()
	var p bls.G2Affine
	p.ScalarMultiplication(&g, big.NewInt(k))
	return p
}

func frUint(v uint64) fr.Element {
	var e fr.Element
	e.SetUint64(v)
	return e
}

// frMinusOne is r − 1, the largest scalar.
func frMinusOne() fr.Element {
	var e fr.Element
	e.SetOne()
	e.Neg(&e)
	return e
}

// rBytes is r big-endian: the smallest non-canonical scalar.
func rBytes() []byte { return fr.Modulus().FillBytes(make([]byte, fr.Bytes)) }

// pBytes is p big-endian: the smallest non-canonical coordinate.
func pBytes() []byte { return fp.Modulus().FillBytes(make([]byte, fp.Bytes)) }

// goldenMessage is the message frozen in testdata/vectors/valid/message.hex.
func goldenMessage() message {
	return message{
		Epoch:  5,
		F:      G1(g1Mul(2)),
		W:      G1OrIdentity{},
		U:      Scalar(frMinusOne()),
		PK:     G2(g2Gen()),
		H:      G2OrIdentity(g2Mul(3)),
		Column: ScalarVector{frUint(0), frUint(1), frMinusOne()},
		Name:   "vds",
	}
}

// g1NotInSubgroup returns the compressed bytes of a point on the curve but
// outside the prime-order subgroup.
func g1NotInSubgroup(t testing.TB) []byte {
	t.Helper()
	var f fp.Element
	f.SetUint64(7)
	j := bls.GeneratePointNotInG1(f)
	var a bls.G1Affine
	a.FromJacobian(&j)
	require.False(t, a.IsInfinity())
	require.True(t, a.IsOnCurve())
	require.False(t, a.IsInSubGroup())
	b := a.Bytes()
	return b[:]
}

func g2NotInSubgroup(t testing.TB) []byte {
	t.Helper()
	var f bls.E2
	f.A0.SetUint64(7)
	f.A1.SetUint64(11)
	j := bls.GeneratePointNotInG2(f)
	var a bls.G2Affine
	a.FromJacobian(&j)
	require.False(t, a.IsInfinity())
	require.True(t, a.IsOnCurve())
	require.False(t, a.IsInSubGroup())
	b := a.Bytes()
	return b[:]
}

// g1NotOnCurve returns compressed bytes with a canonical x that is the
// abscissa of no curve point: the generator's x with its last byte changed.
func g1NotOnCurve(t testing.TB) []byte {
	t.Helper()
	g := g1Gen()
	base := g.Bytes()
	for k := 1; k < 256; k++ {
		b := base
		b[len(b)-1] ^= byte(k)
		var x fp.Element
		x.SetBytes(append([]byte{b[0] &^ flagMask}, b[1:]...))
		var y2 fp.Element
		y2.Square(&x).Mul(&y2, &x)
		var four fp.Element
		four.SetUint64(4)
		y2.Add(&y2, &four)
		if y2.Legendre() == -1 {
			return b[:]
		}
	}
	t.Fatal("no x off the curve found")
	return nil
}

func g2NotOnCurve(t testing.TB) []byte {
	t.Helper()
	g := g2Gen()
	base := g.Bytes()
	for k := 1; k < 256; k++ {
		b := base
		b[len(b)-1] ^= byte(k)
		var p, q bls.G2Affine
		if _, err := p.SetBytes(b[:]); err == nil {
			continue
		}
		if bls.NewDecoder(bytes.NewReader(b[:]), bls.NoSubgroupChecks()).Decode(&q) == nil {
			continue // on the curve, outside the subgroup
		}
		return b[:]
	}
	t.Fatal("no x off the curve found")
	return nil
}

// tagged returns tag(bytes(content)) in canonical form, written out by hand
// (independently of appendTagged) for 4-byte tags and short contents.
func tagged(tag uint64, content []byte) []byte {
	out := []byte{0xda, byte(tag >> 24), byte(tag >> 16), byte(tag >> 8), byte(tag)}
	switch n := len(content); {
	case n < 24:
		out = append(out, 0x40|byte(n))
	case n < 256:
		out = append(out, 0x58, byte(n))
	default:
		out = append(out, 0x59, byte(n>>8), byte(n))
	}
	return append(out, content...)
}

func cat(parts ...[]byte) []byte { return slices.Concat(parts...) }

func repeat(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

// cborText encodes a short text string.
func cborText(s string) []byte { return append([]byte{0x60 | byte(len(s))}, s...) }

// pair is one key/value of a hand-built CBOR map.
type pair struct{ k, v []byte }

// cborMap writes a definite-length map with the pairs in the given order.
func cborMap(pairs []pair) []byte {
	out := []byte{0xa0 | byte(len(pairs))}
	for _, p := range pairs {
		out = append(append(out, p.k...), p.v...)
	}
	return out
}

// sortPairs orders pairs as core deterministic encoding does: by the bytes
// of the encoded keys.
func sortPairs(pairs []pair) []pair {
	out := slices.Clone(pairs)
	slices.SortFunc(out, func(a, b pair) int { return bytes.Compare(a.k, b.k) })
	return out
}

// messagePairs returns the canonical pairs of goldenMessage, each value
// encoded on its own.
func messagePairs(t testing.TB) []pair {
	t.Helper()
	m := goldenMessage()
	enc := func(v any) []byte {
		b, err := Default().Marshal(v)
		require.NoError(t, err)
		return b
	}
	return sortPairs([]pair{
		{cborText("epoch"), enc(m.Epoch)},
		{cborText("f"), enc(m.F)},
		{cborText("w"), enc(m.W)},
		{cborText("u"), enc(m.U)},
		{cborText("pk"), enc(m.PK)},
		{cborText("h"), enc(m.H)},
		{cborText("col"), enc(m.Column)},
		{cborText("name"), enc(m.Name)},
	})
}

// withPair returns pairs with the value of key replaced (or the pair removed
// if v is nil).
func withPair(pairs []pair, key string, v []byte) []pair {
	var out []pair
	for _, p := range pairs {
		if bytes.Equal(p.k, cborText(key)) {
			if v == nil {
				continue
			}
			p.v = v
		}
		out = append(out, p)
	}
	return out
}
