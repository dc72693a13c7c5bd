package e2e

import (
	"context"
	"crypto/rand"
	"math/big"
	"strconv"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/internal/hash"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// The columns of every test batch: a temperature with one decimal place, a
// humidity in percent and a power reading that goes negative.
var (
	allCols = []string{"temp", "hum", "power"}
	scales  = map[string]uint8{"temp": 1, "hum": 0, "power": 0}
)

// makeBatch returns a batch of rows readings starting at t0, with
// timestamps strictly increasing at uneven steps (4 to 16 apart) and values
// that depend on seed.
func makeBatch(stream string, rows, seed int, t0 uint64) *transport.NewBatch {
	nb := &transport.NewBatch{Stream: stream, Timestamps: make([]uint64, rows)}
	temp, hum, power := make([]int64, rows), make([]int64, rows), make([]int64, rows)
	for i := range rows {
		nb.Timestamps[i] = t0 + uint64(10*i+(i*i)%7)
		temp[i] = 150 + int64((seed*31+i*17)%90)
		hum[i] = 35 + int64((seed*7+i*11)%40)
		power[i] = int64((seed*53+i*37)%400) - 250
	}
	nb.Columns = []transport.ColumnValues{
		{Name: "temp", Scale: scales["temp"], Values: temp},
		{Name: "hum", Scale: scales["hum"], Values: hum},
		{Name: "power", Scale: scales["power"], Values: power},
	}
	return nb
}

// column returns the values of a column of a batch.
func column(nb *transport.NewBatch, name string) []int64 {
	for _, c := range nb.Columns {
		if c.Name == name {
			return c.Values
		}
	}
	panic("no column " + name)
}

// rowSum returns the sum of a column over rows from..to (from 1, inclusive;
// zero if to < from).
func rowSum(nb *transport.NewBatch, name string, from, to int) int64 {
	var s int64
	v := column(nb, name)
	for i := from; i <= to; i++ {
		s += v[i-1]
	}
	return s
}

// checkSums checks a verified result against the sums over rows from..to
// of the data the test sent: the raw integers and their decimal form.
func checkSums(t testing.TB, res *transport.VerifyResult, nb *transport.NewBatch, cols []string, from, to int) {
	t.Helper()
	require.Equal(t, cols, res.Columns)
	require.Len(t, res.Raw, len(cols))
	require.Len(t, res.Values, len(cols))
	for i, c := range cols {
		want := rowSum(nb, c, from, to)
		require.Equal(t, strconv.FormatInt(want, 10), res.Raw[i], "column %s, rows %d..%d", c, from, to)
		require.Equal(t, roles.FormatDecimal(big.NewInt(want), scales[c]), res.Values[i], "column %s, rows %d..%d", c, from, to)
	}
}

// auditValues computes what an audit must return: Σ ρ^(i−1) m_i per column
// with ρ = HFr("vds/v1/audit", D, columns, nonce, epoch) (SPEC §7).
func auditValues(id roles.BatchID, nb *transport.NewBatch, cols []string, nonce []byte, epoch uint64) []string {
	parts := [][]byte{id[:]}
	for _, c := range cols {
		parts = append(parts, []byte(c))
	}
	parts = append(parts, nonce, hash.U64(epoch))
	rho := hash.ToFr1(hash.TagAudit, parts...)
	out := make([]string, len(cols))
	for k, c := range cols {
		var x, w, t fr.Element
		w.SetOne()
		for _, v := range column(nb, c) {
			m := roles.FromInt64(v)
			t.Mul(&w, &m)
			x.Add(&x, &t)
			w.Mul(&w, &rho)
		}
		out[k] = x.BigInt(new(big.Int)).String() // an audit value is a field element in [0, r)
	}
	return out
}

func pointQ(id roles.BatchID, row int, cols ...string) *roles.Query {
	return &roles.Query{Batch: id, Kind: roles.QueryPoint, Columns: cols, Row: uint32(row)}
}

func rangeQ(id roles.BatchID, from, to int, cols ...string) *roles.Query {
	return &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: cols, From: uint32(from), To: uint32(to)}
}

func windowQ(id roles.BatchID, from, to uint64, cols ...string) *roles.Query {
	return &roles.Query{Batch: id, Kind: roles.QueryWindow, Columns: cols, TimeFrom: from, TimeTo: to}
}

func auditQ(id roles.BatchID, nonce []byte, cols ...string) *roles.Query {
	return &roles.Query{Batch: id, Kind: roles.QueryAudit, Columns: cols, Nonce: nonce}
}

func freshNonce(t testing.TB) []byte {
	n := make([]byte, 32)
	_, err := rand.Read(n)
	require.NoError(t, err)
	return n
}

// create has the owner commit to a batch and checks that the storage server
// holds its signed header.
func (s *system) create(t testing.TB, nb *transport.NewBatch) (roles.BatchID, *roles.SignedHeader) {
	t.Helper()
	ctx := context.Background()
	cr, err := s.owner.CreateBatch(ctx, nb)
	require.NoError(t, err)
	sh := &cr.Header
	id, err := sh.Header.Digest()
	require.NoError(t, err)
	require.EqualValues(t, len(nb.Timestamps), sh.Header.Rows)
	require.Equal(t, nb.Timestamps[0], sh.Header.FirstTime)
	require.Equal(t, nb.Timestamps[len(nb.Timestamps)-1], sh.Header.LastTime)
	got, err := s.storage.Header(ctx, id)
	require.NoError(t, err)
	require.Equal(t, sh.Sig, got.Sig)
	return id, sh
}

// ask asks the storage server and has the verifier check the answer; both
// must succeed, and the result must be about the query asked.
func (s *system) ask(t testing.TB, q *roles.Query) (*roles.Answer, *transport.VerifyResult) {
	t.Helper()
	ctx := context.Background()
	ans, err := s.storage.Answer(ctx, q)
	require.NoError(t, err, "storage server, %s query", q.Kind)
	res, err := s.verifier.Verify(ctx, q, ans)
	require.NoError(t, err, "verifier, %s query", q.Kind)
	require.Equal(t, q.Batch, res.Batch)
	require.Equal(t, q.Kind, res.Kind)
	require.Equal(t, ans.Epoch, res.Epoch)
	return ans, res
}

// epochs returns the epochs the owner, the storage server and the verifier
// hold.
func (s *system) epochs(t testing.TB) (owner, storage, verifier uint64) {
	t.Helper()
	ctx := context.Background()
	oh, err := s.owner.Health(ctx)
	require.NoError(t, err)
	sh, err := s.storage.Health(ctx)
	require.NoError(t, err)
	vh, err := s.verifier.Health(ctx)
	require.NoError(t, err)
	require.True(t, oh.HasEpoch && sh.HasEpoch && vh.HasEpoch, "every role holds a state: owner %v, storage %v, verifier %v", oh.HasEpoch, sh.HasEpoch, vh.HasEpoch)
	for _, h := range []*transport.Health{oh, sh, vh} {
		require.Equal(t, roles.Hash(s.crs.Digest()), h.CRS, "%s CRS", h.Service)
		require.Equal(t, s.keys.ID(), h.Owner, "%s owner", h.Service)
	}
	return oh.Epoch, sh.Epoch, vh.Epoch
}

// cloneAnswer copies an answer deeply enough to tamper with its values and
// query.
func cloneAnswer(a *roles.Answer) *roles.Answer {
	c := *a
	c.Values = append([]codec.Scalar(nil), a.Values...)
	c.Query.Columns = append([]string(nil), a.Query.Columns...)
	if a.Window != nil {
		w := *a.Window
		w.Times = append([]uint64(nil), a.Window.Times...)
		c.Window = &w
	}
	return &c
}

// plusOne returns v + 1 in the field.
func plusOne(v codec.Scalar) codec.Scalar {
	x := fr.Element(v)
	var one fr.Element
	one.SetOne()
	x.Add(&x, &one)
	return codec.Scalar(x)
}

// listIDs returns the ids of a stream's batches in sequence order (latest
// versions).
func (s *system) listIDs(t testing.TB, stream string) []roles.BatchID {
	t.Helper()
	l, err := s.storage.ListBatches(context.Background(), stream)
	require.NoError(t, err)
	var ids []roles.BatchID
	for _, b := range l {
		if int(b.Seq) == len(ids) {
			ids = append(ids, b.ID)
		} else {
			ids[b.Seq] = b.ID
		}
	}
	return ids
}
