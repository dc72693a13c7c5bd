package rawenc

import (
	"bytes"
	"errors"
	"math/big"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
)

var errTest = errors.New("corrupt")

var c = Codec{Corrupt: errTest}

func g1(k uint64) bls.G1Affine {
	_, _, g, _ := bls.Generators()
	var p bls.G1Affine
	var s fr.Element
	s.SetUint64(k)
	p.ScalarMultiplication(&g, s.BigInt(new(big.Int)))
	return p
}

func seedData(t testing.TB) []byte {
	d := roles.BatchData{Times: []uint64{1, 2, 3}, Columns: []codec.ScalarVector{{fr.NewElement(1), fr.NewElement(2), fr.NewElement(3)}},
		Gammas: []codec.Scalar{codec.Scalar(fr.NewElement(7))}, TimeGamma: codec.Scalar(fr.NewElement(9))}
	b, err := EncodeBatchData(&d)
	require.NoError(t, err)
	return b
}

func TestTable(t *testing.T) {
	pts := []bls.G1Affine{g1(3), {}, g1(5)}
	vals := []fr.Element{fr.NewElement(1), fr.NewElement(2), fr.NewElement(3)}
	b, err := EncodeTable(pts, vals)
	require.NoError(t, err)
	require.Len(t, b, 3*TableRow)
	for i := range pts {
		p, v, err := c.TableRowAt(b, i+1)
		require.NoError(t, err)
		require.True(t, p.Equal(&pts[i]))
		require.Equal(t, vals[i], v)
	}
	_, err = EncodeTable(pts, vals[:2])
	require.ErrorIs(t, err, roles.ErrInvalidInput)
	var off bls.G1Affine
	off.X.SetOne()
	off.Y.SetOne()
	_, err = EncodeTable([]bls.G1Affine{off}, vals[:1])
	require.ErrorIs(t, err, roles.ErrInvalidInput)
	// A value ≥ r and a point off the curve are corrupt.
	bad := bytes.Clone(b)
	copy(bad[TableRow-ScalarSize:TableRow], fr.Modulus().FillBytes(make([]byte, 32)))
	_, _, err = c.TableRowAt(bad, 1)
	require.ErrorIs(t, err, errTest)
	bad = bytes.Clone(b)
	bad[G1Size-1] ^= 1
	_, _, err = c.TableRowAt(bad, 1)
	require.ErrorIs(t, err, errTest)
}

// FuzzBatchData: what decodes re-encodes to the same bytes; what does not
// decode fails with the store's sentinel and returns nothing.
func FuzzBatchData(f *testing.F) {
	f.Add(seedData(f))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := c.BatchData(b)
		if err != nil {
			require.ErrorIs(t, err, errTest)
			require.Equal(t, roles.BatchData{}, d)
			return
		}
		again, err := EncodeBatchData(&d)
		require.NoError(t, err)
		require.Equal(t, b, again)
	})
}

// FuzzWitness: the witness layout round-trips, or fails with the sentinel.
func FuzzWitness(f *testing.F) {
	w := accumulator.Witness{W: g1(11), U: fr.NewElement(5), Epoch: 7}
	f.Add(EncodeWitness(&w))
	i := accumulator.InitialWitness()
	f.Add(EncodeWitness(&i))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := c.Witness(b)
		if err != nil {
			require.ErrorIs(t, err, errTest)
			require.Equal(t, accumulator.Witness{}, w)
			return
		}
		require.Equal(t, b, EncodeWitness(&w))
		require.True(t, w.W.IsInfinity() || w.W.IsOnCurve())
	})
}

// FuzzTableRow: a table row round-trips, or fails with the sentinel.
func FuzzTableRow(f *testing.F) {
	row, err := EncodeTable([]bls.G1Affine{g1(2)}, []fr.Element{fr.NewElement(3)})
	require.NoError(f, err)
	f.Add(row)
	row, err = EncodeTable([]bls.G1Affine{{}}, []fr.Element{fr.NewElement(0)})
	require.NoError(f, err)
	f.Add(row)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) != TableRow {
			if _, err := c.G1FromRaw(b); len(b) != G1Size {
				require.ErrorIs(t, err, errTest)
			}
			return
		}
		p, v, err := c.TableRowAt(b, 1)
		if err != nil {
			require.ErrorIs(t, err, errTest)
			return
		}
		again, err := EncodeTable([]bls.G1Affine{p}, []fr.Element{v})
		require.NoError(t, err)
		require.Equal(t, b, again)
	})
}
