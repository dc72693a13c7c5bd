package bolt_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
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

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
	"github.com/vdsproject/vds/storage/storetest"
)

// rotateCrashEnv tells the test binary to act as TestCrashRotateKey's
// child: its value is the store path.
const rotateCrashEnv = "VDS_BOLTSTORE_ROTATE_CHILD"

// rotateRounds is how many children TestCrashRotateKey kills.
const rotateRounds = 8

// rotationSeed is the seed the child rotates to with st: derived from the
// state, so that the parent can tell whether the stored seed belongs to the
// stored latest state. The state's KeyID is the seed's first 8 bytes in hex.
func rotationSeed(st *roles.SignedState) []byte {
	d, err := st.State.Digest()
	if err != nil {
		panic(err)
	}
	h := sha256.Sum256(binary.BigEndian.AppendUint64(d[:], uint64(st.IssuedAt)))
	return h[:]
}

// TestCrashRotateKey runs a child that rotates the owner's key in a loop
// (RotateKey: a re-signed state or a new epoch with a new seed each time)
// and kills it with SIGKILL at a random point; in the reopened file the
// seed always belongs to the latest state — never a state without its key —
// and every acknowledged rotation is there.
func TestCrashRotateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rotate.db")
	var lastAcked int64
	for round := range rotateRounds {
		lastAcked = max(lastAcked, runRotateChild(t, path, 10+rand.IntN(31)))
		s, err := bolt.Open(path)
		require.NoError(t, err, "round %d: reopen after SIGKILL", round)
		latest, err := s.LatestState(context.Background())
		require.NoError(t, err)
		sec, err := s.Secrets(context.Background())
		require.NoError(t, err)
		if latest.State.Epoch > 0 || latest.IssuedAt > 1_700_000_000_000 {
			require.Equal(t, rotationSeed(latest), sec.SigningSeed, "round %d: the stored seed is not the latest state's", round)
			require.Equal(t, hex.EncodeToString(sec.SigningSeed[:8]), latest.KeyID)
		}
		require.Equal(t, []byte("acc"), sec.Accumulator, "the accumulator secret is kept")
		require.GreaterOrEqual(t, latest.IssuedAt, lastAcked, "round %d: an acknowledged rotation is lost", round)
		require.NoError(t, s.Close())
	}
}

// runRotateChild starts the child, reads n acknowledgements (issue times),
// kills it and returns the last one.
func runRotateChild(t *testing.T, path string, n int) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashRotateKeyChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), rotateCrashEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var last int64
	seen := 0
	sc := bufio.NewScanner(out)
	for seen < n && sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "ERR ") {
			t.Fatalf("child: %s", line)
		}
		f := strings.Fields(line)
		if len(f) != 2 || f[0] != "ACK" {
			continue
		}
		last, err = strconv.ParseInt(f[1], 10, 64)
		require.NoError(t, err)
		seen++
	}
	require.Equal(t, n, seen, "the child stopped early: %v", sc.Err())
	// The child goes on rotating: the kill lands anywhere in a rotation.
	time.Sleep(time.Duration(rand.IntN(5000)) * time.Microsecond)
	require.NoError(t, cmd.Process.Kill()) // SIGKILL, mid-write or not
	return last
}

// TestCrashRotateKeyChild is the child of TestCrashRotateKey; it is
// skipped unless rotateCrashEnv is set.
func TestCrashRotateKeyChild(t *testing.T) {
	path := os.Getenv(rotateCrashEnv)
	if path == "" {
		t.Skip("the child process of TestCrashRotateKey")
	}
	if err := rotateChild(t, path); err != nil {
		fmt.Printf("ERR %v\n", err)
		os.Exit(2)
	}
}

func rotateChild(t *testing.T, path string) error {
	ctx := context.Background()
	s, err := bolt.Open(path, bolt.WithLockTimeout(5*time.Second))
	if err != nil {
		return err
	}
	latest, err := s.LatestState(ctx)
	if errors.Is(err, roles.ErrUnknownState) {
		latest = storetest.NewState(t, nil, roles.BatchID{})
		if err := s.InitSecrets(ctx, &roles.OwnerSecrets{SigningSeed: make([]byte, 32), Accumulator: []byte("acc")}); err != nil {
			return err
		}
		if err := s.Commit(ctx, &roles.OwnerTx{State: latest}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	for i := 0; ; i++ { // until killed
		var next *roles.SignedState
		if i%3 == 2 {
			next = storetest.NewState(t, latest, storetest.RandomID(t))
		} else {
			next = storetest.Resign(t, latest, latest.IssuedAt+1)
		}
		seed := rotationSeed(next)
		next.KeyID = hex.EncodeToString(seed[:8])
		if err := s.RotateKey(ctx, seed, next); err != nil {
			return err
		}
		fmt.Printf("ACK %d\n", next.IssuedAt)
		latest = next
	}
}
