package cli

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/dashboard"
)

// -cors-origin takes an origin only; vds web needs its trust root's files
// unless told -no-keys, and a storage URL and time unit it can serve.
func TestWebAndCORSFlags(t *testing.T) {
	for _, o := range []string{"127.0.0.1:5004", "http://127.0.0.1:5004/path", "ftp://x", "http://u@x"} {
		require.ErrorIs(t, checkOrigin(o), errUsage, o)
	}
	for _, o := range []string{"http://127.0.0.1:5004", "https://dash.example:8443", "http://127.0.0.1:5004/"} {
		require.NoError(t, checkOrigin(o), o)
	}
	ctx := context.Background()
	err := RunStorage(ctx, []string{"serve", "-dir", t.TempDir(), "-cors-origin", "127.0.0.1:5004"})
	require.ErrorIs(t, err, errUsage)
	err = RunWeb(ctx, []string{"-dir", t.TempDir(), "-listen", "127.0.0.1:0"})
	require.Error(t, err, "no public files in the directory")
	require.Contains(t, err.Error(), "run vds setup")
	err = RunWeb(ctx, []string{"-dir", t.TempDir(), "-no-keys", "-listen", "127.0.0.1:0", "-time-unit", "h"})
	require.True(t, errors.Is(err, dashboard.ErrConfig), "%v", err)
	require.Equal(t, "127.0.0.1:5002", firstStorage("127.0.0.1:5002,127.0.0.1:5012"))
}
