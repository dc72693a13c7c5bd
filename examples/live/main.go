// Live appends rows to a stream as they come — a reading every few
// milliseconds — and, every few seconds, asks for the verified sum of the
// last hour. The owner acknowledges each row once it is durable in its
// store and seals the rows into batches by itself (every 256 rows, or a
// second after the first unsealed row). At the end it seals the last rows
// and checks that one verified query counts every row it appended.
//
//	go run ./examples/live -duration 10s
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/vdsproject/vds"
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "how long to append rows")
	every := flag.Duration("every", 2*time.Second, "how often to query the last hour")
	rate := flag.Int("rate", 200, "rows per second")
	flag.Parse()
	if err := run(os.Stdout, *duration, *every, *rate); err != nil {
		log.Fatal(err)
	}
}

func run(out io.Writer, duration, every time.Duration, rate int) error {
	if duration <= 0 || every <= 0 || rate < 1 || rate > 10_000 {
		return fmt.Errorf("-duration and -every must be positive, -rate in 1..10000")
	}
	ctx := context.Background()
	crs, err := vds.Setup(1024, rand.Reader)
	if err != nil {
		return err
	}
	sys, err := vds.NewLocal(ctx, crs)
	if err != nil {
		return err
	}
	defer sys.Owner.Close()
	const stream = "sensor/live"
	cols := []vds.ColumnInfo{{Name: "watts", Scale: 1}}
	app, err := sys.Owner.Appender(ctx, stream, cols, vds.AppendPolicy{MaxRows: 256, MaxAge: time.Second})
	if err != nil {
		return err
	}

	// Timestamps in milliseconds; the window is the last hour.
	lastHour := func() (*vds.StreamResult, error) {
		now := uint64(time.Now().UnixMilli())
		return sys.QueryStream(ctx, &vds.StreamQuery{Stream: stream, Kind: vds.QueryWindow, Columns: []string{"watts"},
			TimeFrom: now - uint64(time.Hour.Milliseconds()), TimeTo: now})
	}
	start := time.Now()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	report := time.NewTicker(every)
	defer report.Stop()
	var last uint64
	var appended, sum int64
	for done := time.After(duration); done != nil; {
		select {
		case <-done:
			done = nil
		case <-tick.C:
			ts := max(last+1, uint64(time.Now().UnixMilli()))
			w := 1000 + ts%500 // tenths of a watt
			if err := app.Append(ctx, ts, int64(w)); err != nil {
				return err
			}
			last, appended, sum = ts, appended+1, sum+int64(w)
		case <-report.C:
			if len(sys.Owner.StreamEntries(stream)) == 0 {
				fmt.Fprintf(out, "%5.1fs: %d rows appended, no batch sealed yet\n", time.Since(start).Seconds(), appended)
				continue
			}
			res, err := lastHour()
			if err != nil {
				return fmt.Errorf("query the last hour: %w", err)
			}
			fmt.Fprintf(out, "%5.1fs: last hour: %d rows in %d batches, total %s W (verified); %d rows appended, %d not sealed yet\n",
				time.Since(start).Seconds(), res.Rows, len(res.Batches), res.Totals[0], appended, app.Pending())
		}
	}
	if err := app.Close(ctx); err != nil {
		return err
	}
	res, err := lastHour()
	if err != nil {
		return fmt.Errorf("query the last hour: %w", err)
	}
	if res.Rows != uint64(appended) || res.Totals[0].Int.Int64() != sum {
		return fmt.Errorf("the last hour holds %d rows totalling %s, %d rows totalling %d were appended", res.Rows, res.Totals[0].Int, appended, sum)
	}
	fmt.Fprintf(out, "closed: all %d rows appended are in %d batches, total %s W (verified)\n", appended, len(res.Batches), res.Totals[0])
	return nil
}
