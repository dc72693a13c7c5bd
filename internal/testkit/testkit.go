// Package testkit holds helpers that tests of several packages share. It is
// test support: nothing outside a _test.go file imports it.
package testkit

import (
	"context"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

type crsEntry struct {
	once sync.Once
	crs  *commitment.CRS
	err  error
}

var crsCache sync.Map // int → *crsEntry

// CRS returns a CRS of capacity n made with a fresh random trapdoor, the
// same one for every call with that n in this test binary (a set-up is the
// slow part of most tests). A failed set-up fails the calling test.
func CRS(tb testing.TB, n int) *commitment.CRS {
	tb.Helper()
	e, _ := crsCache.LoadOrStore(n, &crsEntry{})
	ce := e.(*crsEntry)
	ce.once.Do(func() { ce.crs, ce.err = commitment.Setup(n, rand.Reader) })
	if ce.err != nil {
		tb.Fatalf("testkit: set up a CRS of capacity %d: %v", n, ce.err)
	}
	return ce.crs
}

// LoadPublic reads what `vds setup` wrote for verifiers into dir — the CRS
// (crs.bin, pinned to the digest in crs.digest) and the owner's public keys
// (owner-keys.cbor, checked) — failing the test on any error.
func LoadPublic(tb testing.TB, dir string) (*commitment.CRS, roles.OwnerKeys) {
	tb.Helper()
	d, err := os.ReadFile(filepath.Join(dir, "crs.digest"))
	require.NoError(tb, err)
	digest, err := commitment.ParseDigest(strings.TrimSpace(string(d)))
	require.NoError(tb, err)
	f, err := os.Open(filepath.Join(dir, "crs.bin"))
	require.NoError(tb, err)
	defer f.Close()
	crs, err := commitment.Load(f, commitment.WithPinnedDigest(digest))
	require.NoError(tb, err)
	var keys roles.OwnerKeys
	b, err := os.ReadFile(filepath.Join(dir, "owner-keys.cbor"))
	require.NoError(tb, err)
	require.NoError(tb, codec.Default().Unmarshal(b, &keys))
	require.NoError(tb, keys.Check())
	return crs, keys
}

// FreeAddr returns a 127.0.0.1 address whose port was free a moment ago,
// for a server a test starts in another process.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	a := ln.Addr().String()
	require.NoError(tb, ln.Close())
	return a
}

// Serve serves srv until the test ends, then checks that it shut down
// cleanly, and returns its address.
func Serve(tb testing.TB, srv *transport.HTTPServer) string {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	tb.Cleanup(func() { cancel(); require.NoError(tb, <-done) })
	return srv.Addr()
}
