package postgres_test

import (
	"context"
	"testing"

	"github.com/vdsproject/vds/internal/pgtest"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/postgres"
	"github.com/vdsproject/vds/storage/storetest"
)

// openTemp opens a store on a fresh database of its own.
func openTemp(t *testing.T) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestServerStoreConformance(t *testing.T) {
	pgtest.AdminDSN(t)
	storetest.TestServerStore(t, func(t *testing.T) roles.ServerStore { return openTemp(t) })
}

func TestOwnerStoreConformance(t *testing.T) {
	pgtest.AdminDSN(t)
	storetest.TestOwnerStore(t, func(t *testing.T) roles.OwnerStore { return openTemp(t) })
}

func TestRowStoreConformance(t *testing.T) {
	pgtest.AdminDSN(t)
	storetest.TestRowStore(t, func(t *testing.T) storetest.RowOwnerStore { return openTemp(t) })
}
