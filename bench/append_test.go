package bench

import (
	"context"
	"errors"
	"math"
	mrand "math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
	"github.com/vdsproject/vds/storage/memory"
)

// appendRowsPerBatch is the policy of the append benchmarks: batches of
// 4096 rows.
const appendRowsPerBatch = 4096

// appendRows returns n rows of one column from t=1: random int32 values of
// either sign (a negative value is a full-width scalar, so the column's
// commitment is no cheaper than random data).
func appendRows(n int, seed uint64) []roles.Row {
	r := mrand.New(mrand.NewPCG(seed, 3))
	rows := make([]roles.Row, n)
	vals := make([]int64, n)
	for i := range rows {
		vals[i] = int64(r.Int32())
		rows[i] = roles.Row{Time: uint64(i) + 1, Values: vals[i : i+1]}
	}
	return rows
}

func openBolt(b *testing.B) *bolt.Store {
	b.Helper()
	s, err := bolt.Open(filepath.Join(b.TempDir(), "owner.db"))
	if err != nil {
		b.Fatal(err)
	}
	return s
}

var appendSchema = []roles.ColumnInfo{{Name: "v"}}

// BenchmarkAppend measures rows in, continuously.
//
// rows=100000: 100,000 rows of one column appended through an Appender in
// calls of 1000 rows (one durable bbolt write each), sealed into batches
// of 4096 rows in the background — committed, signed, stored in the
// owner's bbolt file with the removal of their rows, and stored by a
// storage server (in memory, checking each batch's commitments, no
// precomputation) — until Close has sealed the last one. Metric rows/s.
// Goal: ≥ 20,000 rows/s.
//
// seal=4096: one seal of 4096 pending rows (Flush) at the owner alone
// (bbolt store, a storage server that discards), against the raw
// commitments in the same run: seal/commit, against BenchmarkCommit's
// commitment of 4096 random full-width scalars (goal ≤ 1.2);
// seal/commitG1, against the G1 commitment of the same column (int32
// values: cheaper than random scalars); seal/commitG1G2, against that and
// the G2 commitment to the timestamps every batch also carries (SPEC §5).
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	crs := crsOf(b, appendRowsPerBatch)
	b.Run("rows=100000", func(b *testing.B) {
		const total, call = 100_000, 1000
		rows := appendRows(total, 1)
		var elapsed time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			l, err := roles.NewLocal(ctx, crs, openBolt(b), memory.NewServerStore())
			if err != nil {
				b.Fatal(err)
			}
			_ = l.Server.Close() // no background precomputation
			a, err := l.Owner.Appender(ctx, "bench", appendSchema, roles.AppendPolicy{MaxRows: appendRowsPerBatch})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			for j := 0; j < total; {
				res, err := a.AppendRows(ctx, rows[j:j+call])
				if err != nil {
					if isBufferFull(err) {
						time.Sleep(time.Millisecond)
						continue
					}
					b.Fatal(err)
				}
				j += res.Acknowledged
			}
			if err := a.Close(ctx); err != nil {
				b.Fatal(err)
			}
			elapsed += time.Since(start)
			b.StopTimer()
			if es := l.Owner.StreamEntries("bench"); len(es) != (total+appendRowsPerBatch-1)/appendRowsPerBatch {
				b.Fatalf("%d batches", len(es))
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(total*b.N)/elapsed.Seconds(), "rows/s")
	})
	b.Run("seal=4096", func(b *testing.B) {
		rows := appendRows(appendRowsPerBatch, 2)
		o, err := roles.NewDataOwner(ctx, crs, openBolt(b), discardStorage{})
		if err != nil {
			b.Fatal(err)
		}
		a, err := o.Appender(ctx, "bench", appendSchema, roles.AppendPolicy{MaxRows: appendRowsPerBatch, MaxPending: 2 * appendRowsPerBatch})
		if err != nil {
			b.Fatal(err)
		}
		defer a.Close(ctx)
		var sealed time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			next := make([]roles.Row, len(rows)) // the count that seals
			for j := range next {
				next[j] = roles.Row{Time: uint64(i*appendRowsPerBatch+j) + 1, Values: rows[j].Values}
			}
			if _, err := a.AppendRows(ctx, next); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			if err := a.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			sealed += time.Since(start)
		}
		b.StopTimer()
		seal := float64(sealed.Nanoseconds()) / float64(b.N)
		g1, g2, full := rawCommit(b, rows)
		b.ReportMetric(seal, "seal-ns")
		b.ReportMetric(full, "commit-ns")
		b.ReportMetric(seal/full, "seal/commit")
		b.ReportMetric(g1, "commitG1-ns")
		b.ReportMetric(g2, "commitG2-ns")
		b.ReportMetric(seal/g1, "seal/commitG1")
		b.ReportMetric(seal/(g1+g2), "seal/commitG1G2")
	})
}

// rawCommit times the raw commitments of one batch of rows (the best of
// three): the G1 commitment to the column, the G2 commitment to the
// timestamps, and full, BenchmarkCommit's G1 commitment to as many random
// full-width scalars.
func rawCommit(b *testing.B, rows []roles.Row) (g1, g2, full float64) {
	pk := crsOf(b, appendRowsPerBatch).ProverKey()
	col, times := make([]fr.Element, len(rows)), make([]fr.Element, len(rows))
	for i, r := range rows {
		col[i] = roles.FromInt64(r.Values[0])
		times[i].SetUint64(r.Time)
	}
	gamma := randomScalars(1)[0]
	best := func(f func() error) float64 {
		m := math.Inf(1)
		for range 3 {
			start := time.Now()
			if err := f(); err != nil {
				b.Fatal(err)
			}
			m = min(m, float64(time.Since(start).Nanoseconds()))
		}
		return m
	}
	g1 = best(func() error { _, err := pk.CommitG1(col, gamma); return err })
	g2 = best(func() error { _, err := pk.CommitG2(times, gamma); return err })
	random := randomScalars(len(rows))
	full = best(func() error { _, err := pk.CommitG1(random, gamma); return err })
	return g1, g2, full
}

func isBufferFull(err error) bool { return errors.Is(err, roles.ErrBufferFull) }
