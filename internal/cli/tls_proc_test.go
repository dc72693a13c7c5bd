//go:build linux

package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/errs"
	"github.com/vdsproject/vds/internal/testkit"
	"github.com/vdsproject/vds/internal/testproc"
	"github.com/vdsproject/vds/transport"
)

// TestTLSRolesAndMetrics checks `vds setup -tls` (one certificate per
// role, keys 0600, no shared client certificate) and a storage server run
// with -tls-dir and -metrics-tls mtls: it serves with the storage
// certificate, refuses the owner's pushes from the admin's certificate,
// and serves its metrics over HTTPS to scrapers with a certificate of the
// CA only.
func TestTLSRolesAndMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := testproc.Build(t)
	dir := t.TempDir()
	tlsDir := filepath.Join(dir, "tls")
	_, err := testproc.Run(bin, "setup", "-dir", dir, "-n", "16", "-tls", "-q")
	require.NoError(t, err)
	for _, r := range []string{"owner", "storage", "verifier", "admin"} {
		require.FileExists(t, filepath.Join(tlsDir, r+".pem"))
		fi, err := os.Stat(filepath.Join(tlsDir, r+"-key.pem"))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), r)
	}
	require.NoFileExists(t, filepath.Join(tlsDir, "client.pem"))

	out, err := testproc.Run(bin, "storage", "serve", "-dir", dir, "-metrics", testkit.FreeAddr(t), "-metrics-tls", "tls")
	require.Error(t, err, "-metrics-tls without -tls-dir")
	require.Contains(t, out, "needs -tls-dir")

	listen, maddr := testkit.FreeAddr(t), testkit.FreeAddr(t)
	testproc.Start(t, bin, "storage", "serve", "-dir", dir, "-tls-dir", tlsDir, "-listen", listen, "-metrics", maddr, "-metrics-tls", "mtls")
	client := func(role string) *tls.Config {
		cert, key := "", ""
		if role != "" {
			cert, key = filepath.Join(tlsDir, role+".pem"), filepath.Join(tlsDir, role+"-key.pem")
		}
		c, err := transport.ClientTLS(filepath.Join(tlsDir, "ca.pem"), cert, key)
		require.NoError(t, err)
		return c
	}
	get := func(c *tls.Config, url string) (int, error) {
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: c}, Timeout: 5 * time.Second}
		res, err := hc.Get(url)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}
	require.Eventually(t, func() bool {
		st, err := get(client("admin"), "https://"+maddr+"/healthz")
		return err == nil && st == http.StatusOK
	}, 60*time.Second, 50*time.Millisecond, "metrics over mutual TLS")
	_, err = get(client(""), "https://"+maddr+"/metrics")
	require.Error(t, err, "a scraper without a client certificate")
	if st, err := get(nil, "http://"+maddr+"/metrics"); err == nil {
		require.Equal(t, http.StatusBadRequest, st, "plain HTTP to the TLS metrics listener")
	}

	ctx := context.Background()
	push := func(role string) error {
		tr, err := transport.Dial("https://"+listen, transport.WithTLS(client(role)), transport.WithRetries(0, 0))
		require.NoError(t, err)
		defer tr.Close()
		// An empty map: the authorisation comes before the request is read.
		return tr.Call(ctx, transport.ServiceStorage, "add_revoked_item", cbor.RawMessage{0xa0}, &transport.Empty{})
	}
	require.ErrorIs(t, push("admin"), errs.ErrUnauthorized, "only the owner pushes states")
	require.ErrorIs(t, push("verifier"), errs.ErrUnauthorized)
	err = push("owner")
	require.Error(t, err, "an empty request is refused")
	require.False(t, errors.Is(err, errs.ErrUnauthorized), "the owner's certificate may push: %v", err)
}
