package bolt_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
)

// Environment of the child of TestSystemCrash: the directory holding the
// CRS and the two store files (its presence makes the test binary the
// child), the pinned CRS digest, and the round, which keeps the seeds of
// each child apart.
const (
	sysCrashEnv      = "VDS_BOLTSTORE_SYSTEM_CRASH_CHILD"
	sysCrashCRSEnv   = "VDS_BOLTSTORE_SYSTEM_CRASH_CRS"
	sysCrashRoundEnv = "VDS_BOLTSTORE_SYSTEM_CRASH_ROUND"
	sysStream        = "sensors"
	sysN             = 16
)

// TestSystemCrash runs the whole system — a DataOwner and a StorageServer
// wired by roles.NewLocal, each on its own bolt file — in a child process
// that creates, revokes and updates batches in a loop and prints an
// acknowledgement after each call that returned nil. The parent kills the
// child with SIGKILL after a random number of acknowledgements, mid-operation,
// reopens both files (NewLocal syncs the owner's pending operations and
// missing states to the server) and checks that no acknowledged batch or
// revocation is lost, that no revoked batch is live again, that the owner's
// and the server's chains are the same, and that answers for live batches
// verify with the right sums while answers for revoked ones are refused.
// Later children continue on the same files; a last phase runs in the
// parent, closes cleanly, reopens and checks again.
//
// Only acknowledged work is asserted: an operation whose acknowledgement
// was not printed may have happened or not, but whatever is stored must be
// consistent.
func TestSystemCrash(t *testing.T) {
	if dir := os.Getenv(sysCrashEnv); dir != "" {
		if err := sysCrashChild(dir); err != nil {
			fmt.Printf("ERR %v\n", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	start := time.Now()
	dir := t.TempDir()
	crs, err := commitment.Setup(sysN, rand.Reader)
	require.NoError(t, err)
	f, err := os.Create(filepath.Join(dir, "crs"))
	require.NoError(t, err)
	_, err = crs.WriteTo(f)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	m := newSysModel()
	rounds := 2 + mrand.IntN(2)
	total := 0
	for round := range rounds {
		n := 15 + mrand.IntN(46)
		acks := sysRunChild(t, dir, crs.Digest(), round, n)
		total += len(acks)
		t.Logf("round %d: killed after %d acknowledgements (%d read in all)", round, n, len(acks))
		for _, a := range acks {
			m.apply(t, a)
		}
		sysLogReplay(t, dir, round)
		sys := sysOpen(t, dir, crs)
		sysCheck(t, sys, m, fmt.Sprintf("after kill %d", round))
		sys.close(t)
	}

	// A last phase in this process, closed cleanly.
	ctx := context.Background()
	sys := sysOpen(t, dir, crs)
	d, err := newSysDriver(ctx, sys.l, rounds)
	require.NoError(t, err)
	for range 12 {
		line, err := d.step(ctx)
		require.NoError(t, err)
		m.apply(t, sysParse(t, line))
		total++
	}
	sysCheck(t, sys, m, "before the clean close")
	sys.close(t)
	sys = sysOpen(t, dir, crs)
	sysCheck(t, sys, m, "after the clean close")
	sys.close(t)
	t.Logf("%d rounds, %d acknowledgements, %d batches created, %d revocations acknowledged, %v",
		rounds, total, len(m.order), len(m.revoked), time.Since(start).Round(time.Millisecond))
}

// sysSystem is the system on the two files.
type sysSystem struct {
	l      *roles.Local
	owner  *bolt.Store
	server *bolt.Store
}

func (s *sysSystem) close(t *testing.T) {
	t.Helper()
	require.NoError(t, s.owner.Close())
	require.NoError(t, s.server.Close())
}

func sysOpenStores(dir string, crs *commitment.CRS) (*sysSystem, error) {
	o, err := bolt.Open(filepath.Join(dir, "owner.db"), bolt.WithLockTimeout(5*time.Second))
	if err != nil {
		return nil, err
	}
	s, err := bolt.Open(filepath.Join(dir, "server.db"), bolt.WithLockTimeout(5*time.Second))
	if err != nil {
		_ = o.Close()
		return nil, err
	}
	l, err := roles.NewLocal(context.Background(), crs, o, s)
	if err != nil {
		_ = o.Close()
		_ = s.Close()
		return nil, err
	}
	return &sysSystem{l: l, owner: o, server: s}, nil
}

func sysOpen(t *testing.T, dir string, crs *commitment.CRS) *sysSystem {
	t.Helper()
	s, err := sysOpenStores(dir, crs)
	require.NoError(t, err, "reopen the system")
	return s
}

// sysLogReplay logs what the killed child left for Sync to replay: the
// owner's pending operations and the states the server lacks.
func sysLogReplay(t *testing.T, dir string, round int) {
	t.Helper()
	ctx := context.Background()
	o, err := bolt.Open(filepath.Join(dir, "owner.db"))
	require.NoError(t, err)
	defer func() { require.NoError(t, o.Close()) }()
	s, err := bolt.Open(filepath.Join(dir, "server.db"))
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	pending, err := o.Pending(ctx)
	require.NoError(t, err)
	ol, err := o.LatestState(ctx)
	require.NoError(t, err)
	sl, err := s.LatestState(ctx)
	require.NoError(t, err)
	require.LessOrEqual(t, sl.State.Epoch, ol.State.Epoch, "round %d: the server is ahead of the owner", round)
	t.Logf("round %d: left for Sync: %d pending operations, owner at epoch %d, server at %d",
		round, len(pending), ol.State.Epoch, sl.State.Epoch)
}

// sysBatch returns the batch of a seed: 1–8 rows from timestamp t0 on,
// strictly increasing, spanning at most 70, and three columns of random
// values (one schema for the stream, so that any batch can update any
// other).
func sysBatch(seed, t0 uint64) *roles.Batch {
	r := mrand.New(mrand.NewPCG(seed, 0x5eed))
	rows := 1 + r.IntN(8)
	b := &roles.Batch{Stream: sysStream, Timestamps: make([]uint64, rows)}
	t := t0
	for i := range rows {
		b.Timestamps[i] = t
		t += 1 + uint64(r.IntN(10))
	}
	for c := range 3 {
		col := roles.Column{Name: fmt.Sprintf("c%d", c), Scale: uint8(c), Values: make([]int64, rows)}
		for i := range col.Values {
			col.Values[i] = r.Int64N(2_000_001) - 1_000_000
		}
		b.Columns = append(b.Columns, col)
	}
	return b
}

// sysDriver drives the system: it creates a batch, revokes or updates a
// live one, and returns the acknowledgement line of what it did.
type sysDriver struct {
	l    *roles.Local
	rng  *mrand.Rand
	live []roles.BatchID
	next uint64 // the next timestamp
	seed uint64
}

// newSysDriver continues from what the server holds: the live batches and
// the last timestamp.
func newSysDriver(ctx context.Context, l *roles.Local, round int) (*sysDriver, error) {
	list, err := l.Server.ListBatches(ctx, "")
	if err != nil {
		return nil, err
	}
	d := &sysDriver{
		l:    l,
		rng:  mrand.New(mrand.NewPCG(uint64(round), uint64(time.Now().UnixNano()))),
		next: 1,
		seed: uint64(round+1) << 32,
	}
	for _, bi := range list {
		if !bi.Revoked {
			d.live = append(d.live, bi.ID)
		}
		d.next = max(d.next, bi.LastTime+sysGap)
	}
	return d, nil
}

// sysGap separates consecutive batches: more than a batch spans, so an
// update can reuse the old version's first timestamp and stay before the
// next batch (SPEC §11.1).
const sysGap = 100

func (d *sysDriver) batch() (*roles.Batch, uint64, uint64) {
	seed, t0 := d.seed, d.next
	d.seed++
	b := sysBatch(seed, t0)
	d.next = b.Timestamps[len(b.Timestamps)-1] + sysGap
	return b, seed, t0
}

func sysStateDigest(st *roles.SignedState) (string, error) {
	dg, err := st.State.Digest()
	return dg.String(), err
}

func (d *sysDriver) step(ctx context.Context) (string, error) {
	r := d.rng.IntN(20)
	switch {
	case r < 5 && len(d.live) > 0: // revoke
		k := d.rng.IntN(len(d.live))
		id := d.live[k]
		st, err := d.l.Owner.Revoke(ctx, id)
		if err != nil {
			return "", fmt.Errorf("Revoke %s: %w", id.Short(), err)
		}
		dg, err := sysStateDigest(st)
		if err != nil {
			return "", err
		}
		d.live = slices.Delete(d.live, k, k+1)
		return fmt.Sprintf("ACK revoke %s %d %s .\n", id, st.State.Epoch, dg), nil
	case r < 8 && len(d.live) > 0: // update
		k := d.rng.IntN(len(d.live))
		old := d.live[k]
		oh, err := d.l.Server.Header(ctx, old)
		if err != nil {
			return "", fmt.Errorf("Header %s: %w", old.Short(), err)
		}
		seed, t0 := d.seed, oh.Header.FirstTime // in the old version's place
		d.seed++
		b := sysBatch(seed, t0)
		sh, st, err := d.l.Owner.Update(ctx, old, b)
		if err != nil {
			return "", fmt.Errorf("Update %s: %w", old.Short(), err)
		}
		id, err := sh.Header.Digest()
		if err != nil {
			return "", err
		}
		dg, err := sysStateDigest(st)
		if err != nil {
			return "", err
		}
		d.live[k] = id
		return fmt.Sprintf("ACK update %s %d %s %s %d %d .\n", old, st.State.Epoch, dg, id, seed, t0), nil
	default: // create
		b, seed, t0 := d.batch()
		sh, err := d.l.Owner.CreateBatch(ctx, b)
		if err != nil {
			return "", fmt.Errorf("CreateBatch: %w", err)
		}
		id, err := sh.Header.Digest()
		if err != nil {
			return "", err
		}
		d.live = append(d.live, id)
		return fmt.Sprintf("ACK create %s %d %d .\n", id, seed, t0), nil
	}
}

// sysCrashChild opens the system on dir and drives it until it is killed
// (or for at most 30 s), printing one acknowledgement line, in one write,
// after each call that returned nil.
func sysCrashChild(dir string) error {
	ctx := context.Background()
	digest, err := commitment.ParseDigest(os.Getenv(sysCrashCRSEnv))
	if err != nil {
		return err
	}
	round, err := strconv.Atoi(os.Getenv(sysCrashRoundEnv))
	if err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(dir, "crs"))
	if err != nil {
		return err
	}
	crs, err := commitment.Load(f, commitment.WithPinnedDigest(digest))
	_ = f.Close()
	if err != nil {
		return err
	}
	sys, err := sysOpenStores(dir, crs)
	if err != nil {
		return fmt.Errorf("reopen: %w", err)
	}
	d, err := newSysDriver(ctx, sys.l, round)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		line, err := d.step(ctx)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(os.Stdout, line); err != nil {
			return err
		}
	}
	return errors.New("not killed within 30s")
}

// sysRunChild runs a child on dir, kills it with SIGKILL after n
// acknowledgements and returns every acknowledgement it printed in full
// before it died (n or a few more).
func sysRunChild(t *testing.T, dir string, digest commitment.Digest, round, n int) []sysAck {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSystemCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		sysCrashEnv+"="+dir,
		sysCrashCRSEnv+"="+digest.String(),
		sysCrashRoundEnv+"="+strconv.Itoa(round),
	)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()

	var acks []sysAck
	br := bufio.NewReader(out)
	read := func() (string, bool) {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return "", false // EOF; a line without its newline was not printed in full
			}
			if strings.HasPrefix(line, "ERR ") {
				t.Fatalf("child of round %d: %s", round, line)
			}
			if strings.HasPrefix(line, "ACK ") {
				return line, true
			}
		}
	}
	var first time.Time
	for len(acks) < n {
		line, ok := read()
		if !ok {
			t.Fatalf("child of round %d stopped after %d acknowledgements", round, len(acks))
		}
		if len(acks) == 0 {
			first = time.Now()
		}
		acks = append(acks, sysParse(t, line))
	}
	// Kill it at a random point of whatever comes next: somewhere within
	// the mean time between acknowledgements.
	mean := time.Since(first) / time.Duration(n-1)
	time.Sleep(time.Duration(mrand.Int64N(int64(mean) + 1)))
	require.NoError(t, cmd.Process.Kill())
	killed = true
	// Whatever it printed in full before dying is acknowledged too.
	for {
		line, ok := read()
		if !ok {
			break
		}
		acks = append(acks, sysParse(t, line))
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "child of round %d", round)
	require.False(t, ee.Exited(), "the child exited by itself: %v", err)
	return acks
}

// sysAck is one acknowledged operation.
type sysAck struct {
	op     string        // create, revoke, update
	id     roles.BatchID // created batch, or new version
	old    roles.BatchID // revoked batch, or old version
	epoch  uint64        // of the revoking state
	digest string        // of the revoking state
	seed   uint64        // of the created batch or new version
	t0     uint64        // its first timestamp
	line   string        // for messages
}

func sysParse(t *testing.T, line string) sysAck {
	t.Helper()
	f := strings.Fields(line)
	require.True(t, len(f) >= 3 && f[0] == "ACK" && f[len(f)-1] == ".", "acknowledgement %q", line)
	a := sysAck{op: f[1], line: strings.TrimSpace(line)}
	u := func(s string) uint64 {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "acknowledgement %q", line)
		return v
	}
	id := func(s string) roles.BatchID {
		v, err := roles.ParseBatchID(s)
		require.NoError(t, err, "acknowledgement %q", line)
		return v
	}
	switch {
	case a.op == "create" && len(f) == 6:
		a.id, a.seed, a.t0 = id(f[2]), u(f[3]), u(f[4])
	case a.op == "revoke" && len(f) == 6:
		a.old, a.epoch, a.digest = id(f[2]), u(f[3]), f[4]
	case a.op == "update" && len(f) == 9:
		a.old, a.epoch, a.digest = id(f[2]), u(f[3]), f[4]
		a.id, a.seed, a.t0 = id(f[5]), u(f[6]), u(f[7])
	default:
		t.Fatalf("unknown acknowledgement %q", line)
	}
	return a
}

// sysModel is what the parent knows was acknowledged.
type sysModel struct {
	batches map[roles.BatchID]sysAck // created batches and new versions
	order   []roles.BatchID
	revoked map[roles.BatchID]sysAck // acknowledged revocations (and old versions)
	states  map[uint64]sysAck        // acknowledged states by epoch
	epoch   uint64                   // highest acknowledged epoch
	answers map[roles.BatchID]*roles.Answer
}

func newSysModel() *sysModel {
	return &sysModel{
		batches: map[roles.BatchID]sysAck{},
		revoked: map[roles.BatchID]sysAck{},
		states:  map[uint64]sysAck{},
		answers: map[roles.BatchID]*roles.Answer{},
	}
}

func (m *sysModel) apply(t *testing.T, a sysAck) {
	t.Helper()
	if a.op == "create" || a.op == "update" {
		_, dup := m.batches[a.id]
		require.False(t, dup, "batch acknowledged twice: %s", a.line)
		m.batches[a.id] = a
		m.order = append(m.order, a.id)
	}
	if a.op == "revoke" || a.op == "update" {
		prev, dup := m.revoked[a.old]
		require.False(t, dup, "batch revoked twice: %s and %s", prev.line, a.line)
		prev, dup = m.states[a.epoch]
		require.False(t, dup, "epoch acknowledged twice: %s and %s", prev.line, a.line)
		m.revoked[a.old] = a
		m.states[a.epoch] = a
		m.epoch = max(m.epoch, a.epoch)
	}
}

// sysCheck checks the reopened system against the acknowledgements and
// for consistency.
func sysCheck(t *testing.T, sys *sysSystem, m *sysModel, stage string) {
	t.Helper()
	ctx := context.Background()

	// Everything pending was replayed.
	pending, err := sys.owner.Pending(ctx)
	require.NoError(t, err)
	require.Empty(t, pending, "%s: pending operations left after Sync", stage)

	// Same latest state, same chain.
	ol, err := sys.l.Owner.LatestState(ctx)
	require.NoError(t, err)
	sl, err := sys.l.Server.LatestState(ctx)
	require.NoError(t, err)
	e := ol.State.Epoch
	require.Equal(t, e, sl.State.Epoch, "%s: owner and server epochs", stage)
	require.GreaterOrEqual(t, e, m.epoch, "%s: an acknowledged revocation epoch was lost", stage)
	oc, err := sys.owner.States(ctx, 0, e)
	require.NoError(t, err, "%s: owner chain", stage)
	sc, err := sys.server.States(ctx, 0, e)
	require.NoError(t, err, "%s: server chain", stage)
	require.Len(t, oc, int(e+1))
	require.Len(t, sc, int(e+1))
	revokedBy := map[roles.BatchID]uint64{}
	for i := range oc {
		od, err := oc[i].State.Digest()
		require.NoError(t, err)
		sd, err := sc[i].State.Digest()
		require.NoError(t, err)
		require.Equal(t, od, sd, "%s: owner and server states of epoch %d differ", stage, i)
		require.Equal(t, uint64(i), oc[i].State.Epoch)
		if i == 0 {
			require.Nil(t, oc[0].State.Revoked)
			continue
		}
		prev, err := oc[i-1].State.Digest()
		require.NoError(t, err)
		require.Equal(t, prev, oc[i].State.Prev, "%s: link of epoch %d", stage, i)
		require.NotNil(t, oc[i].State.Revoked)
		b := oc[i].State.Revoked.Batch
		_, dup := revokedBy[b]
		require.False(t, dup, "%s: batch %s revoked twice", stage, b.Short())
		revokedBy[b] = uint64(i)
		if a, ok := m.states[uint64(i)]; ok {
			require.Equal(t, a.digest, od.String(), "%s: acknowledged state of epoch %d (%s)", stage, i, a.line)
			require.Equal(t, a.old, b, "%s: epoch %d revokes another batch than acknowledged (%s)", stage, i, a.line)
		}
	}
	od, err := ol.State.Digest()
	require.NoError(t, err)
	sd, err := sl.State.Digest()
	require.NoError(t, err)
	require.Equal(t, od, sd, "%s: latest states differ", stage)

	// Every stored batch — acknowledged or not — is consistent: its
	// revocation mark is the chain's, the owner has its record with the same
	// mark, and a slot holds at most one live batch.
	list, err := sys.server.List(ctx, "")
	require.NoError(t, err)
	stored := map[roles.BatchID]bool{}
	live := map[uint64]roles.BatchID{}
	for _, bi := range list {
		stored[bi.ID] = true
		require.Equal(t, sysStream, bi.Stream)
		_, re, err := sys.server.Header(ctx, bi.ID)
		require.NoError(t, err)
		require.Equal(t, revokedBy[bi.ID], re, "%s: revocation mark of stored batch %s", stage, bi.ID.Short())
		require.Equal(t, re != 0, bi.Revoked)
		rec, err := sys.owner.Record(ctx, bi.ID)
		require.NoError(t, err, "%s: the owner has no record of stored batch %s", stage, bi.ID.Short())
		require.Equal(t, revokedBy[bi.ID], rec.RevokedAt, "%s: owner's revocation mark of %s", stage, bi.ID.Short())
		require.Equal(t, [2]uint64{bi.Seq, uint64(bi.Version)}, [2]uint64{rec.Seq, uint64(rec.Version)})
		if !bi.Revoked {
			other, dup := live[bi.Seq]
			require.False(t, dup, "%s: two live batches at seq %d: %s and %s", stage, bi.Seq, other.Short(), bi.ID.Short())
			live[bi.Seq] = bi.ID
		}
	}
	for b, ep := range revokedBy {
		require.True(t, stored[b], "%s: batch %s revoked at epoch %d was never stored", stage, b.Short(), ep)
		rec, err := sys.owner.Record(ctx, b)
		require.NoError(t, err)
		require.Equal(t, ep, rec.RevokedAt, "%s: owner's revocation mark of %s", stage, b.Short())
	}

	// Every acknowledged revocation holds.
	for b, a := range m.revoked {
		_, re, err := sys.server.Header(ctx, b)
		require.NoError(t, err, "%s: revoked batch %s (%s)", stage, b.Short(), a.line)
		require.Equal(t, a.epoch, re, "%s: acknowledged revocation lost or moved (%s)", stage, a.line)
		require.Equal(t, a.epoch, revokedBy[b], "%s: (%s)", stage, a.line)
	}

	// Every acknowledged batch is stored; a live one answers with a proof
	// that verifies and the right sums, a revoked one is refused.
	for _, id := range m.order {
		a := m.batches[id]
		sh, err := sys.l.Server.Header(ctx, id)
		require.NoError(t, err, "%s: acknowledged batch lost (%s)", stage, a.line)
		hid, err := sh.Header.Digest()
		require.NoError(t, err)
		require.Equal(t, id, hid)
		b := sysBatch(a.seed, a.t0)
		cols := make([]string, len(b.Columns))
		for c := range b.Columns {
			cols[c] = b.Columns[c].Name
		}
		rows := len(b.Timestamps)
		from := 1 + mrand.IntN(rows)
		to := from + mrand.IntN(rows-from+1)
		q := &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: cols, From: uint32(from), To: uint32(to)}

		if re := revokedBy[id]; re != 0 {
			_, err := sys.l.Server.Answer(ctx, q)
			require.ErrorIs(t, err, roles.ErrRevoked, "%s: answer for batch %s revoked at epoch %d", stage, id.Short(), re)
			var rerr *roles.RevokedError
			require.ErrorAs(t, err, &rerr)
			require.Equal(t, re, rerr.Epoch)
			_, err = sys.l.Query(ctx, q)
			require.ErrorIs(t, err, roles.ErrRevoked)
			// An answer given while it was live is refused now.
			if old := m.answers[id]; old != nil {
				_, err := sys.l.Verifier.Verify(ctx, &old.Query, old)
				require.Error(t, err, "%s: an old answer for revoked batch %s verifies", stage, id.Short())
				require.True(t, errors.Is(err, roles.ErrRevoked) || errors.Is(err, roles.ErrStaleState),
					"%s: old answer for revoked batch %s: %v", stage, id.Short(), err)
				delete(m.answers, id)
			}
			continue
		}
		require.NotContains(t, m.revoked, id, "%s: acknowledged revoked batch %s is live", stage, id.Short())
		ans, err := sys.l.Server.Answer(ctx, q)
		require.NoError(t, err, "%s: answer for live batch %s (%s)", stage, id.Short(), a.line)
		require.Equal(t, e, ans.Epoch)
		res, err := sys.l.Verifier.Verify(ctx, q, ans)
		require.NoError(t, err, "%s: verify live batch %s (%s)", stage, id.Short(), a.line)
		require.Len(t, res.Values, len(cols))
		for c := range b.Columns {
			var want int64
			for i := from; i <= to; i++ {
				want += b.Columns[c].Values[i-1]
			}
			require.Equal(t, want, res.Values[c].Int.Int64(), "%s: sum of %s rows %d..%d of %s", stage, cols[c], from, to, id.Short())
			require.Equal(t, b.Columns[c].Scale, res.Values[c].Scale)
		}
		m.answers[id] = ans
	}
}
