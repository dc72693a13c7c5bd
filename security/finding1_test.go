package security

// Finding 1: anyone who could reach the owner's port wrote as the owner.
// With no key, create_batch, revoke_batch, update_batch and refresh over
// HTTP all succeeded. Now the owner's mutations are restricted: over HTTP
// they need the owner's bearer token or a verified client certificate; on
// a Unix socket the socket's mode is the check.

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds"
	"github.com/vdsproject/vds/internal/devpki"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// mutation is one call of a restricted method.
type mutation struct {
	name string
	call func(ctx context.Context, c transport.OwnerClient) error
}

// mutations returns a call of every restricted method of the owner, in an
// order where each succeeds when allowed: create two batches, update the
// first, revoke the second, refresh.
func mutations(t *testing.T) []mutation {
	var first, second roles.BatchID
	id := func(cr *transport.CreateResult) roles.BatchID {
		d, err := cr.Header.Header.Digest()
		require.NoError(t, err)
		return d
	}
	return []mutation{
		{"create_batch", func(ctx context.Context, c transport.OwnerClient) error {
			sh, err := c.CreateBatch(ctx, trBatch("a", 4))
			if err == nil {
				first = id(sh)
				sh, err = c.CreateBatch(ctx, trBatch("b", 4))
			}
			if err == nil {
				second = id(sh)
			}
			return err
		}},
		{"update_batch", func(ctx context.Context, c transport.OwnerClient) error {
			_, err := c.Update(ctx, first, trBatch("a", 5))
			return err
		}},
		{"revoke_batch", func(ctx context.Context, c transport.OwnerClient) error {
			_, err := c.Revoke(ctx, second)
			return err
		}},
		{"refresh", func(ctx context.Context, c transport.OwnerClient) error {
			_, err := c.Refresh(ctx)
			return err
		}},
		{"rotate_key", func(ctx context.Context, c transport.OwnerClient) error {
			_, err := c.RotateKey(ctx)
			return err
		}},
	}
}

// writeTokenFile writes a token file (mode 0600) and returns its path.
func writeTokenFile(t *testing.T, dir, tok string) string {
	t.Helper()
	p := filepath.Join(dir, "owner.token")
	tmp := p + ".tmp"
	require.NoError(t, os.WriteFile(tmp, []byte(tok+"\n"), 0o600))
	require.NoError(t, os.Rename(tmp, p))
	return p
}

func newToken(t *testing.T) string {
	t.Helper()
	tok, err := transport.NewToken()
	require.NoError(t, err)
	return tok
}

// Every restricted method over HTTP is refused without the token, with a
// wrong token of the same length and with a token of another length, and
// accepted with the right one; the reads stay public.
func TestFinding1RestrictedMethodsNeedTheToken(t *testing.T) {
	ctx := context.Background()
	d := newTrDeployment(t)
	tok := newToken(t)
	auth, err := transport.NewTokenAuthorizer(writeTokenFile(t, t.TempDir(), tok))
	require.NoError(t, err)
	log, logs := newTrLogger()
	addr := "http://" + trServeHTTP(t, []*transport.Service{transport.OwnerService(d.owner, nil)},
		transport.WithAuthorizer(auth), transport.WithLogger(log))

	wrongSame := strings.Repeat("x", len(tok))
	wrongLen := tok + "x"
	refused := map[string]transport.OwnerClient{
		"no token":            {T: trDial(t, addr)},
		"wrong token":         {T: trDial(t, addr, transport.WithBearerToken(wrongSame))},
		"longer token":        {T: trDial(t, addr, transport.WithBearerToken(wrongLen))},
		"token prefix":        {T: trDial(t, addr, transport.WithBearerToken(tok[:len(tok)-1]))},
		"empty bearer header": {T: trDial(t, addr, transport.WithBearerToken(" "))},
	}
	good := transport.OwnerClient{T: trDial(t, addr, transport.WithBearerToken(tok))}
	for _, m := range mutations(t) {
		for how, c := range refused {
			err := m.call(ctx, c)
			require.ErrorIs(t, err, vds.ErrUnauthorized, "%s with %s", m.name, how)
		}
		require.NoError(t, m.call(ctx, good), "%s with the token", m.name)
	}
	// Reads need nothing.
	_, err = refused["no token"].LatestState(ctx)
	require.NoError(t, err)
	_, err = refused["no token"].Health(ctx)
	require.NoError(t, err)

	// The refusals are logged with the peer, and without any token.
	out := logs.String()
	require.Contains(t, out, "refused")
	require.Contains(t, out, "127.0.0.1:")
	require.Contains(t, out, "method=create_batch")
	require.Contains(t, out, "token_presented=true")
	require.Contains(t, out, "token_presented=false")
	for _, secret := range []string{tok, wrongSame, wrongLen, tok[:len(tok)-1]} {
		require.NotContains(t, out, secret)
	}

	// On the wire: 401 with a WWW-Authenticate challenge.
	req, err := http.NewRequest(http.MethodPost, addr+"/v1/owner/refresh", strings.NewReader("\xa0"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", transport.ContentType)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	require.Contains(t, res.Header.Get("WWW-Authenticate"), "Bearer")
}

// Without an authorizer, a server refuses restricted methods over plain
// HTTP and admits them over mutual TLS, on a Unix socket and in-process.
func TestFinding1DefaultPolicy(t *testing.T) {
	ctx := context.Background()
	d := newTrDeployment(t)
	svc := []*transport.Service{transport.OwnerService(d.owner, nil)}

	plain := transport.OwnerClient{T: trDial(t, "http://"+trServeHTTP(t, svc))}
	_, err := plain.CreateBatch(ctx, trBatch("p", 2))
	require.ErrorIs(t, err, vds.ErrUnauthorized)

	pki, err := devpki.Write(t.TempDir())
	require.NoError(t, err)
	stc, err := transport.ServerTLS(pki.Certs["owner"], pki.Keys["owner"], pki.CA)
	require.NoError(t, err)
	ctc, err := transport.ClientTLS(pki.CA, pki.Certs["admin"], pki.Keys["admin"])
	require.NoError(t, err)
	mtls := transport.OwnerClient{T: trDial(t, "https://"+trServeHTTP(t, svc, transport.WithTLS(stc)), transport.WithTLS(ctc))}
	_, err = mtls.CreateBatch(ctx, trBatch("m", 2))
	require.NoError(t, err, "a verified client certificate of the admin role is the owner's credential")

	// TLS without a client certificate is not enough.
	srvOnly := stc.Clone()
	srvOnly.ClientAuth, srvOnly.ClientCAs = tls.NoClientCert, nil
	noCert, err := transport.ClientTLS(pki.CA, "", "")
	require.NoError(t, err)
	tlsOnly := transport.OwnerClient{T: trDial(t, "https://"+trServeHTTP(t, svc, transport.WithTLS(srvOnly)), transport.WithTLS(noCert))}
	_, err = tlsOnly.CreateBatch(ctx, trBatch("t", 2))
	require.ErrorIs(t, err, vds.ErrUnauthorized)

	unix := transport.OwnerClient{T: trDial(t, trServeUnix(t, svc))}
	_, err = unix.CreateBatch(ctx, trBatch("u", 2))
	require.NoError(t, err, "the Unix socket's mode is the check")

	inproc := transport.OwnerClient{T: transport.NewInProc(svc)}
	_, err = inproc.CreateBatch(ctx, trBatch("i", 2))
	require.NoError(t, err)

	// The token authorizer admits verified certificates and Unix peers too.
	auth, err := transport.NewTokenAuthorizer(writeTokenFile(t, t.TempDir(), newToken(t)))
	require.NoError(t, err)
	mtls = transport.OwnerClient{T: trDial(t, "https://"+trServeHTTP(t, svc, transport.WithTLS(stc), transport.WithAuthorizer(auth)), transport.WithTLS(ctc))}
	_, err = mtls.CreateBatch(ctx, trBatch("m2", 2))
	require.NoError(t, err)
	unix = transport.OwnerClient{T: trDial(t, trServeUnix(t, svc, transport.WithAuthorizer(auth)))}
	_, err = unix.CreateBatch(ctx, trBatch("u2", 2))
	require.NoError(t, err)
}

// A rotated token takes effect without a restart: the old one is refused,
// the new one accepted.
func TestFinding1TokenRotation(t *testing.T) {
	ctx := context.Background()
	d := newTrDeployment(t)
	dir := t.TempDir()
	old := newToken(t)
	auth, err := transport.NewTokenAuthorizer(writeTokenFile(t, dir, old))
	require.NoError(t, err)
	addr := "http://" + trServeHTTP(t, []*transport.Service{transport.OwnerService(d.owner, nil)}, transport.WithAuthorizer(auth))
	oldC := transport.OwnerClient{T: trDial(t, addr, transport.WithBearerToken(old))}
	_, err = oldC.Refresh(ctx)
	require.NoError(t, err)

	fresh := newToken(t)
	writeTokenFile(t, dir, fresh)
	newC := transport.OwnerClient{T: trDial(t, addr, transport.WithBearerToken(fresh))}
	// The file is looked at again at most once a second.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err = oldC.Refresh(ctx)
		if errors.Is(err, vds.ErrUnauthorized) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.ErrorIs(t, err, vds.ErrUnauthorized, "the old token still works after the rotation")
	_, err = newC.Refresh(ctx)
	require.NoError(t, err)

	// A token file too short to be a token is refused at start.
	_, err = transport.NewTokenAuthorizer(writeTokenFile(t, t.TempDir(), "short"))
	require.ErrorIs(t, err, vds.ErrInvalidInput)
}
