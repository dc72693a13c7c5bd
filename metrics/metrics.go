// Package metrics exports the Prometheus metrics of a vds server and serves
// them, with its health and readiness, on a listen address of its own.
//
// A server builds one Metrics (New: a registry of its own, no global
// state), passes it to its transport as the transport.Observer
// (transport.WithObserver), wraps its store (Metrics.WrapServerStore),
// gives its clients the fail-over hook (transport.WithOnFailover with
// Metrics.FailoverHook), names where its state comes from (Metrics.WatchState)
// and serves Metrics.Handler:
//
//	m := metrics.New("storage")
//	store := m.WrapServerStore(bolt)
//	srv, _ := roles.NewStorageServer(crs, keys, store)
//	m.WatchState(metrics.StorageState(srv))
//	h := transport.NewHTTPHandler(services, transport.WithObserver(m))
//	go metrics.ListenAndServe(ctx, "127.0.0.1:9102", m.Handler(transport.StorageReady(srv)))
//
// # Metrics
//
// Every name starts with vds_; times are in seconds, counters end in
// _total:
//
//   - vds_requests_total{service, method, outcome}: requests answered, by
//     outcome ("ok" or the wire error code: bad_proof, stale_state, …);
//   - vds_request_duration_seconds{service, method}: their latency;
//   - vds_proof_generation_seconds{kind}: the storage server's time to
//     build an answer that it returned (kind dc, da, time or stream);
//   - vds_verification_seconds{kind}: the verifier's time to check an
//     answer, accepted or not (dc, da, time, stream, many);
//   - vds_verification_failures_total{kind, reason}: answers the verifier
//     refused, by reason (bad_proof, stale_state, revoked, incomplete,
//     other);
//   - vds_state_epoch{role}, vds_state_age_seconds{role}: the epoch of the
//     signed state the server holds and the time since it was issued
//     (absent while it holds none);
//   - vds_storage_batches_stored_total, vds_storage_rows_stored_total:
//     batches (new or updated versions) and their rows the store
//     acknowledged through this process;
//   - vds_store_operation_duration_seconds{operation},
//     vds_store_operation_errors_total{operation}: the storage server's
//     store calls (these four once WrapServerStore was called);
//   - vds_owner_storage_in_sync: the owner's storage server holds
//     everything it acknowledged (1) or not yet (0), once WatchOwner was
//     called;
//   - vds_client_failovers_total: times a client of this process gave up
//     on one server address for the next (once FailoverHook was called);
//   - vds_ready{role}: 1 if the server is ready (the check of Handler's
//     ready), else 0;
//   - the Go runtime's go_* (and go_build_info) and the process's
//     process_* metrics.
//
// Labels take only the values listed here and the service and method
// names a server registers ("unknown" for any other name a client sends),
// so no caller can grow the series.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// Verification failure reasons (label reason of
// vds_verification_failures_total).
const (
	ReasonBadProof   = "bad_proof"   // ErrBadProof, ErrWrongChallenge, ErrBadSignature: a forged or broken answer
	ReasonStaleState = "stale_state" // ErrStaleState, ErrUnknownState: the answer or the verifier's state is not current
	ReasonRevoked    = "revoked"     // ErrRevoked
	ReasonIncomplete = "incomplete"  // ErrIncomplete: a stream answer that leaves a batch out
	ReasonOther      = "other"       // anything else (bad input, cancelled, …)
)

// Reason classifies a verification error with errors.Is on the library's
// sentinels: one of the Reason constants.
func Reason(err error) string {
	switch {
	case errors.Is(err, roles.ErrRevoked):
		return ReasonRevoked
	case errors.Is(err, roles.ErrStaleState), errors.Is(err, roles.ErrUnknownState):
		return ReasonStaleState
	case errors.Is(err, roles.ErrIncomplete):
		return ReasonIncomplete
	case errors.Is(err, roles.ErrBadProof), errors.Is(err, roles.ErrWrongChallenge), errors.Is(err, roles.ErrBadSignature):
		return ReasonBadProof
	}
	return ReasonOther
}

// proofKinds and verifyKinds name the kind of the proof methods of the
// storage and verifier services.
var (
	proofKinds = map[string]string{
		"generate_dc_proof":     "dc",
		"generate_da_proof":     "da",
		"generate_time_proofs":  "time",
		"generate_stream_proof": "stream",
	}
	verifyKinds = map[string]string{
		"verify_dc_query":    "dc",
		"verify_da_audit":    "da",
		"verify_time_proofs": "time",
		"verify_stream":      "stream",
		"verify_many":        "many",
	}
)

// Latency buckets: from 50 µs (a precomputed answer, a store read) to
// about 8 s (a cold proof over a large batch), a factor of 2.5 apart.
var secondsBuckets = prometheus.ExponentialBuckets(50e-6, 2.5, 14)

// Metrics holds the metrics of one server in a registry of its own. It
// implements transport.Observer. Its methods are safe for concurrent use.
type Metrics struct {
	role string
	reg  *prometheus.Registry

	requests       *prometheus.CounterVec
	requestSeconds *prometheus.HistogramVec
	proofSeconds   *prometheus.HistogramVec
	verifySeconds  *prometheus.HistogramVec
	verifyFailures *prometheus.CounterVec
	batchesStored  prometheus.Counter
	rowsStored     prometheus.Counter
	storeSeconds   *prometheus.HistogramVec
	storeErrors    *prometheus.CounterVec
	failovers      prometheus.Counter
	state          *stateCollector
	// The store's and the clients' metrics are registered once used, so
	// that a verifier shows no store counters and a server without
	// clients no fail-overs.
	storeOnce, failoverOnce sync.Once
}

var _ transport.Observer = (*Metrics)(nil)

// New returns the metrics of a server of the given role ("owner",
// "storage" or "verifier"), registered with the Go runtime's and the
// process's collectors in a new registry.
func New(role string) *Metrics {
	m := &Metrics{role: role, reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vds_requests_total",
		Help: "Requests answered, by service, method and outcome (ok or the wire error code).",
	}, []string{"service", "method", "outcome"})
	m.requestSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "vds_request_duration_seconds",
		Help:    "Time from a request's arrival to its response, by service and method.",
		Buckets: secondsBuckets,
	}, []string{"service", "method"})
	m.proofSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "vds_proof_generation_seconds",
		Help:    "Time the storage server took to build an answer it returned, by kind (dc, da, time, stream).",
		Buckets: secondsBuckets,
	}, []string{"kind"})
	m.verifySeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "vds_verification_seconds",
		Help:    "Time the verifier took to check an answer, accepted or refused, by kind (dc, da, time, stream, many).",
		Buckets: secondsBuckets,
	}, []string{"kind"})
	m.verifyFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vds_verification_failures_total",
		Help: "Answers the verifier refused, by kind and reason (bad_proof, stale_state, revoked, incomplete, other).",
	}, []string{"kind", "reason"})
	m.batchesStored = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "vds_storage_batches_stored_total",
		Help: "Batches (new ones and new versions) the store acknowledged through this process, repeats of a stored batch included.",
	})
	m.rowsStored = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "vds_storage_rows_stored_total",
		Help: "Rows of the batches counted by vds_storage_batches_stored_total.",
	})
	m.storeSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "vds_store_operation_duration_seconds",
		Help:    "Latency of the storage server's store calls, by operation.",
		Buckets: secondsBuckets,
	}, []string{"operation"})
	m.storeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vds_store_operation_errors_total",
		Help: "Store calls that returned an error, by operation.",
	}, []string{"operation"})
	m.failovers = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "vds_client_failovers_total",
		Help: "Times a client of this process gave up on a server address for the next one.",
	})
	m.state = &stateCollector{
		epoch: prometheus.NewDesc("vds_state_epoch", "Epoch of the owner's signed state this server holds (absent while it holds none).", nil, prometheus.Labels{"role": role}),
		age:   prometheus.NewDesc("vds_state_age_seconds", "Time since the signed state this server holds was issued.", nil, prometheus.Labels{"role": role}),
		ready: prometheus.NewDesc("vds_ready", "1 if the server is ready (as /readyz says), else 0.", nil, prometheus.Labels{"role": role}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
		m.requests, m.requestSeconds, m.proofSeconds, m.verifySeconds, m.verifyFailures, m.state,
	)
	return m
}

// Registry returns the server's registry, to register more collectors or
// to gather it in a test.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Request implements transport.Observer.
func (m *Metrics) Request(service, method, outcome string, d time.Duration) {
	m.requests.WithLabelValues(service, method, outcome).Inc()
	m.requestSeconds.WithLabelValues(service, method).Observe(d.Seconds())
}

// Served implements transport.Observer: proof generation times of the
// storage service, verification times and failures of the verifier
// service (each refused answer of a verify_many call counts).
func (m *Metrics) Served(service, method string, d time.Duration, resp any, err error) {
	switch service {
	case transport.ServiceStorage:
		if kind, ok := proofKinds[method]; ok && err == nil {
			m.proofSeconds.WithLabelValues(kind).Observe(d.Seconds())
		}
	case transport.ServiceVerifier:
		kind, ok := verifyKinds[method]
		if !ok {
			return
		}
		m.verifySeconds.WithLabelValues(kind).Observe(d.Seconds())
		if err != nil {
			m.verifyFailures.WithLabelValues(kind, Reason(err)).Inc()
			return
		}
		if r, ok := resp.(*transport.VerifyManyResult); ok {
			for _, it := range r.Items {
				if it.Err != nil {
					m.verifyFailures.WithLabelValues(kind, Reason(it.Err.Err())).Inc()
				}
			}
		}
	}
}

// FailoverHook returns the hook that counts a client's fail-overs
// (vds_client_failovers_total, exported from the first call on): pass it
// to transport.WithOnFailover.
func (m *Metrics) FailoverHook() func(from, to string, err error) {
	m.failoverOnce.Do(func() { m.reg.MustRegister(m.failovers) })
	return func(from, to string, err error) { m.failovers.Inc() }
}

// StateFunc returns the epoch of the signed state a server holds and when
// it was issued, or ok = false while it holds none.
type StateFunc func(ctx context.Context) (epoch uint64, issued time.Time, ok bool)

// WatchState makes vds_state_epoch and vds_state_age_seconds report what f
// returns at each scrape.
func (m *Metrics) WatchState(f StateFunc) { m.state.set(f) }

// StorageState is the state of a storage server (read from its store).
func StorageState(s *roles.StorageServer) StateFunc {
	return func(ctx context.Context) (uint64, time.Time, bool) { return stateOf(s.LatestState(ctx)) }
}

// OwnerState is the latest state of a data owner.
func OwnerState(o *roles.DataOwner) StateFunc {
	return func(ctx context.Context) (uint64, time.Time, bool) { return stateOf(o.LatestState(ctx)) }
}

// WatchOwner adds vds_owner_storage_in_sync: 1 while the storage server
// is known to hold everything the owner acknowledged
// (roles.DataOwner.InSync), 0 after a failed push until the owner's
// background sync succeeds.
func (m *Metrics) WatchOwner(o *roles.DataOwner) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "vds_owner_storage_in_sync",
		Help: "1 while the storage server holds everything the owner acknowledged, 0 until a failed push is re-sent.",
	}, func() float64 {
		if o.InSync() {
			return 1
		}
		return 0
	}))
}

// VerifierState is the state a verifier holds.
func VerifierState(v *roles.Verifier) StateFunc {
	return func(context.Context) (uint64, time.Time, bool) { return stateOf(v.State(), nil) }
}

// stateOf is the epoch and issue time of a state, if there is one.
func stateOf(st *roles.SignedState, err error) (uint64, time.Time, bool) {
	if err != nil || st == nil {
		return 0, time.Time{}, false
	}
	return st.State.Epoch, time.UnixMilli(st.IssuedAt), true
}

// Handler serves GET /metrics (the registry, in the Prometheus text or
// protobuf format the scraper asks for), /healthz and /readyz (see
// transport.HealthHandler; ready may be nil: always ready). The vds_ready
// gauge reports ready from then on.
func (m *Metrics) Handler(ready transport.ReadyFunc) http.Handler {
	if ready != nil {
		m.state.setReady(ready)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
	hh := transport.HealthHandler(ready)
	mux.Handle("/healthz", hh)
	mux.Handle("/readyz", hh)
	return mux
}
