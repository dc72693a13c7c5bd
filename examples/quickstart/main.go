// Quickstart runs the whole scheme in one process: a data owner commits to a
// batch of sensor readings, an untrusted storage server answers queries
// with proofs, and a verifier checks every answer — then the owner revokes
// the batch and the verifier rejects what the server says about it.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds"
	"github.com/vdsproject/vds/codec"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	ctx := context.Background()

	// 1. Parameters: a CRS for batches of up to 64 rows. Generate it once
	// and share the file; Setup forgets the trapdoor.
	crs, err := vds.Setup(64, rand.Reader)
	if err != nil {
		return err
	}
	fmt.Printf("CRS for %d rows, digest %s…\n", crs.N(), crs.Digest().String()[:16])

	// 2. The three roles in one process (in production: three servers).
	sys, err := vds.NewLocal(ctx, crs)
	if err != nil {
		return err
	}

	// 3. The owner commits to a batch: timestamps and two columns.
	// Temperatures have one decimal place (scale 1): 215 means 21.5.
	batch := &vds.Batch{
		Stream:     "greenhouse-7",
		Timestamps: []uint64{1000, 1060, 1120, 1180, 1240, 1300},
		Columns: []vds.Column{
			{Name: "temp", Scale: 1, Values: []int64{215, 218, 221, 219, -12, 224}},
			{Name: "humidity", Values: []int64{61, 60, 58, 57, 57, 55}},
		},
	}
	hdr, err := sys.Owner.CreateBatch(ctx, batch)
	if err != nil {
		return err
	}
	id, err := hdr.Header.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("batch %s: %d rows signed by the owner and stored\n", id.Short(), hdr.Header.Rows)

	// 4. Queries, each answered by the server and verified.
	queries := []struct {
		what string
		q    vds.Query
	}{
		{"temp at row 3", vds.Query{Batch: id, Kind: vds.QueryPoint, Columns: []string{"temp"}, Row: 3}},
		{"sum of temp and humidity, rows 1..6", vds.Query{Batch: id, Kind: vds.QueryRange, Columns: []string{"temp", "humidity"}, From: 1, To: 6}},
		{"sum of temp for 1050 ≤ t ≤ 1250", vds.Query{Batch: id, Kind: vds.QueryWindow, Columns: []string{"temp"}, TimeFrom: 1050, TimeTo: 1250}},
		{"audit of humidity", vds.Query{Batch: id, Kind: vds.QueryAudit, Columns: []string{"humidity"}, Nonce: []byte("auditor's fresh nonce")}},
	}
	for _, x := range queries {
		res, err := sys.Query(ctx, &x.q)
		if err != nil {
			return fmt.Errorf("%s: %w", x.what, err)
		}
		if x.q.Kind == vds.QueryAudit {
			fmt.Printf("verified %-36s : the server still holds the data\n", x.what)
			continue
		}
		fmt.Printf("verified %-36s = %v\n", x.what, res.Values)
	}

	// 5. A server that lies is caught: change the sum in an honest answer.
	q := vds.Query{Batch: id, Kind: vds.QueryRange, Columns: []string{"humidity"}, From: 1, To: 6}
	ans, err := sys.Server.Answer(ctx, &q)
	if err != nil {
		return err
	}
	var one fr.Element
	one.SetOne()
	sum := fr.Element(ans.Values[0])
	sum.Add(&sum, &one) // claim one more than the truth
	ans.Values[0] = codec.Scalar(sum)
	if _, err := sys.Verifier.Verify(ctx, &q, ans); errors.Is(err, vds.ErrBadProof) {
		fmt.Println("tampered sum rejected:", err)
	} else {
		return fmt.Errorf("tampered answer was not rejected: %v", err)
	}

	// 6. Revocation: afterwards nothing about the batch verifies.
	old, err := sys.Server.Answer(ctx, &q)
	if err != nil {
		return err
	}
	st, err := sys.Owner.Revoke(ctx, id)
	if err != nil {
		return err
	}
	fmt.Printf("batch %s revoked at epoch %d\n", id.Short(), st.State.Epoch)
	if _, err := sys.Server.Answer(ctx, &q); errors.Is(err, vds.ErrRevoked) {
		fmt.Println("honest server refuses:", err)
	} else {
		return fmt.Errorf("server answered for a revoked batch: %v", err)
	}
	if _, err := sys.Verifier.Verify(ctx, &q, old); err != nil {
		fmt.Println("replayed old answer rejected:", err)
	} else {
		return errors.New("replayed answer was accepted")
	}
	return nil
}
