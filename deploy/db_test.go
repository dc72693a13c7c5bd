//go:build linux

package deploy

import (
	"testing"

	"github.com/vdsproject/vds/internal/pgtest"
)

// freshDSN returns the URL of a new, empty database on the server of
// VDS_TEST_POSTGRES, dropped when the test ends; without the variable the
// test is skipped with one line.
func freshDSN(t *testing.T) string {
	t.Helper()
	return pgtest.DSN(t)
}
