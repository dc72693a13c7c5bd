package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/errs"
)

func TestHealthCommand(t *testing.T) {
	ctx := context.Background()
	var ready atomic.Bool
	ready.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" && !ready.Load() {
			http.Error(w, "store: unreachable\nmore", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	}))
	defer srv.Close()

	require.NoError(t, RunHealth(ctx, []string{"-q", srv.URL + "/readyz"}))
	ready.Store(false)
	err := RunHealth(ctx, []string{"-q", srv.URL + "/readyz"})
	require.ErrorIs(t, err, errs.ErrUnavailable)
	require.Equal(t, exitDown, exitCode(err))
	require.Contains(t, err.Error(), "503")
	require.Contains(t, err.Error(), "store: unreachable")
	require.NotContains(t, err.Error(), "more", "first line of the body only")
	require.NoError(t, RunHealth(ctx, []string{"-q", srv.URL + "/healthz"}))

	// Nobody listening: unreachable, exit 3, within the timeout.
	ln := srv.Listener.Addr().String()
	srv.Close()
	start := time.Now()
	err = RunHealth(ctx, []string{"-q", "-timeout", "2s", "http://" + ln + "/healthz"})
	require.ErrorIs(t, err, errs.ErrUnavailable)
	require.Equal(t, exitDown, exitCode(err))
	require.Less(t, time.Since(start), 3*time.Second)

	// Usage errors.
	for _, args := range [][]string{
		{"ftp://127.0.0.1/healthz"},
		{"127.0.0.1:9090/readyz"},
		{"http://a/", "http://b/"},
		{"-timeout", "0s", "http://127.0.0.1:1/"},
		{"-nope"},
	} {
		require.ErrorIs(t, RunHealth(ctx, args), errUsage, "%q", args)
	}
}

func TestSetupIfMissingAndPublicDir(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	pub := filepath.Join(t.TempDir(), "public")
	require.NoError(t, RunSetup(ctx, []string{"-dir", dir, "-n", "8", "-q", "-public-dir", pub}))
	for _, f := range publicFiles {
		want, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(pub, f))
		require.NoError(t, err)
		require.Equal(t, want, got, f)
		fi, err := os.Stat(filepath.Join(pub, f))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o644), fi.Mode().Perm(), f)
	}
	// Secrets stay in the owner's directory.
	for _, f := range []string{ownerDB, ownerTokenFile} {
		_, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		_, err = os.Stat(filepath.Join(pub, f))
		require.ErrorIs(t, err, os.ErrNotExist, f)
	}
	keys, err := os.ReadFile(filepath.Join(dir, ownerKeysFile))
	require.NoError(t, err)

	// A second set-up is refused; with -if-missing it keeps the first and
	// restores a public file that was lost.
	require.Error(t, RunSetup(ctx, []string{"-dir", dir, "-n", "8", "-q"}))
	require.NoError(t, os.Remove(filepath.Join(pub, ownerKeysFile)))
	require.NoError(t, RunSetup(ctx, []string{"-dir", dir, "-n", "8", "-q", "-if-missing", "-public-dir", pub}))
	got, err := os.ReadFile(filepath.Join(dir, ownerKeysFile))
	require.NoError(t, err)
	require.Equal(t, keys, got, "the set-up was kept")
	got, err = os.ReadFile(filepath.Join(pub, ownerKeysFile))
	require.NoError(t, err)
	require.Equal(t, keys, got)

	// -if-missing on an empty directory sets up.
	dir2 := filepath.Join(t.TempDir(), "data")
	require.NoError(t, RunSetup(ctx, []string{"-dir", dir2, "-n", "8", "-q", "-if-missing"}))
	_, err = os.Stat(filepath.Join(dir2, crsFile))
	require.NoError(t, err)

	require.ErrorIs(t, RunSetup(ctx, []string{"-dir", dir2, "-if-missing", "-force"}), errUsage)
}
