package bolt

import (
	"bytes"
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/storetest"
)

func TestStreamKeyOrder(t *testing.T) {
	alphabet := []byte{0x00, 0x01, 0x02, 'a', 0xFE, 0xFF}
	var names []string
	for range 500 {
		b := make([]byte, rand.IntN(5))
		for i := range b {
			b[i] = alphabet[rand.IntN(len(alphabet))]
		}
		names = append(names, string(b))
	}
	for _, a := range names[:100] {
		ka := appendStream(nil, a)
		for _, b := range names {
			kb := appendStream(nil, b)
			require.Equal(t, compare(a, b), bytes.Compare(ka, kb), "%q vs %q", a, b)
			if a != b {
				require.False(t, bytes.HasPrefix(kb, ka), "%q is a key prefix of %q", a, b)
			}
		}
	}
	// Sequence numbers and versions sort numerically after the name.
	require.Negative(t, bytes.Compare(listKey("a", 255, 0, roles.BatchID{}), listKey("a", 256, 0, roles.BatchID{})))
	require.Negative(t, bytes.Compare(listKey("a", 1, 255, roles.BatchID{9}), listKey("a", 1, 256, roles.BatchID{})))
	require.Negative(t, bytes.Compare(listKey("a", 1<<40, 0, roles.BatchID{}), listKey("a\x00", 0, 0, roles.BatchID{})))
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestG1Raw(t *testing.T) {
	var zero bls.G1Affine
	for _, p := range []bls.G1Affine{storetest.RandomG1(t), storetest.RandomG1(t), zero} {
		got, err := g1FromRaw(g1Raw(&p))
		require.NoError(t, err)
		require.True(t, got.Equal(&p))
		require.Equal(t, p, got)
	}
	p := storetest.RandomG1(t)
	good := g1Raw(&p)
	bad := map[string][]byte{
		"short":              good[:95],
		"compressed flag":    append([]byte{good[0] | 0x80}, good[1:]...),
		"infinity with data": append([]byte{0x40}, good[1:]...),
		"(0, 0)":             make([]byte, 96),
		"off curve":          append(slices.Clone(good[:95]), good[95]^1),
		"x ≥ p":              append(pBytes(), good[48:]...),
	}
	for name, b := range bad {
		_, err := g1FromRaw(b)
		require.ErrorIs(t, err, ErrCorrupt, name)
	}
}

func pBytes() []byte {
	b := fp.Modulus().FillBytes(make([]byte, fp.Bytes))
	return b
}

// notInSubgroup returns a point on the curve outside the prime-order
// subgroup.
func notInSubgroup(t *testing.T) bls.G1Affine {
	for x := int64(1); ; x++ {
		var p bls.G1Affine
		p.X.SetInt64(x)
		var y2, b fp.Element
		b.SetInt64(4)
		y2.Square(&p.X).Mul(&y2, &p.X).Add(&y2, &b)
		if p.Y.Sqrt(&y2) == nil {
			continue
		}
		require.True(t, p.IsOnCurve())
		if !p.IsInSubGroup() {
			return p
		}
	}
}

func TestWitnessEncoding(t *testing.T) {
	for _, w := range []accumulator.Witness{
		accumulator.InitialWitness(),
		{W: storetest.RandomG1(t), U: storetest.RandomScalar(t), Epoch: 1<<63 + 5},
	} {
		got, err := decodeWitness(encodeWitness(&w))
		require.NoError(t, err)
		require.Equal(t, w, got)
	}
	w := accumulator.Witness{W: storetest.RandomG1(t), Epoch: 3}
	b := encodeWitness(&w)
	_, err := decodeWitness(b[:len(b)-1])
	require.ErrorIs(t, err, ErrCorrupt)
	copy(b[len(b)-32:], fr.Modulus().FillBytes(make([]byte, 32)))
	_, err = decodeWitness(b)
	require.ErrorIs(t, err, ErrCorrupt)
}

func TestBatchDataEncoding(t *testing.T) {
	b := storetest.NewBatch(t, "s", 0, 0, 1000, 5)
	enc, err := encodeBatchData(&b.Data)
	require.NoError(t, err)
	got, err := decodeBatchData(enc)
	require.NoError(t, err)
	require.Equal(t, b.Data, got)

	// Columns of different lengths and no gammas.
	d := roles.BatchData{Times: []uint64{1}, Columns: []codec.ScalarVector{{fr.NewElement(1)}, {}, {fr.NewElement(2), fr.NewElement(3)}}}
	enc2, err := encodeBatchData(&d)
	require.NoError(t, err)
	got, err = decodeBatchData(enc2)
	require.NoError(t, err)
	require.Len(t, got.Columns, 3)
	require.Equal(t, d.Columns[0], got.Columns[0])
	require.Empty(t, got.Columns[1])
	require.Equal(t, d.Columns[2], got.Columns[2])
	require.Nil(t, got.Gammas)

	for name, bad := range map[string][]byte{
		"empty":       nil,
		"layout":      append([]byte{2}, enc[1:]...),
		"truncated":   enc[:len(enc)-1],
		"extra":       append(slices.Clone(enc), 0),
		"huge counts": append([]byte{1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0}, make([]byte, 64)...),
		"scalar ≥ r":  append(slices.Clone(enc[:len(enc)-32]), fr.Modulus().FillBytes(make([]byte, 32))...),
	} {
		_, err := decodeBatchData(bad)
		require.ErrorIs(t, err, ErrCorrupt, name)
	}
}

// TestRefuseUndecodable checks that the store refuses on write a value it
// could not decode again, and that corrupt bytes read back are reported as
// ErrCorrupt.
func TestRefuseUndecodable(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "store.db"))
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()

	g := storetest.NewState(t, nil, roles.BatchID{})
	bad := *g
	bad.State.Acc = codec.G1(notInSubgroup(t))
	require.ErrorIs(t, s.AppendState(ctx, &bad), roles.ErrInvalidInput)
	bad = *g
	bad.KeyID = "\xff\xfe"
	require.ErrorIs(t, s.AppendState(ctx, &bad), roles.ErrInvalidInput)
	_, err = s.LatestState(ctx)
	require.ErrorIs(t, err, roles.ErrUnknownState)

	b := storetest.NewBatch(t, "s", 0, 0, 4, 1)
	b.Header.Header.Commits[0] = codec.G1(notInSubgroup(t))
	require.ErrorIs(t, s.PutBatch(ctx, b), roles.ErrInvalidInput)
	_, err = s.Batch(ctx, b.ID)
	require.ErrorIs(t, err, roles.ErrUnknownBatch)

	off := notInSubgroup(t)
	var offCurve bls.G1Affine
	offCurve.X.SetOne()
	offCurve.Y.SetOne()
	require.ErrorIs(t, s.PutWitness(ctx, b.ID, accumulator.Witness{W: offCurve, Epoch: 1}), roles.ErrInvalidInput)
	// A point on the curve is accepted: witnesses are the server's own
	// computation, and History's points are not subgroup-checked either.
	require.NoError(t, s.PutWitness(ctx, b.ID, accumulator.Witness{W: off, Epoch: 1}))

	// Corrupt history bytes are reported, not returned.
	require.NoError(t, s.AppendState(ctx, g))
	s1 := storetest.NewState(t, g, storetest.RandomID(t))
	require.NoError(t, s.AppendState(ctx, s1))
	require.NoError(t, s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bAcc).Put(epochKey(0), make([]byte, 96))
	}))
	_, _, err = s.History(ctx, 0, 1)
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorIs(t, err, roles.ErrInvalidEncoding)
	require.NoError(t, s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bAcc).Delete(epochKey(0))
	}))
	_, _, err = s.History(ctx, 0, 1)
	require.ErrorIs(t, err, ErrCorrupt)
	require.NoError(t, s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bChain).Put(epochKey(1), []byte{0xa0})
	}))
	_, err = s.LatestState(ctx)
	require.ErrorIs(t, err, ErrCorrupt)
}
