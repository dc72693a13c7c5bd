package metrics_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/devpki"
	"github.com/vdsproject/vds/internal/testkit"
	"github.com/vdsproject/vds/metrics"
	"github.com/vdsproject/vds/transport"
)

// serveMetrics serves a role's metrics on 127.0.0.1 with c (nil: plain
// HTTP) and returns the address.
func serveMetrics(t *testing.T, c *tls.Config) string {
	t.Helper()
	srv, err := metrics.ListenTLS("127.0.0.1:0", metrics.New("storage").Handler(nil), c)
	require.NoError(t, err)
	return testkit.Serve(t, srv)
}

// fetchMetrics fetches /metrics with client c and returns the status, or the error.
func fetchMetrics(c *http.Client, url string) (int, error) {
	res, err := c.Get(url + "/metrics")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, nil
}

func httpsClient(t *testing.T, ca, cert, key string) *http.Client {
	t.Helper()
	c, err := transport.ClientTLS(ca, cert, key)
	require.NoError(t, err)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: c}}
}

// TestMetricsTLS checks the metrics listener over TLS: plain HTTP gets no
// metrics, HTTPS with the CA does; with mutual TLS, a scraper without a
// client certificate, or with one of another CA, is refused at the
// handshake and one with the deployment's certificate is served.
func TestMetricsTLS(t *testing.T) {
	pki, err := devpki.Write(t.TempDir())
	require.NoError(t, err)
	foreign, err := devpki.Write(t.TempDir())
	require.NoError(t, err)
	plain := &http.Client{}
	noCert := httpsClient(t, pki.CA, "", "")
	withCert := httpsClient(t, pki.CA, pki.Certs["admin"], pki.Keys["admin"])
	alien := httpsClient(t, pki.CA, foreign.Certs["admin"], foreign.Keys["admin"])

	t.Run("tls", func(t *testing.T) {
		c, err := transport.ServerTLS(pki.Certs["storage"], pki.Keys["storage"], "")
		require.NoError(t, err)
		addr := serveMetrics(t, c)
		st, err := fetchMetrics(plain, "http://"+addr)
		if err == nil {
			require.Equal(t, http.StatusBadRequest, st, "plain HTTP to a TLS listener gets no metrics")
		}
		st, err = fetchMetrics(noCert, "https://"+addr)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, st)
		_, err = fetchMetrics(httpsClient(t, foreign.CA, "", ""), "https://"+addr)
		require.Error(t, err, "a scraper that does not trust the CA refuses the server")
	})
	t.Run("mtls", func(t *testing.T) {
		c, err := transport.ServerTLS(pki.Certs["storage"], pki.Keys["storage"], pki.CA)
		require.NoError(t, err)
		addr := serveMetrics(t, c)
		_, err = fetchMetrics(noCert, "https://"+addr)
		require.Error(t, err, "no client certificate")
		_, err = fetchMetrics(alien, "https://"+addr)
		require.Error(t, err, "a client certificate of another CA")
		st, err := fetchMetrics(withCert, "https://"+addr)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, st)
	})
	t.Run("plain", func(t *testing.T) {
		addr := serveMetrics(t, nil)
		st, err := fetchMetrics(plain, "http://"+addr)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, st, "without TLS, as before")
	})
}
