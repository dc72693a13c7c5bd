package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

var roleSizes = []int{1024, 65536}

// randomBatch returns a batch of n rows and c columns with millisecond
// timestamps and random values as wide as a column of n rows may declare
// (|v| < 2^MaxColumnBits(n), either sign; SPEC §5): the worst case for the
// multi-exponentiations that real data allows.
func randomBatch(n, c int) *roles.Batch {
	b := &roles.Batch{Stream: "bench", Timestamps: make([]uint64, n)}
	for i := range b.Timestamps {
		b.Timestamps[i] = 1_700_000_000_000 + uint64(i)*1000
	}
	half := new(big.Int).Lsh(big.NewInt(1), uint(roles.MaxColumnBits(n)))
	for k := range c {
		col := roles.Column{Name: fmt.Sprintf("c%d", k), Big: make([]*big.Int, n)}
		for i := range col.Big {
			v, err := rand.Int(rand.Reader, half)
			if err != nil {
				panic(err)
			}
			if i%2 == 1 {
				v.Neg(v)
			}
			col.Big[i] = v
		}
		b.Columns = append(b.Columns, col)
	}
	return b
}

// advance moves b's timestamps past its last one, so the next CreateBatch
// of b is a new batch at the end of its stream (the same content again is
// not committed: Ingest returns the existing batch).
func advance(b *roles.Batch) {
	span := b.Timestamps[len(b.Timestamps)-1] - b.Timestamps[0] + 1000
	for i := range b.Timestamps {
		b.Timestamps[i] += span
	}
}

// discardStorage acknowledges everything: BenchmarkCreateBatch measures the
// owner's own work.
type discardStorage struct{}

func (discardStorage) StoreBatch(context.Context, *roles.StoreBatchRequest) error   { return nil }
func (discardStorage) ApplyState(context.Context, *roles.SignedState) error         { return nil }
func (discardStorage) UpdateBatch(context.Context, *roles.UpdateBatchRequest) error { return nil }
func (discardStorage) LatestState(context.Context) (*roles.SignedState, error) {
	return nil, roles.ErrUnknownState
}

// BenchmarkCreateBatch is the owner's cost of a new batch: C G1 commitments,
// one G2 commitment to the timestamps, the header signature and the durable
// pending record (in memory). Compare with BenchmarkMSMG1/n=N.
func BenchmarkCreateBatch(b *testing.B) {
	ctx := context.Background()
	for _, c := range []int{1, 4} {
		for _, n := range roleSizes {
			crs := crsOf(b, n)
			batch := randomBatch(n, c)
			o, err := roles.NewDataOwner(ctx, crs, memory.NewOwnerStore(), discardStorage{})
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("cols=%d/n=%d", c, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					advance(batch)
					b.StartTimer()
					r, err := o.Ingest(ctx, batch)
					if err != nil {
						b.Fatal(err)
					}
					if r.Existing {
						b.Fatal("the batch was not committed again")
					}
				}
			})
		}
	}
}

// rangeSystem is an in-memory system holding one batch of n rows and c
// columns, and a range query over all its rows and columns. Its server
// does not precompute: it answers directly.
func rangeSystem(b *testing.B, n, c int) (*roles.Local, *roles.Query) {
	return rangeSystemOn(b, n, c, memory.NewServerStore())
}

// rangeSystemOn is rangeSystem over the given server store.
func rangeSystemOn(b *testing.B, n, c int, store roles.ServerStore) (*roles.Local, *roles.Query) {
	ctx := context.Background()
	l, err := roles.NewLocal(ctx, crsOf(b, n), memory.NewOwnerStore(), store)
	if err != nil {
		b.Fatal(err)
	}
	_ = l.Server.Close() // no background precomputation
	batch := randomBatch(n, c)
	sh, err := l.Owner.CreateBatch(ctx, batch)
	if err != nil {
		b.Fatal(err)
	}
	id, _ := sh.Header.Digest()
	q := &roles.Query{Batch: id, Kind: roles.QueryRange, From: 1, To: uint32(n)}
	for _, col := range batch.Columns {
		q.Columns = append(q.Columns, col.Name)
	}
	return l, q
}

// BenchmarkQueryRange is the server's answer to a range-sum query over every
// row of C columns (warm witness): one combined opening, one MSM of 2n−1
// points whatever C. Compare with BenchmarkMSMG1/n=2N.
func BenchmarkQueryRange(b *testing.B) {
	ctx := context.Background()
	b.Run("precomputed", benchmarkQueryRangePrecomputed)
	benchmarkQueryRangeStores(b)
	for _, c := range []int{1, 4} {
		for _, n := range roleSizes {
			b.Run(fmt.Sprintf("cols=%d/n=%d", c, n), func(b *testing.B) {
				l, q := rangeSystem(b, n, c)
				if _, err := l.Query(ctx, q); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := l.Server.Answer(ctx, q); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkVerifyQueryRange verifies a one-column range answer: header,
// epoch, non-membership and opening in one multi-pairing. Compare with
// BenchmarkPairingCheck3.
func BenchmarkVerifyQueryRange(b *testing.B) {
	ctx := context.Background()
	for _, n := range roleSizes {
		l, q := rangeSystem(b, n, 1)
		ans, err := l.Server.Answer(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name("n", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.Verifier.Verify(ctx, q, ans); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAudit is the server's answer to an audit of one column with a
// fresh nonce: dense weights ρ^(i−1), one FFT convolution and one MSM.
func BenchmarkAudit(b *testing.B) {
	ctx := context.Background()
	for _, n := range roleSizes {
		l, q := rangeSystem(b, n, 1)
		q.Kind, q.From, q.To = roles.QueryAudit, 0, 0
		b.Run(name("n", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				q.Nonce = fmt.Appendf(nil, "nonce %d", i)
				if _, err := l.Server.Answer(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRevoke is one revocation end to end in memory: the owner's
// accumulator step and state signature, and the server applying the state.
func BenchmarkRevoke(b *testing.B) {
	ctx := context.Background()
	l, err := roles.NewLocal(ctx, crsOf(b, 1024), memory.NewOwnerStore(), memory.NewServerStore())
	if err != nil {
		b.Fatal(err)
	}
	small := randomBatch(1, 1)
	var ids []roles.BatchID
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		advance(small)
		sh, err := l.Owner.CreateBatch(ctx, small)
		if err != nil {
			b.Fatal(err)
		}
		id, _ := sh.Header.Digest()
		ids = append(ids, id)
		b.StartTimer()
		if _, err := l.Owner.Revoke(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}

// revokedHistory fills a server store with a chain of q revocations of
// random batches (states unsigned: the store does not check signatures, and
// the benchmark measures the witness computation).
func revokedHistory(b *testing.B, store roles.ServerStore, q int) {
	ctx := context.Background()
	sk, err := accumulator.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	// f_E = Π_{i≤E}(x_i + s)·g for all E with one batch scalar multiplication.
	raw, err := sk.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	var s fr.Element
	if err := s.SetBytesCanonical(raw); err != nil {
		b.Fatal(err)
	}
	xs := make([]fr.Element, q)
	ids := make([]roles.BatchID, q)
	prods := make([]fr.Element, q)
	var acc fr.Element
	acc.SetOne()
	for i := range xs {
		_, _ = rand.Read(ids[i][:])
		xs[i] = ids[i].Element()
		var t fr.Element
		t.Add(&xs[i], &s)
		acc.Mul(&acc, &t)
		prods[i] = acc
	}
	_, _, g, _ := bls.Generators()
	fs := bls.BatchScalarMultiplicationG1(&g, prods)
	st := &roles.SignedState{State: roles.State{Format: roles.FormatVersion, Epoch: 0, Acc: codec.G1(g)}}
	if err := store.AppendState(ctx, st); err != nil {
		b.Fatal(err)
	}
	for i := range xs {
		prev, err := st.State.Digest()
		if err != nil {
			b.Fatal(err)
		}
		st = &roles.SignedState{State: roles.State{Format: roles.FormatVersion, Epoch: uint64(i + 1), Acc: codec.G1(fs[i]),
			Revoked: &roles.Revocation{X: codec.Scalar(xs[i]), Batch: ids[i]}, Prev: prev}}
		if err := store.AppendState(ctx, st); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNonMembership computes a batch's non-membership witness after Q
// revocations: cold (from epoch 0: one MSM of Q+1 points, compare with
// BenchmarkMSMG1/n=131072) and warm (cached at the latest epoch).
func BenchmarkNonMembership(b *testing.B) {
	ctx := context.Background()
	for _, q := range []int{1000, 100000} {
		store := memory.NewServerStore()
		revokedHistory(b, store, q)
		l, err := roles.NewLocal(ctx, crsOf(b, 1024), memory.NewOwnerStore(), memory.NewServerStore())
		if err != nil {
			b.Fatal(err)
		}
		srv, err := roles.NewStorageServer(l.CRS, l.Owner.Keys(), store, roles.WithoutCommitmentCheck())
		if err != nil {
			b.Fatal(err)
		}
		seq := uint64(0)
		newBatch := func() roles.BatchID {
			seq++
			var id roles.BatchID
			_, _ = rand.Read(id[:])
			sb := &roles.StoredBatch{ID: id, Header: roles.SignedHeader{Header: roles.Header{Stream: "bench", Seq: seq}}}
			if err := store.PutBatch(ctx, sb); err != nil {
				b.Fatal(err)
			}
			return id
		}
		b.Run(fmt.Sprintf("revoked=%d/cold", q), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				id := newBatch()
				b.StartTimer()
				if _, err := srv.Witness(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
		id := newBatch()
		if _, err := srv.Witness(ctx, id); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("revoked=%d/warm", q), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := srv.Witness(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
