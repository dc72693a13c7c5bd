package roles

import (
	"sync"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"

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

// Anchored reports whether the verifier holds a state.
func (v *Verifier) Anchored() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.state != nil
}
