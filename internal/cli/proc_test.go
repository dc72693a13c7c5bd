//go:build linux

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vdsproject/vds/internal/testkit"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/internal/testproc"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// streamCLI runs the vds command against one deployment on Unix sockets.
type streamCLI struct {
	t    *testing.T
	bin  string
	dir  string
	addr []string
}

// startedCLI builds vds, sets up a data directory with a CRS of n and
// starts its three servers on Unix sockets (stopped at the end of the
// test).
func startedCLI(t *testing.T, n int) *streamCLI {
	t.Helper()
	dir := t.TempDir()
	c := &streamCLI{t: t, bin: testproc.Build(t), dir: dir, addr: []string{
		"-owner", "unix://" + filepath.Join(dir, "o.sock"),
		"-storage", "unix://" + filepath.Join(dir, "s.sock"),
		"-verifier", "unix://" + filepath.Join(dir, "v.sock"),
	}}
	c.ok("setup", "-n", strconv.Itoa(n), "-q")
	c.ok("start")
	t.Cleanup(func() { c.run("stop") })
	return c
}

func (c *streamCLI) args(args ...string) []string {
	return append(append(args[:1:1], append([]string{"-dir", c.dir}, c.addr...)...), args[1:]...)
}

// run runs a command and returns its stdout, stderr and exit code.
func (c *streamCLI) run(args ...string) (string, string, int) {
	c.t.Helper()
	cmd := exec.Command(c.bin, c.args(args...)...)
	cmd.Env = testproc.Env()
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(c.t, err)
	}
	return out.String(), errb.String(), code
}

// ok runs a command that must succeed and returns its stdout.
func (c *streamCLI) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	require.Equal(c.t, 0, code, "vds %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), out, errOut)
	return out
}

func (c *streamCLI) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append(args, "-json")...)
	require.NoError(c.t, json.Unmarshal([]byte(out), v), out)
}

func (c *streamCLI) list() listJSON {
	var l listJSON
	c.json(&l, "list")
	for i := range l.Batches {
		// Proof tables are computed in the background: not part of what
		// the comparisons of this test look at.
		l.Batches[i].ProofColumns, l.Batches[i].ProofBytesColumn = 0, 0
	}
	return l
}

// weather writes an hourly CSV from..to (exclusive) with RFC 3339 times, a
// non-numeric station column and two decimal columns, and returns each
// row's time and scaled values (temp at scale 1, dew at scale 2).
func weather(t *testing.T, path string, from, to time.Time, seed uint64) (times []int64, temp, dew []int64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	b.WriteString("time,station,temp,dew\n")
	for ts := from; ts.Before(to); ts = ts.Add(time.Hour) {
		tv := int64(r.IntN(700)) - 200 // -20.0 .. 49.9
		dv := int64(r.IntN(4000)) - 2000
		fmt.Fprintf(&b, "%s,LFPG,%s,%s\n", ts.Format(time.RFC3339), dec(tv, 1), dec(dv, 2))
		times, temp, dew = append(times, ts.Unix()), append(temp, tv), append(dew, dv)
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return times, temp, dew
}

// dec formats a scaled integer with its decimal places.
func dec(v int64, scale int) string {
	s := strconv.FormatInt(max(v, -v), 10)
	for len(s) <= scale {
		s = "0" + s
	}
	sign := ""
	if v < 0 {
		sign = "-"
	}
	return sign + s[:len(s)-scale] + "." + s[len(s)-scale:]
}

// tamperingStorage serves generate_stream_proof and
// generate_stream_segment on 127.0.0.1 with the answers of the storage
// server at addr, changed by tamper (each segment of a split answer).
func tamperingStorage(t *testing.T, addr string, tamper func(*roles.StreamAnswer)) string {
	t.Helper()
	tr, err := transport.Dial(addr)
	require.NoError(t, err)
	t.Cleanup(func() { tr.Close() })
	serve := func(answer func(ctx context.Context, body []byte) (*roles.StreamAnswer, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			var a *roles.StreamAnswer
			if err == nil {
				a, err = answer(r.Context(), body)
			}
			var out []byte
			if err == nil {
				tamper(a)
				out, err = codec.Default().Marshal(a)
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", transport.ContentType)
			_, _ = w.Write(out)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/storage/generate_stream_proof", serve(func(ctx context.Context, body []byte) (*roles.StreamAnswer, error) {
		var q roles.StreamQuery
		if err := codec.Default().Unmarshal(body, &q); err != nil {
			return nil, err
		}
		return transport.StorageClient{T: tr}.AnswerStreamSegment(ctx, &roles.StreamRequest{Query: q})
	}))
	mux.HandleFunc("/v1/storage/generate_stream_segment", serve(func(ctx context.Context, body []byte) (*roles.StreamAnswer, error) {
		var req roles.StreamRequest
		if err := codec.Default().Unmarshal(body, &req); err != nil {
			return nil, err
		}
		return transport.StorageClient{T: tr}.AnswerStreamSegment(ctx, &req)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// freeAddr returns a 127.0.0.1 address with a port free a moment ago.
func freeAddr(t *testing.T) string { return testkit.FreeAddr(t) }

// getURL returns the status and body of a GET.
func getURL(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

// waitUp waits until the server at addr answers health.
func waitUp(t *testing.T, addr, service string) {
	t.Helper()
	tr, err := transport.Dial(addr, transport.WithRetries(0, 0))
	require.NoError(t, err)
	defer tr.Close()
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return tr.Call(ctx, service, "health", &transport.Empty{}, &transport.Health{}) == nil
	}, 60*time.Second, 20*time.Millisecond, "%s at %s", service, addr)
}
