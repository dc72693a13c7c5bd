package bolt_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
)

// A store file survives a restart: what a call acknowledged is there after
// reopening.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "vds")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "owner.db")
	ctx := context.Background()

	s, err := bolt.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	var owner roles.OwnerStore = s // and a roles.ServerStore
	n, _ := owner.ReserveSeq(ctx, "meters")
	fmt.Println("reserved", n)
	if err := s.Close(); err != nil {
		log.Fatal(err)
	}

	s, err = bolt.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	n, _ = s.ReserveSeq(ctx, "meters")
	fmt.Println("reserved", n)
	fi, _ := os.Stat(path)
	fmt.Println("mode", fi.Mode().Perm())
	// Output:
	// reserved 0
	// reserved 1
	// mode -rw-------
}
