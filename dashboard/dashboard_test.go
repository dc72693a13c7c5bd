package dashboard

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string) (*http.Response, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	res := rec.Result()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

func TestHandlerServesThePageAndItsTrustRoot(t *testing.T) {
	trust := &TrustRoot{OwnerKeys: []byte{0xa0}, OwnerID: "00ff", KeyIDs: []string{"k1"}, CRSDigest: "abcd", CRS: []byte("crs file"), Source: "/data/public"}
	h, err := Handler(Config{Storage: "http://127.0.0.1:5002", Trust: trust})
	if err != nil {
		t.Fatal(err)
	}
	res, body := get(t, h, "/")
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `src="app.js"`) {
		t.Fatalf("GET /: %d %q", res.StatusCode, body)
	}
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "connect-src 'self' http://127.0.0.1:5002;") || !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("CSP %q does not confine the page to itself and the storage server", csp)
	}
	for _, p := range []string{"/app.js", "/style.css"} {
		if res, _ := get(t, h, p); res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", p, res.StatusCode)
		}
	}
	res, body = get(t, h, "/config.json")
	var pc pageConfig
	if err := json.Unmarshal(body, &pc); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("config: %d %v", res.StatusCode, err)
	}
	if !pc.Pinned || pc.CRSDigest != "abcd" || pc.OwnerID != "00ff" || pc.OwnerKeys != "a0" || pc.Source != "/data/public" || pc.Storage != "http://127.0.0.1:5002" {
		t.Fatalf("config %+v", pc)
	}
	if _, body = get(t, h, "/crs.bin"); string(body) != "crs file" {
		t.Fatalf("crs.bin %q", body)
	}
	if res, _ := get(t, h, "/dashboard.go"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /dashboard.go: %d, want 404", res.StatusCode)
	}
}

func TestHandlerWithoutTrustRootPinsNothing(t *testing.T) {
	h, err := Handler(Config{Storage: "http://127.0.0.1:5002/"})
	if err != nil {
		t.Fatal(err)
	}
	_, body := get(t, h, "/config.json")
	var pc pageConfig
	if err := json.Unmarshal(body, &pc); err != nil {
		t.Fatal(err)
	}
	if pc.Pinned || pc.OwnerKeys != "" || pc.CRSDigest != "" {
		t.Fatalf("config without a trust root pins %+v", pc)
	}
	if res, _ := get(t, h, "/crs.bin"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("crs.bin without a trust root: %d", res.StatusCode)
	}
}

func TestHandlerRefusesBadConfig(t *testing.T) {
	for _, c := range []Config{
		{Storage: "127.0.0.1:5002"},
		{Storage: "ftp://x"},
		{Storage: "http://x/path"},
		{Storage: "http://x", Trust: &TrustRoot{OwnerKeys: []byte{1}}},
	} {
		if _, err := Handler(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", c, err)
		}
	}
}
