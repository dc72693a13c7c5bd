package commitment

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"sync"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"
)

// seeded returns a deterministic randomness source for reproducible tests.
func seeded(seed uint64) *mrand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return mrand.NewChaCha8(s)
}

var (
	crsCache   = map[int]*CRS{}
	crsCacheMu sync.Mutex
)

// testCRS returns a cached CRS of capacity n.
func testCRS(t testing.TB, n int) *CRS {
	t.Helper()
	crsCacheMu.Lock()
	defer crsCacheMu.Unlock()
	if c, ok := crsCache[n]; ok {
		return c
	}
	c, err := Setup(n, seeded(uint64(n)))
	require.NoError(t, err)
	crsCache[n] = c
	return c
}

func randVec(r *mrand.ChaCha8, l int) []fr.Element {
	v := make([]fr.Element, l)
	var b [32]byte
	for i := range v {
		_, _ = r.Read(b[:])
		v[i].SetBytes(b[:])
	}
	return v
}

func randScalar(r *mrand.ChaCha8) fr.Element { return randVec(r, 1)[0] }

// naiveProof computes π = Σᵢ wᵢ·πᵢ with πᵢ = γ·g_{n+1−i} + Σ_{j≠i} mⱼ·g_{n+1−i+j}
// one πᵢ at a time — n separate multi-exponentiations, O(n²) work — exactly
// as SPEC §4 writes it. It shares nothing with the fast path but the CRS
// points.
func naiveProof(pk *ProverKey, m []fr.Element, gamma fr.Element, w []fr.Element) bls.G1Affine {
	n := pk.n
	var pi bls.G1Jac
	for i := 1; i <= n; i++ {
		if w[i-1].IsZero() {
			continue
		}
		points := []bls.G1Affine{pk.g1[pk.g1Index(n+1-i)]}
		scalars := []fr.Element{gamma}
		for j := 1; j <= len(m); j++ {
			if j == i {
				continue
			}
			points = append(points, pk.g1[pk.g1Index(n+1-i+j)])
			scalars = append(scalars, m[j-1])
		}
		var pii bls.G1Jac
		if _, err := pii.MultiExp(points, scalars, ecc.MultiExpConfig{}); err != nil {
			panic(err)
		}
		pii.ScalarMultiplication(&pii, frToBig(&w[i-1]))
		pi.AddAssign(&pii)
	}
	var res bls.G1Affine
	res.FromJacobian(&pi)
	return res
}

// denseOf expands any weights to the explicit vector w₁…wₙ.
func denseOf(w Weights, n int) []fr.Element {
	d := make([]fr.Element, n)
	w.forEach(func(i int, wi *fr.Element) { d[i-1] = *wi })
	return d
}

func weightCases(r *mrand.ChaCha8, n int) map[string]Weights {
	cases := map[string]Weights{
		"row1":      Row(1),
		"rowN":      Row(n),
		"rangeAll":  Range(1, n),
		"denseFull": Dense(randVec(r, n)),
	}
	if n >= 3 {
		cases["rangeMid"] = Range(2, n-1)
		cases["denseShort"] = Dense(randVec(r, n/2+1))
		cases["sparse"] = Sparse([]int{1, n/2 + 1, n}, randVec(r, 3))
		padded := randVec(r, n)
		padded[0].SetZero()
		padded[n-1].SetZero()
		cases["denseZeroEnds"] = Dense(padded)
	}
	if n >= 32 {
		pos := make([]int, 20)
		for i := range pos {
			pos[i] = 1 + i*(n/20)
		}
		cases["sparseMany"] = Sparse(pos, randVec(r, len(pos)))
	}
	return cases
}

func TestOpenMatchesNaive(t *testing.T) {
	for _, threshold := range []int{fftThreshold, 0} {
		t.Run(fmt.Sprintf("fftThreshold=%d", threshold), func(t *testing.T) {
			defer func(old int) { fftThreshold = old }(fftThreshold)
			fftThreshold = threshold
			testOpenMatchesNaive(t)
		})
	}
}

func testOpenMatchesNaive(t *testing.T) {
	for _, n := range []int{1, 2, 3, 8, 64} {
		crs := testCRS(t, n)
		pk, vk := crs.ProverKey(), crs.VerifierKey()
		r := seeded(uint64(1000 + n))
		lengths := []int{n}
		if n > 2 {
			lengths = append(lengths, n/2, 1)
		}
		for _, l := range lengths {
			for name, w := range weightCases(r, n) {
				t.Run(fmt.Sprintf("n=%d/L=%d/%s", n, l, name), func(t *testing.T) {
					m := randVec(r, l)
					gamma := randScalar(r)
					x, proof, err := pk.Open(m, gamma, w)
					require.NoError(t, err)
					want := naiveProof(pk, m, gamma, denseOf(w, n))
					require.True(t, want.Equal(&proof), "fast opening differs from the naive O(n²) one")
					wantX := InnerProduct(m, Dense(denseOf(w, n)))
					require.True(t, wantX.Equal(&x), "value differs from Σ wᵢmᵢ")

					c, err := pk.CommitG1(m, gamma)
					require.NoError(t, err)
					require.NoError(t, vk.Verify(c, w, x, proof))
				})
			}
		}
	}
}

// TestOpenFFTPath forces the FFT convolution (products above fftThreshold)
// and compares it with the direct correlation.
func TestOpenFFTPath(t *testing.T) {
	r := seeded(7)
	for _, sizes := range [][2]int{{64, 64}, {100, 37}, {3, 2000}, {2000, 5}, {1, 1}, {1, 7000}} {
		defer func(old int) { fftThreshold = old }(fftThreshold)
		fftThreshold = 0
		ws, m := randVec(r, sizes[0]), randVec(r, sizes[1])
		got := make([]fr.Element, len(ws)+len(m)-1)
		correlateDense(got, m, ws)
		want := make([]fr.Element, len(got))
		for i := range ws {
			for j := range m {
				var p fr.Element
				p.Mul(&ws[i], &m[j])
				want[j-i+len(ws)-1].Add(&want[j-i+len(ws)-1], &p)
			}
		}
		require.Equal(t, want, got, "sizes %v", sizes)
	}
}

func TestVerifyRejects(t *testing.T) {
	const n = 16
	crs := testCRS(t, n)
	pk, vk := crs.ProverKey(), crs.VerifierKey()
	other := testCRS(t, 17)
	r := seeded(3)
	m, m2 := randVec(r, n), randVec(r, n)
	gamma, gamma2 := randScalar(r), randScalar(r)
	c, err := pk.CommitG1(m, gamma)
	require.NoError(t, err)
	c2, err := pk.CommitG1(m2, gamma2)
	require.NoError(t, err)

	for name, w := range weightCases(r, n) {
		x, proof, err := pk.Open(m, gamma, w)
		require.NoError(t, err)
		require.NoError(t, vk.Verify(c, w, x, proof), name)

		t.Run(name+"/wrongValue", func(t *testing.T) {
			var x1 fr.Element
			x1.SetOne()
			x1.Add(&x1, &x)
			require.ErrorIs(t, vk.Verify(c, w, x1, proof), ErrBadProof)
		})
		t.Run(name+"/wrongProof", func(t *testing.T) {
			var p bls.G1Affine
			p.Add(&proof, &pk.g1[0])
			require.ErrorIs(t, vk.Verify(c, w, x, p), ErrBadProof)
		})
		t.Run(name+"/wrongCommitment", func(t *testing.T) {
			require.ErrorIs(t, vk.Verify(c2, w, x, proof), ErrBadProof)
		})
		t.Run(name+"/wrongColumn", func(t *testing.T) {
			// A valid opening of another column under the same weights.
			x2, proof2, err := pk.Open(m2, gamma2, w)
			require.NoError(t, err)
			require.NoError(t, vk.Verify(c2, w, x2, proof2))
			require.ErrorIs(t, vk.Verify(c, w, x2, proof2), ErrBadProof)
			require.ErrorIs(t, vk.Verify(c, w, x, proof2), ErrBadProof)
		})
		t.Run(name+"/wrongWeights", func(t *testing.T) {
			alt := Range(2, n)
			if w.kind == kindRange && w.a == 2 {
				alt = Range(1, n)
			}
			require.ErrorIs(t, vk.Verify(c, alt, x, proof), ErrBadProof)
		})
		t.Run(name+"/identityProof", func(t *testing.T) {
			require.ErrorIs(t, vk.Verify(c, w, x, bls.G1Affine{}), ErrIdentity)
		})
		t.Run(name+"/identityCommitment", func(t *testing.T) {
			require.ErrorIs(t, vk.Verify(bls.G1Affine{}, w, x, proof), ErrIdentity)
		})
	}

	t.Run("otherCRS", func(t *testing.T) {
		// Same data, another CRS (capacity 17): the proof must not verify here.
		opk := other.ProverKey()
		oc, err := opk.CommitG1(m, gamma)
		require.NoError(t, err)
		x, op, err := opk.Open(m, gamma, Range(1, n))
		require.NoError(t, err)
		require.NoError(t, other.VerifierKey().Verify(oc, Range(1, n), x, op))
		require.ErrorIs(t, vk.Verify(c, Range(1, n), x, op), ErrBadProof)
		require.ErrorIs(t, vk.Verify(oc, Range(1, n), x, op), ErrBadProof)
	})
	t.Run("notInSubgroup", func(t *testing.T) {
		var f bls.G1Affine
		for i := uint64(1); ; i++ {
			var xc = bls.GeneratePointNotInG1(fpFromUint(i))
			f.FromJacobian(&xc)
			if f.IsOnCurve() && !f.IsInSubGroup() {
				break
			}
		}
		x, proof, err := pk.Open(m, gamma, Row(1))
		require.NoError(t, err)
		require.ErrorIs(t, vk.Verify(c, Row(1), x, f), ErrInvalidPoint)
		require.ErrorIs(t, vk.Verify(f, Row(1), x, proof), ErrInvalidPoint)
	})
	t.Run("badWeights", func(t *testing.T) {
		x, proof, _ := pk.Open(m, gamma, Row(1))
		for _, w := range []Weights{{}, Row(0), Row(n + 1), Range(3, 2), Dense(make([]fr.Element, n+1)), Dense(make([]fr.Element, 3)), Sparse([]int{2, 2}, randVec(r, 2)), Sparse([]int{1}, nil)} {
			require.ErrorIs(t, vk.Verify(c, w, x, proof), ErrInvalidInput)
			_, _, err := pk.Open(m, gamma, w)
			require.ErrorIs(t, err, ErrInvalidInput)
		}
	})
	t.Run("tooLong", func(t *testing.T) {
		_, err := pk.CommitG1(make([]fr.Element, n+1), gamma)
		require.ErrorIs(t, err, ErrInvalidInput)
		_, err = pk.CommitG2(make([]fr.Element, n+1), gamma)
		require.ErrorIs(t, err, ErrInvalidInput)
		_, _, err = pk.Open(make([]fr.Element, n+1), gamma, Row(1))
		require.ErrorIs(t, err, ErrInvalidInput)
	})
}

func TestTimestampOpening(t *testing.T) {
	const n = 32
	crs := testCRS(t, n)
	pk, vk := crs.ProverKey(), crs.VerifierKey()
	r := seeded(11)
	ts := make([]fr.Element, 20)
	for i := range ts {
		ts[i].SetUint64(1_700_000_000 + uint64(i)*60)
	}
	gamma := randScalar(r)
	ch, err := pk.CommitG2(ts, gamma)
	require.NoError(t, err)
	for name, w := range weightCases(r, n) {
		t.Run(name, func(t *testing.T) {
			x, proof, err := pk.Open(ts, gamma, w)
			require.NoError(t, err)
			require.Equal(t, naiveProof(pk, ts, gamma, denseOf(w, n)), proof)
			require.NoError(t, vk.VerifyG2(ch, w, x, proof))
			var x1 fr.Element
			x1.SetUint64(1)
			x1.Add(&x, &x1)
			require.ErrorIs(t, vk.VerifyG2(ch, w, x1, proof), ErrBadProof)
			var ch2 bls.G2Affine
			ch2.Add(&ch, &pk.g2[1])
			require.ErrorIs(t, vk.VerifyG2(ch2, w, x, proof), ErrBadProof)
			require.ErrorIs(t, vk.VerifyG2(bls.G2Affine{}, w, x, proof), ErrIdentity)
			// A G1-side opening of the same numbers does not verify as a
			// timestamp opening of another commitment.
			c1, err := pk.CommitG1(ts, gamma)
			require.NoError(t, err)
			require.NoError(t, vk.Verify(c1, w, x, proof))
		})
	}
}

func TestOpenColumns(t *testing.T) {
	const n = 16
	crs := testCRS(t, n)
	pk, vk := crs.ProverKey(), crs.VerifierKey()
	r := seeded(5)
	const k = 4
	ms := make([][]fr.Element, k)
	gammas := randVec(r, k)
	cs := make([]bls.G1Affine, k)
	for c := range ms {
		ms[c] = randVec(r, n-c)
		var err error
		cs[c], err = pk.CommitG1(ms[c], gammas[c])
		require.NoError(t, err)
	}
	ctx := []byte("header digest and query")
	for name, w := range weightCases(r, n) {
		t.Run(name, func(t *testing.T) {
			xs, proof, err := pk.OpenColumns(ms, gammas, w, ctx)
			require.NoError(t, err)
			for c := range ms {
				require.Equal(t, InnerProduct(ms[c], w), xs[c])
			}
			require.NoError(t, vk.VerifyColumns(cs, w, xs, proof, ctx))

			bad := append([]fr.Element(nil), xs...)
			bad[1], bad[2] = bad[2], bad[1]
			if !bad[1].Equal(&bad[2]) {
				require.ErrorIs(t, vk.VerifyColumns(cs, w, bad, proof, ctx), ErrBadProof, "swapped values")
			}
			bad = append([]fr.Element(nil), xs...)
			var one fr.Element
			one.SetOne()
			bad[3].Add(&bad[3], &one)
			require.ErrorIs(t, vk.VerifyColumns(cs, w, bad, proof, ctx), ErrBadProof, "changed value")
			swapped := append([]bls.G1Affine(nil), cs...)
			swapped[0], swapped[1] = swapped[1], swapped[0]
			require.ErrorIs(t, vk.VerifyColumns(swapped, w, xs, proof, ctx), ErrBadProof, "swapped commitments")
			require.ErrorIs(t, vk.VerifyColumns(cs, w, xs, proof, []byte("another query")), ErrBadProof, "other context")
			require.ErrorIs(t, vk.VerifyColumns(cs[:3], w, xs[:3], proof, ctx), ErrBadProof, "dropped column")
		})
	}
	_, _, err := pk.OpenColumns(ms, gammas[:2], Row(1), ctx)
	require.ErrorIs(t, err, ErrInvalidInput)
	require.ErrorIs(t, vk.VerifyColumns(cs, Row(1), make([]fr.Element, 2), pk.g1[1], ctx), ErrInvalidInput)
}

// TestBatchMergesEquations checks that a batch with one false equation among
// true ones fails, and that all-true batches pass.
func TestBatchMergesEquations(t *testing.T) {
	const n = 8
	crs := testCRS(t, n)
	pk, vk := crs.ProverKey(), crs.VerifierKey()
	r := seeded(9)
	m := randVec(r, n)
	gamma := randScalar(r)
	c, _ := pk.CommitG1(m, gamma)
	x1, p1, _ := pk.Open(m, gamma, Row(2))
	x2, p2, _ := pk.Open(m, gamma, Range(1, 5))
	b := vk.NewBatch()
	require.NoError(t, b.AddOpening(&c, Row(2), &x1, &p1))
	require.NoError(t, b.AddOpening(&c, Range(1, 5), &x2, &p2))
	require.NoError(t, b.Verify())

	b = vk.NewBatch()
	require.NoError(t, b.AddOpening(&c, Row(2), &x1, &p1))
	require.NoError(t, b.AddOpening(&c, Range(1, 5), &x1, &p2)) // wrong value
	require.ErrorIs(t, b.Verify(), ErrBadProof)

	// Two false equations that cancel each other without random scaling:
	// value +1 in one, −1 in the other, same proof point shifts.
	var one, xa, xb fr.Element
	one.SetOne()
	xa.Add(&x1, &one)
	xb.Sub(&x1, &one)
	b = vk.NewBatch()
	require.NoError(t, b.AddOpening(&c, Row(2), &xa, &p1))
	require.NoError(t, b.AddOpening(&c, Row(2), &xb, &p1))
	require.ErrorIs(t, b.Verify(), ErrBadProof)

	// A caller's own equation: e(g, ĝ)·e(−g, ĝ) = 1.
	b = vk.NewBatch()
	b.Equation()
	var g, negG bls.G1Jac
	g.FromAffine(&pk.g1[0])
	negG.Neg(&g)
	b.PairGenerator(&g)
	ng := pk.g1[0]
	ng.Neg(&ng)
	b.PairFixed(&ng, NewFixedG2(pk.g2[0]))
	require.NoError(t, b.Verify())
	b.Equation()
	b.Pair(&pk.g1[0], &pk.g2[1])
	require.ErrorIs(t, b.Verify(), ErrBadProof)
}

func TestSetupAndFile(t *testing.T) {
	const n = 8
	var calls, last, total int
	crs, err := Setup(n, seeded(1), WithProgress(func(d, tot int) { calls++; last, total = d, tot }))
	require.NoError(t, err)
	require.Positive(t, calls)
	require.Equal(t, total, last)
	require.Equal(t, 3*n-1, total)
	require.NoError(t, crs.Validate())

	again, err := Setup(n, seeded(1))
	require.NoError(t, err)
	require.Equal(t, crs.Digest(), again.Digest(), "setup is deterministic in its randomness")
	fresh, err := Setup(n, seeded(2))
	require.NoError(t, err)
	require.NotEqual(t, crs.Digest(), fresh.Digest())

	file, err := crs.MarshalBinary()
	require.NoError(t, err)
	loaded, err := Load(bytes.NewReader(file))
	require.NoError(t, err)
	require.Equal(t, crs.Digest(), loaded.Digest())
	require.Equal(t, crs.g1, loaded.g1)
	require.Equal(t, crs.g2, loaded.g2)
	pinned, err := Load(bytes.NewReader(file), WithPinnedDigest(crs.Digest()))
	require.NoError(t, err)
	require.Equal(t, crs.g1, pinned.g1)

	d, err := ParseDigest(crs.Digest().String())
	require.NoError(t, err)
	require.Equal(t, crs.Digest(), d)
	_, err = ParseDigest("abc")
	require.ErrorIs(t, err, ErrInvalidInput)

	var mm *MismatchError
	_, err = Load(bytes.NewReader(file), WithPinnedDigest(fresh.Digest()))
	require.ErrorIs(t, err, ErrCRSMismatch)
	require.ErrorAs(t, err, &mm)
	require.Equal(t, crs.Digest(), mm.Got)

	_, err = Setup(0, seeded(1))
	require.ErrorIs(t, err, ErrInvalidInput)
	_, err = Setup(MaxN+1, seeded(1))
	require.ErrorIs(t, err, ErrInvalidInput)
	_, err = Setup(4, bytes.NewReader(make([]byte, 10)))
	require.Error(t, err)
}

// crsFromAlpha builds a CRS with a known trapdoor, for tests only.
func crsFromAlpha(n int, alpha fr.Element) ([]bls.G1Affine, []bls.G2Affine) {
	_, _, g, gh := bls.Generators()
	g1 := []bls.G1Affine{g}
	g2 := []bls.G2Affine{gh}
	var acc fr.Element
	acc.Set(&alpha)
	for k := 1; k <= 2*n; k++ {
		if k != n+1 {
			var p bls.G1Affine
			p.ScalarMultiplication(&g, frToBig(&acc))
			g1 = append(g1, p)
		}
		if k <= n {
			var q bls.G2Affine
			q.ScalarMultiplication(&gh, frToBig(&acc))
			g2 = append(g2, q)
		}
		acc.Mul(&acc, &alpha)
	}
	return g1, g2
}

func TestLoadRejects(t *testing.T) {
	const n = 6
	var alpha fr.Element
	alpha.SetUint64(123456789)
	g1, g2 := crsFromAlpha(n, alpha)
	good := newCRS(n, g1, g2)
	require.NoError(t, good.Validate())
	goodFile, _ := good.MarshalBinary()
	_, err := Load(bytes.NewReader(goodFile))
	require.NoError(t, err)

	mutate := func(f func(g1 []bls.G1Affine, g2 []bls.G2Affine)) []byte {
		a := append([]bls.G1Affine(nil), g1...)
		b := append([]bls.G2Affine(nil), g2...)
		f(a, b)
		file, _ := newCRS(n, a, b).MarshalBinary()
		return file
	}
	var alphaN1 fr.Element // α^{n+1}
	alphaN1.Exp(alpha, big.NewInt(n+1))
	var gN1 bls.G1Affine
	_, _, gen, _ := bls.Generators()
	gN1.ScalarMultiplication(&gen, frToBig(&alphaN1))

	var one fr.Element
	one.SetOne()
	g1One, g2One := crsFromAlpha(n, one)

	cases := []struct {
		name string
		file []byte
		want error
	}{
		{"empty", nil, ErrInvalidEncoding},
		{"badMagic", append([]byte("vds-crX\n"), goodFile[8:]...), ErrInvalidEncoding},
		{"badVersion", func() []byte { f := bytes.Clone(goodFile); f[11] = 2; return f }(), ErrInvalidEncoding},
		{"nTooLarge", func() []byte { f := bytes.Clone(goodFile); f[12] = 0x7f; return f }(), ErrTooLarge},
		{"nZero", func() []byte { f := bytes.Clone(goodFile); copy(f[12:16], []byte{0, 0, 0, 0}); return f }(), ErrTooLarge},
		{"truncated", goodFile[:len(goodFile)-1], ErrInvalidEncoding},
		{"trailing", append(bytes.Clone(goodFile), 0), ErrInvalidEncoding},
		{"flippedPointByte", func() []byte { f := bytes.Clone(goodFile); f[headerSize+8+5] ^= 1; return f }(), ErrInvalidEncoding},
		{"flippedDigest", func() []byte { f := bytes.Clone(goodFile); f[20] ^= 1; return f }(), ErrInvalidEncoding},
		{"tamperedPoint", mutate(func(a []bls.G1Affine, _ []bls.G2Affine) { a[3].Add(&a[3], &a[0]) }), ErrInvalidCRS},
		{"tamperedG2", mutate(func(_ []bls.G1Affine, b []bls.G2Affine) { b[2].Add(&b[2], &b[0]) }), ErrInvalidCRS},
		{"swappedPoints", mutate(func(a []bls.G1Affine, _ []bls.G2Affine) { a[2], a[3] = a[3], a[2] }), ErrInvalidCRS},
		{"gN1InsteadOfgN2", mutate(func(a []bls.G1Affine, _ []bls.G2Affine) { a[n+1] = gN1 }), ErrInvalidCRS},
		{"alphaOne", newCRSFile(n, g1One, g2One), ErrInvalidCRS},
		{"identityPoint", mutate(func(a []bls.G1Affine, _ []bls.G2Affine) { a[4].SetInfinity() }), ErrIdentity},
		{"notInSubgroup", mutate(func(a []bls.G1Affine, _ []bls.G2Affine) {
			for i := uint64(1); ; i++ {
				j := bls.GeneratePointNotInG1(fpFromUint(i))
				a[4].FromJacobian(&j)
				if a[4].IsOnCurve() && !a[4].IsInSubGroup() {
					return
				}
			}
		}), ErrInvalidPoint},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(bytes.NewReader(tc.file))
			require.Error(t, err)
			require.True(t, errors.Is(err, tc.want), "got %v, want %v", err, tc.want)
			if errors.Is(tc.want, ErrInvalidCRS) {
				// Pinning the file's own digest skips the subgroup checks,
				// never the structure check (SPEC §3).
				_, err = Load(bytes.NewReader(tc.file), WithPinnedDigest(fileDigestOf(tc.file)))
				require.ErrorIs(t, err, ErrInvalidCRS, "pinned")
			}
		})
	}
}

func newCRSFile(n int, g1 []bls.G1Affine, g2 []bls.G2Affine) []byte {
	f, _ := newCRS(n, g1, g2).MarshalBinary()
	return f
}
