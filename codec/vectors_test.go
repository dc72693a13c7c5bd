package codec

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"
)

// Test vectors live in testdata/vectors/{valid,invalid}/NAME.hex: comment
// lines ("# target: G1", "# want: ErrIdentity", free text), then the encoding
// in hex. The files are the frozen v1 format; the table below is how they
// were made. `go test ./codec -run TestVectors -update` rewrites them from the
// table — only ever on purpose, since that changes the v1 wire format.
var update = flag.Bool("update", false, "rewrite testdata/vectors from the generator table")

const vectorsDir = "testdata/vectors"

// targets are the Go types the vectors decode into.
var targets = map[string]func() any{
	"G1":           func() any { return new(G1) },
	"G1OrIdentity": func() any { return new(G1OrIdentity) },
	"G2":           func() any { return new(G2) },
	"G2OrIdentity": func() any { return new(G2OrIdentity) },
	"Scalar":       func() any { return new(Scalar) },
	"ScalarVector": func() any { return new(ScalarVector) },
	"Message":      func() any { return new(message) },
	"Any":          func() any { return new(any) },
}

// sentinels are the errors an invalid vector may name.
var sentinels = map[string]error{
	"ErrInvalidInput":    ErrInvalidInput,
	"ErrInvalidEncoding": ErrInvalidEncoding,
	"ErrNonCanonical":    ErrNonCanonical,
	"ErrInvalidPoint":    ErrInvalidPoint,
	"ErrIdentity":        ErrIdentity,
	"ErrTooLarge":        ErrTooLarge,
	"ErrDuplicateKey":    ErrDuplicateKey,
	"ErrUnknownField":    ErrUnknownField,
	"ErrTrailingBytes":   ErrTrailingBytes,
	"ErrUnexpectedTag":   ErrUnexpectedTag,
	"ErrNotOnCurve":      ErrNotOnCurve,
	"ErrNotInSubgroup":   ErrNotInSubgroup,
}

// vectorFile is one parsed file.
type vectorFile struct {
	name, target, want, note string
	data                     []byte
}

func (v vectorFile) valid() bool { return v.want == "ok" }

func (v vectorFile) format() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# target: %s\n# want: %s\n", v.target, v.want)
	for line := range strings.SplitSeq(v.note, "\n") {
		fmt.Fprintf(&b, "# %s\n", line)
	}
	h := hex.EncodeToString(v.data)
	for len(h) > 64 {
		b.WriteString(h[:64] + "\n")
		h = h[64:]
	}
	b.WriteString(h + "\n")
	return b.Bytes()
}

func parseVector(name string, raw []byte) (vectorFile, error) {
	v := vectorFile{name: name}
	var h strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "# target:"):
			v.target = strings.TrimSpace(strings.TrimPrefix(line, "# target:"))
		case strings.HasPrefix(line, "# want:"):
			v.want = strings.TrimSpace(strings.TrimPrefix(line, "# want:"))
		case strings.HasPrefix(line, "#"), line == "":
		default:
			h.WriteString(line)
		}
	}
	var err error
	v.data, err = hex.DecodeString(h.String())
	if err != nil {
		return v, fmt.Errorf("%s: %w", name, err)
	}
	if targets[v.target] == nil {
		return v, fmt.Errorf("%s: unknown target %q", name, v.target)
	}
	if !v.valid() && sentinels[v.want] == nil {
		return v, fmt.Errorf("%s: unknown sentinel %q", name, v.want)
	}
	return v, nil
}

// loadVectors reads every vector file under testdata/vectors.
func loadVectors(t testing.TB) []vectorFile {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(vectorsDir, "*", "*.hex"))
	require.NoError(t, err)
	require.NotEmpty(t, paths, "no vectors: run go test ./codec -run TestVectors -update")
	var out []vectorFile
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		require.NoError(t, err)
		v, err := parseVector(filepath.Base(filepath.Dir(p))+"/"+strings.TrimSuffix(filepath.Base(p), ".hex"), raw)
		require.NoError(t, err)
		require.Equal(t, v.valid(), strings.HasPrefix(v.name, "valid/"), "%s: want %q in the wrong directory", v.name, v.want)
		out = append(out, v)
	}
	return out
}

// goldenValues are the known values the valid vectors freeze: encoding each
// must give the file's bytes exactly.
func goldenValues() map[string]any {
	gm := goldenMessage()
	return map[string]any{
		"g1_generator":             G1(g1Gen()),
		"g1_times_2":               G1(g1Mul(2)),
		"g1oi_generator":           G1OrIdentity(g1Gen()),
		"g1oi_identity":            G1OrIdentity{},
		"g2_generator":             G2(g2Gen()),
		"g2oi_times_3":             G2OrIdentity(g2Mul(3)),
		"g2oi_identity":            G2OrIdentity{},
		"scalar_zero":              Scalar{},
		"scalar_one":               Scalar(frUint(1)),
		"scalar_r_minus_1":         Scalar(frMinusOne()),
		"scalarvector_empty":       ScalarVector{},
		"scalarvector_0_1_rminus1": ScalarVector{frUint(0), frUint(1), frMinusOne()},
		"message":                  gm,
	}
}

// generatedVectors is the table the files were made from.
func generatedVectors(t testing.TB) []vectorFile {
	t.Helper()
	enc := func(v any) []byte {
		b, err := Default().Marshal(v)
		require.NoError(t, err)
		return b
	}
	golden := goldenValues()
	valid := func(name, target, note string) vectorFile {
		return vectorFile{name: "valid/" + name, target: target, want: "ok", note: note, data: enc(golden[name])}
	}
	bad := func(name, target, want, note string, data []byte) vectorFile {
		return vectorFile{name: "invalid/" + name, target: target, want: want, note: note, data: data}
	}

	g1 := g1Gen()
	g1b := g1.Bytes()
	g2 := g2Gen()
	g2b := g2.Bytes()
	g1Inf := cat([]byte{0xc0}, repeat(0, 47))
	g2Inf := cat([]byte{0xc0}, repeat(0, 95))
	validG1 := tagged(TagG1, g1b[:])
	xIsP := func(n int) []byte { // x = p, compressed-smallest flag, padded to n bytes
		b := cat(pBytes(), repeat(0, n-len(pBytes())))
		b[0] |= flagCompressed
		return b
	}
	g2x0IsP := cat(g2b[:48], pBytes())
	uncompressed := g1b
	uncompressed[0] &^= flagMask
	flags111 := g1b
	flags111[0] |= flagMask
	nested := cat(repeat(0x81, DefaultMaxNestedLevels), []byte{0x00}) // 16 arrays deep: the limit
	tooDeep := cat(repeat(0x81, DefaultMaxNestedLevels+1), []byte{0x00})
	mp := messagePairs(t)
	secondR := cat(repeat(0, 32), rBytes(), repeat(0, 32))
	secondR[31] = 1

	return []vectorFile{
		valid("g1_generator", "G1", "the standard generator g of G1"),
		valid("g1_times_2", "G1", "2·g"),
		valid("g1oi_generator", "G1OrIdentity", "g, as a possibly-identity witness: same bytes as a G1"),
		valid("g1oi_identity", "G1OrIdentity", "the identity of G1 under TagG1Identity"),
		valid("g2_generator", "G2", "the standard generator ĝ of G2"),
		valid("g2oi_times_3", "G2OrIdentity", "3·ĝ"),
		valid("g2oi_identity", "G2OrIdentity", "the identity of G2 under TagG2Identity"),
		valid("scalar_zero", "Scalar", "0"),
		valid("scalar_one", "Scalar", "1"),
		valid("scalar_r_minus_1", "Scalar", "r − 1, the largest scalar"),
		valid("scalarvector_empty", "ScalarVector", "the empty vector: an empty byte string"),
		valid("scalarvector_0_1_rminus1", "ScalarVector", "[0, 1, r − 1]"),
		valid("message", "Message", "a struct mixing every wire type, keys in core deterministic order"),

		bad("g1_47_bytes", "G1", "ErrInvalidEncoding", "a 48-byte point cut to 47", tagged(TagG1, g1b[:47])),
		bad("g1_49_bytes", "G1", "ErrInvalidEncoding", "a point with one byte too many", tagged(TagG1, cat(g1b[:], []byte{0}))),
		bad("g1_identity_tag", "G1", "ErrIdentity", "the identity under its own tag, where G1 forbids it", tagged(TagG1Identity, nil)),
		bad("g1_identity_bytes", "G1", "ErrIdentity", "identity (infinity-flag) bytes under TagG1", tagged(TagG1, g1Inf)),
		bad("g1_not_on_curve", "G1", "ErrNotOnCurve", "x with no curve point (generator's x, last byte changed)", tagged(TagG1, g1NotOnCurve(t))),
		bad("g1_not_in_subgroup", "G1", "ErrNotInSubgroup", "a curve point outside the prime-order subgroup", tagged(TagG1, g1NotInSubgroup(t))),
		bad("g1_x_is_p", "G1", "ErrNonCanonical", "x = p: a coordinate that is not reduced", tagged(TagG1, xIsP(48))),
		bad("g1_uncompressed_flag", "G1", "ErrInvalidEncoding", "48 bytes without the compression flag", tagged(TagG1, uncompressed[:])),
		bad("g1_flags_111", "G1", "ErrInvalidEncoding", "flag bits 111, never valid", tagged(TagG1, flags111[:])),
		bad("g1_g2_tag", "G1", "ErrUnexpectedTag", "a G1 point under TagG2", tagged(TagG2, g1b[:])),
		bad("g1_scalar_tag", "G1", "ErrUnexpectedTag", "a G1 point under TagScalar", tagged(TagScalar, g1b[:])),
		bad("g1_untagged", "G1", "ErrUnexpectedTag", "the point bytes without a tag", cat([]byte{0x58, 0x30}, g1b[:])),
		bad("g1_null", "G1", "ErrUnexpectedTag", "CBOR null", []byte{0xf6}),
		bad("g1_tag_head_not_shortest", "G1", "ErrNonCanonical", "TagG1 written with an 8-byte argument", cat([]byte{0xdb, 0, 0, 0, 0, 0x56, 0x44, 0x53, 0x01, 0x58, 0x30}, g1b[:])),
		bad("g1_length_not_shortest", "G1", "ErrNonCanonical", "byte string length 48 written with a 2-byte argument", cat([]byte{0xda, 0x56, 0x44, 0x53, 0x01, 0x59, 0, 0x30}, g1b[:])),
		bad("g1_indefinite_bytes", "G1", "ErrNonCanonical", "the point as an indefinite-length byte string", cat([]byte{0xda, 0x56, 0x44, 0x53, 0x01, 0x5f, 0x58, 0x30}, g1b[:], []byte{0xff})),
		bad("g1_trailing_byte", "G1", "ErrTrailingBytes", "a valid point followed by 0x00", cat(validG1, []byte{0})),
		bad("g1_self_described", "G1", "ErrNonCanonical", "a valid point behind the self-described CBOR tag 55799", cat([]byte{0xd9, 0xd9, 0xf7}, validG1)),
		bad("g1oi_identity_bytes", "G1OrIdentity", "ErrNonCanonical", "the identity as point bytes: allowed value, wrong encoding", tagged(TagG1, g1Inf)),
		bad("g1oi_identity_nonempty", "G1OrIdentity", "ErrInvalidEncoding", "TagG1Identity around 48 zero bytes", tagged(TagG1Identity, repeat(0, 48))),
		bad("g1oi_g2_identity_tag", "G1OrIdentity", "ErrUnexpectedTag", "the identity of G2 where one of G1 is expected", tagged(TagG2Identity, nil)),

		bad("g2_95_bytes", "G2", "ErrInvalidEncoding", "a 96-byte point cut to 95", tagged(TagG2, g2b[:95])),
		bad("g2_97_bytes", "G2", "ErrInvalidEncoding", "a point with one byte too many", tagged(TagG2, cat(g2b[:], []byte{0}))),
		bad("g2_identity_tag", "G2", "ErrIdentity", "the identity under its own tag, where G2 forbids it", tagged(TagG2Identity, nil)),
		bad("g2_identity_bytes", "G2", "ErrIdentity", "identity (infinity-flag) bytes under TagG2", tagged(TagG2, g2Inf)),
		bad("g2_not_on_curve", "G2", "ErrNotOnCurve", "x with no curve point (generator's x, last byte changed)", tagged(TagG2, g2NotOnCurve(t))),
		bad("g2_not_in_subgroup", "G2", "ErrNotInSubgroup", "a twist point outside the prime-order subgroup", tagged(TagG2, g2NotInSubgroup(t))),
		bad("g2_x1_is_p", "G2", "ErrNonCanonical", "x1 = p", tagged(TagG2, xIsP(96))),
		bad("g2_x0_is_p", "G2", "ErrNonCanonical", "x0 = p", tagged(TagG2, g2x0IsP)),
		bad("g2_g1_tag", "G2", "ErrUnexpectedTag", "a G2 point under TagG1", tagged(TagG1, g2b[:])),
		bad("g2oi_identity_bytes", "G2OrIdentity", "ErrNonCanonical", "the identity as point bytes: allowed value, wrong encoding", tagged(TagG2, g2Inf)),
		bad("g2oi_identity_nonempty", "G2OrIdentity", "ErrInvalidEncoding", "TagG2Identity around one zero byte", tagged(TagG2Identity, []byte{0})),

		bad("scalar_is_r", "Scalar", "ErrNonCanonical", "r: reduces to 0, so not canonical", tagged(TagScalar, rBytes())),
		bad("scalar_2pow256_minus_1", "Scalar", "ErrNonCanonical", "2^256 − 1", tagged(TagScalar, repeat(0xff, 32))),
		bad("scalar_31_bytes", "Scalar", "ErrInvalidEncoding", "31 bytes", tagged(TagScalar, repeat(0, 31))),
		bad("scalar_33_bytes", "Scalar", "ErrInvalidEncoding", "33 bytes", tagged(TagScalar, repeat(0, 33))),
		bad("scalar_vector_tag", "Scalar", "ErrUnexpectedTag", "a 32-byte scalar under TagScalarVector", tagged(TagScalarVector, repeat(0, 32))),
		bad("scalar_untagged_uint", "Scalar", "ErrUnexpectedTag", "the unsigned integer 5", []byte{0x05}),
		bad("scalarvector_33_bytes", "ScalarVector", "ErrInvalidEncoding", "33 bytes: not a multiple of 32", tagged(TagScalarVector, repeat(0, 33))),
		bad("scalarvector_element_is_r", "ScalarVector", "ErrNonCanonical", "[1, r, 0]: the second element is not reduced", tagged(TagScalarVector, secondR)),
		bad("scalarvector_array", "ScalarVector", "ErrUnexpectedTag", "an array of scalars instead of one byte string", enc([]Scalar{Scalar(frUint(1))})),
		bad("scalarvector_scalar_tag", "ScalarVector", "ErrUnexpectedTag", "one scalar under TagScalar", tagged(TagScalar, repeat(0, 32))),

		bad("message_duplicate_key", "Message", "ErrDuplicateKey", `"epoch" twice`, cborMap(append(slices.Clone(mp), pair{cborText("epoch"), []byte{0x05}}))),
		bad("message_unknown_field", "Message", "ErrUnknownField", `an extra key "zz"`, cborMap(sortPairs(append(slices.Clone(mp), pair{cborText("zz"), []byte{0x00}})))),
		bad("message_key_case", "Message", "ErrUnknownField", `"Epoch" for "epoch": field names match case-sensitively`, cborMap(sortPairs(append(withPair(mp, "epoch", nil), pair{cborText("Epoch"), []byte{0x05}})))),
		bad("message_indefinite_map", "Message", "ErrNonCanonical", "the message as an indefinite-length map", cat([]byte{0xbf}, cborMap(mp)[1:], []byte{0xff})),
		bad("message_int_not_shortest", "Message", "ErrNonCanonical", "epoch 5 written as 0x18 0x05", cborMap(withPair(mp, "epoch", []byte{0x18, 0x05}))),
		bad("message_keys_unsorted", "Message", "ErrNonCanonical", "the keys in reverse order", cborMap(reversed(mp))),
		bad("message_missing_field", "Message", "ErrNonCanonical", `no "name": decodes as "", which the encoder would write`, cborMap(withPair(mp, "name", nil))),
		bad("message_invalid_utf8", "Message", "ErrInvalidEncoding", "name is not UTF-8", cborMap(withPair(mp, "name", []byte{0x62, 0xff, 0xfe}))),
		bad("message_point_not_in_subgroup", "Message", "ErrNotInSubgroup", "field f outside the subgroup: the wire type's error survives", cborMap(withPair(mp, "f", tagged(TagG1, g1NotInSubgroup(t))))),
		bad("message_identity_in_g1", "Message", "ErrIdentity", "field f (a G1) is the identity", cborMap(withPair(mp, "f", tagged(TagG1Identity, nil)))),
		bad("message_trailing_byte", "Message", "ErrTrailingBytes", "a valid message followed by 0x00", cat(cborMap(mp), []byte{0})),
		bad("message_truncated", "Message", "ErrInvalidEncoding", "a valid message without its last byte", cborMap(mp)[:len(cborMap(mp))-1]),
		bad("message_empty_input", "Message", "ErrInvalidEncoding", "zero bytes", nil),
		bad("any_nested_too_deep", "Any", "ErrTooLarge", "17 nested arrays, one above the default limit of 16", tooDeep),
		{name: "valid/any_nested_at_limit", target: "Any", want: "ok", note: "16 nested arrays: the default limit", data: nested},
	}
}

func TestVectors(t *testing.T) {
	if *update {
		writeVectors(t)
	}
	vs := loadVectors(t)
	for _, v := range vs {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			dst := targets[v.target]()
			err := Default().Unmarshal(v.data, dst)
			if v.valid() {
				require.NoError(t, err)
				again, err := Default().Marshal(dst)
				require.NoError(t, err)
				require.Equal(t, v.data, again, "valid vector must re-encode to itself")
				return
			}
			require.Error(t, err)
			require.ErrorIs(t, err, sentinels[v.want])
			require.ErrorIs(t, err, ErrInvalidInput)
			if v.want != "ErrTooLarge" {
				require.ErrorIs(t, err, ErrInvalidEncoding)
			}
			require.Equal(t, targets[v.target](), dst, "target must be untouched on error")
			// The wire types' own decoders, called directly, agree.
			if u, ok := dst.(interface{ UnmarshalCBOR([]byte) error }); ok && v.target != "Message" {
				require.ErrorIs(t, u.UnmarshalCBOR(v.data), sentinels[v.want])
			}
		})
	}
}

// TestGolden freezes the v1 wire format: each known value encodes to its
// file's bytes exactly, and every valid file (but the nesting probe) has a
// known value.
func TestGolden(t *testing.T) {
	files := map[string]vectorFile{}
	for _, v := range loadVectors(t) {
		if v.valid() {
			files[strings.TrimPrefix(v.name, "valid/")] = v
		}
	}
	golden := goldenValues()
	for name, val := range golden {
		t.Run(name, func(t *testing.T) {
			f, ok := files[name]
			require.True(t, ok, "no golden file for %s", name)
			got, err := Default().Marshal(val)
			require.NoError(t, err)
			require.Equal(t, hex.EncodeToString(f.data), hex.EncodeToString(got))
		})
	}
	for name := range files {
		if name != "any_nested_at_limit" {
			require.Contains(t, golden, name, "valid file without a golden value")
		}
	}
	// A few bytes checked by eye, independent of the encoder.
	require.Equal(t, "da5644530440", hex.EncodeToString(files["g1oi_identity"].data))
	require.Equal(t, "da5644530540", hex.EncodeToString(files["g2oi_identity"].data))
	require.Equal(t, "da5644530640", hex.EncodeToString(files["scalarvector_empty"].data))
	require.Equal(t, "da564453035820"+strings.Repeat("00", 32), hex.EncodeToString(files["scalar_zero"].data))
	rm1 := frMinusOne()
	b := rm1.Bytes()
	require.Equal(t, "da564453035820"+hex.EncodeToString(b[:]), hex.EncodeToString(files["scalar_r_minus_1"].data))
	require.Equal(t, "da564453065860", hex.EncodeToString(files["scalarvector_0_1_rminus1"].data[:7]))
	g := g1Gen()
	gb := g.Bytes()
	require.Equal(t, "da564453015830"+hex.EncodeToString(gb[:]), hex.EncodeToString(files["g1_generator"].data))
	require.Equal(t, fr.Bytes*3, len(files["scalarvector_0_1_rminus1"].data)-7)
}

func writeVectors(t *testing.T) {
	t.Helper()
	for _, sub := range []string{"valid", "invalid"} {
		dir := filepath.Join(vectorsDir, sub)
		old, _ := filepath.Glob(filepath.Join(dir, "*.hex"))
		for _, p := range old {
			require.NoError(t, os.Remove(p))
		}
		require.NoError(t, os.MkdirAll(dir, 0o755))
	}
	seen := map[string]bool{}
	for _, v := range generatedVectors(t) {
		require.False(t, seen[v.name], "duplicate vector %s", v.name)
		seen[v.name] = true
		require.NoError(t, os.WriteFile(filepath.Join(vectorsDir, v.name+".hex"), v.format(), 0o644))
	}
}

// TestVectorTable checks that the generator table still produces the files:
// a change in a helper that would silently alter a vector fails here.
func TestVectorTable(t *testing.T) {
	files := map[string]vectorFile{}
	for _, v := range loadVectors(t) {
		files[v.name] = v
	}
	gen := generatedVectors(t)
	require.Len(t, files, len(gen))
	for _, v := range gen {
		f, ok := files[v.name]
		require.True(t, ok, "missing file for %s", v.name)
		require.Equal(t, hex.EncodeToString(v.data), hex.EncodeToString(f.data), v.name)
		require.Equal(t, v.target, f.target, v.name)
		require.Equal(t, v.want, f.want, v.name)
	}
}

func reversed(pairs []pair) []pair {
	out := slices.Clone(pairs)
	slices.Reverse(out)
	return out
}
