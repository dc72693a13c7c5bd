//go:build linux

package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/pgtest"
	"github.com/vdsproject/vds/internal/testproc"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// haLease is the owners' lease in the process tests: short, so that the
// tests are quick.
const haLease = 2 * time.Second

// TestOwnerStandby: two owner processes share one PostgreSQL owner store
// under a lease (-lease). The clients are given both (-owner a,b).
//   - The leader is SIGKILLed: the standby leads within the lease plus one
//     second; revocations acknowledged before are kept, and new ones go
//     through the same client command line.
//   - The new leader is frozen (SIGSTOP) past its lease: the other takes
//     over and revokes; the frozen one is woken (SIGCONT): it steps down,
//     and a revocation sent to it alone is refused (not_leader).
//   - Throughout, the storage server's chain has one state per epoch, each
//     linked to the one before, and the verifier's epoch only grows.
func TestOwnerStandby(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	dsn := pgtest.DSN(t)
	bin := testproc.Build(t)
	dir := t.TempDir()
	sock := func(name string) string { return "unix://" + filepath.Join(dir, name+".sock") }
	owners := sock("oa") + "," + sock("ob")
	c := &streamCLI{t: t, bin: bin, dir: dir, addr: []string{"-owner", owners, "-verifier", sock("v"), "-storage", sock("s")}}
	c.ok("setup", "-n", "64", "-q")
	testproc.Start(t, bin, "storage", "serve", "-dir", dir, "-listen", sock("s"))
	waitUp(t, sock("s"), transport.ServiceStorage)
	testproc.Start(t, bin, "verifier", "serve", "-dir", dir, "-owner", owners, "-storage", sock("s"), "-listen", sock("v"))
	waitUp(t, sock("v"), transport.ServiceVerifier)
	startOwner := func(name string) *testproc.Proc {
		return testproc.Start(t, bin, "owner", "serve", "-dir", dir, "-storage", sock("s"), "-verifier", sock("v"),
			"-listen", sock(name), "-store", dsn, "-lease", haLease.String(), "-lease-renew", "500ms", "-heartbeat", "1s")
	}
	a := startOwner("oa")
	waitLeads(t, sock("oa"), 30*time.Second)
	b := startOwner("ob")
	waitUp(t, sock("ob"), transport.ServiceOwner)
	require.False(t, leads(sock("ob")), "the second owner stands by")

	for i := range 4 {
		f := filepath.Join(dir, fmt.Sprintf("b%d.csv", i))
		t0 := 1000 + 1000*i
		require.NoError(t, os.WriteFile(f, []byte(fmt.Sprintf("timestamp,temp\n%d,21.5\n%d,21.8\n", t0, t0+60)), 0o600))
		require.Contains(t, c.ok("ingest", "-file", f, "-stream", "g", "-scale", "temp=1"), "1 new")
	}
	l := c.list()
	require.Len(t, l.Batches, 4)
	c.ok("revoke", "-batch", l.Batches[0].ID)

	// SIGKILL the leader.
	epochs := watchEpochs(t, sock("v"))
	killed := time.Now()
	a.Kill()
	took := waitLeads(t, sock("ob"), haLease+time.Second).Sub(killed)
	t.Logf("owner SIGKILLed: the standby led %s later (lease %s)", took.Round(time.Millisecond), haLease)
	c.ok("revoke", "-batch", l.Batches[1].ID)

	// Freeze the new leader past its lease; the other takes over.
	a = startOwner("oa")
	waitUp(t, sock("oa"), transport.ServiceOwner)
	require.NoError(t, b.Cmd.Process.Signal(syscall.SIGSTOP))
	frozen := time.Now()
	took = waitLeads(t, sock("oa"), haLease+time.Second).Sub(frozen)
	t.Logf("owner SIGSTOPped: the standby led %s later", took.Round(time.Millisecond))
	c.ok("revoke", "-batch", l.Batches[2].ID)
	require.NoError(t, b.Cmd.Process.Signal(syscall.SIGCONT))
	// Whatever the woken owner does, nothing of it is accepted.
	only := &streamCLI{t: t, bin: bin, dir: dir, addr: []string{"-owner", sock("ob"), "-verifier", sock("v"), "-storage", sock("s")}}
	_, errOut, code := only.run("revoke", "-batch", l.Batches[3].ID)
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, "not the leading owner")
	require.Eventually(t, func() bool { return !leads(sock("ob")) }, 5*time.Second, 50*time.Millisecond)
	c.ok("revoke", "-batch", l.Batches[3].ID)

	l = c.list()
	for _, bj := range l.Batches {
		require.True(t, *bj.Revoked, "batch %s: every acknowledged revocation is kept", bj.ID)
	}
	chain := storageChain(t, sock("s"))
	require.Equal(t, uint64(4), chain[len(chain)-1].State.Epoch)
	// The owner pushes new states after its mutation returns (in order,
	// per listener), so the verifier may hold epoch 4 a moment later.
	require.Eventually(t, func() bool { return verifierEpoch(sock("v")) == 4 }, 10*time.Second, 50*time.Millisecond,
		"the verifier reaches the last epoch")
	got := epochs()
	require.NotEmpty(t, got)
	for i := 1; i < len(got); i++ {
		require.GreaterOrEqual(t, got[i], got[i-1], "the verifier's epochs never go back")
	}
	require.Equal(t, uint64(4), got[len(got)-1])
	t.Logf("verifier epochs seen: %d samples, %d..%d", len(got), got[0], got[len(got)-1])
}

// verifierEpoch returns the epoch the verifier at addr holds (0 if it
// holds none or does not answer).
func verifierEpoch(addr string) uint64 {
	tr, err := transport.Dial(addr, transport.WithRetries(0, 0))
	if err != nil {
		return 0
	}
	defer tr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var h transport.Health
	if tr.Call(ctx, transport.ServiceVerifier, "health", &transport.Empty{}, &h) != nil || !h.HasEpoch {
		return 0
	}
	return h.Epoch
}

// leads reports whether the owner at addr leads: a standby refuses
// get_global_pk with not_leader.
func leads(addr string) bool {
	tr, err := transport.Dial(addr, transport.WithRetries(0, 0))
	if err != nil {
		return false
	}
	defer tr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = transport.OwnerClient{T: tr}.LatestState(ctx)
	return err == nil
}

// waitLeads waits until the owner at addr leads and returns when it did.
func waitLeads(t *testing.T, addr string, within time.Duration) time.Time {
	t.Helper()
	start := time.Now()
	for !leads(addr) {
		require.Less(t, time.Since(start), within, "%s leads", addr)
		time.Sleep(20 * time.Millisecond)
	}
	return time.Now()
}

// storageChain returns the storage server's states and checks the chain:
// one state per epoch from 0, each naming the digest of the one before.
func storageChain(t *testing.T, addr string) []roles.SignedState {
	t.Helper()
	tr, err := transport.Dial(addr)
	require.NoError(t, err)
	defer tr.Close()
	sc := transport.StorageClient{T: tr}
	ctx := context.Background()
	latest, err := sc.LatestState(ctx)
	require.NoError(t, err)
	sts, err := sc.States(ctx, 0, latest.State.Epoch)
	require.NoError(t, err)
	for i, st := range sts {
		require.Equal(t, uint64(i), st.State.Epoch)
		if i > 0 {
			d, err := sts[i-1].State.Digest()
			require.NoError(t, err)
			require.Equal(t, d, st.State.Prev, "epoch %d extends epoch %d", i, i-1)
		}
	}
	return sts
}

// watchEpochs samples the verifier's epoch (health) every 50 ms until the
// test ends or the returned function is called, which returns the samples.
func watchEpochs(t *testing.T, addr string) func() []uint64 {
	tr, err := transport.Dial(addr, transport.WithRetries(0, 0))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan []uint64)
	go func() {
		var got []uint64
		defer func() { done <- got }()
		for ctx.Err() == nil {
			var h transport.Health
			cctx, c := context.WithTimeout(ctx, time.Second)
			if tr.Call(cctx, transport.ServiceVerifier, "health", &transport.Empty{}, &h) == nil && h.HasEpoch {
				got = append(got, h.Epoch)
			}
			c()
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	var once []uint64
	stopped := false
	stop := func() []uint64 {
		if !stopped {
			stopped = true
			cancel()
			once = <-done
			tr.Close()
		}
		return once
	}
	t.Cleanup(func() { stop() })
	return stop
}
