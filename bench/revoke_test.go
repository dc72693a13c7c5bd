package bench

import (
	"context"
	"testing"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

// blackhole is a verifier that never answers: each delivery to it waits
// for the owner's delivery timeout.
type blackhole struct{}

func (blackhole) AcceptState(ctx context.Context, _ *roles.SignedState) error {
	<-ctx.Done()
	return ctx.Err()
}

// BenchmarkRevokeBlackholed revokes batches one after the other with two
// listeners subscribed: two healthy verifiers (listeners=healthy), or one
// healthy verifier and one that never answers (listeners=one-blackholed).
// It reports revocations per second (rev/s); the goal is one-blackholed ≈
// healthy, within noise. The batches are created with the timer stopped.
func BenchmarkRevokeBlackholed(b *testing.B) {
	for _, kind := range []string{"healthy", "one-blackholed"} {
		b.Run("listeners="+kind, func(b *testing.B) {
			ctx := context.Background()
			crs := crsOf(b, 1024)
			l, err := roles.NewLocal(ctx, crs, memory.NewOwnerStore(), memory.NewServerStore())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = l.Owner.Close() })
			healthy, err := roles.NewVerifier(crs.VerifierKey(), l.Owner.Keys(), roles.WithTrustedSource(l.Owner), roles.WithoutMaxStateAge())
			if err != nil {
				b.Fatal(err)
			}
			l.Owner.Subscribe(healthy)
			if kind == "healthy" {
				other, err := roles.NewVerifier(crs.VerifierKey(), l.Owner.Keys(), roles.WithTrustedSource(l.Owner), roles.WithoutMaxStateAge())
				if err != nil {
					b.Fatal(err)
				}
				l.Owner.Subscribe(other)
			} else {
				l.Owner.Subscribe(blackhole{})
			}
			small := randomBatch(1, 1)
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				small.Timestamps[0]++ // new batches go at the end of the stream
				sh, err := l.Owner.CreateBatch(ctx, small)
				if err != nil {
					b.Fatal(err)
				}
				id, _ := sh.Header.Digest()
				b.StartTimer()
				if _, err := l.Owner.Revoke(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rev/s")
		})
	}
}
