package roles

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Delivery of states to listeners (DataOwner.Subscribe).
const (
	// deliverTimeout bounds one delivery to one listener.
	deliverTimeout = 5 * time.Second
	// retryFirst and retryMax bound the backoff between re-deliveries.
	retryFirst = 500 * time.Millisecond
	retryMax   = 15 * time.Second
)

// StateListener receives every new signed state of an owner: a Verifier
// (AcceptState, update_global_pk of SPEC §8) or a transport client that
// forwards to a remote one.
type StateListener interface {
	AcceptState(ctx context.Context, st *SignedState) error
}

// subscriber is a listener with what it has acknowledged.
type subscriber struct {
	l StateListener

	mu      sync.Mutex // serialises deliveries to l
	acked   *SignedState
	next    time.Time // earliest re-delivery
	backoff time.Duration
	lastErr error
}

// Subscribe makes the owner send every state it signs from now on to l, as
// soon as the state is durable in the owner's store and before the storage
// server is told (so that a verifier refuses the server's answers about a
// batch being revoked rather than accept them). A listener that does not
// acknowledge a state (AcceptState fails) gets the owner's latest state
// again from Run, with backoff, until it does; one that reports missing
// states gets them first. l gets the current latest state at the next
// step of Run.
func (o *DataOwner) Subscribe(l StateListener) {
	o.listenersMu.Lock()
	defer o.listenersMu.Unlock()
	o.listeners = append(o.listeners, &subscriber{l: l, backoff: retryFirst})
}

// subscribers returns a snapshot of the listeners.
func (o *DataOwner) subscribers() []*subscriber {
	o.listenersMu.Lock()
	defer o.listenersMu.Unlock()
	return append([]*subscriber(nil), o.listeners...)
}

// publish delivers st to every listener, in parallel, each within
// deliverTimeout; failures are retried by Run.
func (o *DataOwner) publish(ctx context.Context, st *SignedState) {
	var wg sync.WaitGroup
	for _, s := range o.subscribers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o.deliver(ctx, s, st)
		}()
	}
	wg.Wait()
}

// deliver sends st to one listener, first sending the states it reports
// missing, and records the outcome.
func (o *DataOwner) deliver(ctx context.Context, s *subscriber, st *SignedState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acked != nil && !newer(st, s.acked) {
		return
	}
	dctx, cancel := context.WithTimeout(ctx, deliverTimeout)
	defer cancel()
	err := s.l.AcceptState(dctx, st)
	var m *MissingStatesError
	if errors.As(err, &m) && m.To >= m.From && m.To-m.From < uint64(o.cfg.limits.MaxStatesPerCall) {
		var sts []SignedState
		if sts, err = o.store.States(dctx, m.From, m.To); err == nil {
			for i := range sts {
				if err = s.l.AcceptState(dctx, &sts[i]); err != nil && !errors.Is(err, ErrStaleState) {
					break
				}
				err = nil
			}
			if err == nil {
				err = s.l.AcceptState(dctx, st)
			}
		}
	}
	if errors.Is(err, ErrStaleState) {
		err = nil // the listener already holds this state or a later one
	}
	s.lastErr = err
	if err != nil {
		s.next = o.cfg.now().Add(s.backoff)
		s.backoff = min(2*s.backoff, retryMax)
		return
	}
	s.acked, s.backoff, s.next = st, retryFirst, time.Time{}
}

// newer reports whether a is a later state than b, or the same state
// signed later.
func newer(a, b *SignedState) bool {
	if a.State.Epoch != b.State.Epoch {
		return a.State.Epoch > b.State.Epoch
	}
	return a.IssuedAt > b.IssuedAt
}

// ListenerStatus is what the owner knows of one subscribed listener.
type ListenerStatus struct {
	Listener StateListener
	Acked    *SignedState // the latest state it acknowledged, nil if none
	Err      error        // of the last delivery, nil if it succeeded
}

// Listeners returns the delivery status of every subscribed listener.
func (o *DataOwner) Listeners() []ListenerStatus {
	var out []ListenerStatus
	for _, s := range o.subscribers() {
		s.mu.Lock()
		out = append(out, ListenerStatus{Listener: s.l, Acked: s.acked, Err: s.lastErr})
		s.mu.Unlock()
	}
	return out
}

// Run keeps the owner's servers current until ctx ends (SPEC §6.1): it
// pushes to the storage server whatever it lacks (Sync), re-signs the
// latest state once it is a heartbeat old (Refresh) so that verifiers with a
// maximum state age keep accepting it, and delivers the latest state to
// every listener that has not acknowledged it, with backoff. It returns
// ctx's error.
func (o *DataOwner) Run(ctx context.Context) error {
	t := time.NewTicker(retryFirst)
	defer t.Stop()
	for {
		o.step(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// step is one round of Run.
func (o *DataOwner) step(ctx context.Context) {
	if !o.InSync() {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_ = o.Sync(sctx)
		cancel()
	}
	latest, err := o.store.LatestState(ctx)
	if err != nil {
		return
	}
	if o.cfg.now().Sub(time.UnixMilli(latest.IssuedAt)) >= o.cfg.heartbeat {
		if st, _ := o.Refresh(ctx); st != nil {
			return // Refresh published the fresh state
		}
	}
	now := o.cfg.now()
	var wg sync.WaitGroup
	for _, s := range o.subscribers() {
		s.mu.Lock()
		due := (s.acked == nil || newer(latest, s.acked)) && !now.Before(s.next)
		s.mu.Unlock()
		if due {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o.deliver(ctx, s, latest)
			}()
		}
	}
	wg.Wait()
}
