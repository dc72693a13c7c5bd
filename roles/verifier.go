package roles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
)

// VerifierOption configures a Verifier.
type VerifierOption func(*verifierConfig)

// Freshness defaults (SPEC §6.1).
const (
	// DefaultMaxStateAge is how old the latest state a verifier holds may
	// be (by its issue time) before the verifier refuses to verify: three
	// owner heartbeats.
	DefaultMaxStateAge = 3 * DefaultHeartbeat
	// DefaultPollInterval is how often Verifier.Run asks its trusted
	// source for the owner's latest state.
	DefaultPollInterval = 15 * time.Second
	// DefaultMaxEpochsAhead is how far beyond the held epoch an answer may
	// claim to be before the verifier refuses it without catching up.
	DefaultMaxEpochsAhead = 10_000
	// DefaultCatchUpTimeout bounds one catch-up (all of its fetches).
	DefaultCatchUpTimeout = 10 * time.Second
)

type verifierConfig struct {
	anchor    StateSource
	source    StateSource
	maxAge    time.Duration // 0: no limit (WithoutMaxStateAge)
	poll      time.Duration
	maxAhead  uint64
	fetchTime time.Duration
	now       func() time.Time
	limits    Limits
	state     *SignedState
	err       error // an invalid option
}

// WithStateSource gives the verifier a source of signed states (the storage
// server or the owner) to catch up from when an answer carries a newer
// epoch or its state is too old. The source need not be trusted: every
// state it returns must carry the owner's signature and extend the chain
// from the state the verifier holds. It cannot give the verifier its first
// state — a source could offer an old one — see WithInitialState and
// WithTrustedSource.
func WithStateSource(s StateSource) VerifierOption {
	return func(c *verifierConfig) { c.source = s }
}

// WithTrustedSource makes the verifier take its first state from s, which
// must be the owner (reached over an authenticated channel): the latest
// state anchors the verifier, and every later one must extend it. s is
// also where the verifier looks first for the latest state when it catches
// up or polls (Run), and its state source unless WithStateSource names
// another.
func WithTrustedSource(s StateSource) VerifierOption {
	return func(c *verifierConfig) { c.anchor = s }
}

// WithMaxStateAge makes the verifier refuse to verify against a state issued
// more than d ago (after trying to catch up), DefaultMaxStateAge unless set.
// This is the bound of SPEC §6.1: a verifier never accepts an answer about a
// batch more than d after the owner revoked it. d must be positive; see
// WithoutMaxStateAge.
func WithMaxStateAge(d time.Duration) VerifierOption {
	return func(c *verifierConfig) {
		if d <= 0 {
			c.err = invalid("verifier", "maximum state age %s must be positive (WithoutMaxStateAge turns the check off)", d)
		}
		c.maxAge = d
	}
}

// WithoutMaxStateAge turns the state-age check off: the verifier then
// relies only on the states it is given or fetches, and may accept answers
// about a revoked batch for as long as it misses the revocation. Use it only
// for a verifier that receives every state synchronously (an in-process
// subscriber of the owner, as in NewLocal).
func WithoutMaxStateAge() VerifierOption {
	return func(c *verifierConfig) { c.maxAge = 0 }
}

// WithPollInterval sets how often Run asks for the owner's latest state
// (DefaultPollInterval).
func WithPollInterval(d time.Duration) VerifierOption {
	return func(c *verifierConfig) {
		if d <= 0 {
			c.err = invalid("verifier", "poll interval %s must be positive", d)
		}
		c.poll = d
	}
}

// WithCatchUpLimits bounds catching up: an answer claiming an epoch more
// than maxAhead beyond the held one is refused without any fetch
// (DefaultMaxEpochsAhead), and one catch-up — all of its fetches — takes at
// most timeout (DefaultCatchUpTimeout).
func WithCatchUpLimits(maxAhead uint64, timeout time.Duration) VerifierOption {
	return func(c *verifierConfig) {
		if maxAhead == 0 || timeout <= 0 {
			c.err = invalid("verifier", "catch-up limits must be positive: %d epochs, %s", maxAhead, timeout)
		}
		c.maxAhead, c.fetchTime = maxAhead, timeout
	}
}

// WithVerifierClock sets the verifier's clock (default time.Now).
func WithVerifierClock(now func() time.Time) VerifierOption {
	return func(c *verifierConfig) { c.now = now }
}

// WithVerifierLimits sets the limits the verifier applies to answers.
func WithVerifierLimits(l Limits) VerifierOption {
	return func(c *verifierConfig) { c.limits = l }
}

// WithInitialState starts the verifier at a state obtained from the owner
// out of band (its latest); it is checked like any other. A verifier holds
// the latest state it knows, and an answer for an older epoch is stale: so
// its first state must come from the owner, not from a storage server.
func WithInitialState(st *SignedState) VerifierOption {
	return func(c *verifierConfig) { c.state = st }
}

// Verifier checks answers against the owner's public keys, the CRS and the
// latest signed state it holds (SPEC §1, §7). It is safe for concurrent use:
// its lock guards only memory, never a network call, so a slow catch-up
// delays only the answers that need it.
type Verifier struct {
	vk      *commitment.VerifierKey
	owner   OwnerKeys
	ownerID Hash
	accKey  *commitment.FixedG2
	cfg     verifierConfig

	mu       sync.Mutex
	headers  map[BatchID]*Header // headers already verified (bounded)
	state    *SignedState
	digest   Hash               // of state.State
	revoked  map[BatchID]uint64 // revocations seen in the chain
	catching *catchUp           // the catch-up in flight, if any
	lastSync time.Time          // end of the last successful catch-up
	lastTry  time.Time          // end of the last catch-up
	syncErr  error              // error of the last catch-up
}

// catchUp is one catch-up in flight; callers that need one while it runs
// wait for it instead of starting their own.
type catchUp struct {
	done chan struct{}
	err  error
}

// NewVerifier returns a verifier for the owner with the given public keys.
func NewVerifier(vk *commitment.VerifierKey, owner OwnerKeys, opts ...VerifierOption) (*Verifier, error) {
	cfg := verifierConfig{now: time.Now, limits: DefaultLimits(), maxAge: DefaultMaxStateAge, poll: DefaultPollInterval,
		maxAhead: DefaultMaxEpochsAhead, fetchTime: DefaultCatchUpTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	if vk == nil {
		return nil, invalid("verifier", "nil verifier key")
	}
	if cfg.now == nil {
		return nil, invalid("verifier", "nil clock")
	}
	if err := cfg.limits.check(); err != nil {
		return nil, err
	}
	if err := owner.Check(); err != nil {
		return nil, err
	}
	if cfg.source == nil {
		cfg.source = cfg.anchor
	}
	v := &Verifier{vk: vk, owner: owner, ownerID: owner.ID(), cfg: cfg, revoked: map[BatchID]uint64{}, headers: map[BatchID]*Header{},
		accKey: commitment.NewFixedG2(bls.G2Affine(owner.Accumulator))}
	if cfg.state != nil { // the anchor itself: no need to ask the trusted source
		d, err := v.checkState(cfg.state)
		if err != nil {
			return nil, err
		}
		if err := v.linkLocked(cfg.state, d); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// State returns the latest state the verifier accepted, or nil.
func (v *Verifier) State() *SignedState {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.state == nil {
		return nil
	}
	s := *v.state
	return &s
}

// Freshness describes how current a verifier is (for health checks).
type Freshness struct {
	Epoch    uint64        // of the held state
	Anchored bool          // a state is held
	Age      time.Duration // since the held state was issued
	MaxAge   time.Duration // the allowed age; 0 if unchecked
	LastSync time.Time     // end of the last successful catch-up or poll
	SyncErr  error         // error of the last catch-up or poll, nil if it succeeded
}

// Fresh reports whether the verifier currently verifies answers (it holds a
// state no older than its maximum age).
func (f Freshness) Fresh() bool { return f.Anchored && (f.MaxAge == 0 || f.Age <= f.MaxAge) }

// Freshness returns how current the verifier is.
func (v *Verifier) Freshness() Freshness {
	v.mu.Lock()
	defer v.mu.Unlock()
	f := Freshness{MaxAge: v.cfg.maxAge, LastSync: v.lastSync, SyncErr: v.syncErr}
	if v.state != nil {
		f.Anchored, f.Epoch = true, v.state.State.Epoch
		f.Age = v.cfg.now().Sub(time.UnixMilli(v.state.IssuedAt))
	}
	return f
}

// AcceptState accepts a new signed state (update_global_pk of SPEC §8): it
// must carry a valid owner signature, be for this CRS and owner, and have an
// epoch not lower than the held one; the next epoch must link to the held
// state by its digest. A state more than one epoch ahead fails with a
// *MissingStatesError (use Sync, or give the intermediate states first).
// A verifier that holds no state yet first anchors itself at its trusted
// source (WithTrustedSource), and fails if it cannot; without one, it takes
// the first state it is given as its anchor — give it the owner's.
func (v *Verifier) AcceptState(ctx context.Context, st *SignedState) error {
	if st == nil {
		return invalid("state", "nil")
	}
	if !v.Anchored() && v.cfg.anchor != nil {
		if err := v.Sync(ctx); err != nil {
			return err
		}
	}
	d, err := v.checkState(st)
	if err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.linkLocked(st, d)
}

// Anchored reports whether the verifier holds a state.
func (v *Verifier) Anchored() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.state != nil
}

// checkState checks a state's parameters and signature (no lock needed) and
// returns its digest.
func (v *Verifier) checkState(st *SignedState) (Hash, error) {
	if err := verifyState(st, Hash(v.vk.Digest()), &v.owner, v.ownerID); err != nil {
		return Hash{}, err
	}
	return st.State.Digest()
}

// linkLocked makes a checked state with digest d the held one if it extends
// the chain (or re-signs the held state later).
func (v *Verifier) linkLocked(st *SignedState, d Hash) error {
	e := st.State.Epoch
	if v.state != nil {
		he := v.state.State.Epoch
		switch {
		case e < he:
			return &StaleStateError{Have: he, Got: e}
		case e == he:
			if d != v.digest {
				return fmt.Errorf("vds: a different state for epoch %d: %w", e, ErrConflict)
			}
			if st.IssuedAt > v.state.IssuedAt {
				s := *st
				v.state = &s
			}
			return nil
		case e > he+1:
			return &MissingStatesError{From: he + 1, To: e - 1}
		case st.State.Prev != v.digest:
			return fmt.Errorf("vds: state of epoch %d does not link to the held state: %w", e, ErrBadSignature)
		}
		// f_E = (x_E + s)·f_{E−1} (SPEC §6): the chain is a chain of
		// accumulations, not only of signatures.
		pk, prev, next := bls.G2Affine(v.owner.Accumulator), bls.G1Affine(v.state.State.Acc), bls.G1Affine(st.State.Acc)
		x := fr.Element(st.State.Revoked.X)
		if err := accumulator.CheckStep(&pk, &prev, &next, &x); err != nil {
			return fmt.Errorf("vds: state of epoch %d: %w", e, err)
		}
	}
	s := *st
	v.state, v.digest = &s, d
	if r := st.State.Revoked; r != nil {
		v.revoked[r.Batch] = e
	}
	return nil
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

// stateFor returns the state an answer of the given epoch must be verified
// against, catching up if the answer is newer than the held state or the
// held state is too old (SPEC §6–§7).
func (v *Verifier) stateFor(ctx context.Context, epoch uint64, id BatchID) (*SignedState, uint64, error) {
	for attempt := 0; ; attempt++ {
		v.mu.Lock()
		st := v.state
		var he uint64
		var age time.Duration
		if st != nil {
			he = st.State.Epoch
			age = v.cfg.now().Sub(time.UnixMilli(st.IssuedAt))
		}
		if st != nil && epoch < he {
			v.mu.Unlock()
			return nil, 0, &StaleStateError{Have: he, Got: epoch}
		}
		tooOld := v.cfg.maxAge > 0 && age > v.cfg.maxAge
		if st != nil && epoch == he && !tooOld {
			s := *st
			r := v.revoked[id]
			v.mu.Unlock()
			return &s, r, nil
		}
		v.mu.Unlock()
		if st != nil && epoch > he && (epoch-he > v.cfg.maxAhead || v.cfg.source == nil) {
			// Too far ahead to chase (WithCatchUpLimits), or nowhere to
			// catch up from: refused without a fetch.
			return nil, 0, &MissingStatesError{From: he + 1, To: epoch}
		}
		if st != nil && epoch == he && tooOld && (attempt > 0 || v.recentlySynced()) {
			return nil, 0, &StaleStateError{Have: he, Got: epoch,
				Reason: fmt.Sprintf("latest state was issued %s ago, more than the allowed %s", age.Round(time.Second), v.cfg.maxAge)}
		}
		if attempt == 2 {
			switch {
			case st == nil:
				return nil, 0, fmt.Errorf("vds: the verifier holds no state: %w", ErrUnknownState)
			case epoch > he:
				return nil, 0, &MissingStatesError{From: he + 1, To: epoch}
			default:
				return nil, 0, &StaleStateError{Have: he, Got: epoch,
					Reason: fmt.Sprintf("latest state was issued %s ago, more than the allowed %s", age.Round(time.Second), v.cfg.maxAge)}
			}
		}
		if err := v.Sync(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, 0, err
			}
			if tooOld && st != nil && epoch == he {
				return nil, 0, &StaleStateError{Have: he, Got: epoch,
					Reason: fmt.Sprintf("latest state was issued %s ago, more than the allowed %s, and catching up failed: %v", age.Round(time.Second), v.cfg.maxAge, err)}
			}
			return nil, 0, err
		}
	}
}

// Result is a verified answer.
type Result struct {
	Batch   BatchID
	Header  Header
	Epoch   uint64
	Kind    QueryKind
	Columns []string
	Values  []Value // one per column, in query order
	// First and Last are the rows a time window selected (Last = First−1
	// if none); zero for other kinds.
	First, Last uint32
}

// Verify checks that ans answers q (verify_dc_query, verify_da_audit and
// verify_time_proofs of SPEC §8): the header is the owner's, for this CRS,
// and is the queried batch; the answer is for the verifier's latest epoch
// (catching up first if it is newer); the batch is not revoked (a
// non-membership witness with u ≠ 0); and the values are what the
// committed data implies — all in one multi-pairing. For an audit, q must
// carry the nonce the auditor issued.
func (v *Verifier) Verify(ctx context.Context, q *Query, ans *Answer) (*Result, error) {
	b := v.vk.NewBatch()
	res, err := v.prepare(ctx, q, ans, b, nil)
	if err != nil {
		return nil, err
	}
	return v.check(b, res)
}

// prepare checks everything of an answer but its pairing equations, which
// it adds to b (verify_many.go shares b between answers, and seen between
// the answers that carry the same non-membership equation; nil for one).
func (v *Verifier) prepare(ctx context.Context, q *Query, ans *Answer, b *commitment.Batch, seen *witnessSet) (*Result, error) {
	if q == nil || ans == nil {
		return nil, invalid("verify", "nil query or answer")
	}
	if err := sameQuery(q, &ans.Query); err != nil {
		return nil, err
	}
	id, h, err := v.verifyHeader(&ans.Header)
	if err != nil {
		return nil, err
	}
	if id != q.Batch {
		return nil, fmt.Errorf("vds: answer carries the header of batch %s, not %s: %w", id.Short(), q.Batch.Short(), ErrBadProof)
	}
	l := int(h.Rows)
	if err := checkQueryShape(q, l, v.cfg.limits); err != nil {
		return nil, err
	}
	cols, err := queryColumns(q, h)
	if err != nil {
		return nil, err
	}
	if len(ans.Values) != len(cols) {
		return nil, fmt.Errorf("vds: %d values for %d columns: %w", len(ans.Values), len(cols), ErrBadProof)
	}
	st, revokedAt, err := v.stateFor(ctx, ans.Epoch, id)
	if err != nil {
		return nil, err
	}
	if revokedAt != 0 {
		return nil, &RevokedError{Batch: id, Epoch: revokedAt}
	}

	// Equation 1: non-membership of y = HFr(acc, D) at the held epoch (u ≠ 0
	// is enforced by Terms).
	y := id.Element()
	f := bls.G1Affine(st.State.Acc)
	wit := accumulator.Witness{W: bls.G1Affine(ans.Witness.W), U: fr.Element(ans.Witness.U), Epoch: ans.Epoch}
	if key := witnessKey(id, &wit); !seen.has(key) {
		a, bb, err := accumulator.TermsNoAccumulatorCheck(&f, &y, &wit) // f was checked with its state
		if err != nil {
			if errors.Is(err, ErrRevoked) {
				return nil, fmt.Errorf("vds: batch %s: non-membership witness with u = 0: %w", id.Short(), err)
			}
			return nil, fmt.Errorf("vds: witness: %w", err)
		}
		b.Equation()
		b.PairFixed(&a, v.accKey)
		b.PairGenerator(&bb)
		seen.add(key)
	}

	res := &Result{Batch: id, Header: *h, Epoch: ans.Epoch, Kind: q.Kind, Columns: q.Columns, Values: make([]Value, len(cols))}
	xs := make([]fr.Element, len(cols))
	for i := range xs {
		xs[i] = fr.Element(ans.Values[i])
		if q.Kind == QueryAudit {
			// A random linear combination, not a sum (SPEC §7).
			res.Values[i] = Value{Int: toUnsigned(&xs[i])}
		} else {
			res.Values[i] = Value{Int: ToBig(&xs[i]), Scale: h.Columns[cols[i]].Scale}
		}
	}
	cs := make([]bls.G1Affine, len(cols))
	for i, c := range cols {
		cs[i] = bls.G1Affine(h.Commits[c])
	}

	var weights commitment.Weights
	var first, last uint32
	if q.Kind == QueryWindow {
		tw := ans.Window
		if tw == nil {
			return nil, fmt.Errorf("vds: time-window answer without boundary proof: %w", ErrBadProof)
		}
		first, last = tw.First, tw.Last
		rows := BoundaryRows(first, last, l)
		if err := checkWindow(h, first, last, rows, tw.Times, q.TimeFrom, q.TimeTo); err != nil {
			return nil, fmt.Errorf("vds: %w", err)
		}
		w, x := windowWeights(id, rows, tw.Times)
		tc, tp := bls.G2Affine(h.TimeCommit), bls.G1Affine(tw.Proof)
		if err := b.AddOpeningG2(&tc, w, &x, &tp); err != nil {
			return nil, proofInput(err)
		}
		res.First, res.Last = first, last
		if last < first {
			if ans.Proof != nil {
				return nil, fmt.Errorf("vds: empty window with a column proof: %w", ErrBadProof)
			}
			for i := range xs {
				if !xs[i].IsZero() {
					return nil, fmt.Errorf("vds: empty window with a non-zero sum: %w", ErrBadProof)
				}
			}
			return res, nil
		}
		weights = commitment.Range(int(first), int(last))
	} else {
		if ans.Window != nil {
			return nil, fmt.Errorf("vds: boundary proof in a %s answer: %w", q.Kind, ErrBadProof)
		}
		weights = queryWeights(q, l, ans.Epoch)
	}
	if ans.Proof == nil {
		return nil, fmt.Errorf("vds: answer without proof: %w", ErrBadProof)
	}
	cctx, err := columnContext(q, first, last)
	if err != nil {
		return nil, err
	}
	proof := bls.G1Affine(*ans.Proof)
	if err := b.AddColumnsPrechecked(cs, weights, xs, &proof, cctx); err != nil { // cs checked with the header
		return nil, proofInput(err)
	}
	return res, nil
}

// maxHeaderCache bounds the verified-header cache.
const maxHeaderCache = 4096

// verifyHeader verifies a signed header (structure, CRS, owner, points,
// signature) and returns its id and the verified header to use. Headers
// already verified are remembered by digest: a later header with the same
// digest is answered with the remembered copy, never with the caller's
// values (whose points a Go caller could set off the curve without changing
// their encoding).
func (v *Verifier) verifyHeader(sh *SignedHeader) (BatchID, *Header, error) {
	id, err := sh.Header.Digest()
	if err != nil {
		return BatchID{}, nil, fmt.Errorf("vds: header: %w", err)
	}
	v.mu.Lock()
	known := v.headers[id]
	v.mu.Unlock()
	if known != nil {
		return id, known, nil
	}
	if id, err = verifyHeader(sh, Hash(v.vk.Digest()), &v.owner, v.ownerID, v.vk.N(), v.cfg.limits); err != nil {
		return BatchID{}, nil, err
	}
	h := cloneHeader(&sh.Header)
	v.mu.Lock()
	if len(v.headers) >= maxHeaderCache {
		clear(v.headers)
	}
	v.headers[id] = h
	v.mu.Unlock()
	return id, h, nil
}

// cloneHeader returns a deep copy of h.
func cloneHeader(h *Header) *Header {
	c := *h
	c.Columns = append([]ColumnInfo(nil), h.Columns...)
	c.Commits = append([]codec.G1(nil), h.Commits...)
	return &c
}

// proofInput reports malformed proof elements (the identity, points outside
// the subgroup) as bad proofs that are also invalid input.
func proofInput(err error) error {
	return fmt.Errorf("vds: %w: %w", ErrBadProof, err)
}

// check evaluates the merged pairing equation and returns res only if it
// holds: a rejected answer yields no result.
func (v *Verifier) check(b *commitment.Batch, res *Result) (*Result, error) {
	if err := b.Verify(); err != nil {
		return nil, fmt.Errorf("vds: answer does not verify: %w", ErrBadProof)
	}
	return res, nil
}

// sameQuery checks that the answer is for the query asked (by canonical
// encoding). An audit answered for another nonce fails with
// ErrWrongChallenge.
func sameQuery(asked, answered *Query) error {
	a, err := codec.Default().Marshal(asked)
	if err != nil {
		return invalid("query", "%v", err)
	}
	b, err := codec.Default().Marshal(answered)
	if err != nil {
		return fmt.Errorf("vds: answered query: %w: %w", ErrBadProof, err)
	}
	if bytes.Equal(a, b) {
		return nil
	}
	if asked.Kind == QueryAudit && answered.Kind == QueryAudit && !bytes.Equal(asked.Nonce, answered.Nonce) {
		return fmt.Errorf("vds: audit answered for nonce %x, issued %x: %w", answered.Nonce, asked.Nonce, ErrWrongChallenge)
	}
	return fmt.Errorf("vds: the answer is for another query: %w", ErrBadProof)
}
