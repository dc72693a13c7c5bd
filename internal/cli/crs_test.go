package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/commitment"
)

func TestCRSCeremonyCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }

	require.NoError(t, RunCRS(ctx, []string{"init", "-n", "8", "-out", p("start.crs"), "-q"}))
	require.NoError(t, RunCRS(ctx, []string{"contribute", "-in", p("start.crs"), "-out", p("t.cer"), "-name", "Alice", "-q"}))
	require.NoError(t, RunCRS(ctx, []string{"contribute", "-in", p("t.cer"), "-out", p("t.cer"), "-name", "Bob", "-q"}))
	require.NoError(t, RunCRS(ctx, []string{"verify", "-in", p("t.cer")}))

	// A bare CRS is no transcript; missing or bad flags are usage errors.
	err := RunCRS(ctx, []string{"verify", "-in", p("start.crs")})
	require.ErrorIs(t, err, commitment.ErrInvalidEncoding)
	require.Equal(t, exitRejected, exitCode(err), "an invalid transcript is a rejected verification")
	require.ErrorIs(t, RunCRS(ctx, []string{"verify", "-h"}), errHelp)
	require.ErrorIs(t, RunCRS(ctx, []string{"-h"}), errHelp)
	require.ErrorIs(t, RunCRS(ctx, []string{"contribute", "-in", p("t.cer"), "-out", p("x")}), errUsage)
	require.ErrorIs(t, RunCRS(ctx, []string{"nope"}), errUsage)
	require.ErrorIs(t, RunCRS(ctx, []string{"contribute", "-in", p("t.cer"), "-out", p("x"), "-name", "a\x1bb", "-q"}), commitment.ErrInvalidInput)

	// setup -crs uses the final CRS of the transcript.
	require.NoError(t, setupFrom(ctx, p("deploy"), 0, p("t.cer"), false, false, io.Discard))
	var tr *commitment.Transcript
	tr, err = loadTranscriptFile(p("t.cer"))
	require.NoError(t, err)
	d, err := os.ReadFile(filepath.Join(p("deploy"), digestFile))
	require.NoError(t, err)
	require.Equal(t, tr.CRS().Digest().String(), strings.TrimSpace(string(d)))
	require.Error(t, setupFrom(ctx, p("deploy2"), 16, p("t.cer"), false, false, io.Discard), "n differs")

	// A tampered transcript is refused and nothing is written.
	b, err := os.ReadFile(p("t.cer"))
	require.NoError(t, err)
	b[len(b)-1] ^= 1
	require.NoError(t, os.WriteFile(p("bad.cer"), b, 0o644))
	err = RunCRS(ctx, []string{"verify", "-in", p("bad.cer")})
	require.ErrorIs(t, err, commitment.ErrInvalidInput)
	require.True(t, rejected(err))
	require.ErrorIs(t, setupFrom(ctx, p("deploy3"), 0, p("bad.cer"), false, false, io.Discard), commitment.ErrInvalidInput)
	_, err = os.Stat(p("deploy3"))
	require.True(t, os.IsNotExist(err), "setup wrote a directory for a bad transcript")
}
