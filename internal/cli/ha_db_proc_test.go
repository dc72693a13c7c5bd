//go:build linux

package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/testkit"
	"github.com/vdsproject/vds/internal/testproc"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// patroniSkip is the one line a test skipped for want of a cluster logs.
const patroniSkip = "Patroni tests skipped: VDS_TEST_PATRONI not set (source scripts/patroni; ./scripts/test does)"

// patroniDB creates a database of its own on the cluster of
// VDS_TEST_PATRONI and returns its multi-host DSN; it is dropped at the end.
func patroniDB(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("VDS_TEST_PATRONI")
	if admin == "" {
		t.Skip(patroniSkip)
	}
	var rnd [6]byte
	_, err := rand.Read(rnd[:])
	require.NoError(t, err)
	name := "vds_ha_" + hex.EncodeToString(rnd[:])
	sqlExec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		var err error
		for ctx.Err() == nil { // the cluster may be failing over
			var c *pgx.Conn
			if c, err = pgx.Connect(ctx, admin); err == nil {
				_, err = c.Exec(ctx, sql)
				_ = c.Close(ctx)
				if err == nil {
					return nil
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
		return err
	}
	require.NoError(t, sqlExec("CREATE DATABASE "+name))
	t.Cleanup(func() { _ = sqlExec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	// A standby replays the creation a little later, and a client that
	// meets "database does not exist" on the first host does not try the
	// next: wait until every node has it.
	for _, port := range strings.Split(os.Getenv("VDS_PATRONI_PG"), ",") {
		one := "postgres://postgres@127.0.0.1:" + port + "/" + name + "?sslmode=disable"
		require.Eventually(t, func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			c, err := pgx.Connect(ctx, one)
			if err != nil {
				return false
			}
			_ = c.Close(ctx)
			return true
		}, 30*time.Second, 50*time.Millisecond, "database %s on 127.0.0.1:%s", name, port)
	}
	return strings.Replace(admin, "/postgres?", "/"+name+"?", 1)
}

// patroniNode is one node of the scripts/patroni cluster.
type patroniNode struct {
	name string // n1, n2
	api  string // REST API port
}

func patroniNodes(t *testing.T) []patroniNode {
	apis := strings.Split(os.Getenv("VDS_PATRONI_API"), ",")
	require.Len(t, apis, 2, "VDS_PATRONI_API")
	return []patroniNode{{"n1", apis[0]}, {"n2", apis[1]}}
}

// role returns the node's role as its REST API says ("master" or
// "primary" for the primary, "replica"), or "" if it does not answer.
func (n patroniNode) role() string {
	c := http.Client{Timeout: time.Second}
	res, err := c.Get("http://127.0.0.1:" + n.api + "/patroni")
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	s := string(b)
	for _, r := range []string{"master", "primary", "replica", "standby_leader"} {
		if strings.Contains(s, `"role": "`+r+`"`) || strings.Contains(s, `"role":"`+r+`"`) {
			return r
		}
	}
	return ""
}

func (n patroniNode) primary() bool { r := n.role(); return r == "master" || r == "primary" }

// kill SIGKILLs the node's Patroni and its PostgreSQL server: the machine
// is gone.
func (n patroniNode) kill(t *testing.T) {
	dir := os.Getenv("VDS_PATRONI_DIR")
	pid := func(file string) int {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		p, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
		require.NoError(t, err)
		return p
	}
	pm := pid(filepath.Join(dir, n.name, "postmaster.pid"))
	require.NoError(t, syscall.Kill(pid(filepath.Join(dir, n.name+".pid")), syscall.SIGKILL))
	require.NoError(t, syscall.Kill(pm, syscall.SIGKILL))
}

// restart starts the node's Patroni again (as scripts/patroni's
// vds_patroni_run), detached: scripts/patroni stops it at the end.
func (n patroniNode) restart(t *testing.T) {
	dir := os.Getenv("VDS_PATRONI_DIR")
	args := []string{"sh", "-c", `echo $$ >"$0"; exec patroni "$1"`, filepath.Join(dir, n.name+".pid"), filepath.Join(dir, n.name+".yml")}
	if os.Geteuid() == 0 {
		args = append([]string{"runuser", "-u", "postgres", "--"}, args...)
	}
	log, err := os.OpenFile(filepath.Join(dir, n.name+".log"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	defer log.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	go func() { _ = cmd.Wait() }()
}

// TestPatroniFailover: two storage replicas share a database on the
// Patroni cluster, two owners (-lease) another, all on multi-host DSNs
// (target_session_attrs=read-write); clients are given every address. Under
// 32 clients of verified queries and a writer (creates and revokes through
// the owners):
//   - the PostgreSQL primary is SIGKILLed (Patroni and PostgreSQL): Patroni
//     promotes the synchronous standby, the stores reconnect by themselves;
//   - then the leading owner is SIGKILLed: the standby leads within the
//     lease plus one second.
//
// Every write acknowledged before, during and after is there afterwards
// (through each replica), the storage chain has one state per epoch, each
// linked to the one before, and the verifier's epoch never goes back. It
// logs, per phase, the failed calls and the longest time writes and reads
// were refused.
func TestPatroniFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	dsn := patroniDB(t)
	nodes := patroniNodes(t)
	// A cluster with its synchronous standby (an earlier test may have
	// killed and restarted a node).
	require.Eventually(t, func() bool {
		c := http.Client{Timeout: time.Second}
		res, err := c.Get("http://127.0.0.1:" + nodes[0].api + "/cluster")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return strings.Contains(string(b), `"sync_standby"`) && !strings.Contains(string(b), "creating replica")
	}, 90*time.Second, 200*time.Millisecond, "a primary and a synchronous standby")
	bin := testproc.Build(t)
	dir := t.TempDir()
	sock := func(name string) string { return "unix://" + filepath.Join(dir, name+".sock") }
	storages := sock("s1") + "," + sock("s2")
	owners := sock("oa") + "," + sock("ob")
	c := &streamCLI{t: t, bin: bin, dir: dir, addr: []string{"-owner", owners, "-verifier", sock("v"), "-storage", storages}}
	c.ok("setup", "-n", "64", "-q")
	for _, s := range []string{"s1", "s2"} {
		testproc.Start(t, bin, "storage", "serve", "-dir", dir, "-listen", sock(s), "-store", dsn, "-precompute=false")
		waitUp(t, sock(s), transport.ServiceStorage)
	}
	testproc.Start(t, bin, "verifier", "serve", "-dir", dir, "-owner", owners, "-storage", storages, "-listen", sock("v"))
	waitUp(t, sock("v"), transport.ServiceVerifier)
	ownerDSN := patroniDB(t)
	ownerProcs := map[string]*testproc.Proc{}
	for _, o := range []string{"oa", "ob"} {
		ownerProcs[o] = testproc.Start(t, bin, "owner", "serve", "-dir", dir, "-storage", storages, "-verifier", sock("v"), "-listen", sock(o),
			"-store", ownerDSN, "-lease", haLease.String(), "-lease-renew", "500ms", "-heartbeat", "1s")
		if o == "oa" {
			waitLeads(t, sock(o), 30*time.Second)
		}
	}
	waitUp(t, sock("ob"), transport.ServiceOwner)

	ctx := context.Background()
	crs, keys := testkit.LoadPublic(t, dir)
	ot, err := transport.DialFailover(transport.SplitAddrs(owners), transport.WithRetries(12, 200*time.Millisecond),
		transport.WithMaxBackoff(time.Second), transport.WithDownFor(time.Second), transport.WithTimeout(20*time.Second))
	require.NoError(t, err)
	defer ot.Close()
	owner := transport.OwnerClient{T: ot}
	dialStorage := func() transport.StorageClient {
		f, err := transport.DialFailover(transport.SplitAddrs(storages), transport.WithRetries(1, 50*time.Millisecond), transport.WithTimeout(10*time.Second))
		require.NoError(t, err)
		t.Cleanup(func() { f.Close() })
		return transport.StorageClient{T: f}
	}
	mkBatch := func(stream string, i int) *transport.NewBatch {
		t0 := uint64(1000 + 1000*i)
		return &transport.NewBatch{Stream: stream, Timestamps: []uint64{t0, t0 + 10, t0 + 20},
			Columns: []transport.ColumnValues{{Name: "v", Values: []int64{int64(i), int64(i) + 1, int64(i) + 2}}}}
	}
	// The batches the readers ask about (never revoked).
	var read []roles.BatchID
	for i := range 2 {
		r, err := owner.CreateBatch(ctx, mkBatch("read", i))
		require.NoError(t, err)
		id, err := r.Header.Header.Digest()
		require.NoError(t, err)
		read = append(read, id)
	}
	st0 := dialStorage()
	v, err := roles.NewVerifier(crs.VerifierKey(), keys, roles.WithTrustedSource(owner), roles.WithStateSource(st0), roles.WithoutMaxStateAge())
	require.NoError(t, err)

	var (
		stop             atomic.Bool
		promoted         atomic.Int64 // when the standby was seen primary
		verified, failed atomic.Int64
		wg               sync.WaitGroup
		gapMu            sync.Mutex
		lastRead         = time.Now()
		readGap          time.Duration
	)
	for i := range 32 {
		sc := dialStorage()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !stop.Load() && n < 100000; n++ {
				b, row := (i+n)%len(read), 1+(i+n)%3
				q := &roles.Query{Batch: read[b], Kind: roles.QueryPoint, Columns: []string{"v"}, Row: uint32(row)}
				ans, err := sc.Answer(ctx, q)
				var res *roles.Result
				if err == nil {
					res, err = v.Verify(ctx, q, ans)
				}
				if err != nil {
					failed.Add(1)
					time.Sleep(20 * time.Millisecond)
					continue
				}
				if got := res.Values[0].Int.Int64(); got != int64(b+row-1) {
					t.Errorf("verified %d, want %d", got, b+row-1)
					return
				}
				verified.Add(1)
				gapMu.Lock()
				readGap = max(readGap, time.Since(lastRead))
				lastRead = time.Now()
				gapMu.Unlock()
			}
		}()
	}

	// The writer: create a batch, revoke it; one at a time.
	type write struct {
		id      roles.BatchID
		revoked bool
	}
	var (
		acked          []write
		wFailed, wOK   int
		lastAck        = time.Now()
		longestRefusal time.Duration // the longest time between two acknowledged writes
		killedAt       time.Time
		recovered      bool // a write acknowledged after the standby was promoted
		promotedAt     time.Time
	)
	writeOnce := func(i int) {
		started := time.Now()
		ok := func() {
			wOK++
			longestRefusal = max(longestRefusal, time.Since(lastAck))
			lastAck = time.Now()
			if !promotedAt.IsZero() && started.After(promotedAt) {
				recovered = true
			}
		}
		bad := func() {
			wFailed++
			time.Sleep(100 * time.Millisecond)
		}
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		r, err := owner.CreateBatch(cctx, mkBatch("w", i))
		if err != nil {
			bad()
			return
		}
		ok()
		id, _ := r.Header.Header.Digest()
		acked = append(acked, write{id: id})
		if _, err := owner.Revoke(cctx, id); err != nil {
			bad()
			return
		}
		ok()
		acked[len(acked)-1].revoked = true
	}
	epochs := watchEpochs(t, sock("v"))
	i := 0
	phase := func(d time.Duration, until func() bool) {
		end := time.Now().Add(d)
		for time.Now().Before(end) || (until != nil && !until()) {
			require.Less(t, time.Since(end), 45*time.Second, "writes never came back")
			writeOnce(i)
			i++
		}
	}
	phase(3*time.Second, nil)
	var prim patroniNode
	for _, n := range nodes {
		if n.primary() {
			prim = n
		}
	}
	require.NotEmpty(t, prim.name, "a primary")
	killedAt = time.Now()
	prim.kill(t)
	t.Cleanup(func() { prim.restart(t) })
	var other patroniNode
	for _, n := range nodes {
		if n != prim {
			other = n
		}
	}
	go func() {
		for time.Since(killedAt) < 40*time.Second && !other.primary() {
			time.Sleep(100 * time.Millisecond)
		}
		promoted.Store(time.Now().UnixNano())
	}()
	phase(time.Second, func() bool {
		if p := promoted.Load(); p != 0 && promotedAt.IsZero() {
			promotedAt = time.Unix(0, p)
		}
		return recovered
	})
	phase(3*time.Second, nil)
	require.True(t, other.primary(), "Patroni promoted the standby")
	gapMu.Lock()
	t.Logf("DB: primary %s SIGKILLed; %s promoted %s later; writer: %d calls acknowledged, %d failed, longest time without an acknowledged write %s; readers (32): %d verified answers, %d failed calls, longest gap between verified answers %s",
		prim.name, other.name, promotedAt.Sub(killedAt).Round(time.Millisecond), wOK, wFailed, longestRefusal.Round(time.Millisecond),
		verified.Load(), failed.Load(), readGap.Round(time.Millisecond))
	readGap = 0
	gapMu.Unlock()
	verified.Store(0)
	failed.Store(0)
	wOK, wFailed, longestRefusal, recovered = 0, 0, 0, false

	// The same with the leading owner SIGKILLed.
	leader, standby := "oa", "ob"
	if !leads(sock(leader)) {
		leader, standby = standby, leader
	}
	require.True(t, leads(sock(leader)), "an owner leads")
	killedAt = time.Now()
	ownerProcs[leader].Kill()
	promotedAt = waitLeads(t, sock(standby), haLease+time.Second)
	phase(time.Second, func() bool { return recovered })
	phase(3*time.Second, nil)
	stop.Store(true)
	wg.Wait()
	t.Logf("owner: leader %s SIGKILLed; %s led %s later (lease %s); writer: %d calls acknowledged, %d failed, longest time without an acknowledged write %s; readers (32): %d verified answers, %d failed calls, longest gap between verified answers %s",
		leader, standby, promotedAt.Sub(killedAt).Round(time.Millisecond), haLease, wOK, wFailed, longestRefusal.Round(time.Millisecond),
		verified.Load(), failed.Load(), readGap.Round(time.Millisecond))
	got := epochs()
	for i := 1; i < len(got); i++ {
		require.GreaterOrEqual(t, got[i], got[i-1], "the verifier's epochs never go back")
	}
	require.NotEmpty(t, got)
	t.Logf("verifier: %d epoch samples, %d..%d", len(got), got[0], got[len(got)-1])

	// Every acknowledged write is there, read through each replica.
	for _, s := range []string{"s1", "s2"} {
		tr, err := transport.Dial(sock(s))
		require.NoError(t, err)
		sc := transport.StorageClient{T: tr}
		l, err := sc.ListBatches(ctx, "w")
		require.NoError(t, err)
		held := map[roles.BatchID]bool{}
		for _, b := range l {
			held[b.ID] = b.Revoked
		}
		for _, w := range acked {
			rv, ok := held[w.id]
			require.True(t, ok, "%s: acknowledged batch %s is missing", s, w.id.Short())
			if w.revoked {
				require.True(t, rv, "%s: acknowledged revocation of %s is missing", s, w.id.Short())
			}
		}
		tr.Close()
	}
	storageChain(t, sock("s1"))
	require.Positive(t, verified.Load())
	require.NotEmpty(t, acked)
}
