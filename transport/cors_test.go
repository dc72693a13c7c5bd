package transport_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vdsproject/vds/transport"
)

// TestCORSOriginOnly: the page's origin gets its preflight and readable
// answers; any other origin gets neither; without the option nothing.
func TestCORSOriginOnly(t *testing.T) {
	const page = "http://127.0.0.1:5004"
	svc := transport.NewService("storage")
	h := transport.NewHTTPHandler([]*transport.Service{svc}, transport.WithCORSOrigin(page+"/"))
	plain := transport.NewHTTPHandler([]*transport.Service{svc})
	do := func(h http.Handler, method, origin string) *http.Response {
		r := httptest.NewRequest(method, "/v1/storage/latest_state", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if method == http.MethodOptions {
			r.Header.Set("Access-Control-Request-Method", "POST")
			r.Header.Set("Access-Control-Request-Headers", "content-type")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result()
	}
	res := do(h, http.MethodOptions, page)
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != page ||
		res.Header.Get("Access-Control-Allow-Methods") != "POST" || res.Header.Get("Access-Control-Allow-Headers") != "Content-Type" {
		t.Fatalf("preflight of the page: %d %v", res.StatusCode, res.Header)
	}
	if res := do(h, http.MethodPost, page); res.Header.Get("Access-Control-Allow-Origin") != page {
		t.Fatalf("POST of the page: no Access-Control-Allow-Origin (%v)", res.Header)
	}
	for _, other := range []string{"http://127.0.0.1:5005", "http://evil.example", "null"} {
		if res := do(h, http.MethodOptions, other); res.StatusCode != http.StatusForbidden || res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight of %s: %d %v, want 403 without CORS headers", other, res.StatusCode, res.Header)
		}
		if res := do(h, http.MethodPost, other); res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("POST of %s readable: %v", other, res.Header)
		}
	}
	if res := do(plain, http.MethodOptions, page); res.Header.Get("Access-Control-Allow-Origin") != "" || res.StatusCode == http.StatusNoContent {
		t.Fatalf("without WithCORSOrigin: %d %v", res.StatusCode, res.Header)
	}
}
