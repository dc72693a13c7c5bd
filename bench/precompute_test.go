package bench

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

var precomputeSizes = []int{1024, 65536}

// BenchmarkPrecompute is the storage server's one-time work per column:
// all n point proofs (one field FFT, 2N scalar multiplications and an
// inverse FFT of 2N points in G1) and their prefix sums, on every core. The
// CRS side (a forward G1 FFT, once per CRS) is computed before the timer.
// Compare with BenchmarkMSMG1/n=2N.
func BenchmarkPrecompute(b *testing.B) {
	workers := runtime.GOMAXPROCS(0)
	for _, n := range precomputeSizes {
		b.Run(name("n", n), func(b *testing.B) {
			pk := crsOf(b, n).ProverKey()
			if err := pk.PreparePointProofs(n, workers); err != nil {
				b.Fatal(err)
			}
			m, gamma := randomScalars(n), randomScalars(1)[0]
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pk.ProofPrefixSums(m, gamma, workers); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type precomputed struct {
	l   *roles.Local
	srv *roles.StorageServer
	q   *roles.Query // a range query over every row of every column
}

var (
	precomputedMu    sync.Mutex
	precomputedCache = map[int]*precomputed{}
)

// precomputedCols is the number of columns of the batch of
// precomputedSystem; queries of fewer columns use the first ones.
const precomputedCols = 4

// precomputedSystem is a rangeSystem of n rows and four columns whose proof
// tables are computed (on every core) before it returns, once per process:
// the server it returns answers from them. The query is a range over every
// row of the first c columns.
func precomputedSystem(b *testing.B, n, c int) (*roles.Local, *roles.StorageServer, *roles.Query) {
	b.Helper()
	precomputedMu.Lock()
	defer precomputedMu.Unlock()
	p, ok := precomputedCache[n]
	if !ok {
		ctx := context.Background()
		store := memory.NewServerStore()
		l, q := rangeSystemOn(b, n, precomputedCols, store)
		srv, err := roles.NewStorageServer(l.CRS, l.Owner.Keys(), store, roles.WithPrecomputeWorkers(runtime.GOMAXPROCS(0)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := srv.ResumePrecompute(ctx); err != nil {
			b.Fatal(err)
		}
		if err := srv.WaitPrecomputed(ctx); err != nil {
			b.Fatal(err)
		}
		p = &precomputed{l: l, srv: srv, q: q}
		precomputedCache[n] = p
	}
	q := *p.q
	q.Columns = q.Columns[:c]
	return p.l, p.srv, &q
}

// BenchmarkQueryRangePrecomputed is registered as
// BenchmarkQueryRange/precomputed/…: the same answers from the proof
// tables (2·C stored points and one small MSM).
func benchmarkQueryRangePrecomputed(b *testing.B) {
	ctx := context.Background()
	for _, c := range []int{1, 4} {
		for _, n := range precomputeSizes {
			b.Run(fmt.Sprintf("cols=%d/n=%d", c, n), func(b *testing.B) {
				l, srv, q := precomputedSystem(b, n, c)
				ans, err := srv.Answer(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := l.Verifier.Verify(ctx, q, ans); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := srv.Answer(ctx, q); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkQueryWindow is the server's answer to a time-window sum over the
// middle half of a one-column batch, from the proof tables: the column's
// range and the boundary timestamps' opening.
func BenchmarkQueryWindow(b *testing.B) {
	b.Run("precomputed", func(b *testing.B) {
		ctx := context.Background()
		for _, n := range precomputeSizes {
			b.Run(name("n", n), func(b *testing.B) {
				l, srv, q := precomputedSystem(b, n, 1)
				first := uint64(1_700_000_000_000) + uint64(n/4)*1000
				wq := &roles.Query{Batch: q.Batch, Kind: roles.QueryWindow, Columns: q.Columns,
					TimeFrom: first - 500, TimeTo: first + uint64(n/2)*1000 - 500}
				ans, err := srv.Answer(ctx, wq)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := l.Verifier.Verify(ctx, wq, ans); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := srv.Answer(ctx, wq); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	})
}

// BenchmarkVerifyMany verifies A answers to random range queries over one
// batch of n rows with one combined pairing check. Compare answers=A with
// A × answers=1.
func BenchmarkVerifyMany(b *testing.B) {
	const n = 1024
	for _, a := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("answers=%d/n=%d", a, n), func(b *testing.B) {
			ctx := context.Background()
			l, srv, q0 := precomputedSystem(b, n, 1)
			r := mrand.New(mrand.NewPCG(uint64(a), 7))
			qs := make([]*roles.Query, a)
			as := make([]*roles.Answer, a)
			for i := range qs {
				from := 1 + r.IntN(n)
				to := from + r.IntN(n-from+1)
				qs[i] = &roles.Query{Batch: q0.Batch, Kind: roles.QueryRange, Columns: q0.Columns, From: uint32(from), To: uint32(to)}
				var err error
				if as[i], err = srv.Answer(ctx, qs[i]); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := l.Verifier.VerifyMany(ctx, qs, as); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.Verifier.VerifyMany(ctx, qs, as); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
