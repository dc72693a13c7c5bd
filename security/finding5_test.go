package security

import (
	"crypto/ed25519"
	"math/big"
	"strings"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
)

// Finding 5: smaller things — sums that wrapped modulo r, the header cache
// trusting a caller's Go values, names with control characters.

// resign returns a copy of sh with its header changed by edit and signed
// again with the owner's key: a header the owner signed, but malformed.
func (w *world) resign(t *testing.T, sh *roles.SignedHeader, edit func(h *roles.Header)) roles.SignedHeader {
	t.Helper()
	out := *sh
	out.Header.Columns = append([]roles.ColumnInfo(nil), sh.Header.Columns...)
	out.Header.Commits = append([]codec.G1(nil), sh.Header.Commits...)
	edit(&out.Header)
	d, err := out.Header.Digest()
	require.NoError(t, err)
	out.Sig = ed25519.Sign(w.key, d[:])
	return out
}

func bigBatch(rows int, v *big.Int) *roles.Batch {
	b := &roles.Batch{Stream: "big", Columns: []roles.Column{{Name: "x"}}}
	for i := range rows {
		b.Timestamps = append(b.Timestamps, uint64(1000+i))
		b.Columns[0].Big = append(b.Columns[0].Big, new(big.Int).Set(v))
	}
	return b
}

// TestFinding5NoSumWraps: a range sum of two values of (r−1)/2 used to
// verify as −1. Values now carry a bound that keeps every sum exact.
func TestFinding5NoSumWraps(t *testing.T) {
	ctx := t.Context()
	w := newWorld(t)
	half := new(big.Int).Rsh(fr.Modulus(), 1)

	// The owner refuses values whose sums could wrap.
	_, err := w.owner.CreateBatch(ctx, bigBatch(2, half))
	require.ErrorIs(t, err, roles.ErrInvalidInput)
	maxBits := roles.MaxColumnBits(8)
	require.Equal(t, 253-64-4, maxBits)
	_, err = w.owner.CreateBatch(ctx, bigBatch(8, new(big.Int).Lsh(big.NewInt(1), uint(maxBits))))
	require.ErrorIs(t, err, roles.ErrInvalidInput, "|v| = 2^maxBits is one too many")
	b := batch("s", 8, 1000)
	b.Columns[0].Bits = uint8(maxBits + 1)
	_, err = w.owner.CreateBatch(ctx, b)
	require.ErrorIs(t, err, roles.ErrInvalidInput, "a declared bound above the maximum")
	b = batch("s", 8, 1000)
	b.Columns[0].Bits = 4
	_, err = w.owner.CreateBatch(ctx, b)
	require.ErrorIs(t, err, roles.ErrInvalidInput, "values above their declared bound (200 ≥ 2^4)")

	// The largest allowed values sum exactly, far beyond 64 bits.
	top := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(maxBits)), big.NewInt(1))
	sh, err := w.owner.CreateBatch(ctx, bigBatch(8, top))
	require.NoError(t, err)
	require.EqualValues(t, maxBits, sh.Header.Columns[0].Bits)
	id, _ := sh.Header.Digest()
	v := w.verifier(t)
	q := &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: []string{"x"}, From: 1, To: 8}
	ans, err := w.server.Answer(ctx, q)
	require.NoError(t, err)
	res, err := v.Verify(ctx, q, ans)
	require.NoError(t, err)
	require.Equal(t, new(big.Int).Mul(top, big.NewInt(8)).String(), res.Values[0].Int.String())
	// Negative values too: the weighted sum with weight −(2^64−1) on every row.
	var wgt fr.Element
	wgt.SetBigInt(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(1)))
	wgt.Neg(&wgt)
	wq := &roles.Query{Batch: id, Kind: roles.QueryWeighted, Columns: []string{"x"}, Weights: codec.ScalarVector{wgt, wgt, wgt, wgt, wgt, wgt, wgt, wgt}}
	wans, err := w.server.Answer(ctx, wq)
	require.NoError(t, err)
	wres, err := v.Verify(ctx, wq, wans)
	require.NoError(t, err)
	want := new(big.Int).Mul(top, big.NewInt(8))
	want.Mul(want, new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(1)))
	want.Neg(want)
	require.Equal(t, want.String(), wres.Values[0].Int.String(), "the most negative sum the bounds allow is exact")

	// A weight of 2^64 is out of bounds, for the server and the verifier.
	var w64 fr.Element
	w64.SetBigInt(new(big.Int).Lsh(big.NewInt(1), 64))
	bad := &roles.Query{Batch: id, Kind: roles.QueryWeighted, Columns: []string{"x"}, Weights: codec.ScalarVector{w64}}
	_, err = w.server.Answer(ctx, bad)
	require.ErrorIs(t, err, roles.ErrInvalidInput)
	badAns := *wans
	badAns.Query = *bad
	_, err = v.Verify(ctx, bad, &badAns)
	require.ErrorIs(t, err, roles.ErrInvalidInput)

	// A header the owner signed with a bound that lets a sum wrap is refused
	// by the verifier and the storage server.
	wide := w.resign(t, sh, func(h *roles.Header) { h.Columns[0].Bits = uint8(maxBits + 1) })
	wa := *ans
	wa.Header = wide
	wid, _ := wide.Header.Digest()
	wa.Query.Batch = wid
	wq2 := wa.Query
	_, err = v.Verify(ctx, &wq2, &wa)
	require.ErrorIs(t, err, roles.ErrInvalidInput)
	for _, bits := range []uint8{0, 254, 255} {
		h := w.resign(t, sh, func(h *roles.Header) { h.Columns[0].Bits = bits })
		require.ErrorIs(t, w.server.StoreBatch(ctx, &roles.StoreBatchRequest{Header: h}), roles.ErrInvalidInput, "bits %d", bits)
	}
}

// TestFinding5HeaderCacheUsesVerifiedCopy: a Go caller can pass a header
// whose point is off the curve but encodes — and so hashes — like the
// genuine one. The cache must never let such values skip the point checks.
func TestFinding5HeaderCacheUsesVerifiedCopy(t *testing.T) {
	ctx := t.Context()
	w := newWorld(t)
	id := w.create(t, batch("cache", 8, 1000))
	q := rangeQuery(id)
	ans, err := w.server.Answer(ctx, q)
	require.NoError(t, err)

	// An off-curve point with the same compressed encoding: same x, same
	// sign of y.
	genuine := bls.G1Affine(ans.Header.Header.Commits[0])
	off := genuine
	var one fp.Element
	one.SetOne()
	for i := 0; ; i++ {
		require.Less(t, i, 8)
		off.Y.Add(&off.Y, &one)
		if off.Bytes() == genuine.Bytes() {
			break
		}
	}
	require.False(t, off.IsOnCurve())
	tampered := *ans
	tampered.Header.Header.Commits = []codec.G1{codec.G1(off)}
	d, err := tampered.Header.Header.Digest()
	require.NoError(t, err)
	require.Equal(t, id, d, "the tampered header hashes like the genuine one")

	// Without a cached header, the point check refuses it.
	_, err = w.verifier(t).Verify(ctx, q, &tampered)
	require.ErrorIs(t, err, vds.ErrInvalidPoint)

	// With the genuine header cached, the verifier uses its verified copy:
	// the off-curve point never reaches the pairing.
	v := w.verifier(t)
	_, err = v.Verify(ctx, q, ans)
	require.NoError(t, err)
	res, err := v.Verify(ctx, q, &tampered)
	require.NoError(t, err)
	require.Equal(t, "806", res.Values[0].Int.String())
	got := bls.G1Affine(res.Header.Commits[0])
	require.True(t, got.Equal(&genuine), "the result carries the verified header")
	require.True(t, got.IsOnCurve())
}

// TestFinding5Names: stream and column names with NUL, control, format or
// bidirectional characters, invalid UTF-8 or path segments were accepted and
// printed raw. The owner refuses them, every verifier and storage server
// refuses a header carrying them, and the command escapes what it prints.
func TestFinding5Names(t *testing.T) {
	ctx := t.Context()
	w := newWorld(t)
	bad := []string{"", "a\x00b", "red\x1b[31m", "bell\a", "../etc", "a/../b", "a/./b", "..", "rtl\u202eevil",
		"zero\u200bwidth", " lead", "trail ", "back\\slash", "bad\xffutf8", "tab\there", "line\nbreak",
		strings.Repeat("x", 257)}
	for _, name := range bad {
		b := batch(name, 4, 1000)
		_, err := w.owner.CreateBatch(ctx, b)
		require.ErrorIs(t, err, roles.ErrInvalidInput, "stream %q", name)
		b = batch("ok", 4, 1000)
		b.Columns[0].Name = name
		_, err = w.owner.CreateBatch(ctx, b)
		require.ErrorIs(t, err, roles.ErrInvalidInput, "column %q", name)
	}
	for _, name := range []string{"greenhouse-7", "site/room 3", "température", "東京", "a.b", "x"} {
		b := batch(name, 4, 1000)
		b.Columns[0].Name = name
		_, err := w.owner.CreateBatch(ctx, b)
		require.NoError(t, err, "%q", name)
	}

	// A header the owner signed with a bad name is refused anyway.
	id := w.create(t, batch("names", 8, 1000))
	q := rangeQuery(id)
	ans, err := w.server.Answer(ctx, q)
	require.NoError(t, err)
	v := w.verifier(t)
	for _, name := range []string{"red\x1b[31m", "../x", "rtl\u202e"} {
		sh := w.resign(t, &ans.Header, func(h *roles.Header) { h.Stream = name })
		a := *ans
		a.Header = sh
		a.Query.Batch, _ = sh.Header.Digest()
		qq := a.Query
		_, err := v.Verify(ctx, &qq, &a)
		require.ErrorIs(t, err, roles.ErrInvalidInput, "%q", name)
		require.ErrorIs(t, w.server.StoreBatch(ctx, &roles.StoreBatchRequest{Header: sh}), roles.ErrInvalidInput)
		sh = w.resign(t, &ans.Header, func(h *roles.Header) { h.Columns[0].Name = name })
		a.Header = sh
		a.Query.Batch, _ = sh.Header.Digest()
		qq = a.Query
		_, err = v.Verify(ctx, &qq, &a)
		require.ErrorIs(t, err, roles.ErrInvalidInput, "%q", name)
	}

	// What the command prints.
	require.Equal(t, "greenhouse-7", roles.Display("greenhouse-7"))
	for _, s := range []string{"red\x1b[31m", "nul\x00", "rtl\u202e", "bad\xff"} {
		d := roles.Display(s)
		for _, r := range d {
			require.True(t, r >= 0x20 && r < 0x7f, "Display(%q) = %q must be printable ASCII", s, d)
		}
	}
}
