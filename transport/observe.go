package transport

import (
	"context"
	"net/http"
	"time"
)

// Observer receives what a server does, for metrics (package metrics
// implements it for Prometheus). A server calls it synchronously on the
// request's goroutine: implementations must be safe for concurrent use and
// fast. Service and method names are those of a registered method, or
// "unknown" for a name the server does not serve, so that a caller cannot
// make up labels.
type Observer interface {
	// Request is called once per request a server answered, with its
	// outcome — "ok" or the wire code of the error (WireError.Code) — and
	// the time from its arrival to its response.
	Request(service, method, outcome string, d time.Duration)
	// Served is called once per call of a method's handler (Method.Serve,
	// after the request was admitted and decoded), with the handler's own
	// time, its response (nil on error; not to be modified or kept) and
	// its error.
	Served(service, method string, d time.Duration, resp any, err error)
}

// WithObserver makes a server report every request to ob.
func WithObserver(ob Observer) Option { return func(o *options) { o.observer = ob } }

// labels returns the observer's labels of a request: the names if the
// method is registered, else "unknown" for what is not.
func (r registry) labels(service, name string) (string, string) {
	s, ok := r[service]
	if !ok {
		return "unknown", "unknown"
	}
	if _, ok := s.Method(name); !ok {
		return service, "unknown"
	}
	return service, name
}

// observeRequest reports a finished request to the observer, if any.
func (o *options) observeRequest(reg registry, service, name string, we *WireError, start time.Time) {
	if o.observer == nil {
		return
	}
	outcome := "ok"
	if we != nil {
		outcome = we.Code
	}
	s, m := reg.labels(service, name)
	o.observer.Request(s, m, outcome, time.Since(start))
}

// serve calls a method's handler and reports it to the observer, if any.
func (o *options) serve(ctx context.Context, service string, m *Method, req any) (any, error) {
	if o.observer == nil {
		return m.Serve(ctx, req)
	}
	start := time.Now()
	resp, err := m.Serve(ctx, req)
	o.observer.Served(service, m.Name, time.Since(start), resp, err)
	return resp, err
}

// ReadyFunc reports whether a server is ready to serve: nil, or an error
// saying why not (its message is shown to operators: it holds no secret).
type ReadyFunc func(ctx context.Context) error

// WithReadiness makes NewHTTPHandler also serve GET /healthz (the process
// is alive: 200 "ok") and GET /readyz (200 "ready", or 503 and why not,
// as ready says) beside the services, without authentication and without
// a body to read. The health method reports the same readiness.
func WithReadiness(ready ReadyFunc) Option { return func(o *options) { o.ready = ready } }

// readyTimeout bounds one readiness check.
const readyTimeout = 5 * time.Second

// HealthHandler serves GET /healthz — 200 "ok" while the process runs —
// and GET /readyz — 200 "ready" if ready returns nil within a few seconds,
// else 503 "not ready: " and the reason — as plain text. Other paths are
// 404, other methods 405.
func HealthHandler(ready ReadyFunc) http.Handler {
	mux := http.NewServeMux()
	text := func(w http.ResponseWriter, status int, s string) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(s + "\n"))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		text(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if ready == nil {
			text(w, http.StatusOK, "ready")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := ready(ctx); err != nil {
			text(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
			return
		}
		text(w, http.StatusOK, "ready")
	})
	return mux
}
