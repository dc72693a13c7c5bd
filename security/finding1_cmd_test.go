//go:build linux

package security

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vdsproject/vds/internal/testkit"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds"
	"github.com/vdsproject/vds/internal/testproc"
	"github.com/vdsproject/vds/transport"
)

// freeAddr returns a 127.0.0.1 address that was free a moment ago.
func freeAddr(t *testing.T) string { return testkit.FreeAddr(t) }

// waitHealth polls a server's health until it answers or the process exits.
func waitHealth(t *testing.T, p *testproc.Proc, addr, service string) {
	t.Helper()
	c := trDial(t, addr, transport.WithTimeout(time.Second))
	deadline := time.Now().Add(20 * time.Second)
	for {
		var h transport.Health
		err := c.Call(context.Background(), service, "health", &transport.Empty{}, &h)
		if err == nil {
			return
		}
		if p.Exited() || time.Now().After(deadline) {
			t.Fatalf("%s not healthy: %v\n%s", service, err, p.Log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// `vds setup` writes the owner's token with mode 0600; `vds owner serve`
// on TCP without a token file or TLS refuses to start unless told
// -insecure; with the token file, mutations need the token, and `vds token
// rotate` replaces it while the owner runs.
func TestFinding1OwnerServe(t *testing.T) {
	bin := testproc.Build(t)
	dir := t.TempDir()
	out, err := testproc.Run(bin, "setup", "-dir", dir, "-n", "8", "-q")
	require.NoError(t, err, out)
	tokFile := filepath.Join(dir, "owner.token")
	fi, err := os.Stat(tokFile)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	b, err := os.ReadFile(tokFile)
	require.NoError(t, err)
	tok := strings.TrimSpace(string(b))
	require.GreaterOrEqual(t, len(tok), 32)

	serve := func(extra ...string) (*testproc.Proc, string) {
		addr := freeAddr(t)
		args := append([]string{"owner", "serve", "-dir", dir, "-listen", addr, "-storage", freeAddr(t), "-verifier", "", "-verifiers", ""}, extra...)
		return testproc.Start(t, bin, args...), "http://" + addr
	}

	// With the token file: mutations need the token.
	p, addr := serve()
	waitHealth(t, p, addr, transport.ServiceOwner)
	_, err = transport.OwnerClient{T: trDial(t, addr)}.Refresh(context.Background())
	require.ErrorIs(t, err, vds.ErrUnauthorized)
	_, err = transport.OwnerClient{T: trDial(t, addr, transport.WithBearerToken(tok))}.Refresh(context.Background())
	require.NotErrorIs(t, err, vds.ErrUnauthorized)
	require.Contains(t, p.Log.String(), "refused")
	require.NotContains(t, p.Log.String(), tok)

	// Rotation while the owner runs.
	out, err = testproc.Run(bin, "token", "rotate", "-dir", dir)
	require.NoError(t, err, out)
	require.NotContains(t, out, tok)
	b, err = os.ReadFile(tokFile)
	require.NoError(t, err)
	fresh := strings.TrimSpace(string(b))
	require.NotEqual(t, tok, fresh)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err = transport.OwnerClient{T: trDial(t, addr, transport.WithBearerToken(tok))}.Refresh(context.Background())
		if errors.Is(err, vds.ErrUnauthorized) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.ErrorIs(t, err, vds.ErrUnauthorized, "the old token works after vds token rotate")
	_, err = transport.OwnerClient{T: trDial(t, addr, transport.WithBearerToken(fresh))}.Refresh(context.Background())
	require.NotErrorIs(t, err, vds.ErrUnauthorized)
	require.NoError(t, p.Stop())

	// Without the token file and without TLS: no start.
	require.NoError(t, os.Remove(tokFile))
	p, _ = serve()
	err = p.Wait(20 * time.Second)
	require.Error(t, err, "the owner served TCP without authentication")
	require.NotErrorIs(t, err, testproc.ErrRunning, "the owner served TCP without authentication")
	require.Contains(t, p.Log.String(), "refusing to serve the owner")
	require.Contains(t, p.Log.String(), "-insecure")

	// With -insecure: it starts, says so loudly, and lets anyone mutate.
	p, addr = serve("-insecure")
	waitHealth(t, p, addr, transport.ServiceOwner)
	require.Contains(t, p.Log.String(), "INSECURE")
	_, err = transport.OwnerClient{T: trDial(t, addr)}.Refresh(context.Background())
	require.NotErrorIs(t, err, vds.ErrUnauthorized)
	require.NoError(t, p.Stop())

	// A token file others can read is refused by the clients' side too.
	require.NoError(t, os.WriteFile(tokFile, []byte(fresh+"\n"), 0o644))
	out, err = testproc.Run(bin, "revoke", "-dir", dir, "-owner", freeAddr(t), "-batch", strings.Repeat("ab", 32))
	require.Error(t, err)
	require.Contains(t, out, "others may read it")
}
