package roles

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// catchUp is one catch-up in flight; callers that need one while it runs
// wait for it instead of starting their own.
type catchUp struct {
	done chan struct{}
	err  error
}

// Sync catches up: it fetches the owner's latest state (from the trusted
// source first, else the state source) and every state between the held one
// and it, checking each. Concurrent calls share one catch-up, which runs
// without the verifier's lock and ends within the catch-up timeout
// (WithCatchUpLimits) whatever the callers' contexts.
func (v *Verifier) Sync(ctx context.Context) error {
	v.mu.Lock()
	c := v.catching
	if c == nil {
		c = &catchUp{done: make(chan struct{})}
		v.catching = c
		// Detached from the caller: other callers may be waiting for it.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.cfg.fetchTime)
		go func() {
			defer cancel()
			err := v.fetch(fctx)
			v.mu.Lock()
			v.catching, c.err = nil, err
			v.lastTry = v.cfg.now()
			if err == nil {
				v.lastSync = v.lastTry
			}
			v.syncErr = err
			v.mu.Unlock()
			close(c.done)
		}()
	}
	v.mu.Unlock()
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run keeps the verifier current until ctx ends: it catches up every poll
// interval (WithPollInterval), so that it learns of a revocation even if
// the owner's push is lost (SPEC §6.1). It returns ctx's error, or at once
// if the verifier has no source.
func (v *Verifier) Run(ctx context.Context) error {
	if v.cfg.source == nil {
		return fmt.Errorf("vds: the verifier has no state source to poll: %w", ErrUnknownState)
	}
	t := time.NewTicker(v.cfg.poll)
	defer t.Stop()
	for {
		_ = v.Sync(ctx) // its error is kept for Freshness
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// latestFrom asks one source for its latest state.
func latestFrom(ctx context.Context, s StateSource) (*SignedState, error) {
	st, err := s.LatestState(ctx)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, fmt.Errorf("vds: state source returned no state: %w", ErrUnknownState)
	}
	return st, nil
}

// fetch is one catch-up: it runs without the lock, taking it only to link
// each checked state.
func (v *Verifier) fetch(ctx context.Context) error {
	if v.cfg.source == nil && v.cfg.anchor == nil {
		return fmt.Errorf("vds: no state source to catch up from: %w", ErrUnknownState)
	}
	if !v.Anchored() {
		if v.cfg.anchor == nil {
			return fmt.Errorf("vds: the verifier holds no state: start it WithInitialState or WithTrustedSource (the owner): %w", ErrUnknownState)
		}
		first, err := latestFrom(ctx, v.cfg.anchor)
		if err != nil {
			return fmt.Errorf("vds: anchor: %w", err)
		}
		d, err := v.checkState(first)
		if err != nil {
			return fmt.Errorf("vds: anchor: %w", err)
		}
		v.mu.Lock()
		err = v.linkLocked(first, d)
		v.mu.Unlock()
		if err != nil && !errors.Is(err, ErrStaleState) {
			return err
		}
	}
	latest, err := v.latest(ctx)
	if err != nil {
		return err
	}
	if err := v.fetchStates(ctx, latest.st.State.Epoch); err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.linkLocked(latest.st, latest.d); err != nil && !errors.Is(err, ErrStaleState) {
		return err
	}
	return nil
}

// latestGrace is how long a catch-up waits for its other source once one
// has answered with a valid state.
const latestGrace = 500 * time.Millisecond

type checkedState struct {
	st *SignedState
	d  Hash
}

// latest asks the trusted source and the state source at once for their
// latest state and returns the newest one that carries a valid signature:
// a source that hangs delays the catch-up by at most latestGrace once the
// other has answered, and one that lies is ignored if the other does not.
func (v *Verifier) latest(ctx context.Context) (*checkedState, error) {
	var srcs []StateSource
	for _, s := range []StateSource{v.cfg.anchor, v.cfg.source} {
		if s != nil && (len(srcs) == 0 || srcs[0] != s) {
			srcs = append(srcs, s)
		}
	}
	type result struct {
		cs  *checkedState
		err error
	}
	ch := make(chan result, len(srcs))
	for _, src := range srcs {
		go func() {
			st, err := latestFrom(ctx, src)
			if err != nil {
				ch <- result{err: err}
				return
			}
			d, err := v.checkState(st)
			if err != nil {
				ch <- result{err: fmt.Errorf("latest state: %w", err)}
				return
			}
			ch <- result{cs: &checkedState{st, d}}
		}()
	}
	var best *checkedState
	var errs []error
	var grace <-chan time.Time
	for range srcs {
		select {
		case r := <-ch:
			if r.err != nil {
				errs = append(errs, r.err)
				continue
			}
			if best == nil || newer(r.cs.st, best.st) {
				best = r.cs
			}
			if grace == nil {
				t := time.NewTimer(latestGrace)
				defer t.Stop()
				grace = t.C
			}
		case <-grace:
			return best, nil
		case <-ctx.Done():
			if best != nil {
				return best, nil
			}
			return nil, fmt.Errorf("vds: catch up: %w", ctx.Err())
		}
	}
	if best == nil {
		return nil, fmt.Errorf("vds: catch up: %w", errors.Join(errs...))
	}
	return best, nil
}

// fetchStates fetches and links the states after the held one up to epoch
// to, a page at a time, from the state source (or the trusted source if
// the state source fails).
func (v *Verifier) fetchStates(ctx context.Context, to uint64) error {
	for {
		v.mu.Lock()
		from := v.state.State.Epoch + 1
		v.mu.Unlock()
		if from >= to { // the latest itself is linked by the caller
			return nil
		}
		end := min(to-1, from+uint64(v.cfg.limits.MaxStatesPerCall)-1)
		var sts []SignedState
		var err error
		for _, src := range []StateSource{v.cfg.source, v.cfg.anchor} {
			if src == nil {
				continue
			}
			if sts, err = src.States(ctx, from, end); err == nil {
				break
			}
		}
		if err != nil {
			var m *MissingStatesError
			if errors.As(err, &m) {
				return &MissingStatesError{From: max(m.From, from), To: to}
			}
			return fmt.Errorf("vds: catch up: %w", err)
		}
		if len(sts) == 0 {
			return &MissingStatesError{From: from, To: to}
		}
		sts = sts[:min(uint64(len(sts)), end-from+1)] // more than asked: ignored
		// Check signatures without the lock, then link in order.
		ds := make([]Hash, len(sts))
		for i := range sts {
			if sts[i].State.Epoch != from+uint64(i) {
				return &MissingStatesError{From: from + uint64(i), To: to}
			}
			if ds[i], err = v.checkState(&sts[i]); err != nil {
				return err
			}
		}
		v.mu.Lock()
		for i := range sts {
			if err = v.linkLocked(&sts[i], ds[i]); err != nil && !errors.Is(err, ErrStaleState) {
				break
			}
			err = nil
		}
		v.mu.Unlock()
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// minResync is how soon after a catch-up a verifier holding a too-old state
// refuses at once instead of catching up again: requests cannot make it
// hammer its sources.
const minResync = time.Second

// recentlySynced reports whether a catch-up ended less than minResync ago.
func (v *Verifier) recentlySynced() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return !v.lastTry.IsZero() && v.cfg.now().Sub(v.lastTry) < minResync
}
