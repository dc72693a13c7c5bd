package transport

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"1":                             time.Second,
		" 7 ":                           7 * time.Second,
		"120":                           maxRetryAfter,
		"99999999999999999999":          0,
		"-1":                            0,
		"soon":                          0,
		"Tue, 01 Dec 2026 04:00:05 GMT": 5 * time.Second,
		"Tue, 01 Dec 2026 03:59:00 GMT": 0,
		"Wed, 02 Dec 2026 04:00:00 GMT": maxRetryAfter,
	} {
		require.Equal(t, want, retryAfter(h, now), "Retry-After: %q", h)
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "1", "120", "Tue, 01 Dec 2026 04:00:05 GMT", "-5", "1.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		d := retryAfter(h, time.Now())
		if d < 0 || d > maxRetryAfter {
			t.Fatalf("retryAfter(%q) = %v, outside [0, %v]", h, d, maxRetryAfter)
		}
	})
}

// nopTransport is a transport that is never called.
type nopTransport struct{}

func (nopTransport) Call(context.Context, string, string, any, any) error { return nil }
func (nopTransport) Close() error                                         { return nil }

func newTestFailover(t *testing.T, n int) *Failover {
	addrs := make([]string, n)
	ts := make([]Transport, n)
	for i := range n {
		addrs[i], ts[i] = string(rune('a'+i)), nopTransport{}
	}
	f, err := NewFailover(addrs, ts, WithDownFor(time.Minute))
	require.NoError(t, err)
	return f
}

// TestFailoverPick checks the order of addresses: the current one first,
// the next untried one at once after a failure, addresses marked down
// last, backoff only to try an address again, Retry-After honoured.
func TestFailoverPick(t *testing.T) {
	const backoff = 10 * time.Millisecond
	f := newTestFailover(t, 3)
	now := time.Now()
	tried := make([]bool, 3)
	i, wait := f.pick(now, tried, backoff)
	require.Equal(t, 0, i)
	require.Zero(t, wait)

	// a fails: b at once, then c.
	f.fail(0, 0)
	tried[0] = true
	i, wait = f.pick(time.Now(), tried, backoff)
	require.Equal(t, 1, i)
	require.Zero(t, wait)
	f.fail(1, 0)
	tried[1] = true
	i, wait = f.pick(time.Now(), tried, backoff)
	require.Equal(t, 2, i)
	require.Zero(t, wait)
	// All tried: back to the current one (a), after the backoff.
	f.fail(2, 0)
	tried[2] = true
	i, wait = f.pick(time.Now(), tried, backoff)
	require.Equal(t, 0, i)
	require.Equal(t, backoff, wait)

	// c answers: sticky. A new call starts at c.
	f.up(2)
	i, wait = f.pick(time.Now(), make([]bool, 3), backoff)
	require.Equal(t, 2, i)
	require.Zero(t, wait)
	// c fails: a and b are still marked down, but untried in this call:
	// tried at once, in ring order from c.
	f.fail(2, 0)
	i, wait = f.pick(time.Now(), []bool{false, false, true}, backoff)
	require.Equal(t, 0, i)
	require.Zero(t, wait)
	// A new call while c is down and a is not: a, not c.
	f.up(0)
	f.mu.Lock()
	f.cur = 2
	f.mu.Unlock()
	i, _ = f.pick(time.Now(), make([]bool, 3), backoff)
	require.Equal(t, 0, i, "the current address is down: the next one that is not")

	// Retry-After: a server that asked for an hour is not called before,
	// while another can be; when all asked, the soonest one, after its wait.
	f = newTestFailover(t, 2)
	f.fail(0, time.Hour)
	i, wait = f.pick(time.Now(), make([]bool, 2), backoff)
	require.Equal(t, 1, i)
	require.Zero(t, wait)
	f.fail(1, 2*time.Second)
	i, wait = f.pick(time.Now(), []bool{true, true}, backoff)
	require.Equal(t, 1, i)
	require.Greater(t, wait, time.Second)
	require.LessOrEqual(t, wait, 2*time.Second)
}

// TestFailoverKeepsRetryAfter: a 503 with Retry-After moves the call to
// the next address, and the first is not called again before its time.
func TestFailoverKeepsRetryAfter(t *testing.T) {
	busyBody, err := codec.Default().Marshal(&WireError{Code: "unavailable", Message: "busy"})
	require.NoError(t, err)
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write(busyBody)
	}))
	defer busy.Close()
	okBody, err := codec.Default().Marshal(&Health{Service: ServiceStorage})
	require.NoError(t, err)
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ContentType)
		_, _ = w.Write(okBody)
	}))
	defer good.Close()

	f, err := DialFailover([]string{busy.URL, good.URL})
	require.NoError(t, err)
	defer f.Close()
	var h Health
	require.NoError(t, f.Call(context.Background(), ServiceStorage, "health", &Empty{}, &h))
	require.Equal(t, ServiceStorage, h.Service)
	require.Equal(t, good.URL, f.Current())
	f.mu.Lock()
	nb := f.state[0].notBefore
	f.mu.Unlock()
	require.Greater(t, time.Until(nb), 20*time.Second, "Retry-After: 30 kept")
}
