package codec

import (
	"encoding/hex"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"
)

// TestSpecExampleEncodings checks the encodings SPEC §2.3 and §8.2 give as
// examples: the generators, the identity and a scalar under their tags.
// A change here is a wire change (SPEC §14).
func TestSpecExampleEncodings(t *testing.T) {
	_, _, g1, g2 := bls.Generators()
	enc := func(v any) string {
		b, err := Default().Marshal(v)
		require.NoError(t, err)
		return hex.EncodeToString(b)
	}
	require.Equal(t, "da56445301"+"5830"+
		"97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb", enc(G1(g1)))
	require.Equal(t, "da56445302"+"5860"+
		"93e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e"+
		"024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8", enc(G2(g2)))
	var neg bls.G1Affine
	neg.Neg(&g1)
	require.Equal(t, "da56445301"+"5830"+
		"b7f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb", enc(G1(neg)))
	var inf bls.G1Affine
	require.Equal(t, "da5644530440", enc(G1OrIdentity(inf)))
	var five fr.Element
	five.SetUint64(5)
	require.Equal(t, "da56445303"+"5820"+"0000000000000000000000000000000000000000000000000000000000000005", enc(Scalar(five)))
	var minusOne fr.Element
	minusOne.SetOne()
	minusOne.Neg(&minusOne)
	require.Equal(t, "da56445306"+"5840"+"0000000000000000000000000000000000000000000000000000000000000005"+
		"73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000", enc(ScalarVector{five, minusOne}))
}
