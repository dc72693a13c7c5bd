// Package dashboard serves the browser dashboard of vds: a page that asks
// the storage server for the owner's states, the batches of each stream
// and the answers to queries, and verifies every one of them in the
// browser with the JavaScript verifier of interop/js (bundled into
// assets/app.js by esbuild, see web/README.md), against a trust root the
// page is given by the server that serves it: the owner's public keys and
// the CRS, pinned by digest.
//
// The handler serves only its own embedded assets, the pinned CRS file and
// the page's configuration; its Content-Security-Policy lets the page talk
// to its own origin and to the storage server, nothing else (no CDN, no
// fonts). The storage server must let the page's origin call it
// (`vds storage serve -cors-origin`, transport.WithCORSOrigin).
package dashboard

import (
	"bytes"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"
)

//go:embed assets
var assets embed.FS

// ErrConfig is returned for a dashboard configuration that cannot be
// served (a storage address that is not an http(s) origin, a trust root
// without its CRS).
var ErrConfig = errors.New("dashboard: invalid configuration")

// TrustRoot is what the page verifies against: the owner's public keys
// and the CRS, pinned by its digest.
type TrustRoot struct {
	// OwnerKeys is the CBOR encoding of the owner's public keys
	// (owner-keys.cbor of a data directory).
	OwnerKeys []byte
	// OwnerID is the owner id (SPEC §2.4), KeyIDs the ids of its signing
	// keys, shown on the page.
	OwnerID string
	KeyIDs  []string
	// CRSDigest is the pinned digest (hex) of CRS, the CRS file.
	CRSDigest string
	CRS       []byte
	// Source says where the trust root came from (a directory), shown on
	// the page.
	Source string
}

// Config configures the dashboard.
type Config struct {
	// Storage is the base URL of the storage server's HTTP transport
	// ("http://127.0.0.1:5002").
	Storage string
	// Trust is the trust root; nil serves a page that shows what it
	// receives but refuses to mark any number verified.
	Trust *TrustRoot
	// TimeUnit is the unit of the streams' timestamps, "s" (default) or
	// "ms", as they were ingested (vds ingest -time-unit).
	TimeUnit string
	// MaxStateAge is how old the owner's latest state may be (0: no
	// check).
	MaxStateAge time.Duration
}

// pageConfig is /config.json: what the page reads at start.
type pageConfig struct {
	Storage       string   `json:"storage"`
	Pinned        bool     `json:"pinned"`
	OwnerKeys     string   `json:"owner_keys,omitempty"` // hex CBOR
	OwnerID       string   `json:"owner_id,omitempty"`
	KeyIDs        []string `json:"key_ids,omitempty"`
	CRSDigest     string   `json:"crs_digest,omitempty"`
	Source        string   `json:"source,omitempty"`
	TimeUnit      string   `json:"time_unit"`
	MaxStateAgeMS int64    `json:"max_state_age_ms"`
}

// origin returns scheme://host of an http(s) URL without a path.
func origin(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("%w: storage %q is not an http(s)://host:port URL", ErrConfig, raw)
	}
	return u.Scheme + "://" + u.Host, nil
}

// Handler returns the dashboard's handler: GET / (the page), /app.js,
// /style.css, /config.json and, with a trust root, /crs.bin.
func Handler(c Config) (http.Handler, error) {
	storage, err := origin(c.Storage)
	if err != nil {
		return nil, err
	}
	pc := pageConfig{Storage: storage, TimeUnit: "s", MaxStateAgeMS: c.MaxStateAge.Milliseconds()}
	switch c.TimeUnit {
	case "", "s":
	case "ms":
		pc.TimeUnit = "ms"
	default:
		return nil, fmt.Errorf("%w: time unit %q (want s or ms)", ErrConfig, c.TimeUnit)
	}
	if t := c.Trust; t != nil {
		if len(t.CRS) == 0 || len(t.OwnerKeys) == 0 || t.CRSDigest == "" {
			return nil, fmt.Errorf("%w: a trust root needs the owner keys, the CRS and its digest", ErrConfig)
		}
		pc.Pinned, pc.OwnerKeys, pc.OwnerID, pc.KeyIDs = true, hex.EncodeToString(t.OwnerKeys), t.OwnerID, t.KeyIDs
		pc.CRSDigest, pc.Source = t.CRSDigest, t.Source
	}
	cfgJSON, err := json.Marshal(pc)
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	csp := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' " + storage + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	static := http.FileServerFS(sub)
	mux := http.NewServeMux()
	serveBytes := func(path, ctype string, b []byte) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Cache-Control", "no-store")
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
		})
	}
	serveBytes("/config.json", "application/json", cfgJSON)
	if c.Trust != nil {
		serveBytes("/crs.bin", "application/octet-stream", c.Trust.CRS)
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { static.ServeHTTP(w, r) })
	for _, name := range []string{"app.js", "style.css", "favicon.svg"} {
		mux.HandleFunc("GET /"+name, func(w http.ResponseWriter, r *http.Request) { static.ServeHTTP(w, r) })
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		mux.ServeHTTP(w, r)
	}), nil
}

// Bundle returns the embedded JavaScript bundle (assets/app.js), which a
// test compares with a fresh build.
func Bundle() ([]byte, error) { return assets.ReadFile("assets/app.js") }
