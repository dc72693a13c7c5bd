//go:build linux

package deploy

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// loadBatch is a batch the load asks about.
type loadBatch struct {
	id   roles.BatchID
	rows int
	s    sums
}

// loadResult is what a load phase saw.
type loadResult struct {
	mu        sync.Mutex
	verified  []time.Time     // completion times of verified answers
	latency   []time.Duration // per verified answer: answer + local verification
	answer    []time.Duration // per answer without a fail-over: the storage call alone
	failover  []time.Duration // calls during which the client failed over: their duration
	errKinds  map[string]int  // typed errors of calls, by sentinel
	untyped   []string        // untyped errors (must stay empty)
	rejected  []string        // answers that failed verification (must stay empty)
	nRejected int
	nUntyped  int
}

func (r *loadResult) rate(from, to time.Time) float64 {
	n := 0
	for _, c := range r.verified {
		if !c.Before(from) && c.Before(to) {
			n++
		}
	}
	return float64(n) / to.Sub(from).Seconds()
}

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// runLoad runs one client per storage client until stop is closed: each
// asks point and range queries about the batches, verifies every answer
// with v and checks the values against the data sent. failedOver[i] is set
// by client i's fail-over hook (it runs on the calling goroutine).
func runLoad(ctx context.Context, clients []transport.StorageClient, failedOver []bool, v *roles.Verifier, batches []loadBatch, stop <-chan struct{}) *loadResult {
	r := &loadResult{errKinds: map[string]int{}}
	var wg sync.WaitGroup
	for i, sc := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 0x10ad))
			var done []time.Time
			var lat, fo, al []time.Duration
			defer func() {
				r.mu.Lock()
				r.verified = append(r.verified, done...)
				r.latency = append(r.latency, lat...)
				r.answer = append(r.answer, al...)
				r.failover = append(r.failover, fo...)
				r.mu.Unlock()
			}()
			for n := 0; n < 1_000_000; n++ { // bounded; stop ends it
				select {
				case <-stop:
					return
				default:
				}
				b := batches[rng.IntN(len(batches))]
				c := cols[:1+rng.IntN(len(cols))]
				from := 1 + rng.IntN(b.rows)
				to := from
				q := &roles.Query{Batch: b.id, Kind: roles.QueryPoint, Columns: c, Row: uint32(from)}
				if rng.IntN(2) == 0 {
					to = from + rng.IntN(b.rows-from+1)
					q = &roles.Query{Batch: b.id, Kind: roles.QueryRange, Columns: c, From: uint32(from), To: uint32(to)}
				}
				if failedOver != nil {
					failedOver[i] = false
				}
				t0 := time.Now()
				cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				ans, err := sc.Answer(cctx, q)
				cancel()
				if err == nil {
					if failedOver != nil && failedOver[i] {
						fo = append(fo, time.Since(t0))
					} else {
						al = append(al, time.Since(t0))
					}
				}
				if err != nil {
					r.mu.Lock()
					if k := typedErr(err); k != "" {
						r.errKinds[k]++
					} else {
						r.nUntyped++
						if len(r.untyped) < 10 {
							r.untyped = append(r.untyped, fmt.Sprintf("client %d: %v", i, err))
						}
					}
					r.mu.Unlock()
					time.Sleep(10 * time.Millisecond)
					continue
				}
				res, err := v.Verify(ctx, q, ans)
				bad := ""
				switch {
				case err != nil:
					bad = fmt.Sprintf("client %d: %s query rows %d..%d: %v", i, q.Kind, from, to, err)
				default:
					for k, col := range c {
						if got, want := res.Values[k].Int, b.s.sum(col, from, to); !got.IsInt64() || got.Int64() != want {
							bad = fmt.Sprintf("client %d: %s rows %d..%d: verified %s, the data sums to %d", i, col, from, to, got, want)
						}
					}
				}
				if bad != "" {
					r.mu.Lock()
					r.nRejected++
					if len(r.rejected) < 10 {
						r.rejected = append(r.rejected, bad)
					}
					r.mu.Unlock()
					continue
				}
				done = append(done, time.Now())
				lat = append(lat, time.Since(t0))
			}
		}()
	}
	wg.Wait()
	return r
}

// timedLoad runs runLoad for d with every replica up: no answer may fail
// verification and no call may fail.
func timedLoad(t *testing.T, ctx context.Context, clients []transport.StorageClient, failedOver []bool, v *roles.Verifier, batches []loadBatch, d time.Duration) *loadResult {
	t.Helper()
	stop := make(chan struct{})
	time.AfterFunc(d, func() { close(stop) })
	r := runLoad(ctx, clients, failedOver, v, batches, stop)
	require.Zero(t, r.nRejected, "answers that failed verification: %q", r.rejected)
	require.Zero(t, r.nUntyped, "untyped errors: %q", r.untyped)
	require.Empty(t, r.errKinds, "no error with every replica up")
	return r
}

// TestReplicaKill is issue 10's fail-over test on compose.yaml: two
// storage replicas on one PostgreSQL, 32 clients spread over both, one
// replica killed with SIGKILL mid-load and restarted. Clients fail over,
// no answer fails verification, every failed call returns a typed error,
// and every owner push acknowledged — before the kill or after — is on
// both replicas afterwards. It logs verified answers per second with one
// replica and with two, and the fail-over time clients saw.
func TestReplicaKill(t *testing.T) {
	const clients = 32
	dur, onePhase := 20*time.Second, 5*time.Second // the fail-over phase; each throughput phase
	if testing.Short() {
		dur, onePhase = 6*time.Second, 2*time.Second
	}
	s := newSystem(t)
	ctx := context.Background()
	r1, r2 := s.replicas[0], s.replicas[1]
	sc1, sc2 := s.storage(t, r1), s.storage(t, r2)

	var batches []loadBatch
	for i, rows := range []int{64, 64, 9, 64} {
		nb := newBatch("load", rows, 30+i, uint64(1_000_000*(i+1)))
		batches = append(batches, loadBatch{id: s.create(t, nb), rows: rows, s: prefixSums(nb)})
	}
	waitTables(t, sc1, "load", len(batches))
	waitTables(t, sc2, "load", len(batches))
	st, err := s.owner.LatestState(ctx)
	require.NoError(t, err)
	v, err := roles.NewVerifier(s.crs.VerifierKey(), s.keys, roles.WithInitialState(st), roles.WithTrustedSource(s.owner))
	require.NoError(t, err)

	// Phase 1: every client on one replica.
	one := make([]transport.StorageClient, clients)
	for i := range one {
		one[i] = s.storage(t, r1)
	}
	start1 := time.Now()
	res1 := timedLoad(t, ctx, one, nil, v, batches, onePhase)
	end1 := time.Now()
	rateOne := res1.rate(start1, end1)

	// Clients of both replicas: half prefer each.
	two := make([]transport.StorageClient, clients)
	failedOver := make([]bool, clients)
	var nFailovers atomic.Int64
	for i := range two {
		addrs := []string{s.url(r1, portStorage), s.url(r2, portStorage)}
		if i%2 == 1 {
			slices.Reverse(addrs)
		}
		f, err := transport.DialFailover(addrs, transport.WithTimeout(30*time.Second),
			transport.WithOnFailover(func(from, to string, err error) { failedOver[i] = true; nFailovers.Add(1) }))
		require.NoError(t, err)
		t.Cleanup(func() { f.Close() })
		two[i] = transport.StorageClient{T: f}
	}

	// Phase 2: the same load spread over both replicas.
	startTwo := time.Now()
	resTwo := timedLoad(t, ctx, two, failedOver, v, batches, onePhase)
	endTwo := time.Now()
	require.Zero(t, nFailovers.Load(), "no fail-over with every replica up")
	rateTwo := resTwo.rate(startTwo, endTwo)

	// Phase 3, for dur: the load on both replicas and the owner pushing
	// new batches all along; r2 killed with SIGKILL after a third of the
	// time, restarted 3 s later.
	type ack struct {
		id  roles.BatchID
		sig []byte
		at  time.Time
	}
	var (
		acks     []ack
		pushErrs = map[string]int{}
		untyped  []string
	)
	stop := make(chan struct{})
	pushDone := make(chan struct{})
	go func() { // the owner's pushes: a batch every 100 ms
		defer close(pushDone)
		for i := 0; i < 10_000; i++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			nb := newBatch("pushes", 8, i, uint64(1_000_000+1000*i))
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			cr, err := s.owner.CreateBatch(cctx, nb)
			cancel()
			if err != nil {
				if k := typedErr(err); k != "" {
					pushErrs[k]++
				} else {
					untyped = append(untyped, err.Error())
				}
				continue
			}
			id, err := cr.Header.Header.Digest()
			if err != nil {
				untyped = append(untyped, err.Error())
				continue
			}
			acks = append(acks, ack{id: id, sig: cr.Header.Sig, at: time.Now()})
		}
	}()
	start2 := time.Now()
	var res2 *loadResult
	loadDone := make(chan struct{})
	go func() { res2 = runLoad(ctx, two, failedOver, v, batches, stop); close(loadDone) }()

	time.Sleep(dur / 3)
	killAt := time.Now()
	s.d.kill(r2)
	t.Logf("%s killed (SIGKILL) at +%s", r2, killAt.Sub(start2).Round(time.Millisecond))
	time.Sleep(3 * time.Second)
	restartAt := time.Now()
	s.d.restart(r2) // returns once /readyz answers 200
	t.Logf("%s restarted at +%s, ready after %s", r2, restartAt.Sub(start2).Round(time.Millisecond), time.Since(restartAt).Round(time.Millisecond))
	if rest := time.Until(start2.Add(dur)); rest > 0 {
		time.Sleep(rest)
	}
	close(stop)
	<-loadDone
	<-pushDone
	end2 := time.Now()

	require.Zero(t, res2.nRejected, "answers that failed verification: %q", res2.rejected)
	require.Zero(t, res2.nUntyped, "untyped errors of storage calls: %q", res2.untyped)
	require.Empty(t, untyped, "untyped errors of the owner's pushes")
	require.Positive(t, nFailovers.Load(), "clients failed over")
	require.NotEmpty(t, res2.failover, "calls that failed over succeeded")
	t.Logf("load: %d clients, verified answers/s: one replica %.0f (%s, %d answers), two replicas %.0f (%s, %d answers); fail-over phase with the owner's pushes: %.0f before the kill, %.0f between kill and restart, %.0f after (%s, %d answers)",
		clients, rateOne, end1.Sub(start1).Round(time.Millisecond), len(res1.verified),
		rateTwo, endTwo.Sub(startTwo).Round(time.Millisecond), len(resTwo.verified),
		res2.rate(start2, killAt), res2.rate(killAt, restartAt), res2.rate(restartAt, end2), end2.Sub(start2).Round(time.Millisecond), len(res2.verified))
	t.Logf("latency (answer + local verification) p50/p99: one replica %s/%s, two replicas %s/%s, fail-over phase %s/%s",
		quantile(res1.latency, 0.5).Round(time.Millisecond), quantile(res1.latency, 0.99).Round(time.Millisecond),
		quantile(resTwo.latency, 0.5).Round(time.Millisecond), quantile(resTwo.latency, 0.99).Round(time.Millisecond),
		quantile(res2.latency, 0.5).Round(time.Millisecond), quantile(res2.latency, 0.99).Round(time.Millisecond))
	t.Logf("fail-over seen by clients: %d fail-overs, %d calls failed over and succeeded; their duration: median %s, max %s (storage calls without fail-over: median %s, p99 %s); typed errors returned: %v",
		nFailovers.Load(), len(res2.failover), quantile(res2.failover, 0.5).Round(time.Millisecond), quantile(res2.failover, 1).Round(time.Millisecond),
		quantile(res2.answer, 0.5).Round(time.Millisecond), quantile(res2.answer, 0.99).Round(time.Millisecond), res2.errKinds)
	t.Logf("owner pushes: %d acknowledged (%d before the kill), errors %v", len(acks),
		sort.Search(len(acks), func(i int) bool { return !acks[i].at.Before(killAt) }), pushErrs)
	require.NotEmpty(t, acks)

	// Nothing acknowledged is lost: every acknowledged batch is on both
	// replicas with the owner's signature, listed in its stream, and
	// answers verify about it on the restarted replica.
	for _, sc := range []transport.StorageClient{sc1, sc2} {
		l, err := sc.ListBatches(ctx, "pushes")
		require.NoError(t, err)
		listed := map[roles.BatchID]bool{}
		for _, b := range l {
			listed[b.ID] = !b.Revoked
		}
		for _, a := range acks {
			require.True(t, listed[a.id], "acknowledged batch %s listed live", a.id.Short())
			h, err := sc.Header(ctx, a.id)
			require.NoError(t, err, "acknowledged batch %s", a.id.Short())
			require.Equal(t, a.sig, h.Sig)
		}
	}
	for _, a := range acks {
		q := &roles.Query{Batch: a.id, Kind: roles.QueryRange, Columns: cols, From: 1, To: 8}
		ans, err := sc2.Answer(ctx, q)
		require.NoError(t, err)
		_, err = v.Verify(ctx, q, ans)
		require.NoError(t, err)
	}
	// The replicas hold the owner's latest state.
	ost, err := s.owner.LatestState(ctx)
	require.NoError(t, err)
	for _, sc := range []transport.StorageClient{sc1, sc2} {
		rst, err := sc.LatestState(ctx)
		require.NoError(t, err)
		require.Equal(t, ost.State.Epoch, rst.State.Epoch)
		require.Equal(t, ost.Head, rst.Head, "the stream head of the last acknowledged push")
	}
}

// TestRevokeWhileReplicaDown: the owner revokes a batch while one replica
// is down; once back, the replica serves the new state: it refuses to
// answer about the revoked batch, naming the revoking epoch, answers about
// the others at the new epoch, and an answer about the revoked batch
// stamped with that epoch is refused by the deployed verifier as revoked.
func TestRevokeWhileReplicaDown(t *testing.T) {
	s := newSystem(t)
	ctx := context.Background()
	r2 := s.replicas[1]
	sc2 := s.storage(t, r2)
	a := s.create(t, newBatch("rv", 16, 1, 1000))
	b := s.create(t, newBatch("rv", 16, 2, 100_000))

	q := &roles.Query{Batch: a, Kind: roles.QueryRange, Columns: cols, From: 1, To: 16}
	old, err := sc2.Answer(ctx, q)
	require.NoError(t, err)
	_, err = s.verifier.Verify(ctx, q, old)
	require.NoError(t, err)

	s.d.kill(r2)
	st, err := s.owner.Revoke(ctx, a)
	require.NoError(t, err, "the owner's push fails over to the other replica")
	require.NotNil(t, st.State.Revoked)
	require.Equal(t, a, st.State.Revoked.Batch)
	s.d.restart(r2)

	h, err := sc2.Health(ctx)
	require.NoError(t, err)
	require.True(t, h.HasEpoch)
	require.Equal(t, st.State.Epoch, h.Epoch, "the restarted replica is at the revoking epoch")
	_, err = sc2.Answer(ctx, q)
	var re *roles.RevokedError
	require.ErrorAs(t, err, &re, "the restarted replica knows the batch is revoked")
	require.Equal(t, st.State.Epoch, re.Epoch)

	qb := &roles.Query{Batch: b, Kind: roles.QueryPoint, Columns: cols, Row: 3}
	ansB, err := sc2.Answer(ctx, qb)
	require.NoError(t, err)
	require.Equal(t, st.State.Epoch, ansB.Epoch)
	_, err = s.verifier.Verify(ctx, qb, ansB)
	require.NoError(t, err)

	// What a replica would build for the revoked batch at the new epoch,
	// and the answer from before: both refused.
	forged := *old
	forged.Epoch = st.State.Epoch
	_, err = s.verifier.Verify(ctx, q, &forged)
	require.ErrorIs(t, err, roles.ErrRevoked)
	require.ErrorAs(t, err, &re)
	require.Equal(t, st.State.Epoch, re.Epoch)
	_, err = s.verifier.Verify(ctx, q, old)
	require.True(t, errors.Is(err, roles.ErrStaleState) || errors.Is(err, roles.ErrRevoked), "the old answer: %v", err)
}

// TestMetricsAndReadiness scrapes the servers' metrics and health
// endpoints: request counters move as requests are made, verification
// failures are counted by reason, and a replica's /readyz fails while the
// database is unreachable (the test cuts its proxy) and recovers after,
// while /healthz stays up.
func TestMetricsAndReadiness(t *testing.T) {
	s := newSystem(t)
	ctx := context.Background()
	r1 := s.replicas[0]
	sc1 := s.storage(t, r1)
	id := s.create(t, newBatch("m", 16, 3, 5000))

	for _, svc := range append([]string{s.ownerSvc, s.verSvc}, s.replicas...) {
		for _, p := range []string{"/healthz", "/readyz"} {
			code, body := s.scrape(t, svc, p)
			require.Equal(t, 200, code, "%s %s: %s", svc, p, body)
		}
	}

	// counters returns the replica's count of answered proof requests and
	// of proofs generated.
	counters := func() (reqs, proofs float64) {
		_, body := s.scrape(t, r1, "/metrics")
		reqs, _ = metric(body, "vds_requests_total", map[string]string{"service": "storage", "method": "generate_dc_proof", "outcome": "ok"})
		proofs, _ = metric(body, "vds_proof_generation_seconds_count", nil)
		return reqs, proofs
	}
	_, err := sc1.Answer(ctx, &roles.Query{Batch: id, Kind: roles.QueryPoint, Columns: cols, Row: 1})
	require.NoError(t, err)
	require.Eventually(t, func() bool { r, p := counters(); return r == 1 && p >= 1 }, 5*time.Second, 20*time.Millisecond,
		"vds_requests_total{service=storage,method=generate_dc_proof,outcome=ok} and vds_proof_generation_seconds count the first answer")
	reqs0, proofs0 := counters()
	const n = 7
	var last *roles.Answer
	q := &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: cols, From: 2, To: 9}
	for range n {
		ans, err := sc1.Answer(ctx, q)
		require.NoError(t, err)
		last = ans
	}
	require.Eventually(t, func() bool { r, p := counters(); return r == reqs0+n && p >= proofs0+n }, 5*time.Second, 20*time.Millisecond,
		"the counters moved by the requests made")
	time.Sleep(100 * time.Millisecond)
	r, _ := counters()
	require.Equal(t, reqs0+n, r, "and by no more")

	// Verification outcomes on the verifier: one good, one tampered.
	_, body := s.scrape(t, s.verSvc, "/metrics")
	bad0, _ := metric(body, "vds_verification_failures_total", map[string]string{"reason": "bad_proof"})
	_, err = s.verifier.Verify(ctx, q, last)
	require.NoError(t, err)
	tampered := *last
	tampered.Query.From, tampered.Query.To = 3, 9
	tq := tampered.Query
	_, err = s.verifier.Verify(ctx, &tq, &tampered)
	require.ErrorIs(t, err, roles.ErrBadProof)
	require.Eventually(t, func() bool {
		_, body = s.scrape(t, s.verSvc, "/metrics")
		bad1, ok := metric(body, "vds_verification_failures_total", map[string]string{"reason": "bad_proof"})
		return ok && bad1 == bad0+1
	}, 5*time.Second, 20*time.Millisecond, "vds_verification_failures_total{reason=bad_proof} counts the tampered answer")
	verified, ok := metric(body, "vds_verification_seconds_count", nil)
	require.True(t, ok && verified >= 2, "vds_verification_seconds counts both verifications")

	// The database goes away: the replica is alive but not ready.
	s.d.db.Cut()
	require.Eventually(t, func() bool { code, _ := s.scrape(t, r1, "/readyz"); return code != 200 }, 20*time.Second, 100*time.Millisecond,
		"/readyz fails while the database is unreachable")
	code, body := s.scrape(t, r1, "/readyz")
	t.Logf("%s /readyz without its database: %d %s", r1, code, body)
	code, _ = s.scrape(t, r1, "/healthz")
	require.Equal(t, 200, code, "/healthz: the process is alive")
	s.d.db.Restore()
	require.Eventually(t, func() bool { code, _ := s.scrape(t, r1, "/readyz"); return code == 200 }, 30*time.Second, 100*time.Millisecond,
		"/readyz recovers with the database")
	ans, err := sc1.Answer(ctx, q)
	require.NoError(t, err)
	_, err = s.verifier.Verify(ctx, q, ans)
	require.NoError(t, err)
}
