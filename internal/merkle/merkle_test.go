package merkle

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/errs"
)

func leaves(n int) []Hash {
	out := make([]Hash, n)
	for i := range out {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(i))
		out[i] = sha256.Sum256(b[:])
	}
	return out
}

// naive is the RFC 6962 shape written independently: pair up from the left,
// an odd node out is carried up unchanged.
func naive(l []Hash) Hash {
	if len(l) == 0 {
		return Empty()
	}
	for len(l) > 1 {
		var next []Hash
		for i := 0; i+1 < len(l); i += 2 {
			next = append(next, node(&l[i], &l[i+1]))
		}
		if len(l)%2 == 1 {
			next = append(next, l[len(l)-1])
		}
		l = next
	}
	return l[0]
}

func TestRootMatchesRFC6962Shape(t *testing.T) {
	// The left-to-right pairing agrees with the largest-power-of-two split.
	for n := 0; n <= 70; n++ {
		require.Equal(t, naive(leaves(n)), Root(leaves(n)), "n=%d", n)
	}
	require.NotEqual(t, Root(leaves(1)), Root(leaves(2)))
}

func TestRangeProofEveryRange(t *testing.T) {
	for n := 1; n <= 33; n++ {
		ls := leaves(n)
		want := Root(ls)
		for lo := 0; lo < n; lo++ {
			for hi := lo; hi < n; hi++ {
				p, err := RangeProof(ls, lo, hi)
				require.NoError(t, err)
				require.LessOrEqual(t, len(p), MaxProof(n))
				got, err := RangeRoot(n, lo, ls[lo:hi+1], p)
				require.NoError(t, err)
				require.Equal(t, want, got, "n=%d range %d..%d", n, lo, hi)
			}
		}
	}
}

func TestRangeProofTampering(t *testing.T) {
	ls := leaves(21)
	want := Root(ls)
	p, err := RangeProof(ls, 5, 9)
	require.NoError(t, err)
	run := append([]Hash(nil), ls[5:10]...)

	// A changed, dropped, added, reordered leaf or proof hash changes the
	// root or is refused.
	bad := func(n, lo int, run, proof []Hash) {
		t.Helper()
		got, err := RangeRoot(n, lo, run, proof)
		if err != nil {
			require.ErrorIs(t, err, errs.ErrBadProof)
			return
		}
		require.NotEqual(t, want, got)
	}
	r2 := append([]Hash(nil), run...)
	r2[2][0] ^= 1
	bad(21, 5, r2, p)
	bad(21, 5, run[:4], p)             // a leaf left out
	bad(21, 5, append(run, ls[10]), p) // one too many
	bad(21, 6, run, p)                 // shifted
	bad(21, 5, run, p[:len(p)-1])      // a hash missing
	bad(21, 5, run, append(p, p[0]))   // a hash too many
	// (The tree size is not bound by a proof: the caller authenticates it,
	// as a stream leaf does with its entry count.)
	r3 := append([]Hash(nil), run...)
	r3[0], r3[1] = r3[1], r3[0]
	bad(21, 5, r3, p) // swapped
	p2 := append([]Hash(nil), p...)
	p2[0][31] ^= 1
	bad(21, 5, run, p2)

	for _, c := range []struct{ n, lo, k int }{{0, 0, 1}, {5, -1, 1}, {5, 4, 2}, {5, 0, 0}} {
		_, err := RangeRoot(c.n, c.lo, ls[:c.k], nil)
		require.True(t, errors.Is(err, ErrBadRange), "%+v", c)
	}
	_, err = RangeProof(ls, 3, 2)
	require.ErrorIs(t, err, errs.ErrInvalidInput)
}

func FuzzRangeRoot(f *testing.F) {
	f.Add(uint16(7), uint16(2), uint16(3), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, n, lo, k uint16, junk []byte) {
		nn := int(n%200) + 1
		l := int(lo) % nn
		kk := int(k)%(nn-l) + 1
		ls := leaves(nn)
		p, err := RangeProof(ls, l, l+kk-1)
		require.NoError(t, err)
		got, err := RangeRoot(nn, l, ls[l:l+kk], p)
		require.NoError(t, err)
		require.Equal(t, Root(ls), got)
		// Garbage never panics.
		var g []Hash
		for i := 0; i+32 <= len(junk); i += 32 {
			g = append(g, Hash(junk[i:i+32]))
		}
		_, _ = RangeRoot(nn, l, ls[l:l+kk], g)
		_, _ = RangeRoot(int(n), int(lo), g, p)
	})
}
