package cli

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/errs"
)

// Main runs the named command and maps its error to the exit code.
func TestMainDispatch(t *testing.T) {
	var got []string
	cmd := func(err error) func(context.Context, []string) error {
		return func(_ context.Context, args []string) error { got = args; return err }
	}
	cmds := []Command{
		{Name: "ok", Help: "succeeds", Run: cmd(nil)},
		{Name: "h", Help: "asks for help", Run: cmd(errHelp)},
		{Name: "usage", Help: "bad flags", Run: cmd(errUsage)},
		{Name: "forged", Help: "rejected", Run: cmd(errs.ErrBadProof)},
		{Name: "input", Help: "bad input", Run: cmd(inputErrorf("bad"))},
		{Name: "other", Help: "fails", Run: cmd(errors.New("x"))},
	}
	ctx := context.Background()
	require.Equal(t, exitOK, Main(ctx, cmds, []string{"ok", "-a", "b"}))
	require.Equal(t, []string{"-a", "b"}, got, "the arguments after the name")
	for args, want := range map[string]int{"h": exitOK, "usage": exitUsage, "forged": exitRejected, "input": exitInput, "other": exitRejected} {
		require.Equal(t, want, Main(ctx, cmds, []string{args}), args)
	}
	require.Equal(t, exitUsage, Main(ctx, cmds, nil), "no command")
	require.Equal(t, exitUsage, Main(ctx, cmds, []string{"nope"}), "unknown command")
	require.Equal(t, exitOK, Main(ctx, cmds, []string{"-h"}))
	require.Equal(t, exitOK, Main(ctx, cmds, []string{"help"}))
}
