package codec

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"sync"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/require"
)

// roundTrip encodes v, decodes into a fresh *T, checks equality and that the
// bytes re-encode identically, and returns the encoding.
func roundTrip[T any](t *testing.T, v T) []byte {
	t.Helper()
	b, err := Default().Marshal(v)
	require.NoError(t, err)
	var got T
	require.NoError(t, Default().Unmarshal(b, &got))
	require.Equal(t, v, got)
	again, err := Default().Marshal(got)
	require.NoError(t, err)
	require.Equal(t, b, again)
	return b
}

func randomG1(t *testing.T) bls.G1Affine {
	var k fr.Element
	_, err := k.SetRandom()
	require.NoError(t, err)
	g := g1Gen()
	var p bls.G1Affine
	p.ScalarMultiplication(&g, k.BigInt(new(big.Int)))
	return p
}

func randomG2(t *testing.T) bls.G2Affine {
	var k fr.Element
	_, err := k.SetRandom()
	require.NoError(t, err)
	g := g2Gen()
	var p bls.G2Affine
	p.ScalarMultiplication(&g, k.BigInt(new(big.Int)))
	return p
}

func TestRoundTripWireTypes(t *testing.T) {
	t.Parallel()
	t.Run("G1", func(t *testing.T) {
		for range 4 {
			b := roundTrip(t, G1(randomG1(t)))
			require.Len(t, b, 7+48)
		}
		roundTrip(t, G1(g1Gen()))
		p := g1Gen()
		p.Neg(&p) // the other sign flag
		roundTrip(t, G1(p))
	})
	t.Run("G1OrIdentity", func(t *testing.T) {
		require.Equal(t, []byte{0xda, 0x56, 0x44, 0x53, 0x04, 0x40}, roundTrip(t, G1OrIdentity{}))
		p := randomG1(t)
		b := roundTrip(t, G1OrIdentity(p))
		g, err := Default().Marshal(G1(p))
		require.NoError(t, err)
		require.Equal(t, g, b, "a non-identity G1OrIdentity is encoded as a G1")
	})
	t.Run("G2", func(t *testing.T) {
		for range 3 {
			b := roundTrip(t, G2(randomG2(t)))
			require.Len(t, b, 7+96)
		}
		p := g2Gen()
		p.Neg(&p)
		roundTrip(t, G2(p))
	})
	t.Run("G2OrIdentity", func(t *testing.T) {
		require.Equal(t, []byte{0xda, 0x56, 0x44, 0x53, 0x05, 0x40}, roundTrip(t, G2OrIdentity{}))
		roundTrip(t, G2OrIdentity(randomG2(t)))
	})
	t.Run("Scalar", func(t *testing.T) {
		zero := roundTrip(t, Scalar{})
		require.Equal(t, append([]byte{0xda, 0x56, 0x44, 0x53, 0x03, 0x58, 0x20}, make([]byte, 32)...), zero)
		roundTrip(t, Scalar(frUint(1)))
		roundTrip(t, Scalar(frMinusOne()))
		for range 8 {
			var e fr.Element
			_, err := e.SetRandom()
			require.NoError(t, err)
			roundTrip(t, Scalar(e))
		}
	})
	t.Run("ScalarVector", func(t *testing.T) {
		require.Equal(t, []byte{0xda, 0x56, 0x44, 0x53, 0x06, 0x40}, roundTrip(t, ScalarVector{}))
		// nil encodes like empty and decodes to empty.
		b, err := Default().Marshal(ScalarVector(nil))
		require.NoError(t, err)
		require.Equal(t, []byte{0xda, 0x56, 0x44, 0x53, 0x06, 0x40}, b)
		roundTrip(t, ScalarVector{frUint(0)})
		roundTrip(t, ScalarVector{frMinusOne(), frUint(0), frMinusOne()})
		// A full column of 65536 rows: one byte string of 2 MiB.
		col := make(ScalarVector, 1<<16)
		for i := range col {
			col[i].SetUint64(uint64(i) * 0x9e3779b97f4a7c15)
		}
		b = roundTrip(t, col)
		require.Len(t, b, 5+5+32<<16)
	})
}

func TestRoundTripContainers(t *testing.T) {
	t.Parallel()
	t.Run("struct", func(t *testing.T) {
		roundTrip(t, goldenMessage())
		m := goldenMessage()
		m.W = G1OrIdentity(randomG1(t))
		m.H = G2OrIdentity{}
		m.Column = ScalarVector{}
		roundTrip(t, m)
	})
	t.Run("slices", func(t *testing.T) {
		roundTrip(t, []G1{G1(g1Gen()), G1(randomG1(t))})
		roundTrip(t, []G1OrIdentity{{}, G1OrIdentity(g1Gen()), {}})
		roundTrip(t, [2]G2OrIdentity{{}, G2OrIdentity(g2Gen())})
		roundTrip(t, []Scalar{{}, Scalar(frMinusOne())})
		roundTrip(t, []ScalarVector{{}, {frUint(3)}})
	})
	t.Run("maps", func(t *testing.T) {
		roundTrip(t, map[string]G1{"a": G1(g1Gen()), "b": G1(randomG1(t))})
		roundTrip(t, map[string]Scalar{"x": {}, "y": Scalar(frUint(9))})
		roundTrip(t, map[uint64]G2{1: G2(g2Gen())})
		roundTrip(t, map[string]ScalarVector{"c1": {frUint(1)}, "c2": {}})
	})
	t.Run("pointers", func(t *testing.T) {
		type opt struct {
			P *G1     `cbor:"p"`
			S *Scalar `cbor:"s"`
		}
		p := G1(g1Gen())
		roundTrip(t, opt{P: &p})
		b := roundTrip(t, opt{})
		require.Equal(t, []byte{0xa2, 0x61, 'p', 0xf6, 0x61, 's', 0xf6}, b)
	})
}

// TestWireErrorsSurviveNesting checks that a wire type's error, deep in a
// container, still matches its specific sentinel (fxamacker/cbor passes
// UnmarshalCBOR errors through unwrapped).
func TestWireErrorsSurviveNesting(t *testing.T) {
	t.Parallel()
	type inner struct {
		Ps []G1 `cbor:"ps"`
	}
	type outer struct {
		In map[string]inner `cbor:"in"`
	}
	bad := tagged(TagG1, g1NotInSubgroup(t))
	data := cat([]byte{0xa1, 0x62, 'i', 'n', 0xa1, 0x61, 'k', 0xa1, 0x62, 'p', 's', 0x81}, bad)
	var o outer
	err := Default().Unmarshal(data, &o)
	require.ErrorIs(t, err, ErrNotInSubgroup)
	require.ErrorIs(t, err, ErrInvalidPoint)
	require.Zero(t, o)

	// The same bytes with a valid point decode.
	g := g1Gen()
	gb := g.Bytes()
	data = cat(data[:12], tagged(TagG1, gb[:]))
	require.NoError(t, Default().Unmarshal(data, &o))
	require.Equal(t, G1(g), o.In["k"].Ps[0])
}

func TestMarshalIdentityRefused(t *testing.T) {
	t.Parallel()
	for name, v := range map[string]any{
		"G1":           G1{},
		"G2":           G2{},
		"*G1":          &G1{},
		"[]G1":         []G1{G1(g1Gen()), {}},
		"struct field": message{F: G1{}, PK: G2(g2Gen())},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := Default().Marshal(v)
			require.ErrorIs(t, err, ErrIdentity)
			require.Nil(t, b)
		})
	}
	_, err := G1{}.MarshalCBOR()
	require.ErrorIs(t, err, ErrIdentity)
	_, err = G2{}.MarshalCBOR()
	require.ErrorIs(t, err, ErrIdentity)
}

func TestUnmarshalTarget(t *testing.T) {
	t.Parallel()
	data, err := Default().Marshal(Scalar(frUint(1)))
	require.NoError(t, err)
	var s Scalar
	var nilPtr *Scalar
	for name, v := range map[string]any{
		"nil":         nil,
		"non-pointer": s,
		"nil pointer": nilPtr,
	} {
		t.Run(name, func(t *testing.T) {
			err := Default().Unmarshal(data, v)
			require.ErrorIs(t, err, ErrInvalidInput)
			require.NotErrorIs(t, err, ErrInvalidEncoding)
		})
	}
	// Wire types called directly on a nil receiver.
	require.ErrorIs(t, (*G1)(nil).UnmarshalCBOR(data), ErrInvalidInput)
	require.ErrorIs(t, (*G1OrIdentity)(nil).UnmarshalCBOR(data), ErrInvalidInput)
	require.ErrorIs(t, (*G2)(nil).UnmarshalCBOR(data), ErrInvalidInput)
	require.ErrorIs(t, (*G2OrIdentity)(nil).UnmarshalCBOR(data), ErrInvalidInput)
	require.ErrorIs(t, (*Scalar)(nil).UnmarshalCBOR(data), ErrInvalidInput)
	require.ErrorIs(t, (*ScalarVector)(nil).UnmarshalCBOR(data), ErrInvalidInput)

	// A pointer to a pointer works, and null gives nil.
	var pp *Scalar
	require.NoError(t, Default().Unmarshal(data, &pp))
	require.Equal(t, Scalar(frUint(1)), *pp)
	require.NoError(t, Default().Unmarshal([]byte{0xf6}, &pp))
	require.Nil(t, pp)
}

// TestUnmarshalLeavesTargetOnError: a failure late in a message (after valid
// fields were decoded) leaves the caller's value exactly as it was.
func TestUnmarshalLeavesTargetOnError(t *testing.T) {
	t.Parallel()
	mp := messagePairs(t)
	prior := goldenMessage()
	prior.Epoch = 99
	prior.Name = "before"
	for name, data := range map[string][]byte{
		"bad point":     cborMap(withPair(mp, "pk", tagged(TagG2, g2NotInSubgroup(t)))),
		"non-canonical": cborMap(withPair(mp, "epoch", []byte{0x18, 0x05})),
		"unknown field": cborMap(sortPairs(append(mp, pair{cborText("zz"), []byte{0}}))),
		"trailing":      cat(cborMap(mp), []byte{0}),
	} {
		t.Run(name, func(t *testing.T) {
			m := prior
			m.Column = append(ScalarVector(nil), prior.Column...)
			require.Error(t, Default().Unmarshal(data, &m))
			require.Equal(t, prior, m)
		})
	}
	// Direct UnmarshalCBOR calls leave the receiver too.
	g := G1(g1Gen())
	require.Error(t, g.UnmarshalCBOR(tagged(TagG1, g1NotInSubgroup(t))))
	require.Equal(t, G1(g1Gen()), g)
	v := ScalarVector{frUint(4)}
	require.Error(t, v.UnmarshalCBOR(tagged(TagScalarVector, cat(repeat(0, 32), rBytes()))))
	require.Equal(t, ScalarVector{frUint(4)}, v)
}

func TestUnmarshalReplaces(t *testing.T) {
	t.Parallel()
	type opt struct {
		A uint64 `cbor:"a,omitempty"`
		B uint64 `cbor:"b,omitempty"`
	}
	v := opt{A: 1, B: 2}
	require.NoError(t, Default().Unmarshal([]byte{0xa1, 0x61, 'a', 0x07}, &v))
	require.Equal(t, opt{A: 7}, v, "fields absent from the message are zero, not kept")
	// omitempty: a zero value written out is not canonical.
	require.ErrorIs(t, Default().Unmarshal([]byte{0xa2, 0x61, 'a', 0x07, 0x61, 'b', 0x00}, &v), ErrNonCanonical)
}

func TestNewCBORLimits(t *testing.T) {
	t.Parallel()
	c, err := NewCBOR(Limits{})
	require.NoError(t, err)
	require.Equal(t, DefaultLimits(), c.Limits())
	require.Equal(t, DefaultLimits(), Default().Limits())
	require.Equal(t, "application/cbor", Default().ContentType())
	require.Equal(t, Limits{MaxMessageBytes: 64 << 20, MaxNestedLevels: 16, MaxArrayElements: 1 << 20, MaxMapPairs: 1024}, DefaultLimits())

	c, err = NewCBOR(Limits{MaxMessageBytes: 100})
	require.NoError(t, err)
	require.Equal(t, 100, c.Limits().MaxMessageBytes)
	require.Equal(t, DefaultMaxNestedLevels, c.Limits().MaxNestedLevels)

	for _, l := range []Limits{
		{MaxMessageBytes: -1},
		{MaxNestedLevels: 3},
		{MaxNestedLevels: 65536},
		{MaxNestedLevels: -5},
		{MaxArrayElements: 15},
		{MaxArrayElements: 1 << 31},
		{MaxMapPairs: 1},
		{MaxMapPairs: -1},
	} {
		t.Run(fmt.Sprintf("%+v", l), func(t *testing.T) {
			c, err := NewCBOR(l)
			require.ErrorIs(t, err, ErrInvalidInput)
			require.Contains(t, err.Error(), "codec: limits: Max")
			require.Nil(t, c)
		})
	}
	// Every bad field is reported.
	_, err = NewCBOR(Limits{MaxNestedLevels: 1, MaxMapPairs: 2})
	require.ErrorContains(t, err, "MaxNestedLevels")
	require.ErrorContains(t, err, "MaxMapPairs")
	// The bounds themselves are accepted.
	_, err = NewCBOR(Limits{MaxMessageBytes: 1, MaxNestedLevels: 4, MaxArrayElements: 16, MaxMapPairs: 16})
	require.NoError(t, err)
	_, err = NewCBOR(Limits{MaxNestedLevels: 65535, MaxArrayElements: 1<<31 - 1, MaxMapPairs: 1<<31 - 1})
	require.NoError(t, err)
}

func TestLimitsEnforced(t *testing.T) {
	t.Parallel()
	c, err := NewCBOR(Limits{MaxMessageBytes: 200, MaxNestedLevels: 4, MaxArrayElements: 16, MaxMapPairs: 16})
	require.NoError(t, err)

	ints := func(n int) []uint64 { return make([]uint64, n) }
	m := func(n int) map[uint64]bool {
		out := map[uint64]bool{}
		for i := range n {
			out[uint64(i)] = true
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		value any
		into  func() any
		ok    bool
	}{
		{"array at limit", ints(16), func() any { return new([]uint64) }, true},
		{"array above limit", ints(17), func() any { return new([]uint64) }, false},
		{"map at limit", m(16), func() any { return new(map[uint64]bool) }, true},
		{"map above limit", m(17), func() any { return new(map[uint64]bool) }, false},
		{"nesting at limit", [][][][]uint64{{{{1}}}}, func() any { return new(any) }, true},
		{"nesting above limit", [][][][][]uint64{{{{{1}}}}}, func() any { return new(any) }, false},
		// fxamacker/cbor counts nested tags, not a single tag around a leaf.
		{"wire type at the limit", [][][][]G1{{{{G1(g1Gen())}}}}, func() any { return new([][][][]G1) }, true},
		{"wire type above the limit", [][][][][]G1{{{{{G1(g1Gen())}}}}}, func() any { return new([][][][][]G1) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := Default().Marshal(tc.value)
			require.NoError(t, err)
			err = c.Unmarshal(data, tc.into())
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrTooLarge)
			require.NotErrorIs(t, err, ErrInvalidEncoding)
		})
	}

	t.Run("message size", func(t *testing.T) {
		v := ScalarVector{frUint(1), frUint(2), frUint(3), frUint(4), frUint(5), frUint(6)} // 5+2+192 bytes
		data, err := Default().Marshal(v)
		require.NoError(t, err)
		require.Len(t, data, 199)
		var got ScalarVector
		require.NoError(t, c.Unmarshal(data, &got))

		v = append(v, frUint(7)) // 231 bytes
		data, err = Default().Marshal(v)
		require.NoError(t, err)
		err = c.Unmarshal(data, &got)
		require.ErrorIs(t, err, ErrTooLarge)
		require.Len(t, got, 6, "untouched")
		// Checked before parsing: even garbage of that size is "too large".
		require.ErrorIs(t, c.Unmarshal(make([]byte, 201), &got), ErrTooLarge)
		// Marshal refuses to produce what Unmarshal would refuse.
		_, err = c.Marshal(v)
		require.ErrorIs(t, err, ErrTooLarge)
	})
}

// TestGnarkTypesRefused: a raw gnark-crypto type in a message would travel
// as Montgomery limbs and decode without any check.
func TestGnarkTypesRefused(t *testing.T) {
	t.Parallel()
	type rawPoint struct {
		P bls.G1Affine `cbor:"p"`
	}
	type rawScalar struct {
		S []fr.Element `cbor:"s"`
	}
	type deep struct {
		M map[string][]*bls.G2Affine
	}
	type hidden struct {
		cache bls.G1Affine //nolint:unused // unexported: never encoded
		Skip  fr.Element   `cbor:"-"`
		OK    G1           `cbor:"ok"`
	}
	for name, v := range map[string]any{
		"G1Affine":         bls.G1Affine{},
		"*G2Affine":        &bls.G2Affine{},
		"fr.Element":       fr.Element{},
		"struct field":     rawPoint{},
		"slice of Fr":      rawScalar{},
		"nested deep":      deep{},
		"fr.Vector":        fr.Vector{},
		"GT":               bls.GT{},
		"map key":          map[fr.Element]bool{},
		"array of E2":      [2]bls.E2{},
		"slice of structs": []rawPoint{},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Default().Marshal(v)
			require.ErrorIs(t, err, ErrInvalidInput)
			require.ErrorContains(t, err, "gnark-crypto")
			ptr := reflect.New(reflect.TypeOf(v)).Interface()
			require.ErrorIs(t, Default().Unmarshal([]byte{0xa0}, ptr), ErrInvalidInput)
		})
	}
	h := hidden{OK: G1(g1Gen())}
	b, err := Default().Marshal(h)
	require.NoError(t, err)
	var got hidden
	require.NoError(t, Default().Unmarshal(b, &got))
	require.Equal(t, h.OK, got.OK)
}

func TestMarshalErrors(t *testing.T) {
	t.Parallel()
	_, err := Default().Marshal(make(chan int))
	require.ErrorIs(t, err, ErrInvalidInput)
	_, err = Default().Marshal(func() {})
	require.ErrorIs(t, err, ErrInvalidInput)
	b, err := Default().Marshal(nil)
	require.NoError(t, err)
	require.Equal(t, []byte{0xf6}, b)
}

func TestDecodeIntoAny(t *testing.T) {
	t.Parallel()
	// Decoding into any keeps tags as cbor.Tag, unvalidated (documented).
	b, err := Default().Marshal(G1(g1Gen()))
	require.NoError(t, err)
	var v any
	require.NoError(t, Default().Unmarshal(b, &v))
	tag, ok := v.(cbor.Tag)
	require.True(t, ok)
	require.Equal(t, TagG1, tag.Number)
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	data, err := Default().Marshal(goldenMessage())
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 5 {
				var m message
				if err := Default().Unmarshal(data, &m); err != nil {
					errs <- err
					return
				}
				b, err := Default().Marshal(m)
				if err != nil || !bytes.Equal(b, data) {
					errs <- errors.Join(err, errors.New("mismatch"))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestRandomBytesNeverAccepted: random 48-byte strings under TagG1 either fail
// cleanly or decode to a point that re-encodes identically.
func TestRandomPointBytes(t *testing.T) {
	t.Parallel()
	for range 200 {
		b := make([]byte, 48)
		_, err := rand.Read(b)
		require.NoError(t, err)
		b[0] = b[0]&^flagMask | flagCompressed
		data := tagged(TagG1, b)
		var p G1
		if err := Default().Unmarshal(data, &p); err != nil {
			require.ErrorIs(t, err, ErrInvalidEncoding)
			require.Equal(t, G1{}, p)
			continue
		}
		again, err := Default().Marshal(p)
		require.NoError(t, err)
		require.Equal(t, data, again)
	}
}
