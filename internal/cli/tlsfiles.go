package cli

import (
	"os"
	"path/filepath"

	"github.com/vdsproject/vds/transport"
)

// tlsIdentity returns the certificate and key the command presents from
// -tls-dir: ROLE.pem and ROLE-key.pem as `vds setup -tls` writes them,
// where ROLE is the server's role (c.tlsRole) and, for every other
// command, admin — the caller of the owner's mutations. A directory
// written before roles holds server.pem and client.pem instead; they are
// used as before, but their certificates name no role, so the servers
// refuse the owner's mutations and pushes made with them (SECURITY.md:
// run `vds setup -tls` again).
func (c *common) tlsIdentity(server bool) (cert, key string) {
	role := c.tlsRole
	if role == "" {
		role = string(transport.RoleAdmin)
	}
	cert, key = filepath.Join(c.tlsDir, role+".pem"), filepath.Join(c.tlsDir, role+"-key.pem")
	if _, err := os.Stat(cert); err == nil {
		return cert, key
	}
	legacy := "client"
	if server {
		legacy = "server"
	}
	if old := filepath.Join(c.tlsDir, legacy+".pem"); fileExists(old) {
		return old, filepath.Join(c.tlsDir, legacy+"-key.pem")
	}
	return cert, key // missing: the error names the file of the role
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
