package memory_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

// An owner store in memory reserves sequence numbers per stream; after
// Close every call fails with roles.ErrClosed.
func ExampleNewOwnerStore() {
	ctx := context.Background()
	var s roles.OwnerStore = memory.NewOwnerStore()
	a, _ := s.ReserveSeq(ctx, "meters")
	b, _ := s.ReserveSeq(ctx, "meters")
	c, _ := s.ReserveSeq(ctx, "valves")
	fmt.Println(a, b, c)
	if err := s.Close(); err != nil {
		log.Fatal(err)
	}
	_, err := s.ReserveSeq(ctx, "meters")
	fmt.Println(errors.Is(err, roles.ErrClosed))
	// Output:
	// 0 1 0
	// true
}

// A server store in memory starts with no state: the first state it is
// given must be epoch 0.
func ExampleNewServerStore() {
	ctx := context.Background()
	s := memory.NewServerStore()
	defer s.Close()
	_, err := s.LatestState(ctx)
	fmt.Println(errors.Is(err, roles.ErrUnknownState))
	list, _ := s.List(ctx, "")
	fmt.Println(len(list))
	// Output:
	// true
	// 0
}
