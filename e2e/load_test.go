package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// TestLoad runs 32 concurrent clients for 10 s (2 s with -short) against a
// `vds storage serve` process over HTTP. Each asks point and range queries
// on a few batches and verifies every answer locally, with a verifier
// anchored at the owner's state, against the data it knows was sent. No
// error is allowed, every answer must verify with the exact values, and
// once the clients are closed and the servers stopped, the goroutines of
// this process must be back to where they started.
func TestLoad(t *testing.T) {
	const clients = 32
	dur := 10 * time.Second
	if testing.Short() {
		dur = 2 * time.Second
	}
	ctx := context.Background()
	baseline := runtime.NumGoroutine()

	s := newProcessSystem(t, kindHTTP, sysOptions{})
	type batch struct {
		id roles.BatchID
		nb *prepared
	}
	var batches []batch
	for i, rows := range []int{capacity, capacity, 9, capacity} {
		nb := makeBatch("load", rows, 30+i, uint64(1_000_000*(i+1)))
		id, _ := s.create(t, nb)
		batches = append(batches, batch{id, prepare(nb)})
	}
	// Answer from precomputed proof tables: wait until every batch has
	// them (its columns and the timestamps).
	require.Eventually(t, func() bool {
		l, err := s.storage.ListBatches(ctx, "load")
		if err != nil || len(l) != len(batches) {
			return false
		}
		for _, b := range l {
			if int(b.ProofColumns) != len(allCols)+1 {
				return false
			}
		}
		return true
	}, 30*time.Second, 20*time.Millisecond, "proof tables")
	st, err := s.owner.LatestState(ctx)
	require.NoError(t, err)
	v, err := roles.NewVerifier(s.crs.VerifierKey(), s.keys, roles.WithInitialState(st))
	require.NoError(t, err)

	var (
		answered, verified atomic.Int64
		errMu              sync.Mutex
		errs               []string
		nErrs              int
		lat                = make([][]time.Duration, clients)
		wg                 sync.WaitGroup
	)
	fail := func(format string, args ...any) {
		errMu.Lock()
		defer errMu.Unlock()
		nErrs++
		if len(errs) < 10 {
			errs = append(errs, fmt.Sprintf(format, args...))
		}
	}
	trs := make([]transport.Transport, clients)
	for i := range trs {
		trs[i], err = transport.Dial("http://"+s.addrs["storage"], transport.WithTimeout(30*time.Second))
		require.NoError(t, err)
	}
	start := time.Now()
	deadline := start.Add(dur)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := transport.StorageClient{T: trs[i]}
			rng := rand.New(rand.NewPCG(uint64(i), 0x5eed))
			for time.Now().Before(deadline) {
				b := batches[rng.IntN(len(batches))]
				l := len(b.nb.times)
				cols := allCols[:1+rng.IntN(len(allCols))]
				var q *roles.Query
				from := 1 + rng.IntN(l)
				to := from
				if rng.IntN(2) == 0 {
					q = pointQ(b.id, from, cols...)
				} else {
					to = from + rng.IntN(l-from+1)
					q = rangeQ(b.id, from, to, cols...)
				}
				t0 := time.Now()
				ans, err := sc.Answer(ctx, q)
				if err != nil {
					fail("client %d: storage server, %s query: %v", i, q.Kind, err)
					continue
				}
				answered.Add(1)
				res, err := v.Verify(ctx, q, ans)
				if err != nil {
					fail("client %d: verify %s query: %v", i, q.Kind, err)
					continue
				}
				lat[i] = append(lat[i], time.Since(t0))
				for k, c := range cols {
					if got, want := res.Values[k].Int.Int64(), b.nb.sum(c, from, to); !res.Values[k].Int.IsInt64() || got != want {
						fail("client %d: %s rows %d..%d: verified %s, sent data sums to %d", i, c, from, to, res.Values[k].Int, want)
					}
				}
				verified.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, tr := range trs {
		require.NoError(t, tr.Close())
	}

	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(p*float64(len(all))))]
	}
	t.Logf("load: %d clients, %s: %d answers, %d verified, %d errors; %.0f verified answers/s; latency (answer + local verification) p50 %s, p90 %s, p99 %s, max %s",
		clients, elapsed.Round(time.Millisecond), answered.Load(), verified.Load(), nErrs,
		float64(verified.Load())/elapsed.Seconds(), pct(0.5).Round(time.Microsecond), pct(0.9).Round(time.Microsecond),
		pct(0.99).Round(time.Microsecond), pct(1).Round(time.Microsecond))
	require.Zero(t, nErrs, "errors under load (first ones):\n%s", fmt.Sprint(errs))
	require.Positive(t, verified.Load())
	require.Equal(t, answered.Load(), verified.Load(), "every answer verified")

	// The server is still healthy after the load, and in its state.
	h, err := s.storage.Health(ctx)
	require.NoError(t, err)
	require.True(t, h.HasEpoch)
	require.EqualValues(t, 0, h.Epoch)

	// No goroutine left behind in this process once the clients are closed
	// and the servers stopped.
	s.closeClients()
	s.stop()
	settle := time.Now().Add(5 * time.Second)
	n := runtime.NumGoroutine()
	for n > baseline+2 && time.Now().Before(settle) {
		time.Sleep(50 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	if n > baseline+2 {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("goroutine leak: %d goroutines before the load test, %d after shutdown\n%s", baseline, n, buf)
	}
	t.Logf("goroutines: %d before, %d after shutdown", baseline, n)
}

// prepared is a batch's data indexed for the load test's checks.
type prepared struct {
	times  []uint64
	prefix map[string][]int64 // prefix sums per column: prefix[c][i] = Σ rows 1..i
}

func prepare(nb *transport.NewBatch) *prepared {
	p := &prepared{times: nb.Timestamps, prefix: map[string][]int64{}}
	for _, c := range nb.Columns {
		ps := make([]int64, len(c.Values)+1)
		for i, v := range c.Values {
			ps[i+1] = ps[i] + v
		}
		p.prefix[c.Name] = ps
	}
	return p
}

func (p *prepared) sum(col string, from, to int) int64 {
	return p.prefix[col][to] - p.prefix[col][from-1]
}
