// Streamwindow works with a stream, not with batches: a quarter of hourly
// weather readings (with decimals) is ingested as batches of one stream,
// then the verified total of each month comes back with one query each —
// with a proof that no batch of the month was left out. Re-ingesting the
// same data stores nothing; a batch that overlaps is refused; a server that
// drops a batch from its answer is caught.
//
//	go run ./examples/streamwindow
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"os"
	"time"

	"github.com/vdsproject/vds"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// readings returns hourly readings from start for the given number of
// hours: a temperature with one decimal (scale 1) following a daily cycle.
func readings(start time.Time, hours int) ([]uint64, []int64) {
	ts := make([]uint64, hours)
	temp := make([]int64, hours)
	for h := range hours {
		t := start.Add(time.Duration(h) * time.Hour)
		ts[h] = uint64(t.Unix())
		temp[h] = 50 + int64(h%24)*7 - int64(h/24)%13 // tenths of a degree
	}
	return ts, temp
}

func run(out io.Writer) error {
	ctx := context.Background()
	crs, err := vds.Setup(256, rand.Reader) // batches of up to 256 rows
	if err != nil {
		return err
	}
	sys, err := vds.NewLocal(ctx, crs)
	if err != nil {
		return err
	}

	// Ingest January–March 2010, hourly, one batch per 240 hours.
	start := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2010, 4, 1, 0, 0, 0, 0, time.UTC)
	ts, temp := readings(start, int(end.Sub(start).Hours()))
	ingest := func() (stored, existing int, err error) {
		for lo := 0; lo < len(ts); lo += 240 {
			hi := min(lo+240, len(ts))
			r, err := sys.Owner.Ingest(ctx, &vds.Batch{Stream: "weather", Timestamps: ts[lo:hi],
				Columns: []vds.Column{{Name: "temp", Scale: 1, Values: temp[lo:hi]}}})
			if err != nil {
				return stored, existing, err
			}
			if r.Existing {
				existing++
			} else {
				stored++
			}
		}
		return stored, existing, nil
	}
	stored, _, err := ingest()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "ingested %d rows as %d batches of stream weather\n", len(ts), stored)
	_, existing, err := ingest()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "ingested again: %d batches already stored, nothing new\n", existing)

	// One verified query per month.
	for m := time.January; m <= time.March; m++ {
		from := time.Date(2010, m, 1, 0, 0, 0, 0, time.UTC)
		to := from.AddDate(0, 1, 0).Add(-time.Second)
		q := &vds.StreamQuery{Stream: "weather", Kind: vds.QueryWindow, Columns: []string{"temp"},
			TimeFrom: uint64(from.Unix()), TimeTo: uint64(to.Unix())}
		res, err := sys.QueryStream(ctx, q)
		if err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
		var want int64
		for i, t := range ts {
			if t >= q.TimeFrom && t <= q.TimeTo {
				want += temp[i]
			}
		}
		if res.Totals[0].Int.Cmp(big.NewInt(want)) != 0 {
			return fmt.Errorf("%s: verified %s, direct sum %d", m, res.Totals[0], want)
		}
		fmt.Fprintf(out, "%-8s verified sum of temp = %s over %d rows of %d batches (equals the direct sum)\n", m, res.Totals[0], res.Rows, len(res.Batches))
	}

	// A batch that overlaps the stream is refused, naming the batch.
	_, err = sys.Owner.Ingest(ctx, &vds.Batch{Stream: "weather", Timestamps: []uint64{uint64(start.Add(5 * time.Hour).Unix())},
		Columns: []vds.Column{{Name: "temp", Scale: 1, Values: []int64{0}}}})
	var conflict *vds.StreamConflictError
	if !errors.As(err, &conflict) {
		return fmt.Errorf("an overlapping batch was not refused: %v", err)
	}
	fmt.Fprintln(out, "overlapping batch refused:", conflict.Reason[:40]+"…")

	// A server that leaves a batch out of February is caught.
	feb := &vds.StreamQuery{Stream: "weather", Kind: vds.QueryWindow, Columns: []string{"temp"},
		TimeFrom: uint64(time.Date(2010, 2, 1, 0, 0, 0, 0, time.UTC).Unix()), TimeTo: uint64(time.Date(2010, 3, 1, 0, 0, 0, 0, time.UTC).Unix() - 1)}
	ans, err := sys.Server.AnswerStream(ctx, feb)
	if err != nil {
		return err
	}
	ans.Parts = ans.Parts[:len(ans.Parts)-1]
	if _, err := sys.Verifier.VerifyStream(ctx, feb, ans); errors.Is(err, vds.ErrIncomplete) {
		fmt.Fprintln(out, "answer missing a batch rejected:", errors.Is(err, vds.ErrIncomplete))
	} else {
		return fmt.Errorf("an incomplete answer was not rejected: %v", err)
	}
	return nil
}
