package codec

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Malleability fuzzing: whatever the input, decoding either fails without
// touching the target, or succeeds with a value that re-encodes to exactly
// the input bytes. The wire types' own UnmarshalCBOR, called directly, must
// accept exactly the same inputs.

// seed adds every test vector whose target is one of targets, and the
// encodings of the given values.
func seed(f *testing.F, values []any, targetNames ...string) {
	for _, v := range loadVectors(f) {
		for _, name := range targetNames {
			if v.target == name {
				f.Add(v.data)
			}
		}
	}
	for _, v := range values {
		b, err := Default().Marshal(v)
		require.NoError(f, err)
		f.Add(b)
	}
}

// fuzzDecode checks one input against type T; initial is a non-zero value
// that must survive a failed decode.
func fuzzDecode[T any](t *testing.T, data []byte, initial func() T) {
	v := initial()
	err := Default().Unmarshal(data, &v)
	if err != nil {
		require.ErrorIs(t, err, ErrInvalidInput)
		require.Equal(t, initial(), v, "target changed by a failed decode")
	} else {
		again, err := Default().Marshal(v)
		require.NoError(t, err)
		require.Equal(t, data, again, "accepted bytes are not the canonical encoding")
	}
	// Direct calls must agree with the codec (wire types only).
	w := initial()
	if u, ok := any(&w).(interface{ UnmarshalCBOR([]byte) error }); ok {
		derr := u.UnmarshalCBOR(data)
		if err == nil {
			require.NoError(t, derr)
			require.Equal(t, v, w)
		} else {
			require.Error(t, derr)
			require.ErrorIs(t, derr, ErrInvalidEncoding)
			require.Equal(t, initial(), w)
		}
	}
}

func FuzzG1(f *testing.F) {
	seed(f, []any{G1(g1Gen()), G1(g1Mul(5)), G1OrIdentity{}}, "G1", "G1OrIdentity")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, data, func() G1 { return G1(g1Mul(3)) })
	})
}

func FuzzG1OrIdentity(f *testing.F) {
	seed(f, []any{G1OrIdentity(g1Gen()), G1OrIdentity{}}, "G1", "G1OrIdentity")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, data, func() G1OrIdentity { return G1OrIdentity(g1Mul(3)) })
	})
}

func FuzzG2(f *testing.F) {
	seed(f, []any{G2(g2Gen()), G2(g2Mul(5)), G2OrIdentity{}}, "G2", "G2OrIdentity")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, data, func() G2 { return G2(g2Mul(3)) })
	})
}

func FuzzG2OrIdentity(f *testing.F) {
	seed(f, []any{G2OrIdentity(g2Gen()), G2OrIdentity{}}, "G2", "G2OrIdentity")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, data, func() G2OrIdentity { return G2OrIdentity(g2Mul(3)) })
	})
}

func FuzzScalar(f *testing.F) {
	seed(f, []any{Scalar{}, Scalar(frUint(1)), Scalar(frMinusOne())}, "Scalar")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, data, func() Scalar { return Scalar(frUint(42)) })
	})
}

func FuzzScalarVector(f *testing.F) {
	seed(f, []any{ScalarVector{}, ScalarVector{frUint(1)}, ScalarVector{frMinusOne(), frUint(0)}}, "ScalarVector", "Scalar")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, data, func() ScalarVector { return ScalarVector{frUint(7), frUint(8)} })
	})
}

func FuzzStruct(f *testing.F) {
	m := goldenMessage()
	m.W = G1OrIdentity(g1Gen())
	m.Column = ScalarVector{}
	seed(f, []any{goldenMessage(), m, message{F: G1(g1Gen()), PK: G2(g2Gen())}}, "Message", "Any")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, data, func() message {
			m := goldenMessage()
			m.Name = "initial"
			return m
		})
	})
}
