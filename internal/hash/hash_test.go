package hash

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSumSeparatesParts(t *testing.T) {
	// Length prefixes: moving a byte between parts changes the digest.
	require.NotEqual(t, Sum("vds/v1/t", []byte("ab"), []byte("c")), Sum("vds/v1/t", []byte("a"), []byte("bc")))
	require.NotEqual(t, Sum("vds/v1/t", []byte("abc")), Sum("vds/v1/t", []byte("abc"), nil))
	require.NotEqual(t, Sum("vds/v1/a", []byte("x")), Sum("vds/v1/b", []byte("x")))
	require.Equal(t, Sum("vds/v1/t", []byte("x")), Sum("vds/v1/t", []byte("x")))
}

func TestToFr(t *testing.T) {
	require.Nil(t, ToFr(TagAudit, 0, []byte("x")))
	a := ToFr(TagAudit, 3, []byte("x"))
	require.Len(t, a, 3)
	// expand_message_xmd binds the output length: HFr(…, 1) is not a prefix of HFr(…, 3).
	require.NotEqual(t, a[0], ToFr1(TagAudit, []byte("x")))
	require.NotEqual(t, a[0], a[1])
	require.NotEqual(t, a[0], ToFr1(TagColumns, []byte("x")), "domain separation")
	require.NotEqual(t, ToFr1(TagAudit, []byte("ab"), []byte("c")), ToFr1(TagAudit, []byte("a"), []byte("bc")))
	// More than one expand_message_xmd call: chunks differ and the result
	// is deterministic.
	big := ToFr(TagAudit, 400, []byte("x"))
	require.Len(t, big, 400)
	require.Equal(t, big, ToFr(TagAudit, 400, []byte("x")))
	seen := map[string]bool{}
	for _, e := range big {
		seen[e.String()] = true
	}
	require.Len(t, seen, 400)
}
