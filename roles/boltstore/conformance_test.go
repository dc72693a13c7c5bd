package boltstore_test

import (
	"path/filepath"
	"testing"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/roles/boltstore"
	"github.com/vdsproject/vds/roles/storetest"
)

func openTemp(t *testing.T) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "store.db"))
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
