package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// tlsIdentity picks the role's certificate, a server's or admin.pem for
// other commands, and falls back on the shared files of a directory from
// before roles.
func TestTLSIdentity(t *testing.T) {
	dir := t.TempDir()
	touch := func(names ...string) {
		for _, n := range names {
			require.NoError(t, os.WriteFile(filepath.Join(dir, n), nil, 0o600))
		}
	}
	c := &common{tlsDir: dir}
	srv := &common{tlsDir: dir, tlsRole: "storage"}
	at := func(n string) string { return filepath.Join(dir, n) }

	// Nothing there: the role's files, which the error will name.
	cert, key := c.tlsIdentity(false)
	require.Equal(t, [2]string{at("admin.pem"), at("admin-key.pem")}, [2]string{cert, key})

	touch("server.pem", "server-key.pem", "client.pem", "client-key.pem")
	cert, key = c.tlsIdentity(false)
	require.Equal(t, [2]string{at("client.pem"), at("client-key.pem")}, [2]string{cert, key}, "old PKI, a client")
	cert, key = srv.tlsIdentity(true)
	require.Equal(t, [2]string{at("server.pem"), at("server-key.pem")}, [2]string{cert, key}, "old PKI, a server")
	cert, _ = srv.tlsIdentity(false)
	require.Equal(t, at("client.pem"), cert, "old PKI, a server dialling out")

	touch("admin.pem", "storage.pem")
	cert, key = c.tlsIdentity(false)
	require.Equal(t, [2]string{at("admin.pem"), at("admin-key.pem")}, [2]string{cert, key})
	for _, server := range []bool{true, false} {
		cert, key = srv.tlsIdentity(server)
		require.Equal(t, [2]string{at("storage.pem"), at("storage-key.pem")}, [2]string{cert, key})
	}
}
