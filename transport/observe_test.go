package transport_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// obsRecorder is an Observer that keeps what it is told.
type obsRecorder struct {
	mu       sync.Mutex
	requests []string // service/method/outcome
	served   []string // service/method/error?
}

func (r *obsRecorder) Request(service, method, outcome string, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, service+"/"+method+"/"+outcome)
}

func (r *obsRecorder) Served(service, method string, _ time.Duration, _ any, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := service + "/" + method
	if err != nil {
		s += "/" + transport.ToWire(err).Code
	}
	r.served = append(r.served, s)
}

func (r *obsRecorder) get() ([]string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.requests...), append([]string(nil), r.served...)
}

// TestObserverEveryTransport: each server transport reports every request
// with its outcome, and every handler call with its error; names a server
// does not serve are reported as "unknown".
func TestObserverEveryTransport(t *testing.T) {
	svc := []*transport.Service{transport.NewService("svc",
		&transport.Method{Name: "ok", Idempotent: true, NewRequest: func() any { return new(transport.Empty) },
			Serve: func(context.Context, any) (any, error) { return &transport.Empty{}, nil }},
		&transport.Method{Name: "fail", Idempotent: true, NewRequest: func() any { return new(transport.Empty) },
			Serve: func(context.Context, any) (any, error) { return nil, roles.ErrBadProof }},
	)}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			rec := &obsRecorder{}
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			t.Cleanup(func() { cancel(); wg.Wait() })
			var c transport.Transport
			switch kind {
			case "inproc":
				c = transport.NewInProc(svc, transport.WithObserver(rec))
			case "http":
				srv, err := transport.ListenHTTP("127.0.0.1:0", transport.NewHTTPHandler(svc, transport.WithObserver(rec)))
				require.NoError(t, err)
				wg.Add(1)
				go func() { defer wg.Done(); _ = srv.Serve(ctx) }()
				c, err = transport.Dial("http://"+srv.Addr(), transport.WithRetries(0, 0))
				require.NoError(t, err)
			case "unix":
				path := filepath.Join(t.TempDir(), "o.sock")
				srv, err := transport.ListenUnix(path, svc, transport.WithObserver(rec))
				require.NoError(t, err)
				wg.Add(1)
				go func() { defer wg.Done(); _ = srv.Serve(ctx) }()
				c, err = transport.Dial("unix://" + path)
				require.NoError(t, err)
			}
			defer c.Close()
			require.NoError(t, c.Call(ctx, "svc", "ok", &transport.Empty{}, &transport.Empty{}))
			require.ErrorIs(t, c.Call(ctx, "svc", "fail", &transport.Empty{}, &transport.Empty{}), roles.ErrBadProof)
			require.ErrorIs(t, c.Call(ctx, "svc", "made_up", &transport.Empty{}, &transport.Empty{}), roles.ErrNotFound)
			require.ErrorIs(t, c.Call(ctx, "other", "x", &transport.Empty{}, &transport.Empty{}), roles.ErrNotFound)
			requests, served := rec.get()
			require.Equal(t, []string{"svc/ok/ok", "svc/fail/bad_proof", "svc/unknown/not_found", "unknown/unknown/not_found"}, requests)
			require.Equal(t, []string{"svc/ok", "svc/fail/bad_proof"}, served)
		})
	}
}

// TestHealthHandler: /healthz is always 200, /readyz follows the check, in
// plain text; other methods are refused.
func TestHealthHandler(t *testing.T) {
	var mu sync.Mutex
	var why error
	h := transport.HealthHandler(func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		return why
	})
	do := func(method, path string) (int, string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
		b, _ := io.ReadAll(w.Result().Body)
		return w.Code, string(b)
	}
	code, body := do("GET", "/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\n", body)
	code, body = do("GET", "/readyz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ready\n", body)
	mu.Lock()
	why = errors.New("store unreachable: connection refused")
	mu.Unlock()
	code, body = do("GET", "/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "not ready: store unreachable: connection refused\n", body)
	code, _ = do("HEAD", "/healthz")
	require.Equal(t, http.StatusOK, code)
	code, _ = do("POST", "/readyz")
	require.Equal(t, http.StatusMethodNotAllowed, code)
	code, _ = do("GET", "/metrics")
	require.Equal(t, http.StatusNotFound, code)
}

// TestCheckHealthOlderServer: a server whose health method predates
// readiness refuses the field; CheckHealth asks again and gets the old
// answer, without readiness.
func TestCheckHealthOlderServer(t *testing.T) {
	old := transport.NewService(transport.ServiceStorage, &transport.Method{Name: "health", Idempotent: true,
		NewRequest: func() any { return new(transport.Empty) },
		Serve: func(context.Context, any) (any, error) {
			return &transport.Health{Service: transport.ServiceStorage, Epoch: 4, HasEpoch: true}, nil
		}})
	c := transport.NewInProc([]*transport.Service{old})
	h, err := transport.CheckHealth(context.Background(), c, transport.ServiceStorage)
	require.NoError(t, err)
	require.Nil(t, h.Ready)
	require.Equal(t, uint64(4), h.Epoch)

	// A current server answers readiness.
	s := newSystem(t, "inproc")
	st := s.storage
	h, err = transport.CheckHealth(context.Background(), st.T, transport.ServiceStorage)
	require.NoError(t, err)
	require.NotNil(t, h.Ready)
	require.True(t, *h.Ready, h.NotReady)
	require.Empty(t, h.NotReady)
}
