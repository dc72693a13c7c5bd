package roles

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/accumulator"
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

// TestSpecExampleState checks the example of SPEC §6: an epoch-0 state's
// canonical encoding and digest, and the message its signature covers.
func TestSpecExampleState(t *testing.T) {
	var crs, owner, root Hash
	for i := range crs {
		crs[i], owner[i], root[i] = 0x11, 0x22, 0x33
	}
	s := State{Format: 1, CRS: crs, Owner: owner, Acc: codec.G1(accumulator.Initial())}
	b, err := codec.Default().Marshal(&s)
	require.NoError(t, err)
	require.Equal(t, "a6"+
		"6166"+"da56445301583097f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb"+
		"63637273"+"5820"+strings.Repeat("11", 32)+
		"63666d74"+"01"+
		"6470726576"+"5820"+strings.Repeat("00", 32)+
		"6565706f6368"+"00"+
		"656f776e6572"+"5820"+strings.Repeat("22", 32), hex.EncodeToString(b))
	d, err := s.Digest()
	require.NoError(t, err)
	require.Equal(t, "7b4f30ba803ab82dd4687eff6fa9bf7b60476785b6df8ac1cf2a8d5868160335", d.String())
	m := stateMessage(d, 1700000000000, "0123456789abcdef", &StreamHead{Root: root, Streams: 1, Entries: 2})
	require.Equal(t, "3844a67f059c97b3280b77e8597fe7c0232747d31f7b5ef68af4eb957e86da10", hex.EncodeToString(m))
}
