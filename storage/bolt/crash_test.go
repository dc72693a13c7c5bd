package bolt_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
	"github.com/vdsproject/vds/storage/storetest"
)

// crashEnv tells the test binary to act as the crash test's child: its value
// is the store path.
const crashEnv = "VDS_BOLTSTORE_CRASH_CHILD"

// TestCrash runs a child process that changes a store in a loop and prints
// an acknowledgement after each call that returned nil, kills it with
// SIGKILL after a random number of acknowledgements, and checks that every
// acknowledged change is in the reopened file and that the file is
// consistent. Three rounds run on the same file, so later children start
// from a file whose writer was killed.
func TestCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.db")
	var acked []ack
	for round := range 3 {
		n := 20 + rand.IntN(41)
		got := runChild(t, path, n)
		acked = append(acked, got...)
		s, err := bolt.Open(path)
		require.NoError(t, err, "round %d: reopen after SIGKILL", round)
		checkAcked(t, s, acked)
		checkConsistent(t, s)
		require.NoError(t, s.Close())
	}
}

type ack struct {
	kind    string // batch, state, update, witness
	epoch   uint64
	digest  string // of the state
	revoked string // id revoked by the state
	id      string // batch stored, or witness owner
}

// runChild starts the child on path, reads n acknowledgements and kills it.
func runChild(t *testing.T, path string, n int) []ack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	var acks []ack
	sc := bufio.NewScanner(out)
	for len(acks) < n && sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "ERR ") {
			t.Fatalf("child: %s", line)
		}
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "ACK" {
			continue
		}
		a := ack{kind: f[1]}
		switch a.kind {
		case "batch":
			a.id = f[2]
		case "state", "update":
			a.epoch, err = strconv.ParseUint(f[2], 10, 64)
			require.NoError(t, err)
			a.digest, a.revoked = f[3], f[4]
			if a.kind == "update" {
				a.id = f[5]
			}
		case "witness":
			a.id = f[2]
			a.epoch, err = strconv.ParseUint(f[3], 10, 64)
			require.NoError(t, err)
		default:
			t.Fatalf("child: unknown acknowledgement %q", line)
		}
		acks = append(acks, a)
	}
	require.Len(t, acks, n, "the child stopped early: %v", sc.Err())
	require.NoError(t, cmd.Process.Kill()) // SIGKILL, mid-write or not
	return acks
}

func mustID(t *testing.T, s string) roles.BatchID {
	t.Helper()
	id, err := roles.ParseBatchID(s)
	require.NoError(t, err)
	return id
}

// checkAcked asserts that every acknowledged change is in the store.
func checkAcked(t *testing.T, s *bolt.Store, acks []ack) {
	t.Helper()
	ctx := context.Background()
	for _, a := range acks {
		switch a.kind {
		case "batch":
			_, err := s.Batch(ctx, mustID(t, a.id))
			require.NoError(t, err, "acknowledged batch %s", a.id)
		case "state", "update":
			sts, err := s.States(ctx, a.epoch, a.epoch)
			require.NoError(t, err, "acknowledged state %d", a.epoch)
			d, err := sts[0].State.Digest()
			require.NoError(t, err)
			require.Equal(t, a.digest, d.String(), "state %d", a.epoch)
			_, e, err := s.Header(ctx, mustID(t, a.revoked))
			require.NoError(t, err)
			require.Equal(t, a.epoch, e, "batch %s revoked at epoch %d", a.revoked, a.epoch)
			if a.kind == "update" {
				// Live, or revoked by a later state.
				_, err := s.Batch(ctx, mustID(t, a.id))
				require.NoError(t, err, "acknowledged new version %s", a.id)
			}
		case "witness":
			w, err := s.Witness(ctx, mustID(t, a.id))
			require.NoError(t, err)
			require.GreaterOrEqual(t, w.Epoch, a.epoch)
		}
	}
}

// checkConsistent asserts the store's invariants: the chain links, the
// history matches the states, revocation marks match the states, and each
// stream and sequence number has at most one live batch.
func checkConsistent(t *testing.T, s *bolt.Store) {
	t.Helper()
	ctx := context.Background()
	latest, err := s.LatestState(ctx)
	require.NoError(t, err)
	last := latest.State.Epoch
	sts, err := s.States(ctx, 0, last)
	require.NoError(t, err)
	require.Equal(t, *latest, sts[last])
	fs, xs, err := s.History(ctx, 0, last)
	require.NoError(t, err)
	revokedBy := map[roles.BatchID]uint64{}
	for i, st := range sts {
		require.Equal(t, uint64(i), st.State.Epoch)
		if i == 0 {
			require.Nil(t, st.State.Revoked)
			require.Equal(t, roles.Hash{}, st.State.Prev)
			continue
		}
		prev, err := sts[i-1].State.Digest()
		require.NoError(t, err)
		require.Equal(t, prev, st.State.Prev, "link of epoch %d", i)
		require.NotNil(t, st.State.Revoked)
		require.Equal(t, bls.G1Affine(sts[i-1].State.Acc), fs[i-1], "f_%d", i-1)
		require.Equal(t, fr.Element(st.State.Revoked.X), xs[i-1], "x_%d", i)
		revokedBy[st.State.Revoked.Batch] = uint64(i)
	}
	list, err := s.List(ctx, "")
	require.NoError(t, err)
	live := map[string]roles.BatchID{}
	for _, bi := range list {
		_, e, err := s.Header(ctx, bi.ID)
		require.NoError(t, err)
		require.Equal(t, revokedBy[bi.ID], e, "revocation mark of %s", bi.ID.Short())
		require.Equal(t, e != 0, bi.Revoked)
		if !bi.Revoked {
			k := fmt.Sprintf("%q/%d", bi.Stream, bi.Seq)
			other, dup := live[k]
			require.False(t, dup, "two live batches in %s: %s and %s", k, other.Short(), bi.ID.Short())
			live[k] = bi.ID
		}
	}
}

// TestCrashChild is the child of TestCrash; it is skipped unless crashEnv is
// set.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("the child process of TestCrash")
	}
	if err := crashChild(t, path); err != nil {
		fmt.Printf("ERR %v\n", err)
		os.Exit(2)
	}
}

func crashChild(t *testing.T, path string) error {
	ctx := context.Background()
	s, err := bolt.Open(path, bolt.WithLockTimeout(5*time.Second))
	if err != nil {
		return err
	}
	latest, err := s.LatestState(ctx)
	if errors.Is(err, roles.ErrUnknownState) {
		latest = storetest.NewState(t, nil, roles.BatchID{})
		if err := s.AppendState(ctx, latest); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	list, err := s.List(ctx, "")
	if err != nil {
		return err
	}
	var live []roles.BatchInfo
	for _, bi := range list {
		if !bi.Revoked {
			live = append(live, bi)
		}
	}
	stream := fmt.Sprintf("p%d", os.Getpid())
	var seq uint64
	digest := func(st *roles.SignedState) string {
		d, err := st.State.Digest()
		if err != nil {
			panic(err)
		}
		return d.String()
	}
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		switch {
		case i%5 == 4 && len(live) > 0: // update a live batch
			k := rand.IntN(len(live))
			old := live[k]
			st := storetest.NewState(t, latest, old.ID)
			nb := storetest.NewBatch(t, old.Stream, old.Seq, old.Version+1, 16, 2)
			if err := s.UpdateBatch(ctx, st, nb); err != nil {
				return fmt.Errorf("UpdateBatch: %w", err)
			}
			fmt.Printf("ACK update %d %s %s %s\n", st.State.Epoch, digest(st), old.ID, nb.ID)
			latest = st
			live[k] = roles.BatchInfo{ID: nb.ID, Stream: old.Stream, Seq: old.Seq, Version: old.Version + 1}
		case i%5 == 3 && len(live) > 0: // revoke a live batch
			k := rand.IntN(len(live))
			st := storetest.NewState(t, latest, live[k].ID)
			if err := s.AppendState(ctx, st); err != nil {
				return fmt.Errorf("AppendState: %w", err)
			}
			fmt.Printf("ACK state %d %s %s\n", st.State.Epoch, digest(st), live[k].ID)
			latest = st
			live = append(live[:k], live[k+1:]...)
		case i%5 == 2 && len(live) > 0: // cache a witness
			id := live[rand.IntN(len(live))].ID
			w := accumulator.Witness{W: storetest.RandomG1(t), U: storetest.RandomScalar(t), Epoch: latest.State.Epoch}
			if err := s.PutWitness(ctx, id, w); err != nil {
				return fmt.Errorf("PutWitness: %w", err)
			}
			fmt.Printf("ACK witness %s %d\n", id, w.Epoch)
		default: // store a batch
			b := storetest.NewBatch(t, stream, seq, 0, 64, 2)
			seq++
			if err := s.PutBatch(ctx, b); err != nil {
				return fmt.Errorf("PutBatch: %w", err)
			}
			fmt.Printf("ACK batch %s\n", b.ID)
			live = append(live, roles.BatchInfo{ID: b.ID, Stream: stream, Seq: b.Header.Header.Seq})
		}
	}
	return s.Close()
}
