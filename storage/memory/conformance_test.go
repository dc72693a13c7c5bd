package memory_test

import (
	"testing"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/storage/storetest"
)

func TestMemoryServerStore(t *testing.T) {
	storetest.TestServerStore(t, func(*testing.T) roles.ServerStore { return memory.NewServerStore() })
}

func TestMemoryOwnerStore(t *testing.T) {
	storetest.TestOwnerStore(t, func(*testing.T) roles.OwnerStore { return memory.NewOwnerStore() })
}

func TestMemoryRowStore(t *testing.T) {
	storetest.TestRowStore(t, func(*testing.T) storetest.RowOwnerStore { return memory.NewOwnerStore() })
}
