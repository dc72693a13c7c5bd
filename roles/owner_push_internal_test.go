package roles

import (
	"math/rand/v2"
	"testing"
)

// TestQueuePutProperty: whatever the owner signs, in its order (epochs
// non-decreasing, re-signatures of one epoch later), a listener's queue
// holds strictly increasing epochs, at most maxQueued of them, its last
// entry is the newest state put, and no epoch of the last maxQueued is
// lost.
func TestQueuePutProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 1))
	for round := range 64 {
		s := &subscriber{idle: make(chan struct{}), wake: make(chan struct{}, 1)}
		close(s.idle)
		var epoch uint64
		var at int64
		var last *SignedState
		var epochs []uint64
		for range r.IntN(3 * maxQueued) {
			if r.IntN(3) > 0 {
				epoch++
			}
			at++
			last = &SignedState{State: State{Epoch: epoch}, IssuedAt: at}
			if len(epochs) == 0 || epochs[len(epochs)-1] != epoch {
				epochs = append(epochs, epoch)
			}
			s.put(last)
		}
		if last == nil {
			continue
		}
		q := s.queue
		if len(q) > maxQueued || len(q) == 0 {
			t.Fatalf("round %d: %d states queued", round, len(q))
		}
		if q[len(q)-1] != last {
			t.Fatalf("round %d: the newest state is not last", round)
		}
		for i := 1; i < len(q); i++ {
			if q[i].State.Epoch <= q[i-1].State.Epoch {
				t.Fatalf("round %d: epochs %d then %d", round, q[i-1].State.Epoch, q[i].State.Epoch)
			}
		}
		want := epochs[max(0, len(epochs)-maxQueued):]
		if len(want) != len(q) {
			t.Fatalf("round %d: %d epochs queued, want %d", round, len(q), len(want))
		}
		for i, e := range want {
			if q[i].State.Epoch != e {
				t.Fatalf("round %d: queue[%d] is epoch %d, want %d", round, i, q[i].State.Epoch, e)
			}
		}
		select {
		case <-s.idle:
			t.Fatalf("round %d: idle with a queue", round)
		default:
		}
	}
}
