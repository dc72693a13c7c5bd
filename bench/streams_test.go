package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

// streamSystem is an in-memory system holding one stream of batches+2
// batches of n rows and one column, and a window query that covers the
// middle batches whole and half of each end batch: batches interior
// batches and two edges (SPEC §11.4).
func streamSystem(b *testing.B, batches, n int) (*roles.Local, *roles.StreamQuery) {
	ctx := context.Background()
	l, err := roles.NewLocal(ctx, crsOf(b, n), memory.NewOwnerStore(), memory.NewServerStore())
	if err != nil {
		b.Fatal(err)
	}
	const step = 1000 // ms between rows
	span := uint64(n) * step
	base := uint64(1_700_000_000_000)
	for k := range batches + 2 {
		batch := randomBatch(n, 1)
		batch.Stream = "meters"
		for i := range batch.Timestamps {
			batch.Timestamps[i] = base + uint64(k)*(span+step) + uint64(i)*step
		}
		if _, err := l.Owner.CreateBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	if err := waitPrecomputed(ctx, l.Server); err != nil {
		b.Fatal(err)
	}
	q := &roles.StreamQuery{Stream: "meters", Kind: roles.QueryWindow, Columns: []string{"c0"},
		TimeFrom: base + span/2, TimeTo: base + uint64(batches+1)*(span+step) + span/2}
	return l, q
}

var streamBatches = []int{10, 100}

// BenchmarkStreamWindow is the server's answer to a stream window covering
// B whole batches and two partial edge batches of n rows (1 column).
// Compare with BenchmarkQueryRange/cols=1/n=1024: the interior batches
// should cost almost nothing.
func BenchmarkStreamWindow(b *testing.B) {
	ctx := context.Background()
	for _, nb := range streamBatches {
		l, q := streamSystem(b, nb, 1024)
		ans, err := l.Server.AnswerStream(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		if len(ans.Parts) != nb+2 {
			b.Fatalf("%d parts, want %d", len(ans.Parts), nb+2)
		}
		enc, err := codec.Default().Marshal(ans)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("batches=%d/n=1024", nb), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.Server.AnswerStream(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(enc)), "answer-bytes")
		})
	}
}

// BenchmarkVerifyStreamWindow is the verification of that answer by a
// verifier that has seen the batches' headers before (a dashboard asking
// again): one multi-pairing and O(B) G1 work. Compare with
// BenchmarkPairingCheck3. The cold case verifies every header too.
func BenchmarkVerifyStreamWindow(b *testing.B) {
	ctx := context.Background()
	for _, nb := range streamBatches {
		l, q := streamSystem(b, nb, 1024)
		ans, err := l.Server.AnswerStream(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := l.Verifier.VerifyStream(ctx, q, ans); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("batches=%d/n=1024", nb), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.Verifier.VerifyStream(ctx, q, ans); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("batches=%d/n=1024/cold", nb), func(b *testing.B) {
			b.ReportAllocs()
			st := l.Verifier.State()
			for b.Loop() {
				v, err := roles.NewVerifier(l.CRS.VerifierKey(), l.Owner.Keys(), roles.WithInitialState(st), roles.WithoutMaxStateAge()) // the state may age past the default while the benchmark runs
				if err != nil {
					b.Fatal(err)
				}
				if _, err := v.VerifyStream(ctx, q, ans); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// waitPrecomputed waits for the server's background precomputation, if it
// has any (see BenchmarkStreamWindow).
func waitPrecomputed(ctx context.Context, s *roles.StorageServer) error {
	type waiter interface {
		WaitPrecomputed(context.Context) error
	}
	if w, ok := any(s).(waiter); ok {
		return w.WaitPrecomputed(ctx)
	}
	return nil
}
