//go:build linux

package security

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/internal/testproc"
	"github.com/vdsproject/vds/internal/worstcase"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// rssLimit is the peak resident set size a server may reach under the
// load of TestFinding4ConcurrentMaximalBodies.
const rssLimit = 256 << 20

// zeros is a reader of n zero bytes, never held in memory.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	k := int(min(int64(len(p)), z.n))
	clear(p[:k])
	z.n -= int64(k)
	return k, nil
}

// 64 concurrent maximal bodies — the largest request each method allows,
// and bodies declaring 60 MB (the finding's attack) — keep the peak RSS of
// real `vds verifier serve` and `vds storage serve` processes (batch
// capacity 1024, the default) under 256 MB.
func TestFinding4ConcurrentMaximalBodies(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers with a CRS of 1024")
	}
	bin := testproc.Build(t)
	dir := t.TempDir()
	const n = 1024
	out, err := testproc.Run(bin, "setup", "-dir", dir, "-n", "1024", "-q")
	require.NoError(t, err, out)
	// The deployment's parameters, so that a forged header gets as far as
	// its signature.
	d, err := os.ReadFile(filepath.Join(dir, "crs.digest"))
	require.NoError(t, err)
	digest, err := commitment.ParseDigest(strings.TrimSpace(string(d)))
	require.NoError(t, err)
	var keys roles.OwnerKeys
	b, err := os.ReadFile(filepath.Join(dir, "owner-keys.cbor"))
	require.NoError(t, err)
	require.NoError(t, codec.Default().Unmarshal(b, &keys))

	storageAddr, verifierAddr, ownerAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	common := []string{"-dir", dir, "-owner", ownerAddr, "-storage", storageAddr, "-verifier", verifierAddr}
	storage := testproc.Start(t, bin, append([]string{"storage", "serve", "-listen", storageAddr}, common...)...)
	verifier := testproc.Start(t, bin, append([]string{"verifier", "serve", "-listen", verifierAddr}, common...)...)
	waitHealth(t, storage, "http://"+storageAddr, transport.ServiceStorage)
	waitHealth(t, verifier, "http://"+verifierAddr, transport.ServiceVerifier)

	l := roles.DefaultLimits()
	sb := worstcase.StoreBatch(n, l)
	sb.Header.Header.CRS, sb.Header.Header.Owner = roles.Hash(digest), keys.ID()
	storeBody, err := codec.Default().Marshal(sb)
	require.NoError(t, err)
	verifyBody, err := codec.Default().Marshal(worstcase.VerifyRequest(n, l))
	require.NoError(t, err)
	lim := transport.RequestLimits(n, l)
	require.LessOrEqual(t, int64(len(storeBody)), lim[transport.ServiceStorage]["store_batch"])
	require.Greater(t, int64(len(storeBody)), lim[transport.ServiceStorage]["store_batch"]*9/10, "the store_batch body is not maximal")
	require.Greater(t, int64(len(verifyBody)), lim[transport.ServiceVerifier]["verify_dc_query"]*9/10, "the verify body is not maximal")

	hc := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	defer hc.CloseIdleConnections()
	type load struct {
		proc *testproc.Proc
		url  string
		body []byte
	}
	for name, ld := range map[string]load{
		"storage":  {storage, "http://" + storageAddr + "/v1/storage/store_batch", storeBody},
		"verifier": {verifier, "http://" + verifierAddr + "/v1/verifier/verify_dc_query", verifyBody},
	} {
		statuses := map[int]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for round := range 3 {
					var body io.Reader = bytes.NewReader(ld.body)
					size := int64(len(ld.body))
					if (i+round)%2 == 1 {
						body, size = &zeros{n: 60 << 20}, 60<<20
					}
					req, err := http.NewRequest(http.MethodPost, ld.url, io.NopCloser(body))
					if err != nil {
						panic(err)
					}
					req.ContentLength = size
					req.Header.Set("Content-Type", transport.ContentType)
					res, err := hc.Do(req)
					code := -1 // the server closed the connection on an unread body
					if err == nil {
						code = res.StatusCode
						_, _ = io.Copy(io.Discard, res.Body)
						res.Body.Close()
					}
					mu.Lock()
					statuses[code]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		rss, err := ld.proc.PeakRSS()
		require.NoError(t, err)
		t.Logf("%s: peak RSS %.1f MiB after 64 clients × 3 maximal bodies (%d-byte and 60 MB), statuses %v", name, float64(rss)/(1<<20), len(ld.body), statuses)
		require.Less(t, rss, int64(rssLimit), "%s: peak RSS %d bytes", name, rss)
		require.Zero(t, statuses[http.StatusOK], "%s accepted a forged request", name)
		require.NotZero(t, statuses[http.StatusRequestEntityTooLarge]+statuses[-1], "%s: no 60 MB body was refused", name)
		require.False(t, ld.proc.Exited(), "%s died", name)
	}
}
