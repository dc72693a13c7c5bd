package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/internal/testkit"
	"github.com/vdsproject/vds/metrics"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/transport"
)

func testCRS(t testing.TB) *commitment.CRS { return testkit.CRS(t, 16) }

// flakyStore is a server store that can be made unreachable.
type flakyStore struct {
	roles.ServerStore
	down atomic.Bool
}

var errDown = fmt.Errorf("connection refused: %w", roles.ErrUnavailable)

func (f *flakyStore) Ping(ctx context.Context) error {
	if f.down.Load() {
		return errDown
	}
	return f.ServerStore.(roles.Pinger).Ping(ctx)
}

func (f *flakyStore) LatestState(ctx context.Context) (*roles.SignedState, error) {
	if f.down.Load() {
		return nil, errDown
	}
	return f.ServerStore.LatestState(ctx)
}

// downStorage is a storage server that cannot be reached.
type downStorage struct{}

func (downStorage) StoreBatch(context.Context, *roles.StoreBatchRequest) error   { return errDown }
func (downStorage) ApplyState(context.Context, *roles.SignedState) error         { return errDown }
func (downStorage) UpdateBatch(context.Context, *roles.UpdateBatchRequest) error { return errDown }
func (downStorage) LatestState(context.Context) (*roles.SignedState, error)      { return nil, errDown }

// node is one server: its metrics, its services over HTTP, and its metrics
// listener.
type node struct {
	m       *metrics.Metrics
	client  transport.Transport
	api     string // base URL of the services' listener
	metrics string // base URL of the metrics listener
}

func serveNode(t *testing.T, m *metrics.Metrics, ready transport.ReadyFunc, svc *transport.Service) *node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	opts := []transport.Option{transport.WithObserver(m), transport.WithReadiness(ready)}
	srv, err := transport.ListenHTTP("127.0.0.1:0", transport.NewHTTPHandler([]*transport.Service{svc}, opts...), opts...)
	require.NoError(t, err)
	ms, err := metrics.Listen("127.0.0.1:0", m.Handler(ready))
	require.NoError(t, err)
	wg.Add(2)
	go func() { defer wg.Done(); _ = srv.Serve(ctx) }()
	go func() { defer wg.Done(); _ = ms.Serve(ctx) }()
	c, err := transport.Dial("http://" + srv.Addr())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &node{m: m, client: c, api: "http://" + srv.Addr(), metrics: "http://" + ms.Addr()}
}

// system is an owner, a storage server on a flaky store and a verifier,
// the last two served over HTTP with their metrics.
type system struct {
	local    *roles.Local
	flaky    *flakyStore
	storage  *node
	verifier *node
}

func newSystem(t *testing.T) *system {
	ctx := context.Background()
	sm, vm := metrics.New("storage"), metrics.New("verifier")
	flaky := &flakyStore{ServerStore: memory.NewServerStore()}
	l, err := roles.NewLocal(ctx, testCRS(t), memory.NewOwnerStore(), sm.WrapServerStore(flaky))
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Server.Close() })
	sm.WatchState(metrics.StorageState(l.Server))
	vm.WatchState(metrics.VerifierState(l.Verifier))
	return &system{local: l, flaky: flaky,
		storage:  serveNode(t, sm, transport.StorageReady(l.Server), transport.StorageService(l.Server)),
		verifier: serveNode(t, vm, transport.VerifierReady(l.Verifier), transport.VerifierService(l.Verifier)),
	}
}

func batch(rows int) *roles.Batch {
	b := &roles.Batch{Stream: "s", Timestamps: make([]uint64, rows)}
	c := roles.Column{Name: "v", Values: make([]int64, rows)}
	for i := range rows {
		b.Timestamps[i] = uint64(100 + 10*i)
		c.Values[i] = int64(i*i) - 7
	}
	b.Columns = []roles.Column{c}
	return b
}

// scrape fetches and parses a metrics endpoint.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	require.NoError(t, err)
	return fams
}

// value returns the value of a counter or gauge, or the sample count of a
// histogram, of the series of family name with the given labels (0 if there
// is none).
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f, ok := fams[name]
	if !ok {
		return 0
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
next:
	for _, m := range f.Metric {
		got := map[string]string{}
		for _, lp := range m.Label {
			got[lp.GetName()] = lp.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return 0
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

// TestCountersMove makes requests of each kind and checks that the scraped
// counters follow them.
func TestCountersMove(t *testing.T) {
	ctx := context.Background()
	s := newSystem(t)
	st := transport.StorageClient{T: s.storage.client}
	vc := transport.VerifierClient{T: s.verifier.client}

	before := scrape(t, s.storage.metrics)
	require.Equal(t, 0.0, value(before, "vds_requests_total", "service", "storage", "method", "generate_dc_proof", "outcome", "ok"))
	require.Equal(t, 0.0, value(before, "vds_state_epoch", "role", "storage"), "epoch 0 after the owner's first push")
	require.Contains(t, before, "go_goroutines", "the Go collector")
	require.Contains(t, before, "process_cpu_seconds_total", "the process collector")
	require.Contains(t, before, "go_build_info")

	const rows = 8
	r, err := s.local.Owner.Ingest(ctx, batch(rows))
	require.NoError(t, err)
	id, err := r.Header.Header.Digest()
	require.NoError(t, err)
	q := &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: []string{"v"}, From: 1, To: rows}
	ans, err := st.Answer(ctx, q)
	require.NoError(t, err)
	_, err = vc.Verify(ctx, q, ans)
	require.NoError(t, err)

	// A forged value: refused as a bad proof.
	bad := *ans
	bad.Values = append([]codec.Scalar(nil), ans.Values...)
	x := fr.Element(bad.Values[0])
	var one fr.Element
	one.SetOne()
	x.Add(&x, &one)
	bad.Values[0] = codec.Scalar(x)
	_, err = vc.Verify(ctx, q, &bad)
	require.ErrorIs(t, err, roles.ErrBadProof)
	// Both at once: one refused answer of verify_many.
	_, err = vc.VerifyMany(ctx, []*roles.Query{q, q}, []*roles.Answer{ans, &bad})
	require.ErrorIs(t, err, roles.ErrBadProof)

	// A window answer, an audit, and a method no server has.
	wq := &roles.Query{Batch: id, Kind: roles.QueryWindow, Columns: []string{"v"}, TimeFrom: 100, TimeTo: 150}
	_, err = st.Answer(ctx, wq)
	require.NoError(t, err)
	require.Error(t, s.storage.client.Call(ctx, transport.ServiceStorage, "no_such_method", &transport.Empty{}, &transport.Empty{}))

	// Revoke: the old answer is now stale.
	_, err = s.local.Owner.Revoke(ctx, id)
	require.NoError(t, err)
	_, err = vc.Verify(ctx, q, ans)
	require.Error(t, err)
	reason := metrics.Reason(err)
	require.Contains(t, []string{metrics.ReasonStaleState, metrics.ReasonRevoked}, reason)

	s.storage.m.FailoverHook()("127.0.0.1:1", "127.0.0.1:2", errDown)

	sf := scrape(t, s.storage.metrics)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"vds_requests_total", []string{"service", "storage", "method", "generate_dc_proof", "outcome", "ok"}, 1},
		{"vds_requests_total", []string{"service", "storage", "method", "generate_time_proofs", "outcome", "ok"}, 1},
		{"vds_requests_total", []string{"service", "storage", "method", "unknown", "outcome", "not_found"}, 1},
		{"vds_request_duration_seconds", []string{"service", "storage", "method", "generate_dc_proof"}, 1},
		{"vds_proof_generation_seconds", []string{"kind", "dc"}, 1},
		{"vds_proof_generation_seconds", []string{"kind", "time"}, 1},
		{"vds_proof_generation_seconds", []string{"kind", "da"}, 0},
		{"vds_storage_batches_stored_total", nil, 1},
		{"vds_storage_rows_stored_total", nil, rows},
		{"vds_state_epoch", []string{"role", "storage"}, 1},
		{"vds_client_failovers_total", nil, 1},
		{"vds_ready", []string{"role", "storage"}, 1},
	} {
		require.Equal(t, c.want, value(sf, c.name, c.labels...), "%s %v", c.name, c.labels)
	}
	// The batch came with the owner's state (one update_batch); the
	// revocation is an append_state; answers read the batch.
	require.GreaterOrEqual(t, value(sf, "vds_store_operation_duration_seconds", "operation", "put_batch")+
		value(sf, "vds_store_operation_duration_seconds", "operation", "update_batch"), 1.0)
	require.GreaterOrEqual(t, value(sf, "vds_store_operation_duration_seconds", "operation", "append_state"), 1.0)
	require.GreaterOrEqual(t, value(sf, "vds_store_operation_duration_seconds", "operation", "batch"), 1.0)
	require.Less(t, value(sf, "vds_state_age_seconds", "role", "storage"), 60.0)

	vf := scrape(t, s.verifier.metrics)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"vds_requests_total", []string{"service", "verifier", "method", "verify_dc_query", "outcome", "ok"}, 1},
		{"vds_requests_total", []string{"service", "verifier", "method", "verify_dc_query", "outcome", "bad_proof"}, 1},
		{"vds_verification_seconds", []string{"kind", "dc"}, 3},
		{"vds_verification_failures_total", []string{"kind", "dc", "reason", "bad_proof"}, 1},
		{"vds_verification_failures_total", []string{"kind", "dc", "reason", reason}, 1},
		{"vds_verification_seconds", []string{"kind", "many"}, 1},
		{"vds_verification_failures_total", []string{"kind", "many", "reason", "bad_proof"}, 1},
		{"vds_ready", []string{"role", "verifier"}, 1},
		{"vds_state_epoch", []string{"role", "verifier"}, 1},
	} {
		require.Equal(t, c.want, value(vf, c.name, c.labels...), "%s %v", c.name, c.labels)
	}

	_, ok := vf["vds_storage_batches_stored_total"]
	require.False(t, ok, "a verifier has no store metrics")
	_, ok = vf["vds_client_failovers_total"]
	require.False(t, ok, "nor fail-overs unless its clients have the hook")

	code, body := get(t, s.storage.metrics+"/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\n", body)
	code, _ = get(t, s.storage.api+"/healthz")
	require.Equal(t, http.StatusOK, code, "the services' listener serves /healthz too")
}

// TestReadyzStoreUnreachable takes the storage server's store away: /readyz
// on both listeners and the health method say so, and recover with it.
func TestReadyzStoreUnreachable(t *testing.T) {
	ctx := context.Background()
	s := newSystem(t)
	check := func(ready bool, why string) {
		t.Helper()
		for _, base := range []string{s.storage.metrics, s.storage.api} {
			code, body := get(t, base+"/readyz")
			if ready {
				require.Equal(t, http.StatusOK, code, body)
				require.Equal(t, "ready\n", body)
			} else {
				require.Equal(t, http.StatusServiceUnavailable, code, body)
				require.True(t, strings.HasPrefix(body, "not ready: "), body)
				require.Contains(t, body, why)
			}
		}
		h, err := transport.CheckHealth(ctx, s.storage.client, transport.ServiceStorage)
		require.NoError(t, err)
		require.NotNil(t, h.Ready)
		require.Equal(t, ready, *h.Ready, h.NotReady)
		if !ready {
			require.Contains(t, h.NotReady, why)
		}
	}
	check(true, "")
	s.flaky.down.Store(true)
	check(false, "store unreachable")
	// The metrics listener still answers, and says the store calls fail.
	fams := scrape(t, s.storage.metrics)
	require.GreaterOrEqual(t, value(fams, "vds_store_operation_errors_total", "operation", "ping"), 1.0)
	require.Equal(t, 0.0, value(fams, "vds_ready", "role", "storage"))
	_, hasEpoch := fams["vds_state_epoch"]
	require.False(t, hasEpoch, "no epoch while the store is unreachable")
	s.flaky.down.Store(false)
	check(true, "")
	require.Equal(t, 1.0, value(scrape(t, s.storage.metrics), "vds_ready", "role", "storage"))

	// An old client's health request (Empty) gets the fields it knows.
	var h transport.Health
	require.NoError(t, s.storage.client.Call(ctx, transport.ServiceStorage, "health", &transport.Empty{}, &h))
	require.Nil(t, h.Ready)
	require.True(t, h.HasEpoch)
}

// TestReadyNoState: a storage server without the owner's state is not
// ready; a verifier is ready only while its state is fresh.
func TestReadyNoState(t *testing.T) {
	ctx := context.Background()
	l, err := roles.NewLocal(ctx, testCRS(t), memory.NewOwnerStore(), memory.NewServerStore())
	require.NoError(t, err)
	defer l.Server.Close()
	empty, err := roles.NewStorageServer(testCRS(t), l.Owner.Keys(), memory.NewServerStore())
	require.NoError(t, err)
	defer empty.Close()
	require.ErrorContains(t, transport.StorageReady(empty)(ctx), "no signed state")
	require.ErrorIs(t, transport.StorageReady(empty)(ctx), roles.ErrUnavailable)
	require.NoError(t, transport.StorageReady(l.Server)(ctx))
	require.NoError(t, transport.OwnerReady(l.Owner)(ctx))
	om := metrics.New("owner")
	om.WatchOwner(l.Owner)
	fams, err := om.Registry().Gather()
	require.NoError(t, err)
	byName := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		byName[f.GetName()] = f
	}
	require.Contains(t, byName, "vds_owner_storage_in_sync")
	require.Equal(t, 1.0, value(byName, "vds_owner_storage_in_sync"))

	// An owner whose storage server is down is out of sync.
	down, err := roles.NewDataOwner(ctx, testCRS(t), memory.NewOwnerStore(), downStorage{})
	require.NoError(t, err)
	_, err = down.Ingest(ctx, batch(4))
	require.ErrorIs(t, err, roles.ErrUnavailable)
	dm := metrics.New("owner")
	dm.WatchOwner(down)
	fams, err = dm.Registry().Gather()
	require.NoError(t, err)
	for _, f := range fams {
		byName[f.GetName()] = f
	}
	require.Equal(t, 0.0, value(byName, "vds_owner_storage_in_sync"))

	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	v, err := roles.NewVerifier(testCRS(t).VerifierKey(), l.Owner.Keys(), roles.WithTrustedSource(l.Owner),
		roles.WithMaxStateAge(time.Minute), roles.WithVerifierClock(func() time.Time { return time.Unix(0, now.Load()) }))
	require.NoError(t, err)
	ready := transport.VerifierReady(v)
	require.ErrorContains(t, ready(ctx), "not anchored")
	require.NoError(t, v.Sync(ctx))
	require.NoError(t, ready(ctx))
	now.Add(int64(2 * time.Minute))
	require.ErrorContains(t, ready(ctx), "older than the maximum state age")

	// A closed store: the owner is not ready.
	o2 := memory.NewOwnerStore()
	l2, err := roles.NewLocal(ctx, testCRS(t), o2, memory.NewServerStore())
	require.NoError(t, err)
	defer l2.Server.Close()
	require.NoError(t, o2.Close())
	require.ErrorIs(t, transport.OwnerReady(l2.Owner)(ctx), roles.ErrUnavailable)
	require.ErrorContains(t, transport.OwnerReady(l2.Owner)(ctx), "store unreachable")
}

// TestReason classifies the library's errors.
func TestReason(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("x: %w", roles.ErrBadProof), metrics.ReasonBadProof},
		{roles.ErrWrongChallenge, metrics.ReasonBadProof},
		{roles.ErrBadSignature, metrics.ReasonBadProof},
		{&roles.StaleStateError{Have: 2, Got: 1}, metrics.ReasonStaleState},
		{roles.ErrUnknownState, metrics.ReasonStaleState},
		{&roles.RevokedError{Epoch: 3}, metrics.ReasonRevoked},
		{roles.ErrIncomplete, metrics.ReasonIncomplete},
		{roles.ErrInvalidInput, metrics.ReasonOther},
		{context.Canceled, metrics.ReasonOther},
	} {
		require.Equal(t, c.want, metrics.Reason(c.err), "%v", c.err)
	}
}

// TestProofTablesKept: the wrapped store keeps the proof tables of the
// store it wraps (else the server would silently answer without them).
func TestProofTablesKept(t *testing.T) {
	m := metrics.New("storage")
	w := m.WrapServerStore(memory.NewServerStore())
	_, ok := w.(roles.ProofTableStore)
	require.True(t, ok)
	_, ok = w.(roles.Pinger)
	require.True(t, ok)
	bare := m.WrapServerStore(struct{ roles.ServerStore }{memory.NewServerStore()})
	_, ok = bare.(roles.ProofTableStore)
	require.False(t, ok, "no tables where the wrapped store has none")
	require.NoError(t, bare.(roles.Pinger).Ping(context.Background()), "an empty store without Ping is reachable")
}

// claimingStore is a memory store with a claim that is always taken by
// another server.
type claimingStore struct {
	*memory.ServerStore
	calls int
}

func (c *claimingStore) ClaimProofTable(context.Context, roles.BatchID, int, time.Duration) (bool, error) {
	c.calls++
	return false, nil
}

// TestProofTableClaimsKept: the wrapped store keeps the claims of a store
// that replicas share (else they would compute every table each).
func TestProofTableClaimsKept(t *testing.T) {
	m := metrics.New("storage")
	inner := &claimingStore{ServerStore: memory.NewServerStore()}
	w := m.WrapServerStore(inner)
	c, ok := w.(roles.ProofTableClaimer)
	require.True(t, ok)
	got, err := c.ClaimProofTable(context.Background(), roles.BatchID{1}, 0, time.Minute)
	require.NoError(t, err)
	require.False(t, got, "the wrapped store's answer")
	require.Equal(t, 1, inner.calls)
	_, ok = m.WrapServerStore(memory.NewServerStore()).(roles.ProofTableClaimer)
	require.False(t, ok, "no claims where the wrapped store has none")
}
