package storetest

import (
	"crypto/rand"
	"encoding/binary"
	"math/big"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
)

// RandomG1 returns a uniformly random point of G1 other than the identity.
func RandomG1(tb testing.TB) bls.G1Affine {
	tb.Helper()
	for {
		s := RandomScalar(tb)
		if s.IsZero() {
			continue
		}
		var p bls.G1Affine
		p.ScalarMultiplicationBase(s.BigInt(new(big.Int)))
		return p
	}
}

// RandomScalar returns a uniformly random element of Fr.
func RandomScalar(tb testing.TB) fr.Element {
	tb.Helper()
	var e fr.Element
	if _, err := e.SetRandom(); err != nil {
		tb.Fatalf("storetest: random scalar: %v", err)
	}
	return e
}

// NewState returns a signed state that extends prev: epoch 0 (revoking
// nothing, linking to nothing) if prev is nil, else epoch prev+1 revoking the
// batch id with a random x and linking to prev's digest. The accumulator
// value is a random G1 point and the signature random bytes: stores do not
// check either.
func NewState(tb testing.TB, prev *roles.SignedState, revoke roles.BatchID) *roles.SignedState {
	tb.Helper()
	st := &roles.SignedState{
		State: roles.State{
			Format: roles.FormatVersion,
			Acc:    codec.G1(RandomG1(tb)),
		},
		IssuedAt: 1_700_000_000_000,
		KeyID:    "0011223344556677",
		Sig:      randomBytes(tb, 64),
	}
	if prev != nil {
		d, err := prev.State.Digest()
		if err != nil {
			tb.Fatalf("storetest: digest: %v", err)
		}
		st.State.CRS, st.State.Owner = prev.State.CRS, prev.State.Owner
		st.State.Epoch = prev.State.Epoch + 1
		st.State.Prev = d
		st.State.Revoked = &roles.Revocation{X: codec.Scalar(RandomScalar(tb)), Batch: revoke}
		st.IssuedAt = prev.IssuedAt + 1000
	} else {
		copy(st.State.CRS[:], randomBytes(tb, 32))
		copy(st.State.Owner[:], randomBytes(tb, 32))
	}
	return st
}

// Resign returns a copy of st issued at the given time with a fresh
// signature: the same state (same digest), signed again.
func Resign(tb testing.TB, st *roles.SignedState, issuedAt int64) *roles.SignedState {
	tb.Helper()
	c := *st
	c.IssuedAt = issuedAt
	c.Sig = randomBytes(tb, 64)
	return &c
}

// NewBatch returns a stored batch of the given stream, sequence number and
// version with rows rows and cols columns of random data (rows ≥ 1, cols ≥
// 1). Its id is the digest of its header; the commitments are random points
// and the signature random bytes: stores do not check them.
func NewBatch(tb testing.TB, stream string, seq uint64, version uint32, rows, cols int) *roles.StoredBatch {
	tb.Helper()
	h := roles.Header{
		Format:     roles.FormatVersion,
		KeyID:      "0011223344556677",
		Stream:     stream,
		Seq:        seq,
		Version:    version,
		Rows:       uint32(rows),
		TimeCommit: codec.G2(g2Gen),
	}
	copy(h.CRS[:], randomBytes(tb, 32))
	copy(h.Owner[:], randomBytes(tb, 32))
	d := roles.BatchData{Times: make([]uint64, rows), TimeGamma: codec.Scalar(RandomScalar(tb))}
	t0 := binary.BigEndian.Uint64(randomBytes(tb, 8)) >> 24
	for i := range d.Times {
		d.Times[i] = t0 + uint64(i)*1000
	}
	h.FirstTime, h.LastTime = d.Times[0], d.Times[rows-1]
	for c := range cols {
		h.Columns = append(h.Columns, roles.ColumnInfo{Name: "c" + string(rune('a'+c%26)) + string(rune('a'+c/26)), Scale: uint8(c % 4), Bits: roles.DefaultBits})
		h.Commits = append(h.Commits, codec.G1(RandomG1(tb)))
		col := make(codec.ScalarVector, rows)
		for i := range col {
			col[i].SetUint64(uint64(i*cols + c))
		}
		col[0] = RandomScalar(tb)
		d.Columns = append(d.Columns, col)
		d.Gammas = append(d.Gammas, codec.Scalar(RandomScalar(tb)))
	}
	id, err := h.Digest()
	if err != nil {
		tb.Fatalf("storetest: header digest: %v", err)
	}
	return &roles.StoredBatch{ID: id, Header: roles.SignedHeader{Header: h, Sig: randomBytes(tb, 64)}, Data: d}
}

// RandomID returns a random batch id.
func RandomID(tb testing.TB) roles.BatchID {
	tb.Helper()
	var id roles.BatchID
	copy(id[:], randomBytes(tb, len(id)))
	return id
}

func randomBytes(tb testing.TB, n int) []byte {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("storetest: random bytes: %v", err)
	}
	return b
}

var g2Gen = func() bls.G2Affine {
	_, _, _, g := bls.Generators()
	return g
}()
