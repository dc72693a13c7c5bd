package vds_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"

	"github.com/vdsproject/vds"
)

// The README's snippet, kept compiling and running by TestReadmeSnippet.
func Example() {
	ctx := context.Background()
	must := func(err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	// README:begin
	crs, err := vds.Setup(1024, rand.Reader) // once; share crs.WriteTo(file), pin crs.Digest()
	must(err)
	sys, err := vds.NewLocal(ctx, crs) // owner, server, verifier in one process (in memory)
	must(err)

	hdr, err := sys.Owner.CreateBatch(ctx, &vds.Batch{
		Stream:     "greenhouse-7",
		Timestamps: []uint64{1000, 1060, 1120}, // strictly increasing
		Columns: []vds.Column{
			{Name: "temp", Scale: 1, Values: []int64{215, 218, -12}}, // 21.5, 21.8, -1.2
		},
	})
	must(err)
	id, _ := hdr.Header.Digest() // the batch id

	q := &vds.Query{Batch: id, Kind: vds.QueryRange, Columns: []string{"temp"}, From: 1, To: 3}
	ans, err := sys.Server.Answer(ctx, q) // untrusted
	must(err)
	res, err := sys.Verifier.Verify(ctx, q, ans) // checks everything against the owner's keys
	must(err)
	fmt.Println(res.Values[0]) // 42.1

	_, err = sys.Owner.Revoke(ctx, id) // from now on nothing about id verifies
	must(err)
	_, err = sys.Verifier.Verify(ctx, q, ans)
	fmt.Println(errors.Is(err, vds.ErrStaleState)) // true: the answer predates the revocation
	// README:end

	// Output:
	// 42.1
	// true
}

// A verifier rejects any tampering with an answer.
func ExampleVerifier_Verify() {
	ctx := context.Background()
	crs, _ := vds.Setup(16, rand.Reader)
	sys, _ := vds.NewLocal(ctx, crs)
	hdr, _ := sys.Owner.CreateBatch(ctx, &vds.Batch{
		Stream: "s", Timestamps: []uint64{1, 2, 3},
		Columns: []vds.Column{{Name: "x", Values: []int64{10, 20, 30}}},
	})
	id, _ := hdr.Header.Digest()
	q := &vds.Query{Batch: id, Kind: vds.QueryPoint, Columns: []string{"x"}, Row: 2}
	ans, _ := sys.Server.Answer(ctx, q)
	res, err := sys.Verifier.Verify(ctx, q, ans)
	fmt.Println(res.Values[0], err)
	ans.Query.Row = 3 // …an answer to another question does not
	_, err = sys.Verifier.Verify(ctx, q, ans)
	fmt.Println(errors.Is(err, vds.ErrBadProof))
	// Output:
	// 20 <nil>
	// true
}

// Time windows select the rows whose timestamps fall in [TimeFrom, TimeTo];
// the boundary timestamps are proven from the signed timestamp commitment.
func ExampleQuery_window() {
	ctx := context.Background()
	crs, _ := vds.Setup(16, rand.Reader)
	sys, _ := vds.NewLocal(ctx, crs)
	hdr, _ := sys.Owner.CreateBatch(ctx, &vds.Batch{
		Stream: "s", Timestamps: []uint64{100, 200, 300, 400},
		Columns: []vds.Column{{Name: "kwh", Scale: 2, Values: []int64{150, 275, 300, 125}}},
	})
	id, _ := hdr.Header.Digest()
	res, err := sys.Query(ctx, &vds.Query{Batch: id, Kind: vds.QueryWindow, Columns: []string{"kwh"}, TimeFrom: 150, TimeTo: 350})
	fmt.Println(res.Values[0], res.First, res.Last, err)
	// Output: 5.75 2 3 <nil>
}
