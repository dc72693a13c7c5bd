package roles

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
)

// OwnerOption configures a DataOwner.
type OwnerOption func(*ownerConfig)

// DefaultHeartbeat is how often DataOwner.Run re-signs the latest state
// (SPEC §6.1).
const DefaultHeartbeat = time.Minute

type ownerConfig struct {
	signer    Signer
	rand      io.Reader
	now       func() time.Time
	limits    Limits
	heartbeat time.Duration
	appendPol AppendPolicy // of the appenders DataOwner.AppendRows opens
	err       error
}

// WithSigner makes the owner sign with s (a KMS or HSM through
// NewCryptoSigner, a signer process through transport.SignerClient)
// instead of an Ed25519 key in its store. An owner created with a signer
// keeps no signing key in its store; one created without must keep its
// own, and one whose states were signed by another key refuses s
// (ErrKeyMismatch).
func WithSigner(s Signer) OwnerOption { return func(c *ownerConfig) { c.signer = s } }

// WithRandom sets the source of key material and commitment randomness
// (default crypto/rand.Reader). Anything but crypto/rand is for tests and
// test vectors only (testdata/vectors): whoever can replay the source knows
// the owner's accumulator secret and every commitment's randomness γ.
func WithRandom(r io.Reader) OwnerOption { return func(c *ownerConfig) { c.rand = r } }

// WithClock sets the clock that stamps states (default time.Now).
func WithClock(now func() time.Time) OwnerOption { return func(c *ownerConfig) { c.now = now } }

// WithOwnerLimits sets the limits applied to new batches.
func WithOwnerLimits(l Limits) OwnerOption { return func(c *ownerConfig) { c.limits = l } }

// WithHeartbeat sets how often Run re-signs the latest state
// (DefaultHeartbeat). Verifiers refuse answers once the state they hold is
// older than their maximum state age: keep that a few heartbeats.
func WithHeartbeat(d time.Duration) OwnerOption {
	return func(c *ownerConfig) {
		if d <= 0 {
			c.err = invalid("data owner", "heartbeat %s must be positive", d)
		}
		c.heartbeat = d
	}
}

// DataOwner is the trusted, light data owner of SPEC §1: it commits to
// batches, signs their headers, revokes and updates batches and signs the
// resulting states. Its keys, state chain and unacknowledged operations live
// in its OwnerStore; an operation that returns nil is durable there and
// acknowledged by the storage server. Its methods are safe for concurrent
// use: they are serialised while they sign and write to the store, and
// their pushes to the storage server happen after, in order. Run keeps its
// servers and listeners current; Close stops its listeners' queues.
type DataOwner struct {
	mu      sync.Mutex
	crs     *commitment.CRS
	pk      *commitment.ProverKey
	store   OwnerStore
	storage StorageClient
	cfg     ownerConfig
	signer  Signer
	acc     *accumulator.SecretKey
	keys    OwnerKeys
	ownerID Hash
	// handovers are the owner's key handovers, carried by every state it
	// signs (SPEC §6.3); guarded by mu.
	handovers []Handover
	synced    atomic.Bool // the storage server is known to hold everything acknowledged
	streams   *streamSet  // every stream's entries, as committed in the store
	// appenders are the open appenders by stream (Appender); guarded by mu.
	appenders map[string]*Appender

	// pushMu orders the calls to the storage server and the inline
	// listeners: a mutation takes it before it releases mu (handOver).
	pushMu sync.Mutex

	listenersMu sync.Mutex // guards the fields below
	listeners   []*subscriber
	stop        chan struct{}   // closed by Close; nil until a queue starts
	bg          context.Context // of the queues' deliveries, cancelled by Close
	cancelBG    context.CancelFunc
	closed      bool
	workers     sync.WaitGroup
}

var _ StateSource = (*DataOwner)(nil)

// NewDataOwner opens the owner whose state is in store, creating its keys
// and the state of epoch 0 on first use, and pushing to storage whatever
// it has not acknowledged yet (see Sync) before the next operation.
func NewDataOwner(ctx context.Context, crs *commitment.CRS, store OwnerStore, storage StorageClient, opts ...OwnerOption) (*DataOwner, error) {
	cfg := ownerConfig{rand: rand.Reader, now: time.Now, limits: DefaultLimits(), heartbeat: DefaultHeartbeat}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	if crs == nil || store == nil || storage == nil {
		return nil, invalid("data owner", "nil CRS, store or storage client")
	}
	if err := cfg.limits.check(); err != nil {
		return nil, err
	}
	o := &DataOwner{crs: crs, pk: crs.ProverKey(), store: store, storage: storage, cfg: cfg}
	sec, err := store.Secrets(ctx)
	if errors.Is(err, ErrNotFound) {
		sec, err = o.newSecrets(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("vds: owner keys: %w", err)
	}
	if o.acc, err = accumulator.UnmarshalSecretKey(sec.Accumulator); err != nil {
		return nil, fmt.Errorf("vds: owner keys: %w", err)
	}
	o.signer = cfg.signer
	if o.signer == nil {
		if len(sec.SigningSeed) == 0 {
			return nil, fmt.Errorf("vds: owner keys: the owner's store holds no signing key (it was created with an external signer: give it one): %w", ErrKeyMismatch)
		}
		if len(sec.SigningSeed) != ed25519.SeedSize {
			return nil, invalid("owner keys", "signing seed has %d bytes", len(sec.SigningSeed))
		}
		if o.signer, err = NewEd25519Signer(ed25519.NewKeyFromSeed(sec.SigningSeed)); err != nil {
			return nil, err
		}
	}
	clear(sec.SigningSeed)
	clear(sec.Accumulator)
	pub := o.acc.PublicKey()
	o.keys = OwnerKeys{
		Accumulator: codec.G2(pub),
		Signing:     []SigningKey{{ID: o.signer.KeyID(), Key: o.signer.Public()}},
	}
	o.ownerID = o.keys.ID()
	recs, err := store.Records(ctx)
	if err != nil {
		return nil, err
	}
	if o.streams, err = streamsFromRecords(recs); err != nil {
		return nil, err
	}
	latest, err := store.LatestState(ctx)
	if err == nil && latest.KeyID != o.signer.KeyID() {
		return nil, fmt.Errorf("vds: owner keys: the owner's states are signed by key %s, its signer has key %s: %w", latest.KeyID, o.signer.KeyID(), ErrKeyMismatch)
	}
	if err == nil && len(latest.Keys) > 0 {
		o.handovers = latest.Keys
		if h := latest.Keys[len(latest.Keys)-1]; h.To.ID == o.signer.KeyID() {
			o.keys.Signing[0].Since = &KeyTime{Epoch: h.Epoch, At: h.At}
		}
	}
	if errors.Is(err, ErrUnknownState) {
		st, err := o.sign(ctx, State{Epoch: 0, Acc: codec.G1(accumulator.Initial())}, o.streams.head(), 0)
		if err != nil {
			return nil, err
		}
		if err := store.Commit(ctx, &OwnerTx{State: st}); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	return o, nil
}

func (o *DataOwner) newSecrets(ctx context.Context) (*OwnerSecrets, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := io.ReadFull(o.cfg.rand, seed); err != nil {
		return nil, err
	}
	if o.cfg.signer != nil {
		// No signing key in the store with an external signer. The seed is
		// drawn all the same, so that a replayed source (WithRandom, the test
		// vectors) gives the same accumulator key either way.
		clear(seed)
		seed = nil
	}
	acc, err := accumulator.GenerateKey(o.cfg.rand)
	if err != nil {
		return nil, err
	}
	accBytes, err := acc.MarshalBinary()
	acc.Zero()
	if err != nil {
		return nil, err
	}
	sec := &OwnerSecrets{SigningSeed: seed, Accumulator: accBytes}
	if err := o.store.InitSecrets(ctx, sec); err != nil {
		return nil, err
	}
	return sec, nil
}

// Keys returns the owner's public keys: what storage servers and verifiers
// are configured with.
func (o *DataOwner) Keys() OwnerKeys { return o.keys }

// CRS returns the owner's CRS.
func (o *DataOwner) CRS() *commitment.CRS { return o.crs }

// CRSDigest returns the digest of the owner's CRS.
func (o *DataOwner) CRSDigest() Hash { return Hash(o.pk.Digest()) }

// LatestState returns the owner's current signed state (get_global_pk of
// SPEC §8).
func (o *DataOwner) LatestState(ctx context.Context) (*SignedState, error) {
	return o.store.LatestState(ctx)
}

// Ping checks that the owner's store is reachable (Pinger, or a read of
// the latest state for a store without Ping).
func (o *DataOwner) Ping(ctx context.Context) error {
	return ping(ctx, o.store, o.store.LatestState)
}

// States returns the owner's states of epochs from..to.
func (o *DataOwner) States(ctx context.Context, from, to uint64) ([]SignedState, error) {
	if to >= from && to-from >= uint64(o.cfg.limits.MaxStatesPerCall) {
		return nil, tooLarge("states", int(min(to-from+1, 1<<31)), o.cfg.limits.MaxStatesPerCall)
	}
	return o.store.States(ctx, from, to)
}

// StreamEntries returns the entries of a stream as the owner last committed
// them (SPEC §11.1), in sequence order; nil for an unknown stream.
func (o *DataOwner) StreamEntries(stream string) []StreamEntry {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.streams.entries[stream])
}

// Streams returns the names of the owner's streams, in bytewise order.
func (o *DataOwner) Streams() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.streams.names()
}
