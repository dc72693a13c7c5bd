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
	key := [2]int{batches, n}
	if s, ok := streamSystems[key]; ok {
		return s.l, s.q
	}
	l, q := newStreamSystem(b, batches, n)
	streamSystems[key] = struct {
		l *roles.Local
		q *roles.StreamQuery
	}{l, q}
	return l, q
}

// streamSystems are the systems built so far, shared by the benchmarks of
// one run (building 1000 batches takes a while).
var streamSystems = map[[2]int]struct {
	l *roles.Local
	q *roles.StreamQuery
}{}

func newStreamSystem(b *testing.B, batches, n int) (*roles.Local, *roles.StreamQuery) {
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

// streamSizes are the (batches, n) of the stream benchmarks: a window of
// 1000 batches needs 8 segments of at most MaxStreamBatches (SPEC §11.5).
var streamSizes = []struct{ batches, n int }{{10, 1024}, {100, 1024}, {1000, 64}}

// answerBytes is the encoded size of an answer and its segments.
func answerBytes(b *testing.B, a *roles.StreamAnswer) int {
	total := 0
	for _, s := range append([]*roles.StreamAnswer{a}, a.Rest...) {
		enc, err := codec.Default().Marshal(s)
		if err != nil {
			b.Fatal(err)
		}
		total += len(enc)
	}
	return total
}

// warmAnswer is the answer to q for a verifier that already holds the
// window's headers (it verified the cold answer once): no header and no
// witness in any part.
func warmAnswer(b *testing.B, l *roles.Local, q *roles.StreamQuery) *roles.StreamAnswer {
	ctx := context.Background()
	cold, err := l.Server.AnswerStream(ctx, q)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := l.Verifier.VerifyStream(ctx, q, cold); err != nil {
		b.Fatal(err)
	}
	ans, err := roles.FetchStream(ctx, l.Server, q, l.Verifier.HeldBatches(q.Stream, q.TimeFrom, q.TimeTo))
	if err != nil {
		b.Fatal(err)
	}
	return ans
}

// BenchmarkStreamWindow is the server's answer to a stream window covering
// B whole batches and two partial edge batches of n rows (1 column), for a
// warm verifier (headers held; every segment). bytes/op is the encoded
// answer, bytes/batch that over the B+2 batches; cold-bytes/op the answer
// with every header. Compare with BenchmarkQueryRange/cols=1/n=1024: the
// interior batches should cost almost nothing.
func BenchmarkStreamWindow(b *testing.B) {
	ctx := context.Background()
	for _, sz := range streamSizes {
		l, q := streamSystem(b, sz.batches, sz.n)
		cold, err := l.Server.AnswerStream(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		ans := warmAnswer(b, l, q)
		parts := len(ans.Parts)
		for _, s := range ans.Rest {
			parts += len(s.Parts)
		}
		if parts != sz.batches+2 {
			b.Fatalf("%d parts, want %d", parts, sz.batches+2)
		}
		held := l.Verifier.HeldBatches(q.Stream, q.TimeFrom, q.TimeTo)
		size, coldSize := answerBytes(b, ans), answerBytes(b, cold)
		b.Run(fmt.Sprintf("batches=%d/n=%d", sz.batches, sz.n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := roles.FetchStream(ctx, l.Server, q, held); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size), "bytes/op")
			b.ReportMetric(float64(size)/float64(sz.batches+2), "bytes/batch")
			b.ReportMetric(float64(coldSize), "cold-bytes/op")
			b.ReportMetric(float64(1+len(ans.Rest)), "segments")
		})
	}
}

// BenchmarkVerifyStreamWindow is the verification of that answer by a
// verifier that holds the batches' headers (a dashboard asking again):
// one multi-pairing, one final exponentiation, and per batch one hash of
// its entry and one point in one MSM. Compare with BenchmarkPairingCheck3
// (run them together). The cold case gets every header and witness and
// verifies them too.
func BenchmarkVerifyStreamWindow(b *testing.B) {
	ctx := context.Background()
	for _, sz := range streamSizes {
		l, q := streamSystem(b, sz.batches, sz.n)
		ans := warmAnswer(b, l, q)
		cold, err := l.Server.AnswerStream(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("batches=%d/n=%d", sz.batches, sz.n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.Verifier.VerifyStream(ctx, q, ans); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(answerBytes(b, ans)), "bytes/op")
		})
		b.Run(fmt.Sprintf("batches=%d/n=%d/cold", sz.batches, sz.n), func(b *testing.B) {
			b.ReportAllocs()
			st := l.Verifier.State()
			for b.Loop() {
				v, err := roles.NewVerifier(l.CRS.VerifierKey(), l.Owner.Keys(), roles.WithInitialState(st), roles.WithoutMaxStateAge()) // the state may age past the default while the benchmark runs
				if err != nil {
					b.Fatal(err)
				}
				if _, err := v.VerifyStream(ctx, q, cold); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(answerBytes(b, cold)), "bytes/op")
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
