//go:build linux

package deploy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/internal/errs"
	"github.com/vdsproject/vds/internal/testkit"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// Container ports of compose.yaml.
const (
	portOwner    = 5001
	portStorage  = 5002
	portVerifier = 5003
	portMetrics  = 9090
)

// system is compose.yaml running, with clients of its servers.
type system struct {
	d        *deployment
	crs      *commitment.CRS
	keys     roles.OwnerKeys
	owner    transport.OwnerClient
	verifier transport.VerifierClient
	replicas []string // the storage services, by name
	ownerSvc string
	verSvc   string
}

// newSystem starts compose.yaml on a fresh database.
func newSystem(t *testing.T) *system {
	t.Helper()
	d := startCompose(t, freshDSN(t))
	roles := servers(d.m.f)
	s := &system{d: d, replicas: roles["storage"], ownerSvc: roles["owner"][0], verSvc: roles["verifier"][0]}
	require.Len(t, s.replicas, 2)
	pub := d.dir(d.volumeOf(s.replicas[0], "-dir"))
	s.crs, s.keys = loadPublic(t, pub)
	tok, err := os.ReadFile(filepath.Join(d.dir(d.volumeOf(s.ownerSvc, "-dir")), "owner.token"))
	require.NoError(t, err)
	s.owner = transport.OwnerClient{T: dial(t, s.url(s.ownerSvc, portOwner), transport.WithBearerToken(strings.TrimSpace(string(tok))))}
	s.verifier = transport.VerifierClient{T: dial(t, s.url(s.verSvc, portVerifier))}
	return s
}

// volumeOf returns the volume mounted at the directory a service's flag
// names.
func (d *deployment) volumeOf(svc, flag string) string {
	dir := flagValue(d.m.f.Services[svc].Command, flag)
	for _, v := range d.m.f.Services[svc].Volumes {
		vol, target, _ := splitVolume(v)
		if target == dir {
			return vol
		}
	}
	d.t.Fatalf("service %s: no volume at %s", svc, dir)
	return ""
}

// url returns the http URL of a service's container port.
func (s *system) url(svc string, port int) string { return "http://" + s.d.addr(svc, port) }

func dial(t *testing.T, url string, opts ...transport.Option) transport.Transport {
	t.Helper()
	tr, err := transport.Dial(url, append([]transport.Option{transport.WithTimeout(30 * time.Second)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { tr.Close() })
	return tr
}

// storage returns a client of one replica.
func (s *system) storage(t *testing.T, svc string) transport.StorageClient {
	return transport.StorageClient{T: dial(t, s.url(svc, portStorage))}
}

// loadPublic reads the CRS (pinned to its digest) and the owner's public
// keys from the public volume.
func loadPublic(t *testing.T, dir string) (*commitment.CRS, roles.OwnerKeys) {
	return testkit.LoadPublic(t, dir)
}

// newBatch returns rows readings of two columns from t0 on.
func newBatch(stream string, rows, seed int, t0 uint64) *transport.NewBatch {
	nb := &transport.NewBatch{Stream: stream, Timestamps: make([]uint64, rows)}
	temp, hum := make([]int64, rows), make([]int64, rows)
	for i := range rows {
		nb.Timestamps[i] = t0 + uint64(10*i+(i*i)%7)
		temp[i] = 150 + int64((seed*31+i*17)%90) - 60
		hum[i] = 35 + int64((seed*7+i*11)%40)
	}
	nb.Columns = []transport.ColumnValues{{Name: "temp", Scale: 1, Values: temp}, {Name: "hum", Values: hum}}
	return nb
}

var cols = []string{"temp", "hum"}

// sums is a batch's prefix sums per column, for checking verified values.
type sums map[string][]int64

func prefixSums(nb *transport.NewBatch) sums {
	s := sums{}
	for _, c := range nb.Columns {
		ps := make([]int64, len(c.Values)+1)
		for i, v := range c.Values {
			ps[i+1] = ps[i] + v
		}
		s[c.Name] = ps
	}
	return s
}

func (s sums) sum(col string, from, to int) int64 { return s[col][to] - s[col][from-1] }

// create has the owner commit to a batch.
func (s *system) create(t *testing.T, nb *transport.NewBatch) roles.BatchID {
	t.Helper()
	cr, err := s.owner.CreateBatch(context.Background(), nb)
	require.NoError(t, err)
	id, err := cr.Header.Header.Digest()
	require.NoError(t, err)
	return id
}

// waitTables waits until a replica holds proof tables for every column
// (and the timestamps) of n batches of a stream.
func waitTables(t *testing.T, sc transport.StorageClient, stream string, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		l, err := sc.ListBatches(context.Background(), stream)
		if err != nil || len(l) != n {
			return false
		}
		for _, b := range l {
			if int(b.ProofColumns) != len(cols)+1 {
				return false
			}
		}
		return true
	}, 60*time.Second, 50*time.Millisecond, "proof tables of stream %s", stream)
}

// typedErr names the sentinel of the error tree an error matches, or ""
// for an untyped error.
func typedErr(err error) string {
	for _, s := range []struct {
		name string
		err  error
	}{
		{"unavailable", errs.ErrUnavailable}, {"revoked", errs.ErrRevoked}, {"stale", errs.ErrStaleState},
		{"unknown_state", errs.ErrUnknownState}, {"unknown_batch", errs.ErrUnknownBatch}, {"not_found", errs.ErrNotFound},
		{"bad_proof", errs.ErrBadProof}, {"invalid_input", errs.ErrInvalidInput}, {"conflict", errs.ErrConflict},
		{"closed", errs.ErrClosed}, {"unauthorized", errs.ErrUnauthorized}, {"bad_signature", errs.ErrBadSignature},
	} {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return ""
}

// scrape GETs a path of a service's metrics listener.
func (s *system) scrape(t *testing.T, svc, path string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url(svc, portMetrics)+path, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// metric sums the samples of a metric in Prometheus text format whose
// labels include every one of want.
func metric(body, name string, want map[string]string) (float64, bool) {
	var total float64
	found := false
	for _, line := range strings.Split(body, "\n") {
		if line == "" || line[0] == '#' || !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		labels := map[string]string{}
		if strings.HasPrefix(rest, "{") {
			end := strings.Index(rest, "}")
			if end < 0 {
				continue
			}
			for _, kv := range splitLabels(rest[1:end]) {
				k, v, _ := strings.Cut(kv, "=")
				labels[k] = strings.Trim(v, `"`)
			}
			rest = rest[end+1:]
		} else if !strings.HasPrefix(rest, " ") {
			continue // another metric with this prefix
		}
		ok := true
		for k, v := range want {
			ok = ok && labels[k] == v
		}
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		total += v
		found = true
	}
	return total, found
}

// splitLabels splits `a="x",b="y,z"` at the commas outside quotes.
func splitLabels(s string) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}
