package commitment

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"
)

// contributeTo runs Contribute on in with a seeded source and returns the
// new transcript file.
func contributeTo(t *testing.T, in []byte, name string, seed uint64) ([]byte, *Receipt) {
	t.Helper()
	var out bytes.Buffer
	rc, err := Contribute(bytes.NewReader(in), &out, name, seeded(seed))
	require.NoError(t, err)
	return out.Bytes(), rc
}

// tauOf returns the secret Contribute draws from seeded(seed).
func tauOf(t *testing.T, seed uint64) fr.Element {
	t.Helper()
	tau, err := sampleNonZero(seeded(seed))
	require.NoError(t, err)
	return tau
}

func TestCeremonyThreeContributions(t *testing.T) {
	t.Parallel()
	const n = 8
	var alpha0 fr.Element
	alpha0.SetUint64(987654321)
	g1, g2 := crsFromAlpha(n, alpha0)
	start := newCRSFile(n, g1, g2)

	f1, r1 := contributeTo(t, start, "Alice", 101)
	f2, r2 := contributeTo(t, f1, "Bob Smith", 102)
	f3, r3 := contributeTo(t, f2, "Carol — ☃", 103)
	require.Equal(t, 1, r1.Index)
	require.Equal(t, 3, r3.Index)

	tr, err := LoadTranscript(bytes.NewReader(f3))
	require.NoError(t, err)
	require.Equal(t, newCRS(n, g1, g2).Digest(), tr.InitialDigest())
	cs := tr.Contributions()
	require.Len(t, cs, 3)
	for i, want := range []*Receipt{r1, r2, r3} {
		require.Equal(t, want.Contribution, cs[i])
	}
	require.Equal(t, r3.Digest, tr.CRS().Digest())

	// The final trapdoor is α₀·τ₁·τ₂·τ₃.
	alpha := alpha0
	for _, s := range []uint64{101, 102, 103} {
		tau := tauOf(t, s)
		alpha.Mul(&alpha, &tau)
	}
	wg1, wg2 := crsFromAlpha(n, alpha)
	require.Equal(t, newCRS(n, wg1, wg2).Digest(), tr.CRS().Digest())

	out, err := tr.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, f3, out)

	// Every intermediate transcript verifies too, and the final CRS commits.
	_, err = LoadTranscript(bytes.NewReader(f1))
	require.NoError(t, err)
	_, err = LoadTranscript(bytes.NewReader(f3), WithPinnedDigest(r2.Digest))
	require.ErrorIs(t, err, ErrCRSMismatch)
	_, err = LoadTranscript(bytes.NewReader(f3), WithMaxN(n-1))
	require.ErrorIs(t, err, ErrTooLarge)
}

func TestContributeRejects(t *testing.T) {
	t.Parallel()
	start, _ := testCRS(t, 4).MarshalBinary()
	for _, name := range []string{"", strings.Repeat("a", MaxContributorName+1), "bad\nname", "nul\x00", "\xff\xfe", "rtl\u202e"} {
		_, err := Contribute(bytes.NewReader(start), &bytes.Buffer{}, name, seeded(1))
		require.ErrorIs(t, err, ErrInvalidInput, "name %q", name)
	}
	_, err := Contribute(bytes.NewReader(start), &bytes.Buffer{}, "ok", nil)
	require.ErrorIs(t, err, ErrInvalidInput)
	_, err = Contribute(bytes.NewReader(start[:100]), &bytes.Buffer{}, "ok", seeded(1))
	require.ErrorIs(t, err, ErrInvalidEncoding)
	_, err = Contribute(bytes.NewReader(start), &bytes.Buffer{}, "ok", seeded(1), func(c *setupConfig) { c.maxN = 2 })
	require.ErrorIs(t, err, ErrTooLarge)

	// A transcript with a forged record is refused before any work.
	f1, _ := contributeTo(t, start, "Alice", 7)
	bad := bytes.Clone(f1)
	bad[len(bad)-crsFileSize2(4)-1] ^= 1 // last byte of the proof response
	_, err = Contribute(bytes.NewReader(bad), &bytes.Buffer{}, "Bob", seeded(8))
	require.ErrorIs(t, err, ErrInvalidInput)
}

// forge builds transcripts with chosen secrets and proofs.
type forge struct {
	t  *testing.T
	tr *transcript
}

func newForge(t *testing.T, n int) *forge {
	c := testCRS(t, n)
	return &forge{t: t, tr: &transcript{n: n, initDigest: c.digest, initG1: c.g1[1], final: c}}
}

func (f *forge) hash() [32]byte {
	h := f.tr.initialHash()
	for i := range f.tr.records {
		h = nextHash(h, &f.tr.records[i])
	}
	return h
}

// add appends a contribution applying tau to the CRS, with τ·ĝ for tauG2
// and a Schnorr proof computed with secret proofTau.
func (f *forge) add(name string, tau, tauG2, proofTau fr.Element) {
	prev := f.tr.final
	next := rerandomise(prev, &tau, nil)
	rec, err := prove(f.hash(), name, &prev.g1[1], next, &proofTau, seeded(99))
	require.NoError(f.t, err)
	_, _, _, gen2 := bls.Generators()
	if tauG2 != proofTau {
		rec.tauG2.ScalarMultiplication(&gen2, frToBig(&tauG2))
		// Re-derive the proof for the new τ·ĝ, still with proofTau.
		rho := fr.NewElement(12345)
		rec.r.ScalarMultiplication(&prev.g1[1], frToBig(&rho))
		c := challenge(f.hash(), name, &prev.g1[1], &rec.g1, &rec.tauG2, &rec.r)
		rec.s.Mul(&c, &proofTau).Add(&rec.s, &rho)
	}
	f.tr.records = append(f.tr.records, rec)
	f.tr.final = next
}

func (f *forge) honest(name string, tau fr.Element) { f.add(name, tau, tau, tau) }

func (f *forge) file() []byte {
	b, err := f.tr.encode()
	require.NoError(f.t, err)
	return b
}

func el(v uint64) fr.Element { return fr.NewElement(v) }

func inv(v fr.Element) fr.Element {
	var r fr.Element
	r.Inverse(&v)
	return r
}

func TestTranscriptRejectsMaliciousContributions(t *testing.T) {
	t.Parallel()
	const n = 4
	cases := []struct {
		name  string
		build func(f *forge)
		want  string // substring of the error; "" for a structure failure
		index int    // the record a ContributionError names, 0 for none
	}{
		{"proof for another secret", func(f *forge) {
			f.honest("Alice", el(11))
			f.add("Mallory", el(13), el(13), el(17))
		}, "proof of knowledge", 2},
		{"G2 secret differs from the G1 one", func(f *forge) {
			f.add("Mallory", el(13), el(19), el(13))
			f.honest("Bob", el(23))
		}, "G2 secret", 1},
		{"cancels the previous contribution", func(f *forge) {
			f.honest("Alice", el(11))
			f.honest("Mallory", inv(el(11)))
		}, "returns the CRS to the initial CRS", 2},
		{"cancels two earlier contributions", func(f *forge) {
			f.honest("Alice", el(11))
			f.honest("Bob", el(13))
			f.honest("Mallory", inv(el(11*13)))
		}, "returns the CRS to the initial CRS", 3},
		{"cancels a later state", func(f *forge) {
			f.honest("Alice", el(11))
			f.honest("Bob", el(13))
			f.honest("Carol", el(17))
			f.honest("Mallory", inv(el(13*17)))
		}, "state after contribution 1", 4},
		{"secret 1", func(f *forge) {
			f.honest("Alice", el(11))
			f.honest("Lazy", el(1))
		}, "secret is 1", 2},
		{"reused secret", func(f *forge) {
			f.honest("Alice", el(11))
			f.honest("Copycat", el(11))
		}, "reuses the secret of contribution 1", 2},
		{"proof bound to another transcript", func(f *forge) {
			f.honest("Alice", el(11))
			// Bob's honest record, moved to a transcript where Alice did not
			// contribute: its challenge no longer matches.
			g := newForge(t, n)
			g.honest("Bob", el(13))
			f.tr.records = append(f.tr.records, g.tr.records[0])
			f.tr.final = rerandomise(f.tr.final, ptr(el(13)), nil)
		}, "", 2},
		{"final CRS is not the last contribution's", func(f *forge) {
			f.honest("Alice", el(11))
			f.tr.final = testCRS(t, n)
		}, "not the last contribution", 0},
		{"final CRS with a wrong structure", func(f *forge) {
			f.honest("Alice", el(11))
			g1 := append([]bls.G1Affine(nil), f.tr.final.g1...)
			g2 := append([]bls.G2Affine(nil), f.tr.final.g2...)
			g1[3].Add(&g1[3], &g1[0]) // g₃ ↦ g₃ + g
			f.tr.final = newCRS(n, g1, g2)
		}, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newForge(t, n)
			tc.build(f)
			_, err := LoadTranscript(bytes.NewReader(f.file()))
			require.Error(t, err)
			require.ErrorIs(t, err, ErrInvalidCRS)
			require.ErrorIs(t, err, ErrInvalidInput)
			if tc.want != "" {
				require.Contains(t, err.Error(), tc.want)
			}
			var ce *ContributionError
			if tc.index == 0 {
				require.False(t, errors.As(err, &ce), "unexpected %v", err)
			} else {
				require.ErrorAs(t, err, &ce)
				require.Equal(t, tc.index, ce.Index)
			}
		})
	}

	// The same forge with honest contributions verifies: the cases fail for
	// the reason they name, not because the forge is broken.
	f := newForge(t, n)
	f.honest("Alice", el(11))
	f.honest("Bob", el(13))
	_, err := LoadTranscript(bytes.NewReader(f.file()))
	require.NoError(t, err)
}

func ptr[T any](v T) *T { return &v }

func TestTranscriptRejectsTruncatedAndTampered(t *testing.T) {
	t.Parallel()
	const n = 2
	start, _ := testCRS(t, n).MarshalBinary()
	f1, _ := contributeTo(t, start, "Alice", 5)
	file, _ := contributeTo(t, f1, "Bob", 6)
	_, err := LoadTranscript(bytes.NewReader(file))
	require.NoError(t, err)

	for _, cut := range []int{0, 7, 20, transcriptHeaderSize - 1, transcriptHeaderSize, transcriptHeaderSize + 3, transcriptHeaderSize + 100, len(file) - crsFileSize2(n) - 1, len(file) - 1} {
		_, err := LoadTranscript(bytes.NewReader(file[:cut]))
		require.ErrorIs(t, err, ErrInvalidEncoding, "cut at %d", cut)
	}
	_, err = LoadTranscript(bytes.NewReader(append(bytes.Clone(file), 0)))
	require.ErrorIs(t, err, ErrInvalidEncoding, "trailing byte")
	_, err = LoadTranscript(bytes.NewReader(start))
	require.ErrorIs(t, err, ErrInvalidEncoding, "a bare CRS file is not a transcript")

	// Flip one bit at every byte of the header and the records, and at a
	// few places of the final CRS: always rejected, never a panic.
	end := len(file) - crsFileSize2(n)
	positions := []int{end, end + 15, end + 20, end + 60, len(file) - 1}
	for i := 0; i < end; i++ {
		positions = append(positions, i)
	}
	for _, i := range positions {
		bad := bytes.Clone(file)
		bad[i] ^= 0x04
		_, err := LoadTranscript(bytes.NewReader(bad))
		require.ErrorIs(t, err, ErrInvalidInput, "byte %d", i)
	}

	// A count of zero.
	bad := bytes.Clone(file)
	copy(bad[transcriptHeaderSize-4:], []byte{0, 0, 0, 0})
	_, err = LoadTranscript(bytes.NewReader(bad))
	require.ErrorIs(t, err, ErrInvalidEncoding)
}

func crsFileSize2(n int) int { return int(crsFileSize(n)) }
