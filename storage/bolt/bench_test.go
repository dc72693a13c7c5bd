package bolt

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"go.etcd.io/bbolt"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/storetest"
)

// fillChain appends n states (epochs 0..n−1) with distinct accumulator
// values in one transaction, with the encodings AppendState writes. It skips
// AppendState's per-call checks (NextStep, the decode-after-encode) to build
// 100,000 epochs in seconds; TestFillChain checks the result against them.
func fillChain(tb testing.TB, s *Store, n int) []*roles.SignedState {
	tb.Helper()
	// f_E = (E+1)·g, by additions, normalised in one batch.
	_, _, g, _ := bls.Generators()
	jac := make([]bls.G1Jac, n)
	var acc bls.G1Jac
	for i := range jac {
		acc.AddMixed(&g)
		jac[i] = acc
	}
	fs := bls.BatchJacobianToAffineG1(jac)
	sts := make([]*roles.SignedState, n)
	err := s.db.Update(func(tx *bbolt.Tx) error {
		var prev *roles.SignedState
		for e := range n {
			st := &roles.SignedState{State: roles.State{Format: roles.FormatVersion, Epoch: uint64(e), Acc: codec.G1(fs[e])},
				IssuedAt: int64(e), KeyID: "k", Sig: []byte{1}}
			if prev != nil {
				d, err := prev.State.Digest()
				if err != nil {
					return err
				}
				var x fr.Element
				x.SetUint64(uint64(e) * 7919)
				st.State.Prev = d
				st.State.Revoked = &roles.Revocation{X: codec.Scalar(x), Batch: roles.BatchID{byte(e), byte(e >> 8), byte(e >> 16)}}
			}
			enc, err := codec.Default().Marshal(st)
			if err != nil {
				return err
			}
			k := epochKey(uint64(e))
			if err := tx.Bucket(bChain).Put(k, enc); err != nil {
				return err
			}
			if err := tx.Bucket(bAcc).Put(k, g1Raw(&fs[e])); err != nil {
				return err
			}
			if r := st.State.Revoked; r != nil {
				x := fr.Element(r.X)
				if err := tx.Bucket(bX).Put(k, scalarBytes(&x)); err != nil {
					return err
				}
				if err := markRevoked(tx, r.Batch, uint64(e)); err != nil {
					return err
				}
			}
			sts[e], prev = st, st
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return sts
}

func TestFillChain(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	sts := fillChain(t, s, 50)
	got, err := s.States(ctx, 0, 49)
	if err != nil {
		t.Fatal(err)
	}
	fs, xs, err := s.History(ctx, 0, 49)
	if err != nil {
		t.Fatal(err)
	}
	for e := range sts {
		if !reflect.DeepEqual(got[e], *sts[e]) {
			t.Fatalf("state %d differs", e)
		}
		// Each state passes NextStep as the next of its predecessor.
		if e > 0 {
			if step, err := roles.NextStep(sts[e-1], nil, sts[e]); err != nil || step != roles.StepAppend {
				t.Fatalf("state %d: %v %v", e, step, err)
			}
			if fs[e-1] != bls.G1Affine(sts[e-1].State.Acc) || xs[e-1] != fr.Element(sts[e].State.Revoked.X) {
				t.Fatalf("history %d differs", e)
			}
		}
	}
	// And the chain goes on through AppendState.
	if err := s.AppendState(ctx, storetest.NewState(t, sts[49], storetest.RandomID(t))); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkHistory measures History(0, epochs), the accumulator history a
// witness update from epoch 0 needs, and (for 1000 epochs) the same points
// decoded with gnark-crypto's full check, subgroup included, for the ratio.
func BenchmarkHistory(b *testing.B) {
	for _, n := range []int{1000, 100_000} {
		s, err := Open(filepath.Join(b.TempDir(), "store.db"))
		if err != nil {
			b.Fatal(err)
		}
		fillChain(b, s, n+1)
		ctx := context.Background()
		b.Run(fmt.Sprintf("epochs=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				fs, xs, err := s.History(ctx, 0, uint64(n))
				if err != nil || len(fs) != n || len(xs) != n {
					b.Fatal(err)
				}
			}
		})
		if n > 1000 {
			_ = s.Close()
			continue // the checked decoding takes seconds; the ratio shows at 1000
		}
		b.Run(fmt.Sprintf("epochs=%d/subgroup-checked", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				err := s.db.View(func(tx *bbolt.Tx) error {
					fs := make([]bls.G1Affine, 0, n)
					c := tx.Bucket(bAcc).Cursor()
					for k, v := c.First(); k != nil && len(fs) < n; k, v = c.Next() {
						var p bls.G1Affine
						if _, err := p.SetBytes(v); err != nil {
							return err
						}
						fs = append(fs, p)
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		_ = s.Close()
	}
}

// BenchmarkBatch measures Batch on a full-capacity batch: 65,536 rows.
func BenchmarkBatch(b *testing.B) {
	for _, k := range []int{1, 4} {
		s, err := Open(filepath.Join(b.TempDir(), "store.db"))
		if err != nil {
			b.Fatal(err)
		}
		bt := storetest.NewBatch(b, "s", 0, 0, 1<<16, k)
		ctx := context.Background()
		if err := s.PutBatch(ctx, bt); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("rows=65536/k=%d", k), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Batch(ctx, bt.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("rows=65536/k=%d/data-only", k), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				err := s.db.View(func(tx *bbolt.Tx) error {
					_, err := decodeBatchData(tx.Bucket(bData).Get(bt.ID[:]))
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("rows=65536/k=%d/data-as-cbor", k), func(b *testing.B) {
			enc, err := codec.Default().Marshal(&bt.Data)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				var d roles.BatchData
				if err := codec.Default().Unmarshal(enc, &d); err != nil {
					b.Fatal(err)
				}
			}
		})
		_ = s.Close()
	}
}

// BenchmarkAppendState measures one durable append (one fsync'd commit).
func BenchmarkAppendState(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "store.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	sts := fillChain(b, s, 1000)
	prev := sts[len(sts)-1]
	var next []*roles.SignedState
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		if len(next) == 0 {
			p := prev
			for range 1024 {
				p = storetest.NewState(b, p, storetest.RandomID(b))
				next = append(next, p)
			}
		}
		st := next[0]
		next = next[1:]
		b.StartTimer()
		if err := s.AppendState(ctx, st); err != nil {
			b.Fatal(err)
		}
		prev = st
	}
}
