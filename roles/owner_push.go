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
	// maxQueued bounds the states queued for one listener; beyond it the
	// oldest is dropped (the listener reports it missing and gets it from
	// the owner's store, see deliver).
	maxQueued = 64
)

// StateListener receives every new signed state of an owner: a Verifier
// (AcceptState, update_global_pk of SPEC §8) or a transport client that
// forwards to a remote one.
type StateListener interface {
	AcceptState(ctx context.Context, st *SignedState) error
}

// SubscribeOption configures one listener of DataOwner.Subscribe.
type SubscribeOption func(*subscriber)

// DeliverInline makes the mutating call itself deliver each new state to
// the listener, after the owner's lock is released and before the storage
// server is told, instead of the listener's queue. It is for in-process
// listeners whose AcceptState never waits on the network (a Verifier in the
// owner's process, as in Local): such a listener holds every state the
// owner's calls have returned, and a slow one slows every mutation.
func DeliverInline() SubscribeOption { return func(s *subscriber) { s.inline = true } }

// subscriber is a listener with its queue and what it has acknowledged.
type subscriber struct {
	l      StateListener
	inline bool

	deliverMu sync.Mutex // serialises deliveries to l

	mu      sync.Mutex // guards the fields below
	queue   []*SignedState
	busy    bool          // the worker is delivering a state of the queue
	idle    chan struct{} // closed while the queue is empty and the worker not busy
	wake    chan struct{} // wakes the worker (capacity 1)
	acked   *SignedState
	next    time.Time // earliest re-delivery
	backoff time.Duration
	lastErr error
}

// Subscribe makes the owner send every state it signs from now on to l, in
// epoch order, as soon as the state is durable in the owner's store. Each
// listener has its own bounded queue, delivered by its own goroutine, so a
// slow or unreachable listener delays neither the owner's operations nor
// the other listeners (the owner's lock covers the signing and the durable
// write only); a newer signature of the same epoch replaces one still
// queued. A listener that does not acknowledge a state (AcceptState fails)
// gets the owner's latest state again from Run, with backoff, until it
// does; one that reports missing states gets them first, from the owner's
// store. l gets the current latest state at the next step of Run. Flush
// waits for the queues; Close stops them.
func (o *DataOwner) Subscribe(l StateListener, opts ...SubscribeOption) {
	s := &subscriber{l: l, backoff: retryFirst, idle: make(chan struct{}), wake: make(chan struct{}, 1)}
	close(s.idle)
	for _, opt := range opts {
		opt(s)
	}
	o.listenersMu.Lock()
	defer o.listenersMu.Unlock()
	o.listeners = append(o.listeners, s)
	if s.inline || o.closed {
		return
	}
	if o.stop == nil {
		o.stop = make(chan struct{})
		o.bg, o.cancelBG = context.WithCancel(context.Background())
	}
	o.workers.Add(1)
	go o.work(s)
}

// subscribers returns a snapshot of the listeners.
func (o *DataOwner) subscribers() []*subscriber {
	o.listenersMu.Lock()
	defer o.listenersMu.Unlock()
	return append([]*subscriber(nil), o.listeners...)
}

// enqueue queues st for every queued listener. Called with o.mu held, so
// the queues are in epoch order.
func (o *DataOwner) enqueue(st *SignedState) {
	for _, s := range o.subscribers() {
		if !s.inline {
			s.put(st)
		}
	}
}

// put queues st, replacing a queued signature of the same epoch and
// dropping the oldest state beyond maxQueued.
func (s *subscriber) put(st *SignedState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.queue); n > 0 && s.queue[n-1].State.Epoch == st.State.Epoch {
		if newer(st, s.queue[n-1]) {
			s.queue[n-1] = st
		}
	} else {
		if n == maxQueued {
			s.queue = append(s.queue[:0], s.queue[1:]...)
		}
		s.queue = append(s.queue, st)
	}
	s.markBusy()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// markBusy makes Flush wait for the queue. Called with s.mu held.
func (s *subscriber) markBusy() {
	select {
	case <-s.idle:
		s.idle = make(chan struct{})
	default:
	}
}

// work delivers the queue of s until Close.
func (o *DataOwner) work(s *subscriber) {
	defer o.workers.Done()
	for {
		s.mu.Lock()
		for len(s.queue) == 0 {
			s.busy = false
			select {
			case <-s.idle:
			default:
				close(s.idle)
			}
			s.mu.Unlock()
			select {
			case <-o.stop:
				return
			case <-s.wake:
			}
			s.mu.Lock()
		}
		st := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.busy = true
		s.mu.Unlock()
		if !o.deliver(o.bg, s, st) {
			// The listener is behind or unreachable: keep only the newest
			// state queued (deliver sends it the states it reports
			// missing), and let Run retry with backoff.
			s.mu.Lock()
			if n := len(s.queue); n > 1 {
				s.queue = append(s.queue[:0], s.queue[n-1])
			}
			s.mu.Unlock()
		}
	}
}

// deliverInline delivers st to every inline listener, in parallel.
func (o *DataOwner) deliverInline(ctx context.Context, st *SignedState) {
	var wg sync.WaitGroup
	for _, s := range o.subscribers() {
		if s.inline {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o.deliver(ctx, s, st)
			}()
		}
	}
	wg.Wait()
}

// handOver ends a mutation whose state st is durable: it queues st for the
// listeners, releases the owner's lock and then, in the order of the
// mutations (pushMu is taken before the lock is released), delivers st to
// the inline listeners and calls toStorage. Called with o.mu held; returns
// with it released.
func (o *DataOwner) handOver(ctx context.Context, st *SignedState, toStorage func() error) error {
	o.enqueue(st)
	o.pushMu.Lock()
	o.mu.Unlock()
	defer o.pushMu.Unlock()
	// Verifiers learn of a revocation first: until the storage server has
	// the state too, its answers are stale for them (fail closed).
	o.deliverInline(ctx, st)
	return toStorage()
}

// Flush waits until every queued listener has been offered every state
// queued for it (each delivery succeeded or failed), or ctx ends.
func (o *DataOwner) Flush(ctx context.Context) error {
	for _, s := range o.subscribers() {
		if s.inline {
			continue
		}
		s.mu.Lock()
		idle := s.idle
		s.mu.Unlock()
		select {
		case <-idle:
		case <-o.stopped():
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// stopped returns a channel closed by Close (nil, never ready, if no
// worker ever started).
func (o *DataOwner) stopped() <-chan struct{} {
	o.listenersMu.Lock()
	defer o.listenersMu.Unlock()
	return o.stop
}

// Close closes the open appenders (CloseAppenders, waiting at most 30s for
// their last seals), then stops the listeners' queues, abandoning
// deliveries in flight, and waits for their goroutines. Every state is durable in the owner's store:
// a listener that misses one gets it from the next owner's Run, or fetches
// it itself (Verifier's trusted source). Call Flush first to drain. The
// owner's operations still work after Close; its listeners get nothing
// more from the queues.
func (o *DataOwner) Close() error {
	aerr := o.closeAppenders()
	o.listenersMu.Lock()
	if o.closed {
		o.listenersMu.Unlock()
		return nil
	}
	o.closed = true
	if o.stop != nil {
		close(o.stop)
		o.cancelBG()
	}
	o.listenersMu.Unlock()
	o.workers.Wait()
	return aerr
}

// deliver sends st to one listener, first sending the states it reports
// missing, records the outcome and reports whether it was acknowledged.
func (o *DataOwner) deliver(ctx context.Context, s *subscriber, st *SignedState) bool {
	s.deliverMu.Lock()
	defer s.deliverMu.Unlock()
	s.mu.Lock()
	acked := s.acked
	s.mu.Unlock()
	if acked != nil && !newer(st, acked) {
		return true
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
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastErr = err
	if err != nil {
		s.next = o.cfg.now().Add(s.backoff)
		s.backoff = min(2*s.backoff, retryMax)
		return false
	}
	s.acked, s.backoff, s.next = st, retryFirst, time.Time{}
	return true
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
	Queued   int          // states waiting in its queue
}

// Listeners returns the delivery status of every subscribed listener.
func (o *DataOwner) Listeners() []ListenerStatus {
	var out []ListenerStatus
	for _, s := range o.subscribers() {
		s.mu.Lock()
		out = append(out, ListenerStatus{Listener: s.l, Acked: s.acked, Err: s.lastErr, Queued: len(s.queue)})
		s.mu.Unlock()
	}
	return out
}

// Run keeps the owner's servers current until ctx ends (SPEC §6.1): it
// pushes to the storage server whatever it lacks (Sync), re-signs the
// latest state once it is a heartbeat old (Refresh) so that verifiers with a
// maximum state age keep accepting it, and offers the latest state again to
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
		due := (s.acked == nil || newer(latest, s.acked)) && !now.Before(s.next) && len(s.queue) == 0 && !s.busy
		s.mu.Unlock()
		switch {
		case !due:
		case s.inline:
			wg.Add(1)
			go func() {
				defer wg.Done()
				o.deliver(ctx, s, latest)
			}()
		default:
			s.put(latest)
		}
	}
	wg.Wait()
}
