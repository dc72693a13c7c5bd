package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
	"github.com/vdsproject/vds/storage/storetest"
)

func openTemp(t *testing.T) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestServerStoreConformance(t *testing.T) {
	storetest.TestServerStore(t, func(t *testing.T) roles.ServerStore { return openTemp(t) })
}

func TestOwnerStoreConformance(t *testing.T) {
	storetest.TestOwnerStore(t, func(t *testing.T) roles.OwnerStore { return openTemp(t) })
}

func TestRowStoreConformance(t *testing.T) {
	storetest.TestRowStore(t, func(t *testing.T) storetest.RowOwnerStore { return openTemp(t) })
}
