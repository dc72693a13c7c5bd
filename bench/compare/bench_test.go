package compare

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vdsproject/vds/commitment"
)

// benchSizes are the batch sizes of the benchmarks; COMPARE_SIZES (comma
// separated) narrows them for a quick run.
func benchSizes(b *testing.B) []int {
	s := os.Getenv("COMPARE_SIZES")
	if s == "" {
		return []int{1024, 16384, 65536}
	}
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 16 || n > 65536 {
			b.Fatalf("COMPARE_SIZES: %q is not a size in [16, 65536]", f)
		}
		out = append(out, n)
	}
	return out
}

var benchCols = []int{1, 4}

var (
	crsMu    sync.Mutex
	crsCache = map[int]*commitment.CRS{}
)

// crsOf returns a CRS of capacity n, generated once per process (by
// BenchmarkSetupCRS when it runs first).
func crsOf(b *testing.B, n int) *commitment.CRS {
	b.Helper()
	crsMu.Lock()
	defer crsMu.Unlock()
	if c, ok := crsCache[n]; ok {
		return c
	}
	c, err := commitment.Setup(n, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	crsCache[n] = c
	return c
}

// precomputeMax is the largest n for which the benchmarks also run vds
// with precomputed proof tables: the precomputation of one column takes
// about 72 s at n = 65536 on this machine (bench/results/precompute-*).
const precomputeMax = 1024

// benchSchemes returns the schemes compared at size n.
func benchSchemes(b *testing.B, n int) []Scheme {
	out := []Scheme{VDS{CRS: crsOf(b, n)}, Merkle{}, Ed25519{}}
	if n <= precomputeMax {
		out = append(out, VDS{CRS: crsOf(b, n), Precompute: true})
	}
	return out
}

// benchData is the batch every scheme holds for (n, cols): the same seed.
func benchData(n, cols int) *Data { return NewData(n, cols, 1_700_000_000_000, uint64(n*10+cols)) }

// BenchmarkSetupCRS is vds's one-time set-up that the other schemes do not
// have: a CRS of capacity n (here generated locally; a deployment runs a
// ceremony, bench.BenchmarkCRSContribute).
func BenchmarkSetupCRS(b *testing.B) {
	for _, n := range benchSizes(b) {
		b.Run(fmt.Sprintf("scheme=vds/n=%d", n), func(b *testing.B) {
			var c *commitment.CRS
			for b.Loop() {
				var err error
				if c, err = commitment.Setup(n, rand.Reader); err != nil {
					b.Fatal(err)
				}
			}
			crsMu.Lock()
			crsCache[n] = c
			crsMu.Unlock()
		})
	}
}

// BenchmarkCommit is each scheme's cost of taking in a new batch of n rows:
// vds builds the owner, server and verifier and commits (C G1 and one G2
// commitment, the header signature, the server's checks and store); the
// Merkle log hashes every row into the tree and signs the tree head; per
// row, every row is signed; vds-precomputed (n ≤ precomputeMax) is vds
// plus the server's precomputation of the batch's proof tables. Each iteration is a new system and a new
// stream, so no iteration finds the batch already stored.
func BenchmarkCommit(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes(b) {
		for _, cols := range benchCols {
			d := benchData(n, cols)
			for _, sc := range benchSchemes(b, n) {
				b.Run(fmt.Sprintf("scheme=%s/n=%d/cols=%d", sc.Name(), n, cols), func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if _, err := sc.Build(ctx, d); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(n), "rows")
				})
			}
		}
	}
}

// BenchmarkQuery asks every query of Queries, then Revoked after another
// batch's revocation, of each scheme holding the same batch. An iteration
// is one honest answer (server-ns: built and encoded) and its check
// (verify-ns: decoded and verified); ns/op is their sum. Before the timer
// the honest answer's sums are checked and a lying server's answer
// omitting one row is given to the verifier: omission-caught is 1 if it
// was rejected. The vds server answers directly (no proof tables); its
// verifier has the batch's header cached after the first answer, as for
// any repeated query.
func BenchmarkQuery(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes(b) {
		for _, cols := range benchCols {
			d := benchData(n, cols)
			for _, sc := range benchSchemes(b, n) {
				prefix := fmt.Sprintf("scheme=%s/n=%d/cols=%d/query=", sc.Name(), n, cols)
				var sys System
				system := func(b *testing.B) System {
					if sys == nil {
						var err error
						if sys, err = sc.Build(ctx, d); err != nil {
							b.Fatal(err)
						}
					}
					return sys
				}
				for _, nq := range Queries(d) {
					b.Run(prefix+nq.Name, func(b *testing.B) { benchQuery(b, system(b), d, nq) })
				}
				nq := Revoked(d)
				b.Run(prefix+nq.Name, func(b *testing.B) {
					s := system(b)
					if err := s.AddBatch(ctx, NewData(1, cols, d.Times[n-1]+1000, 7)); err != nil {
						b.Fatal(err)
					}
					if err := s.Revoke(ctx, 1); err != nil {
						b.Fatal(err)
					}
					benchQuery(b, s, d, nq)
				})
			}
		}
	}
}

// benchQuery measures one query on one system.
func benchQuery(b *testing.B, sys System, d *Data, nq Named) {
	ctx := context.Background()
	ans, err := sys.Answer(ctx, nq.Q)
	if err != nil {
		b.Fatal(err)
	}
	sums, err := sys.Verify(ctx, nq.Q, ans)
	if err != nil {
		b.Fatalf("honest answer rejected: %v", err)
	}
	for i, want := range nq.Q.Sums(d) {
		if sums[i].Cmp(want) != 0 {
			b.Fatalf("column %d: sum %v, want %v", i, sums[i], want)
		}
	}
	lie, err := sys.Omit(ctx, nq.Q)
	if err != nil {
		b.Fatal(err)
	}
	caught := 0.0
	if _, err := sys.Verify(ctx, nq.Q, lie); err != nil {
		caught = 1
	}
	var server, verify time.Duration
	iters := 0
	for b.Loop() {
		t0 := time.Now()
		a, err := sys.Answer(ctx, nq.Q)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := sys.Verify(ctx, nq.Q, a); err != nil {
			b.Fatal(err)
		}
		server += t1.Sub(t0)
		verify += time.Since(t1)
		iters++
	}
	b.ReportMetric(float64(len(ans)), "answer-bytes")
	b.ReportMetric(float64(server.Nanoseconds())/float64(iters), "server-ns")
	b.ReportMetric(float64(verify.Nanoseconds())/float64(iters), "verify-ns")
	b.ReportMetric(float64(sys.VerifierState()), "verifier-state-bytes")
	b.ReportMetric(caught, "omission-caught")
	b.ReportMetric(float64(nq.Rows), "rows")
}
