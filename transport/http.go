package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vdsproject/vds/codec"
)

// ContentType of every request and response body.
const ContentType = "application/cbor"

type httpOptions struct {
	tls          *tls.Config
	timeout      time.Duration // client: per call
	dialTimeout  time.Duration // client: per connection attempt; 0: net/http's default (30 s)
	retries      int           // client: attempts after the first, idempotent calls only
	backoff      time.Duration // client: first retry delay, doubled each time
	maxBody      int64         // server: request body limit
	readTimeout  time.Duration // server
	writeTimeout time.Duration // server
	idleTimeout  time.Duration // server
	shutdown     time.Duration // server: grace period
	logger       *slog.Logger  // server: one line per request
	corsOrigin   string        // server: the one origin whose pages may call it (CORS); "" none
}

func defaultHTTPOptions() httpOptions {
	return httpOptions{
		timeout:      2 * time.Minute,
		retries:      3,
		backoff:      50 * time.Millisecond,
		maxBody:      codec.DefaultMaxMessageBytes,
		readTimeout:  time.Minute,
		writeTimeout: 5 * time.Minute,
		idleTimeout:  2 * time.Minute,
		shutdown:     10 * time.Second,
	}
}

// WithTLS sets the TLS configuration: for a server, its certificate and,
// for mutual TLS, ClientCAs with ClientAuth = tls.RequireAndVerifyClientCert
// (see ServerTLS); for a client, RootCAs and its own certificate (see
// ClientTLS).
func WithTLS(c *tls.Config) Option { return func(o *options) { o.http.tls = c } }

// WithTimeout bounds each client call (default 2 minutes) when its context
// has no earlier deadline.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.http.timeout = d } }

// WithDialTimeout bounds how long an HTTP client waits for a TCP
// connection to be established (default 30 s, net/http's; DialFailover
// uses DefaultFailoverDialTimeout): the time a client loses to a host that
// drops packets before it fails over.
func WithDialTimeout(d time.Duration) Option { return func(o *options) { o.http.dialTimeout = d } }

// WithRetries sets how many times a client retries an idempotent call after
// a transport failure or an unavailable server (default 3), with
// exponential backoff from first (default 50 ms) and jitter.
func WithRetries(n int, first time.Duration) Option {
	return func(o *options) { o.http.retries, o.http.backoff = n, first }
}

// WithMaxBody caps request bodies a server reads (default 64 MiB), on top
// of each method's own limit (Method.MaxRequestBytes).
func WithMaxBody(n int64) Option { return func(o *options) { o.http.maxBody = n } }

// WithServerTimeouts sets a server's read, write and idle timeouts.
func WithServerTimeouts(read, write, idle time.Duration) Option {
	return func(o *options) { o.http.readTimeout, o.http.writeTimeout, o.http.idleTimeout = read, write, idle }
}

// WithShutdownGrace sets how long a server waits for calls in flight when
// its context ends (default 10 s).
func WithShutdownGrace(d time.Duration) Option { return func(o *options) { o.http.shutdown = d } }

// WithLogger makes a server log one line per request (service, method,
// status, duration) with l. Request and response bodies are never logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.http.logger = l } }

// WithCORSOrigin lets the pages of one origin ("http://127.0.0.1:5004",
// scheme://host[:port], no path) call a server from a browser: the
// handler answers that origin's CORS preflights (POST with a Content-Type
// header, nothing else: no Authorization, so no mutation from a page) and
// marks its responses readable by it. Requests from any other origin get
// no CORS header (their preflight is refused with HTTP 403), so a browser
// does not let their pages read an answer. Default: no origin.
func WithCORSOrigin(origin string) Option {
	return func(o *options) { o.http.corsOrigin = strings.TrimRight(origin, "/") }
}

// corsHandler wraps h with the CORS policy of WithCORSOrigin for origin.
func corsHandler(origin string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		from := r.Header.Get("Origin")
		if from == "" {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Add("Vary", "Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if from != origin {
			if preflight {
				http.Error(w, "origin not allowed", http.StatusForbidden)
				return
			}
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		if preflight {
			w.Header().Set("Access-Control-Allow-Methods", http.MethodPost)
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// httpStatus maps a wire code to an HTTP status.
func httpStatus(code string) int {
	switch code {
	case "invalid_input", "invalid_encoding", "non_canonical", "invalid_point", "identity", "invalid_crs":
		return http.StatusBadRequest
	case "too_large":
		return http.StatusRequestEntityTooLarge
	case "bad_proof", "wrong_challenge", "incomplete", "bad_signature", "crs_mismatch":
		return http.StatusUnprocessableEntity
	case "revoked":
		return http.StatusGone
	case "unauthorized":
		return http.StatusUnauthorized
	case "unknown_batch", "not_found":
		return http.StatusNotFound
	case "conflict", "stale_state", "unknown_state":
		return http.StatusConflict
	case "unavailable", "closed", "not_leader":
		return http.StatusServiceUnavailable
	case "canceled", "deadline":
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// NewHTTPHandler returns an http.Handler that serves the services'
// methods at POST /v1/{service}/{method} with application/cbor bodies.
// Mount it in any server and wrap it in any middleware.
//
// Before it reads a request body, the handler checks the method exists,
// that the caller may call it (restricted methods: WithAuthorizer, default
// DefaultAuthorizer; refusals are HTTP 401 with code "unauthorized" and are
// logged), that the declared length is within the method's limit (HTTP 413)
// and that the server has room for it (WithMaxConcurrent,
// WithMaxInflightBytes; HTTP 503 with Retry-After). The body is then read
// through the limit. With WithCORSOrigin, one origin's pages may call it
// from a browser.
func NewHTTPHandler(services []*Service, opts ...Option) http.Handler {
	o := buildOptions(opts)
	reg := newRegistry(services)
	g := newGate(&o)
	mux := http.NewServeMux()
	if o.ready != nil {
		hh := HealthHandler(o.ready)
		mux.Handle("/healthz", hh)
		mux.Handle("/readyz", hh)
	}
	mux.HandleFunc("/v1/{service}/{method}", func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		status, we := serveHTTP(w, r, reg, g, &o)
		o.observeRequest(reg, r.PathValue("service"), r.PathValue("method"), we, start)
		if o.http.logger != nil {
			o.http.logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("transport", "http"), slog.String("service", r.PathValue("service")),
				slog.String("method", r.PathValue("method")), slog.Int("status", status),
				slog.Duration("duration", time.Since(start)), slog.String("remote", r.RemoteAddr))
		}
	})
	if o.http.corsOrigin != "" {
		return corsHandler(o.http.corsOrigin, mux)
	}
	return mux
}

// contentTypeOK reports whether a request's media type is exactly
// application/cbor (parameters aside).
func contentTypeOK(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == ContentType
}

// serveHTTP serves one request and returns its HTTP status and, if it
// failed, its wire error.
func serveHTTP(w http.ResponseWriter, r *http.Request, reg registry, g *gate, o *options) (int, *WireError) {
	fail := func(status int, we *WireError) (int, *WireError) {
		b, err := o.codec.Marshal(we)
		if err != nil {
			b = nil
		}
		w.Header().Set("Content-Type", ContentType)
		w.WriteHeader(status)
		_, _ = w.Write(b)
		return status, we
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return fail(http.StatusMethodNotAllowed, &WireError{Code: "invalid_input", Message: "use POST"})
	}
	if !contentTypeOK(r.Header.Get("Content-Type")) {
		return fail(http.StatusUnsupportedMediaType, &WireError{Code: "invalid_input", Message: "content type must be " + ContentType})
	}
	service := r.PathValue("service")
	m, err := reg.lookup(service, r.PathValue("method"))
	if err != nil {
		return fail(http.StatusNotFound, ToWire(err))
	}
	if err := o.authorize(r.Context(), httpPeer(r, o.http.tls), service, m); err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="vds"`)
		return fail(http.StatusUnauthorized, ToWire(err))
	}
	limit := o.http.maxBody
	if m.MaxRequestBytes > 0 {
		limit = min(limit, m.MaxRequestBytes)
	}
	if r.ContentLength > limit {
		return fail(http.StatusRequestEntityTooLarge, &WireError{Code: "too_large", Message: fmt.Sprintf("%s/%s request of %d bytes, above its limit of %d", service, m.Name, r.ContentLength, limit)})
	}
	size := r.ContentLength
	if size < 0 {
		size = limit
	}
	release, ok := g.acquire(size)
	if !ok {
		w.Header().Set("Retry-After", "1")
		return fail(http.StatusServiceUnavailable, busy(g.maxN))
	}
	defer release()
	body, err := readBody(http.MaxBytesReader(w, r.Body, limit), r.ContentLength)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fail(http.StatusRequestEntityTooLarge, &WireError{Code: "too_large", Message: fmt.Sprintf("request body above %d bytes", mbe.Limit)})
		}
		return fail(http.StatusBadRequest, &WireError{Code: "invalid_input", Message: "read request body: " + err.Error()})
	}
	out, we := serveBody(r.Context(), m, service, o, body)
	body = nil // let the collector have it while the response is written
	if we != nil {
		if we.Code == "unavailable" {
			w.Header().Set("Retry-After", "1")
		}
		return fail(httpStatus(we.Code), we)
	}
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
	return http.StatusOK, nil
}

// readBody reads a request body of the declared length n (unknown if
// negative) in one allocation of the right size.
func readBody(r io.Reader, n int64) ([]byte, error) {
	if n < 0 {
		return io.ReadAll(r)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// HTTPClient is the HTTP transport's client.
type HTTPClient struct {
	base string
	hc   *http.Client
	opts options
}

// NewHTTPClient returns a client for the server at baseURL
// ("http://127.0.0.1:5002" or "https://…").
func NewHTTPClient(baseURL string, opts ...Option) (*HTTPClient, error) {
	o := buildOptions(opts)
	if !strings.HasPrefix(baseURL, "http://") && !strings.HasPrefix(baseURL, "https://") {
		return nil, fmt.Errorf("transport: %q is not an http(s) URL: %w", baseURL, errInvalid)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if o.http.dialTimeout > 0 {
		tr.DialContext = (&net.Dialer{Timeout: o.http.dialTimeout, KeepAlive: 30 * time.Second}).DialContext
	}
	tr.TLSClientConfig = o.http.tls
	tr.MaxIdleConnsPerHost = 64
	tr.Proxy = nil
	return &HTTPClient{base: strings.TrimRight(baseURL, "/"), hc: &http.Client{Transport: tr}, opts: o}, nil
}

// Call implements Transport.
func (c *HTTPClient) Call(ctx context.Context, service, name string, req, resp any) error {
	body, err := c.opts.codec.Marshal(req)
	if err != nil {
		return fmt.Errorf("transport: encode %s/%s request: %w", service, name, err)
	}
	if _, ok := ctx.Deadline(); !ok && c.opts.http.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.http.timeout)
		defer cancel()
	}
	url := c.base + "/v1/" + service + "/" + name
	attempts := 1
	if Idempotent(service, name) {
		attempts += c.opts.http.retries
	}
	delay := c.opts.http.backoff
	for i := 0; ; i++ {
		err := c.once(ctx, url, body, resp)
		if err == nil || i+1 >= attempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		if !backoffWait(ctx, &delay) {
			return err
		}
	}
}

// backoffWait waits a jittered delay (between half and all of *delay),
// then doubles *delay; it returns false, at once, if ctx ends first.
func backoffWait(ctx context.Context, delay *time.Duration) bool {
	t := time.NewTimer(*delay/2 + rand.N(*delay/2+1))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	}
	*delay *= 2
	return true
}

// errRetry marks a failure worth retrying, after at least after when the
// server said so (Retry-After).
type errRetry struct {
	error
	after time.Duration
}

func (e errRetry) Unwrap() error { return e.error }

func retryable(err error) bool {
	var r errRetry
	return errors.As(err, &r)
}

// maxRetryAfter caps the wait a server's Retry-After can impose on a client.
const maxRetryAfter = 30 * time.Second

// retryAfter parses a Retry-After header: delay-seconds or an HTTP date;
// 0 if absent or malformed, at most maxRetryAfter.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseUint(strings.TrimSpace(h), 10, 32); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

func (c *HTTPClient) once(ctx context.Context, url string, body []byte, resp any) error {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("transport: %w", err)
	}
	hr.Header.Set("Content-Type", ContentType)
	if c.opts.token != "" {
		hr.Header.Set("Authorization", "Bearer "+c.opts.token)
	}
	res, err := c.hc.Do(hr)
	if err != nil {
		return errRetry{unavailable("POST "+url, err), 0}
	}
	defer res.Body.Close()
	out, err := io.ReadAll(io.LimitReader(res.Body, int64(codec.DefaultMaxMessageBytes)+1))
	if err != nil {
		return errRetry{unavailable("read response", err), 0}
	}
	if res.StatusCode == http.StatusOK {
		return c.opts.codec.Unmarshal(out, resp)
	}
	var we WireError
	if res.Header.Get("Content-Type") != ContentType || c.opts.codec.Unmarshal(out, &we) != nil {
		err := unavailable("POST "+url, fmt.Errorf("HTTP %s", res.Status))
		if res.StatusCode >= 500 {
			return errRetry{err, retryAfter(res.Header.Get("Retry-After"), time.Now())}
		}
		return err
	}
	if res.StatusCode == http.StatusServiceUnavailable {
		return errRetry{we.Err(), retryAfter(res.Header.Get("Retry-After"), time.Now())}
	}
	return we.Err()
}

// Close implements Transport.
func (c *HTTPClient) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// Idempotent reports whether a method may be retried, on the same server or
// (Failover) on another replica: every method but the owner's create_batch,
// append_rows, revoke_batch, update_batch, refresh and rotate_key. The storage server's mutating
// methods are idempotent by the protocol: the same signed input again
// changes nothing and is answered with success (or ErrRevoked for a batch
// revoked since, which the owner counts as acknowledged).
func Idempotent(service, method string) bool {
	if service != ServiceOwner {
		return true
	}
	switch method {
	case "create_batch", "append_rows", "revoke_batch", "update_batch", "refresh", "rotate_key":
		return false
	}
	return true
}

// HTTPServer serves a handler over HTTP or HTTPS.
type HTTPServer struct {
	srv  *http.Server
	ln   net.Listener
	opts options
}

// ListenHTTP binds addr ("127.0.0.1:5002"; port 0 picks one) for h, with TLS
// if WithTLS is given.
func ListenHTTP(addr string, h http.Handler, opts ...Option) (*HTTPServer, error) {
	o := buildOptions(opts)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("transport: listen %s: %w", addr, err)
	}
	if o.http.tls != nil {
		ln = tls.NewListener(ln, o.http.tls)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(o.http.readTimeout, 10*time.Second),
		ReadTimeout:       o.http.readTimeout,
		WriteTimeout:      o.http.writeTimeout,
		IdleTimeout:       o.http.idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	if o.http.logger != nil {
		// Connection-level errors (TLS handshakes, malformed requests).
		srv.ErrorLog = slog.NewLogLogger(o.http.logger.Handler(), slog.LevelWarn)
	}
	return &HTTPServer{srv: srv, ln: ln, opts: o}, nil
}

// Addr returns the address the server listens on.
func (s *HTTPServer) Addr() string { return s.ln.Addr().String() }

// Serve serves until ctx ends, then shuts down gracefully: it stops
// accepting, lets calls in flight finish within the grace period, and
// returns nil.
func (s *HTTPServer) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.http.shutdown)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		_ = s.srv.Close()
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
