package roles

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
)

// TestSpecExampleStreamEntry checks the example of SPEC §11.2: the
// canonical encoding of a stream entry, its leaf and a two-leaf root.
// A change here is a wire change (SPEC §14).
func TestSpecExampleStreamEntry(t *testing.T) {
	e := StreamEntry{Seq: 1, T0: 5, T1: 6}
	b, err := codec.Default().Marshal(&e)
	require.NoError(t, err)
	require.Equal(t, "a5"+"627430"+"05"+"627431"+"06"+"63736571"+"01"+"63766572"+"00"+"656261746368"+"5820"+
		"0000000000000000000000000000000000000000000000000000000000000000", hex.EncodeToString(b))
	require.Equal(t, "43f59cad4dec314dbc99828a69959f46bb515152d5d85bb3f74400e4c15dad97", e.Leaf().String())
	first := StreamEntry{Seq: 0, T0: 1, T1: 2}
	require.Equal(t, "42bd849bbbde304f148f54568ea234af510dde5af9c31292d23d15e3072d235b", StreamRoot([]StreamEntry{first, e}).String())
}
