//go:build linux

package deploy

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// freshDSN returns the URL of a new, empty database on the server of
// VDS_TEST_POSTGRES, dropped when the test ends; without the variable the
// test is skipped with one line.
// TODO(deploy): internal/pgtest.DSN once the PostgreSQL store lands.
func freshDSN(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("VDS_TEST_POSTGRES")
	if admin == "" {
		t.Skip("PostgreSQL tests skipped: VDS_TEST_POSTGRES not set (./scripts/test starts a throwaway server)")
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	name := "vds_deploy_" + hex.EncodeToString(rnd[:])
	psql := func(sql string) {
		out, err := exec.Command("psql", admin, "-v", "ON_ERROR_STOP=1", "-qc", sql).CombinedOutput()
		if err != nil {
			t.Fatalf("psql %s: %v\n%s", sql, err, out)
		}
	}
	psql("CREATE DATABASE " + name)
	t.Cleanup(func() { psql("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	if strings.Contains(admin, "://") {
		u, err := url.Parse(admin)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + name
		return u.String()
	}
	return admin + " dbname=" + name
}
