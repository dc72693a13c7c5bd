//go:build linux

package cli

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/hash"
	"github.com/vdsproject/vds/internal/testkit"
	"github.com/vdsproject/vds/internal/testproc"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
	"github.com/vdsproject/vds/transport"
)

// TestKeyRotateProcess: `vds key rotate` against running servers on Unix
// sockets. The owner hands its signing over to a new key; a revocation
// signed by the new key is enforced; batches signed before the rotation
// stay answerable; a second verifier configured with the old public keys
// only, not running during the rotation, starts afterwards, catches up
// through the chain and verifies; states signed by the retired key after
// the rotation are refused by the verifiers and the storage server; the
// restarted owner signs with the new key.
func TestKeyRotateProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	ctx := context.Background()
	bin := testproc.Build(t)
	dir, pub := t.TempDir(), t.TempDir()
	sock := func(name string) string { return "unix://" + filepath.Join(dir, name) }
	c := &streamCLI{t: t, bin: bin, dir: dir, addr: []string{
		"-owner", sock("o.sock"), "-storage", sock("s.sock"), "-verifier", sock("v.sock"),
	}}
	c.ok("setup", "-n", "64", "-q", "-public-dir", pub)

	// The old key, read the way only the owner's host can: to forge with it
	// after it is retired (a leaked old key).
	ostore, err := bolt.Open(filepath.Join(dir, ownerDB))
	require.NoError(t, err)
	sec, err := ostore.Secrets(ctx)
	require.NoError(t, err)
	require.NoError(t, ostore.Close())
	oldKey := ed25519.NewKeyFromSeed(sec.SigningSeed)
	oldSeedHex := hex.EncodeToString(sec.SigningSeed)
	oldID := roles.KeyID(oldKey.Public().(ed25519.PublicKey))

	c.ok("start")
	t.Cleanup(func() { c.run("stop") })
	file := filepath.Join(dir, "w.csv")
	jan := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	weather(t, file, jan, jan.AddDate(0, 0, 5), 1)
	c.ok("ingest", "-file", file, "-stream", "paris", "-time-col", "time", "-cols", "temp,dew")
	l := c.list()
	require.GreaterOrEqual(t, len(l.Batches), 2)
	kept, gone := l.Batches[0].ID, l.Batches[1].ID

	// The second verifier: the public files of setup only, running before
	// the rotation, then stopped.
	v2 := []string{"verifier", "serve", "-dir", pub, "-listen", sock("v2.sock"), "-owner", sock("o.sock"), "-storage", sock("s.sock")}
	p := testproc.Start(t, bin, v2...)
	waitUp(t, sock("v2.sock"), transport.ServiceVerifier)
	queryOK := func(verifier, id string) {
		t.Helper()
		var q queryJSON
		c.json(&q, "query", "-verifier", verifier, "-batch", id, "-kind", "range", "-cols", "temp")
		require.True(t, q.Verified)
	}
	queryRefused := func(verifier, id string) string {
		t.Helper()
		out, errOut, code := c.run("query", "-verifier", verifier, "-batch", id, "-kind", "range", "-cols", "temp")
		require.NotZero(t, code, "query of %s through %s: %s", id, verifier, out)
		return errOut
	}
	queryOK(sock("v2.sock"), kept)
	require.NoError(t, p.Stop())

	// Rotate.
	rotate := func(args ...string) string {
		t.Helper()
		out, err := testproc.Run(bin, append(append([]string{"key", "rotate", "-dir", dir}, c.addr...), args...)...)
		require.NoError(t, err, out)
		return out
	}
	var kr keyRotateJSON
	require.NoError(t, json.Unmarshal([]byte(rotate("-json")), &kr))
	require.Equal(t, oldID, kr.OldKeyID)
	require.NotEqual(t, oldID, kr.NewKeyID)
	require.Equal(t, 1, kr.Handover)
	out := rotate()
	require.NotContains(t, out, oldSeedHex, "key rotate prints no key bytes")
	require.Contains(t, out, "old key "+kr.NewKeyID, "a second rotation chains from the first")
	var st stateJSON
	c.json(&st, "state")
	newID := st.Owner.KeyID
	require.Contains(t, out, "new key "+newID)
	require.NotContains(t, []string{oldID, kr.NewKeyID}, newID)

	// A revocation signed by the new key, enforced by the running verifier;
	// a batch signed before the rotation stays answerable.
	c.ok("revoke", "-batch", gone)
	c.json(&st, "state")
	require.Equal(t, newID, st.Owner.KeyID)
	require.Equal(t, uint64(1), st.Owner.Epoch)
	queryOK(sock("v.sock"), kept)
	require.Contains(t, queryRefused(sock("v.sock"), gone), "revoked")
	feb := jan.AddDate(0, 1, 0)
	weather(t, file, feb, feb.AddDate(0, 0, 1), 2)
	c.ok("ingest", "-file", file, "-stream", "paris", "-time-col", "time", "-cols", "temp,dew")
	fresh := newBatch(t, l, c.list())
	sc, closeSC := storageClient(t, sock("s.sock"))
	defer closeSC()
	requireKid(t, sc, fresh, newID)
	requireKid(t, sc, kept, oldID)
	queryOK(sock("v.sock"), fresh)

	// The verifier that was offline during the rotation, with the old
	// public keys only, catches up from the chain.
	p = testproc.Start(t, bin, v2...)
	waitUp(t, sock("v2.sock"), transport.ServiceVerifier)
	queryOK(sock("v2.sock"), fresh)
	queryOK(sock("v2.sock"), kept)
	require.Contains(t, queryRefused(sock("v2.sock"), gone), "revoked")

	// The retired key, leaked, signs the latest state again later: the
	// verifiers and the storage server refuse it.
	ot, err := transport.Dial(sock("o.sock"))
	require.NoError(t, err)
	defer ot.Close()
	latest, err := transport.OwnerClient{T: ot}.LatestState(ctx)
	require.NoError(t, err)
	for _, keys := range [][]roles.Handover{latest.Keys, nil} {
		forged := signState(t, latest, oldKey, latest.IssuedAt+1, keys)
		for _, v := range []string{"v.sock", "v2.sock"} {
			vt, err := transport.Dial(sock(v))
			require.NoError(t, err)
			err = transport.VerifierClient{T: vt}.AcceptState(ctx, forged)
			vt.Close()
			require.ErrorIs(t, err, roles.ErrBadSignature, v)
			require.ErrorContains(t, err, "retired", v)
		}
		err = sc.ApplyState(ctx, forged)
		require.ErrorIs(t, err, roles.ErrBadSignature, "storage")
	}
	held, err := sc.LatestState(ctx)
	require.NoError(t, err)
	require.Equal(t, newID, held.KeyID, "the storage server kept the owner's state")
	queryOK(sock("v2.sock"), fresh)

	// Restarted, the owner signs with the new key (from its store).
	require.NoError(t, p.Stop())
	closeSC()
	c.ok("stop")
	c.ok("start")
	c.ok("revoke", "-batch", kept)
	c.json(&st, "state")
	require.Equal(t, newID, st.Owner.KeyID)
	require.Equal(t, uint64(2), st.Owner.Epoch)
	require.Contains(t, queryRefused(sock("v.sock"), kept), "revoked")
	queryOK(sock("v.sock"), fresh)
	p = testproc.Start(t, bin, v2...)
	waitUp(t, sock("v2.sock"), transport.ServiceVerifier)
	queryOK(sock("v2.sock"), fresh)
	require.Contains(t, queryRefused(sock("v2.sock"), kept), "revoked")
}

// newBatch returns the id of a batch of after that before did not list.
func newBatch(t *testing.T, before, after listJSON) string {
	t.Helper()
	seen := map[string]bool{}
	for _, b := range before.Batches {
		seen[b.ID] = true
	}
	for _, b := range after.Batches {
		if !seen[b.ID] {
			return b.ID
		}
	}
	t.Fatal("no new batch")
	return ""
}

func storageClient(t *testing.T, addr string) (transport.StorageClient, func()) {
	t.Helper()
	tr, err := transport.Dial(addr)
	require.NoError(t, err)
	return transport.StorageClient{T: tr}, func() { tr.Close() }
}

// requireKid checks which key signed a stored batch's header.
func requireKid(t *testing.T, sc transport.StorageClient, id, kid string) {
	t.Helper()
	bid, err := roles.ParseBatchID(id)
	require.NoError(t, err)
	h, err := sc.Header(context.Background(), bid)
	require.NoError(t, err)
	require.Equal(t, kid, h.Header.KeyID, "header of %s", id)
}

// signState signs a copy of st with key at iat, carrying keys, as the
// owner signs a state (SPEC §6, §6.3).
func signState(t *testing.T, st *roles.SignedState, key ed25519.PrivateKey, iat int64, keys []roles.Handover) *roles.SignedState {
	t.Helper()
	c := *st
	c.IssuedAt, c.KeyID, c.Keys = iat, roles.KeyID(key.Public().(ed25519.PublicKey)), keys
	d, err := c.State.Digest()
	require.NoError(t, err)
	parts := [][]byte{d[:], hash.U64(uint64(c.IssuedAt)), []byte(c.KeyID),
		c.Head.Root[:], hash.U64(c.Head.Streams), hash.U64(c.Head.Entries)}
	if len(keys) > 0 {
		hs := make([][]byte, len(keys))
		for i := range keys {
			h := &keys[i]
			m := hash.Sum(hash.TagHandover, c.State.Owner[:], []byte(h.From), []byte(h.To.ID), h.To.Key,
				hash.U64(h.Epoch), hash.U64(uint64(h.At)))
			hs[i] = m[:]
		}
		m := hash.Sum(hash.TagHandover, hs...)
		parts = append(parts, m[:])
	}
	m := hash.Sum(hash.TagStateSig, parts...)
	c.Sig = ed25519.Sign(key, m[:])
	return &c
}

// TestKeyRotateToken: over TCP the owner's rotate_key needs the bearer
// token: `vds key rotate` with a wrong token is refused and changes
// nothing; with DIR/owner.token it rotates.
func TestKeyRotateToken(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := testproc.Build(t)
	dir := t.TempDir()
	owner := testkit.FreeAddr(t)
	c := &streamCLI{t: t, bin: bin, dir: dir, addr: []string{
		"-owner", owner, "-storage", "unix://" + filepath.Join(dir, "s.sock"), "-verifier", "unix://" + filepath.Join(dir, "v.sock"),
	}}
	c.ok("setup", "-n", "16", "-q")
	_, keys := testkit.LoadPublic(t, dir)
	c.ok("start")
	t.Cleanup(func() { c.run("stop") })
	waitUp(t, "http://"+owner, transport.ServiceOwner)

	wrong := filepath.Join(t.TempDir(), "wrong.token")
	require.NoError(t, writeToken(wrong))
	out, err := testproc.Run(bin, "key", "rotate", "-dir", dir, "-owner", owner, "-token-file", wrong)
	require.Error(t, err, out)
	require.Contains(t, out, "unauthorized")
	var st stateJSON
	c.json(&st, "state")
	require.Equal(t, keys.Signing[0].ID, st.Owner.KeyID, "a refused rotation changed the key")

	out, err = testproc.Run(bin, "key", "rotate", "-dir", dir, "-owner", owner, "-json")
	require.NoError(t, err, out)
	var kr keyRotateJSON
	require.NoError(t, json.Unmarshal([]byte(out), &kr), out)
	require.Equal(t, keys.Signing[0].ID, kr.OldKeyID)
	c.json(&st, "state")
	require.Equal(t, kr.NewKeyID, st.Owner.KeyID)
}
