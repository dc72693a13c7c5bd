package transport_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/errs"
	"github.com/vdsproject/vds/transport"
)

// ErrUnauthorized travels as the code "unauthorized" and comes back as the
// same sentinel.
func TestUnauthorizedOnTheWire(t *testing.T) {
	err := fmt.Errorf("owner/refresh: %w", errs.ErrUnauthorized)
	w := transport.ToWire(err)
	require.Equal(t, "unauthorized", w.Code)
	require.ErrorIs(t, w.Err(), errs.ErrUnauthorized)
	require.NotErrorIs(t, w.Err(), errs.ErrUnavailable)
}

// A token authorizer admits the token of its file and the peers the
// default policy admits, and nothing else; a peer never prints its token.
func TestTokenAuthorizer(t *testing.T) {
	ctx := context.Background()
	tok, err := transport.NewToken()
	require.NoError(t, err)
	require.Len(t, tok, 43)
	path := filepath.Join(t.TempDir(), "tok")
	require.NoError(t, os.WriteFile(path, []byte("  "+tok+"\n"), 0o600))
	a, err := transport.NewTokenAuthorizer(path)
	require.NoError(t, err)

	var buf bytes.Buffer
	h := slog.NewTextHandler(&buf, nil)
	for _, c := range []struct {
		peer transport.Peer
		ok   bool
	}{
		{transport.Peer{Transport: transport.PeerInProc}, true},
		{transport.Peer{Transport: transport.PeerUnix}, true},
		{transport.Peer{Transport: transport.PeerHTTPS, CertSubject: "CN=op", Role: transport.RoleAdmin}, true},
		{transport.Peer{Transport: transport.PeerHTTPS, CertSubject: "CN=op"}, false},
		{transport.Peer{Transport: transport.PeerHTTPS, CertSubject: "CN=op", Role: transport.RoleOwner}, false},
		{transport.Peer{Transport: transport.PeerHTTP, Addr: "127.0.0.1:1"}, false},
		{transport.Peer{Transport: transport.PeerHTTPS, Addr: "127.0.0.1:1"}, false},
	} {
		err := a.Authorize(ctx, &c.peer, "owner", "refresh")
		if c.ok {
			require.NoError(t, err, c.peer.String())
		} else {
			require.ErrorIs(t, err, errs.ErrUnauthorized, c.peer.String())
		}
		require.ErrorIs(t, transport.DefaultAuthorizer.Authorize(ctx, &c.peer, "owner", "refresh"), map[bool]error{true: nil, false: errs.ErrUnauthorized}[c.ok])
	}
	// The transport sets the token from the request; a Peer built here
	// has none, so check the header path through a server instead.
	srv := transport.NewService("owner", &transport.Method{Name: "refresh", Restricted: true,
		NewRequest: func() any { return new(transport.Empty) },
		Serve:      func(context.Context, any) (any, error) { return &transport.Empty{}, nil }})
	base := startHTTP(t, []*transport.Service{srv}, transport.WithAuthorizer(a), transport.WithLogger(slog.New(h)))
	for tk, ok := range map[string]bool{tok: true, strings.ToUpper(tok): false, tok[1:]: false, tok + tok: false, "": false} {
		c, err := transport.NewHTTPClient(base, transport.WithBearerToken(tk), transport.WithRetries(0, 0))
		require.NoError(t, err)
		err = c.Call(ctx, "owner", "refresh", &transport.Empty{}, &transport.Empty{})
		if ok {
			require.NoError(t, err)
		} else {
			require.ErrorIs(t, err, errs.ErrUnauthorized)
		}
		c.Close()
	}
	require.Contains(t, buf.String(), "refused")
	require.NotContains(t, buf.String(), tok)
	require.NotContains(t, buf.String(), tok[1:])
}
