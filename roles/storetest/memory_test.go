package storetest_test

import (
	"testing"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/roles/storetest"
)

func TestMemoryServerStore(t *testing.T) {
	storetest.TestServerStore(t, func(*testing.T) roles.ServerStore { return roles.NewMemoryServerStore() })
}

func TestMemoryOwnerStore(t *testing.T) {
	storetest.TestOwnerStore(t, func(*testing.T) roles.OwnerStore { return roles.NewMemoryOwnerStore() })
}
