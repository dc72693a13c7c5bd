package hash

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"
)

// The worked examples of SPEC §2.1 and §2.2. If one of these constants
// changes, every digest and coefficient of v1 changes: that is a new format
// version (SPEC §14), not a fix.
const (
	specTag      = "vds/v1/example"
	specH        = "3b897e357bfaeac86293d6cd8361fd8428c7973253e2bb7ac2a30f75b4b9e445"
	specHFr0     = "342f852852dd9916d073464ee21d296bb9a4e9705349ef0f8f5b9f7254600af1"
	specHFr1     = "181637ec81d5a0cc9c84b9eae1f820781afc61e21831da8be03355b63d285c25"
	specPreimage = "000000000000000e" + "7664732f76312f6578616d706c65" + "0000000000000003" + "616263" + "0000000000000000"
	specMsg      = "0000000000000003" + "616263" + "0000000000000000"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// TestSpecExampleH checks the SPEC's example of H byte for byte, from the
// layout the SPEC states (not from Sum).
func TestSpecExampleH(t *testing.T) {
	parts := [][]byte{[]byte("abc"), {}}
	pre := u64be(uint64(len(specTag)))
	pre = append(pre, specTag...)
	for _, p := range parts {
		pre = append(append(pre, u64be(uint64(len(p)))...), p...)
	}
	require.Equal(t, specPreimage, hex.EncodeToString(pre))
	want := sha256.Sum256(pre)
	require.Equal(t, specH, hex.EncodeToString(want[:]))
	got := Sum(specTag, parts...)
	require.Equal(t, specH, hex.EncodeToString(got[:]))
}

// TestSpecExampleHFr checks the SPEC's example of HFr with an independent
// expand_message_xmd (RFC 9380 §5.3.1, SHA-256) and reduction of each
// 48-byte chunk, read big-endian, modulo r.
func TestSpecExampleHFr(t *testing.T) {
	msg := mustHex(t, specMsg)
	els := referenceHFr(msg, []byte(specTag), 2)
	require.Equal(t, []string{specHFr0, specHFr1}, els)
	got := ToFr(specTag, 2, []byte("abc"), []byte{})
	for i := range got {
		b := got[i].Bytes()
		require.Equal(t, els[i], hex.EncodeToString(b[:]))
	}
}

// TestSpecChunkedHFr checks the rule of SPEC §2.2 for more than 170
// elements: call j (from 0) hashes msg ‖ u32be(j) for min(170, left)
// elements.
func TestSpecChunkedHFr(t *testing.T) {
	msg := append(u64be(1), 'x')
	got := ToFr(TagAudit, 171, []byte("x"))
	first := referenceHFr(append(append([]byte{}, msg...), 0, 0, 0, 0), []byte(TagAudit), 170)
	second := referenceHFr(append(append([]byte{}, msg...), 0, 0, 0, 1), []byte(TagAudit), 1)
	want := append(first, second...)
	require.Len(t, got, 171)
	for i := range got {
		b := got[i].Bytes()
		require.Equal(t, want[i], hex.EncodeToString(b[:]), "element %d", i)
	}
	// 170 elements or fewer: one call, no counter.
	one := ToFr1(TagAudit, []byte("x"))
	b := one.Bytes()
	require.Equal(t, referenceHFr(msg, []byte(TagAudit), 1)[0], hex.EncodeToString(b[:]))
}

func u64be(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// referenceHFr is expand_message_xmd(msg, dst, 48·k) with SHA-256, then
// each 48-byte chunk as a big-endian integer mod r, as 32-byte hex.
func referenceHFr(msg, dst []byte, k int) []string {
	n := 48 * k
	dstPrime := append(append([]byte{}, dst...), byte(len(dst)))
	h := sha256.New()
	h.Write(make([]byte, 64)) // Z_pad
	h.Write(msg)
	h.Write([]byte{byte(n >> 8), byte(n), 0})
	h.Write(dstPrime)
	b0 := h.Sum(nil)
	var out, prev []byte
	for i := 1; len(out) < n; i++ {
		h.Reset()
		if i == 1 {
			h.Write(b0)
		} else {
			x := make([]byte, 32)
			for j := range x {
				x[j] = b0[j] ^ prev[j]
			}
			h.Write(x)
		}
		h.Write([]byte{byte(i)})
		h.Write(dstPrime)
		prev = h.Sum(nil)
		out = append(out, prev...)
	}
	r := fr.Modulus()
	res := make([]string, k)
	for i := range res {
		v := new(big.Int).SetBytes(out[48*i : 48*i+48])
		v.Mod(v, r)
		res[i] = hex.EncodeToString(v.FillBytes(make([]byte, 32)))
	}
	return res
}
