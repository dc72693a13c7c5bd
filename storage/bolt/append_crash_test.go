package bolt_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
)

// Environment of the child of TestAppendCrashSteps: the directory of the
// CRS and the two store files (its presence makes the test binary the
// child), the pinned CRS digest, and the step to be killed at.
const (
	appCrashEnv     = "VDS_BOLT_APPEND_CRASH_CHILD"
	appCrashCRSEnv  = "VDS_BOLT_APPEND_CRASH_CRS"
	appCrashStepEnv = "VDS_BOLT_APPEND_CRASH_STEP"
	appStream       = "live"
	appRows         = 8 // rows per batch
)

var appSchema = []roles.ColumnInfo{{Name: "v"}}

// The steps of a row's life the child is killed at, and how many rows the
// restarted owner finds pending (acknowledged, not in a committed batch).
var appSteps = map[string]int{
	"buffered":                3,       // rows acknowledged, no seal begun
	"sealing":                 appRows, // the seal's commitments done, its bbolt transaction not begun
	"sealed-not-stored":       0,       // committed with the rows' removal; the storage server not told
	"stored-not-acknowledged": 0,       // the storage server stored it; the owner never heard back
}

// TestAppendCrashSteps runs a DataOwner with an Appender and a storage
// server, each on its own bbolt file, in a child process, and SIGKILLs it
// at each step of a row's life (appSteps). The parent reopens both files:
// every row the child acknowledged is pending or in exactly one batch, the
// restarted owner seals the pending ones once, the storage server ends up
// with every batch once, and a verified stream query over all of it counts
// every acknowledged row with its total.
func TestAppendCrashSteps(t *testing.T) {
	if dir := os.Getenv(appCrashEnv); dir != "" {
		if err := appCrashChild(dir, os.Getenv(appCrashStepEnv)); err != nil {
			fmt.Printf("ERR %v\n", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	crs, err := commitment.Setup(16, rand.Reader)
	require.NoError(t, err)
	for step, pending := range appSteps {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			f, err := os.Create(filepath.Join(dir, "crs"))
			require.NoError(t, err)
			_, err = crs.WriteTo(f)
			require.NoError(t, err)
			require.NoError(t, f.Close())
			acked := appRunChild(t, dir, crs.Digest(), step)

			ctx := context.Background()
			ostore, err := bolt.Open(filepath.Join(dir, "owner.db"))
			require.NoError(t, err)
			defer ostore.Close()
			sstore, err := bolt.Open(filepath.Join(dir, "server.db"))
			require.NoError(t, err)
			defer sstore.Close()
			l, err := roles.NewLocal(ctx, crs, ostore, sstore) // syncs what the server lacks
			require.NoError(t, err)
			a, err := l.Owner.Appender(ctx, appStream, appSchema, roles.AppendPolicy{MaxRows: appRows})
			require.NoError(t, err)
			require.Equal(t, pending, a.Pending(), "rows pending after the kill")
			last := acked[len(acked)-1]
			require.ErrorIs(t, a.Append(ctx, last, 0), roles.ErrNotIncreasing, "the last acknowledged row is known")
			require.NoError(t, a.Append(ctx, last+1, appValue(last+1)))
			require.NoError(t, a.Close(ctx))
			acked = append(acked, last+1)

			var want int64
			for _, ts := range acked {
				want += appValue(ts)
			}
			res, err := l.QueryStream(ctx, &roles.StreamQuery{Stream: appStream, Kind: roles.QueryWindow, Columns: []string{"v"}, TimeTo: math.MaxUint64})
			require.NoError(t, err)
			require.Equal(t, uint64(len(acked)), res.Rows, "every acknowledged row, once")
			require.Equal(t, want, res.Totals[0].Int.Int64())
			require.NoError(t, roles.CheckEntries(0, l.Owner.StreamEntries(appStream)))
			infos, err := l.Server.ListBatches(ctx, appStream)
			require.NoError(t, err)
			var held int
			for _, in := range infos {
				held += int(in.Rows)
			}
			require.Equal(t, len(acked), held, "the storage server holds every row once")
		})
	}
}

func appValue(ts uint64) int64 { return int64(ts*7%100) - 30 }

// appRunChild runs the child for one step, SIGKILLs it once it reports
// the step, and returns the timestamps it acknowledged.
func appRunChild(t *testing.T, dir string, digest commitment.Digest, step string) []uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestAppendCrashSteps$", "-test.count=1")
	cmd.Env = append(os.Environ(), appCrashEnv+"="+dir, appCrashCRSEnv+"="+digest.String(), appCrashStepEnv+"="+step)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var acked []uint64
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "ERR "):
			t.Fatalf("child: %s", line)
		case strings.HasPrefix(line, "ACK "):
			ts, err := strconv.ParseUint(strings.TrimPrefix(line, "ACK "), 10, 64)
			require.NoError(t, err)
			acked = append(acked, ts)
		case line == "STEP "+step:
			require.NoError(t, cmd.Process.Kill())
			_ = cmd.Wait()
			require.NotEmpty(t, acked)
			return acked
		}
	}
	t.Fatalf("the child ended without reaching step %s", step)
	return nil
}

// appHooks holds the child until it is killed at its step, once every
// acknowledgement is printed (printed is closed).
type appHooks struct {
	step    string
	armed   atomic.Bool
	printed chan struct{}
}

func (h *appHooks) at(step string) {
	if h.armed.Load() && h.step == step {
		<-h.printed
		fmt.Printf("STEP %s\n", step)
		time.Sleep(time.Minute) // killed here
	}
}

// hookStore is the owner's bbolt store with a hook before each seal.
type hookStore struct {
	*bolt.Store
	h *appHooks
}

func (s hookStore) SealRows(ctx context.Context, tx *roles.OwnerTx, stream string, through uint64) error {
	if tx != nil {
		s.h.at("sealing")
	}
	return s.Store.SealRows(ctx, tx, stream, through)
}

// hookLink is the owner's storage client, with hooks around store_batch.
type hookLink struct {
	roles.StorageClient
	h *appHooks
}

func (l hookLink) StoreBatch(ctx context.Context, r *roles.StoreBatchRequest) error {
	l.h.at("sealed-not-stored")
	err := l.StorageClient.StoreBatch(ctx, r)
	if err == nil {
		l.h.at("stored-not-acknowledged")
	}
	return err
}

// lateLink is a storage client whose server is set after the owner exists.
type lateLink struct{ roles.StorageClient }

func appCrashChild(dir, step string) error {
	ctx := context.Background()
	if _, ok := appSteps[step]; !ok {
		return fmt.Errorf("unknown step %q", step)
	}
	digest, err := commitment.ParseDigest(os.Getenv(appCrashCRSEnv))
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
	ostore, err := bolt.Open(filepath.Join(dir, "owner.db"))
	if err != nil {
		return err
	}
	sstore, err := bolt.Open(filepath.Join(dir, "server.db"))
	if err != nil {
		return err
	}
	h := &appHooks{step: step, printed: make(chan struct{})}
	link := &lateLink{}
	o, err := roles.NewDataOwner(ctx, crs, hookStore{ostore, h}, hookLink{link, h})
	if err != nil {
		return err
	}
	srv, err := roles.NewStorageServer(crs, o.Keys(), sstore, roles.WithoutPrecompute())
	if err != nil {
		return err
	}
	link.StorageClient = srv
	if err := o.Sync(ctx); err != nil {
		return err
	}
	a, err := o.Appender(ctx, appStream, appSchema, roles.AppendPolicy{MaxRows: appRows})
	if err != nil {
		return err
	}
	ts := uint64(100)
	appendOne := func() error {
		ts++
		if err := a.Append(ctx, ts, appValue(ts)); err != nil {
			return err
		}
		fmt.Printf("ACK %d\n", ts)
		return nil
	}
	// A first batch sealed and stored without hooks.
	for range appRows {
		if err := appendOne(); err != nil {
			return err
		}
	}
	if err := a.Flush(ctx); err != nil {
		return err
	}
	h.armed.Store(true)
	n := appRows
	if step == "buffered" {
		n = appSteps[step]
	}
	for range n {
		if err := appendOne(); err != nil {
			return err
		}
	}
	close(h.printed)
	if step == "buffered" {
		h.at("buffered")
	}
	time.Sleep(time.Minute) // the hooks of the background seal report the step
	return fmt.Errorf("not killed at step %s", step)
}
