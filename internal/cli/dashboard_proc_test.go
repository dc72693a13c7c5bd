//go:build linux

package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	fr "github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/internal/testproc"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// chromium returns the browser the dashboard tests drive: $VDS_CHROMIUM
// (scripts/chromium) or chromium on PATH.
func chromium(t *testing.T) string {
	if p := os.Getenv("VDS_CHROMIUM"); p != "" {
		return p
	}
	for _, b := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(b); err == nil {
			return p
		}
	}
	t.Skip("no chromium binary (scripts/chromium installs Debian's package)")
	return ""
}

// browser starts a headless chromium for the test.
func browser(t *testing.T, path string) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.WindowSize(1100, 1600))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	return ctx
}

// pageResult is what window.vds.ask and the chart's bars return.
type pageResult struct {
	Status string   `json:"status"`
	Code   string   `json:"code"`
	Values []string `json:"values"`
}

type chartResult struct {
	Bars []struct {
		Label  string `json:"label"`
		Status string `json:"status"`
		Value  string `json:"value"`
		Code   string `json:"code"`
	} `json:"bars"`
	VerifyMs float64 `json:"verifyMs"`
	TotalMs  float64 `json:"totalMs"`
}

// open navigates to a dashboard and waits until it has loaded.
func open(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url)))
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.vds !== undefined && window.vds.ready === true`, chromedp.WithPollingTimeout(60*time.Second)))
	require.NoError(t, err)
	e, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.vds.error || ''`))
	require.NoError(t, err)
	require.Empty(t, e, "page error")
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	require.NoError(t, err, js)
	return v
}

// dashProxy stands between a page and the storage server: it relays every
// call, except that mode changes answers (one value altered, a batch
// dropped from a stream window, a recorded answer replayed). It lets the
// page's origin call it (CORS), as the storage server does.
type dashProxy struct {
	storage, origin string
	mu              sync.Mutex
	mode            string // "", "alter", "drop", "record", "replay"
	recorded        []byte
}

func (p *dashProxy) set(mode string) { p.mu.Lock(); p.mode = mode; p.mu.Unlock() }

func (p *dashProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", p.origin)
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "POST")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	res, err := http.Post(p.storage+r.URL.Path, transport.ContentType, bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	p.mu.Lock()
	mode := p.mode
	p.mu.Unlock()
	method := filepath.Base(r.URL.Path)
	if res.StatusCode == http.StatusOK {
		out = p.tamper(mode, method, out)
	}
	w.Header().Set("Content-Type", res.Header.Get("Content-Type"))
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(out)
}

func (p *dashProxy) tamper(mode, method string, out []byte) []byte {
	c := codec.Default()
	switch {
	case mode == "alter" && method == "generate_dc_proof":
		var a roles.Answer
		if c.Unmarshal(out, &a) == nil {
			var one fr.Element
			one.SetOne()
			x := fr.Element(a.Values[0])
			x.Add(&x, &one)
			a.Values[0] = codec.Scalar(x)
			out, _ = c.Marshal(&a)
		}
	case mode == "drop" && method == "generate_stream_proof":
		var a roles.StreamAnswer
		if c.Unmarshal(out, &a) == nil && len(a.Parts) > 3 {
			// the run holds a neighbour before the window's first entry, if any
			k := len(a.Proof.Run) - len(a.Parts) + 1
			a.Proof.Run = append(a.Proof.Run[:k], a.Proof.Run[k+1:]...)
			a.Parts = append(a.Parts[:1], a.Parts[2:]...)
			out, _ = c.Marshal(&a)
		}
	case mode == "record" && method == "generate_dc_proof":
		p.mu.Lock()
		p.recorded = out
		p.mu.Unlock()
	case mode == "replay" && method == "generate_dc_proof":
		p.mu.Lock()
		out = p.recorded
		p.mu.Unlock()
	}
	return out
}

// TestDashboardInBrowser is issue 19 in a real browser against a real
// system: owner, storage server and verifier processes, `vds web` pinning
// the data directory's public files. The page's verified totals (a year
// of monthly totals, 12 stream answers) and a point query equal the Go
// verifier's (vds query); behind a proxy that alters a value, drops a
// batch from a window or replays an answer from before a revocation the
// page shows "rejected" with the matching code and never the number; a
// page without a trust root verifies nothing; the page cannot fetch from
// another origin even when that origin allows it. It writes a screenshot
// (into $VDS_TEST_ARTIFACTS, or docs/dashboard.png with
// VDS_UPDATE_SCREENSHOT=1).
func TestDashboardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command and a browser")
	}
	chrome := chromium(t)
	bin := testproc.Build(t)
	dir := t.TempDir()
	sAddr, w1, w2, w3 := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	storageURL := "http://" + sAddr
	c := &streamCLI{t: t, bin: bin, dir: dir, addr: []string{
		"-owner", "unix://" + filepath.Join(dir, "o.sock"),
		"-storage", storageURL,
		"-verifier", "unix://" + filepath.Join(dir, "v.sock"),
	}}
	c.ok("setup", "-n", "8", "-q")
	serve := func(args ...string) {
		a := c.args(args...)
		if len(args) > 1 && args[1] == "serve" { // vds ROLE serve [flags]
			a = append([]string{args[0], "serve"}, c.args(append(args[:1:1], args[2:]...)...)[1:]...)
		}
		p := testproc.Start(t, bin, a...)
		t.Cleanup(func() { _ = p.Stop() })
	}
	serve("storage", "serve", "-listen", sAddr, "-cors-origin", "http://"+w1)
	waitUp(t, storageURL, transport.ServiceStorage)
	serve("verifier", "serve", "-listen", "unix://"+filepath.Join(dir, "v.sock"))
	serve("owner", "serve", "-listen", "unix://"+filepath.Join(dir, "o.sock"))
	waitUp(t, "unix://"+filepath.Join(dir, "o.sock"), transport.ServiceOwner)
	waitUp(t, "unix://"+filepath.Join(dir, "v.sock"), transport.ServiceVerifier)

	// A year, four readings a day, one batch a day (365 batches).
	y0 := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	var csv strings.Builder
	csv.WriteString("time,temp\n")
	for i := 0; i < 365*4; i++ {
		ts := y0.Add(time.Duration(i) * 6 * time.Hour)
		fmt.Fprintf(&csv, "%s,%d.%d\n", ts.Format(time.RFC3339), 5+(i*7)%20, i%10)
	}
	file := filepath.Join(dir, "year.csv")
	require.NoError(t, os.WriteFile(file, []byte(csv.String()), 0o600))
	out := c.ok("ingest", "-file", file, "-stream", "paris", "-time-col", "time", "-cols", "temp", "-rows", "4")
	require.Contains(t, out, "365 batches: 365 new")

	proxy := &dashProxy{storage: storageURL, origin: "http://" + w2}
	psrv := httptest.NewServer(proxy)
	t.Cleanup(psrv.Close)
	serve("web", "-listen", w1)
	serve("web", "-listen", w2, "-storage", psrv.URL)
	serve("web", "-listen", w3, "-no-keys")
	for _, w := range []string{w1, w2, w3} {
		require.Eventually(t, func() bool {
			res, err := http.Get("http://" + w + "/config.json")
			if err == nil {
				res.Body.Close()
			}
			return err == nil && res.StatusCode == http.StatusOK
		}, 30*time.Second, 50*time.Millisecond)
	}

	ctx := browser(t, chrome)
	open(t, ctx, "http://"+w1+"/")
	digest, err := os.ReadFile(filepath.Join(dir, digestFile))
	require.NoError(t, err)
	require.Equal(t, strings.TrimSpace(string(digest)), eval[string](t, ctx, `document.getElementById('crs-digest').textContent`))
	require.Equal(t, "verified", eval[string](t, ctx, `document.querySelector('#state [data-status]').dataset.status`))
	require.Equal(t, "0", eval[string](t, ctx, `document.querySelector('#state [data-field="epoch"]').textContent`))

	// A year of monthly totals: 12 stream answers verified in the page,
	// each equal to the Go verifier's.
	const year = `window.vds.chart({stream: 'paris', col: 'temp', period: 'month', from: '2010-01', count: 12})`
	// The page draws it when it opens (cold: every header's signature
	// checked); asked again, the signatures are cached (warm).
	// Its time is reported, not asserted: timing belongs to
	// measurements, not to tests (the issue's < 2 s is measured by this
	// log line on a quiet machine).
	ch := eval[chartResult](t, ctx, `window.vds.lastChart`)
	warm := eval[chartResult](t, ctx, year)
	require.Equal(t, ch.Bars, warm.Bars)
	require.Len(t, ch.Bars, 12)
	for m, b := range ch.Bars {
		from := y0.AddDate(0, m, 0)
		var q queryJSON
		c.json(&q, "query", "-stream", "paris", "-kind", "window", "-cols", "temp", "-tfrom", from.Format("2006-01-02"), "-tto", from.AddDate(0, 1, 0).Format("2006-01-02"))
		require.True(t, q.Verified)
		require.Equal(t, "verified", b.Status, "%s: %s", b.Label, b.Code)
		require.Equal(t, q.Totals[0], b.Value, b.Label)
	}
	t.Logf("a year of monthly totals (12 stream answers, 365 batches) in chromium: verification %.0f ms cold, %.0f ms warm; with the requests %.0f ms, %.0f ms", ch.VerifyMs, warm.VerifyMs, ch.TotalMs, warm.TotalMs)

	// The page may talk to no other origin (its Content-Security-Policy),
	// even one that would let it (CORS *).
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_, _ = io.WriteString(w, "reachable")
	}))
	t.Cleanup(other.Close)
	_, body := getURL(t, other.URL)
	require.Equal(t, "reachable", body)
	require.Equal(t, "blocked", eval[string](t, ctx, fmt.Sprintf(`fetch(%q).then(r => r.text(), () => 'blocked')`, other.URL)))

	// A point query by hand equals the Go verifier's.
	l := c.list()
	batch := l.Batches[40].ID
	var q queryJSON
	c.json(&q, "query", "-batch", batch, "-kind", "point", "-cols", "temp", "-row", "3")
	r := eval[pageResult](t, ctx, fmt.Sprintf(`window.vds.ask({kind: 'point', batch: %q, cols: ['temp'], row: 3})`, batch))
	require.Equal(t, "verified", r.Status, r.Code)
	require.Equal(t, q.Values, r.Values)

	// Behind the malicious proxy: rejected with the matching reason, the
	// number never shown as verified.
	open(t, ctx, "http://"+w2+"/")
	proxy.set("alter")
	r = eval[pageResult](t, ctx, fmt.Sprintf(`window.vds.ask({kind: 'point', batch: %q, cols: ['temp'], row: 3})`, batch))
	require.Equal(t, pageResult{Status: "rejected", Code: "bad_proof"}, r)
	proxy.set("drop")
	r = eval[pageResult](t, ctx, `window.vds.ask({kind: 'stream window', stream: 'paris', cols: ['temp'], tfrom: '2010-03-01T00:00:00Z', tto: '2010-03-31T23:59:59Z'})`)
	require.Equal(t, pageResult{Status: "rejected", Code: "incomplete"}, r)
	proxy.set("record")
	r = eval[pageResult](t, ctx, fmt.Sprintf(`window.vds.ask({kind: 'point', batch: %q, cols: ['temp'], row: 3})`, batch))
	require.Equal(t, "verified", r.Status)
	c.ok("revoke", "-batch", l.Batches[41].ID)
	proxy.set("replay")
	r = eval[pageResult](t, ctx, fmt.Sprintf(`window.vds.ask({kind: 'point', batch: %q, cols: ['temp'], row: 3})`, batch))
	require.Equal(t, pageResult{Status: "rejected", Code: "stale_state"}, r)
	require.Equal(t, "1", eval[string](t, ctx, `document.querySelector('#state [data-field="epoch"]').textContent`), "the state shown follows the revocation")
	html := eval[string](t, ctx, `document.getElementById('results').innerText`)
	require.Contains(t, html, "rejected: the proof does not match the numbers")
	require.Contains(t, html, "rejected: data of the window is missing")
	require.Contains(t, html, "rejected: the answer is built on an older owner state")
	require.NotContains(t, html, "temp = "+addTenth(q.Values[0]), "the altered number shown")
	proxy.set("")

	// The screenshot: the page after the revocation, a year of totals,
	// answers verified and rejected.
	open(t, ctx, "http://"+w2+"/")
	require.Equal(t, "1", eval[string](t, ctx, `document.querySelector('#state [data-field="revoked batches"]').textContent`))
	eval[chartResult](t, ctx, year)
	for _, js := range []string{
		fmt.Sprintf(`window.vds.ask({kind: 'point', batch: %q, cols: ['temp'], row: 3})`, batch),
		fmt.Sprintf(`window.vds.ask({kind: 'range', batch: %q, cols: ['temp'], from: 1, to: 4})`, batch),
		fmt.Sprintf(`window.vds.ask({kind: 'point', batch: %q, cols: ['temp'], row: 1})`, l.Batches[41].ID),
	} {
		eval[pageResult](t, ctx, js)
	}
	proxy.set("alter")
	eval[pageResult](t, ctx, fmt.Sprintf(`window.vds.ask({kind: 'range', batch: %q, cols: ['temp'], from: 1, to: 4})`, batch))
	proxy.set("drop")
	eval[pageResult](t, ctx, `window.vds.ask({kind: 'stream window', stream: 'paris', cols: ['temp'], tfrom: '2010-03-01T00:00:00Z', tto: '2010-03-31T23:59:59Z'})`)
	proxy.set("")
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	writeScreenshot(t, shot)

	// No trust root: nothing verified.
	open(t, ctx, "http://"+w3+"/")
	require.True(t, eval[bool](t, ctx, `document.getElementById('untrusted') !== null`))
	r = eval[pageResult](t, ctx, fmt.Sprintf(`window.vds.ask({kind: 'point', batch: %q, cols: ['temp'], row: 3})`, batch))
	require.Equal(t, pageResult{Status: "rejected", Code: "untrusted"}, r)
}

// addTenth returns a one-decimal value raised by 0.1 (the proxy's "alter").
func addTenth(v string) string {
	var a, b int
	if _, err := fmt.Sscanf(v, "%d.%d", &a, &b); err != nil {
		return v
	}
	b++
	if b == 10 {
		a, b = a+1, 0
	}
	return fmt.Sprintf("%d.%d", a, b)
}

// writeScreenshot keeps the page's screenshot as a test artefact.
func writeScreenshot(t *testing.T, png []byte) {
	require.True(t, bytes.HasPrefix(png, []byte("\x89PNG")), "screenshot is not a PNG")
	d := os.Getenv("VDS_TEST_ARTIFACTS")
	if d == "" {
		d = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(d, 0o755))
	p := filepath.Join(d, "dashboard.png")
	require.NoError(t, os.WriteFile(p, png, 0o644))
	t.Logf("screenshot: %s (%d bytes)", p, len(png))
	if os.Getenv("VDS_UPDATE_SCREENSHOT") == "1" {
		require.NoError(t, os.WriteFile(filepath.Join("..", "..", "docs", "dashboard.png"), png, 0o644))
	}
}
