package roles

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/internal/hash"
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
	m := stateMessage(d, 1700000000000, "0123456789abcdef", &StreamHead{Root: root, Streams: 1, Entries: 2}, Hash{}, nil)
	require.Equal(t, "3844a67f059c97b3280b77e8597fe7c0232747d31f7b5ef68af4eb957e86da10", hex.EncodeToString(m))
}

// TestSpecExampleCoefficients checks the examples of SPEC §7.2: the
// canonical bytes of a query, the column coefficients of a two-column
// opening, the audit weights and the window weights.
func TestSpecExampleCoefficients(t *testing.T) {
	var d BatchID
	for i := range d {
		d[i] = 0xaa
	}
	hexOf := func(e fr.Element) string { b := e.Bytes(); return hex.EncodeToString(b[:]) }
	q := Query{Batch: d, Kind: QueryPoint, Columns: []string{"a", "b"}, Row: 1}
	b, err := codec.Default().Marshal(&q)
	require.NoError(t, err)
	require.Equal(t, "a4"+"63726f77"+"01"+"64636f6c73"+"82"+"6161"+"6162"+"646b696e64"+"01"+"656261746368"+"5820"+strings.Repeat("aa", 32), hex.EncodeToString(b))
	ctx, err := columnContext(&q, 0, 0)
	require.NoError(t, err)
	require.Equal(t, append(d[:], b...), ctx)
	var five fr.Element
	five.SetUint64(5)
	rho := commitment.ColumnCoefficients(ctx, []fr.Element{five, FromInt64(-3)})
	require.Equal(t, "4f0808766663e6488dda9e2d83d1dc091b7076eba58eba05e0b7b6e5614ffed1", hexOf(rho[0]))
	require.Equal(t, "53422e302e1a45647cceb869659f27db6e243bb82fa182ca98e5624ecb68460f", hexOf(rho[1]))

	aq := Query{Batch: d, Kind: QueryAudit, Columns: []string{"a"}, Nonce: []byte("nonce")}
	w := auditWeights(&aq, 3, 7)
	require.Equal(t, "0000000000000000000000000000000000000000000000000000000000000001", hexOf(w[0]))
	require.Equal(t, "6cc447acec3795a3bb1e88c57d6edab777eedeeb3be782e738265d42f9cd54cf", hexOf(w[1]))
	require.Equal(t, "19ed06dec8116bc3b7cbdfacf9251c9f1488113117d346908adf72f9215cb98d", hexOf(w[2]))

	sigma := hash.ToFr(hash.TagTimeWindow, 2, d[:], hash.U64(1), hash.U64(2), hash.U64(100), hash.U64(200))
	require.Equal(t, "567969d365bfb7414b680c3e9e535cadc9a2e10055bdf7395f083c0c7cffaef8", hexOf(sigma[0]))
	require.Equal(t, "3aa24d703760be759139580d5c89820f210c6966bb2c6108339367e40099e0ff", hexOf(sigma[1]))
	_, xHat := windowWeights(d, []int{1, 2}, []uint64{100, 200})
	require.Equal(t, "56c474658fcfbcffe4e6e5678e5b241056af1e56b9ff7d806a609fb04c181f69", hexOf(xHat))
}
