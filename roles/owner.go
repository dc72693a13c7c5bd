package roles

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"sync"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
)

// OwnerOption configures a DataOwner.
type OwnerOption func(*ownerConfig)

// DefaultHeartbeat is how often DataOwner.Run re-signs the latest state
// (SPEC §6.1).
const DefaultHeartbeat = time.Minute

// Delivery of states to listeners (DataOwner.Subscribe).
const (
	// deliverTimeout bounds one delivery to one listener.
	deliverTimeout = 5 * time.Second
	// retryFirst and retryMax bound the backoff between re-deliveries.
	retryFirst = 500 * time.Millisecond
	retryMax   = 15 * time.Second
)

type ownerConfig struct {
	signer    Signer
	rand      io.Reader
	now       func() time.Time
	limits    Limits
	heartbeat time.Duration
	err       error
}

// WithSigner makes the owner sign with s (a KMS or HSM) instead of the
// Ed25519 key in its store.
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
// use (they are serialised). Run keeps its servers and listeners current.
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
	synced  bool       // the storage server is known to hold everything acknowledged
	streams *streamSet // every stream's entries, as committed in the store

	listenersMu sync.Mutex
	listeners   []*subscriber
}

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
	if _, err := store.LatestState(ctx); errors.Is(err, ErrUnknownState) {
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

// sign fills in the CRS, owner and format of s and signs it with the
// stream head, now — or just after after (Unix milliseconds), so that a
// re-signature is always later than the one it replaces.
func (o *DataOwner) sign(ctx context.Context, s State, head StreamHead, after int64) (*SignedState, error) {
	s.Format, s.CRS, s.Owner = FormatVersion, o.CRSDigest(), o.ownerID
	d, err := s.Digest()
	if err != nil {
		return nil, err
	}
	st := &SignedState{State: s, IssuedAt: max(o.cfg.now().UnixMilli(), after+1), Head: head, KeyID: o.signer.KeyID()}
	if st.Sig, err = o.signer.Sign(ctx, stateMessage(d, st.IssuedAt, st.KeyID, &st.Head)); err != nil {
		return nil, fmt.Errorf("vds: sign state: %w", err)
	}
	return st, nil
}

// nextState computes and signs the state that revokes id, with the stream
// head after the change.
func (o *DataOwner) nextState(ctx context.Context, id BatchID, head StreamHead) (*SignedState, error) {
	prev, err := o.store.LatestState(ctx)
	if err != nil {
		return nil, err
	}
	pd, err := prev.State.Digest()
	if err != nil {
		return nil, err
	}
	y := id.Element()
	f := bls.G1Affine(prev.State.Acc)
	next, err := o.acc.Accumulate(&f, &y)
	if err != nil {
		return nil, err
	}
	return o.sign(ctx, State{
		Epoch:   prev.State.Epoch + 1,
		Acc:     codec.G1(next),
		Revoked: &Revocation{X: codec.Scalar(y), Batch: id},
		Prev:    pd,
	}, head, prev.IssuedAt)
}

// resign re-signs the latest state with a stream head (SPEC §11.2).
func (o *DataOwner) resign(ctx context.Context, head StreamHead) (*SignedState, error) {
	prev, err := o.store.LatestState(ctx)
	if err != nil {
		return nil, err
	}
	return o.sign(ctx, prev.State, head, prev.IssuedAt)
}

// Refresh re-signs the latest state with the current time, so verifiers
// with a maximum state age keep accepting it (SPEC §6.1), and pushes it to
// the listeners and the storage server.
func (o *DataOwner) Refresh(ctx context.Context) (*SignedState, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	// No sync first: verifiers must stay fresh while the storage server is
	// down. A server that lacks earlier states refuses this one, and Sync
	// sends them in order later.
	st, err := o.resign(ctx, o.streams.head())
	if err != nil {
		return nil, err
	}
	if err := o.store.Commit(ctx, &OwnerTx{State: st}); err != nil {
		return nil, err
	}
	o.publish(ctx, st)
	if err := o.storage.ApplyState(ctx, st); err != nil {
		return st, o.push(err)
	}
	return st, nil
}

// commitBatch commits to a batch and signs its header.
func (o *DataOwner) commitBatch(ctx context.Context, b *Batch, enc *encoded, seq uint64, version uint32) (*SignedHeader, *BatchData, error) {
	times, cols := enc.times, enc.cols
	k := len(cols)
	data := &BatchData{Times: append([]uint64(nil), b.Timestamps...), Columns: make([]codec.ScalarVector, k), Gammas: make([]codec.Scalar, k)}
	h := Header{
		Format: FormatVersion, CRS: o.CRSDigest(), Owner: o.ownerID, KeyID: o.signer.KeyID(),
		Stream: b.Stream, Seq: seq, Version: version, Rows: uint32(len(times)),
		Columns: make([]ColumnInfo, k), Commits: make([]codec.G1, k),
		FirstTime: b.Timestamps[0], LastTime: b.Timestamps[len(times)-1],
	}
	tg, err := o.scalar()
	if err != nil {
		return nil, nil, err
	}
	tc, err := o.pk.CommitG2(times, tg)
	if err != nil {
		return nil, nil, err
	}
	h.TimeCommit, data.TimeGamma = codec.G2(tc), codec.Scalar(tg)
	for c := range cols {
		g, err := o.scalar()
		if err != nil {
			return nil, nil, err
		}
		cm, err := o.pk.CommitG1(cols[c], g)
		if err != nil {
			return nil, nil, err
		}
		h.Columns[c] = ColumnInfo{Name: b.Columns[c].Name, Scale: b.Columns[c].Scale, Bits: enc.bits[c]}
		h.Commits[c], data.Columns[c], data.Gammas[c] = codec.G1(cm), codec.ScalarVector(cols[c]), codec.Scalar(g)
	}
	id, err := h.Digest()
	if err != nil {
		return nil, nil, err
	}
	sig, err := o.signer.Sign(ctx, id[:])
	if err != nil {
		return nil, nil, fmt.Errorf("vds: sign header: %w", err)
	}
	return &SignedHeader{Header: h, Sig: sig}, data, nil
}

// scalar draws commitment randomness.
func (o *DataOwner) scalar() (fr.Element, error) {
	var b [48]byte
	if _, err := io.ReadFull(o.cfg.rand, b[:]); err != nil {
		return fr.Element{}, fmt.Errorf("vds: randomness: %w", err)
	}
	var e fr.Element
	e.SetBigInt(new(big.Int).SetBytes(b[:]))
	clear(b[:])
	return e, nil
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

// IngestResult is the outcome of DataOwner.Ingest.
type IngestResult struct {
	// Header is the signed header of the batch: the new one, or the one
	// already stored with the same content.
	Header *SignedHeader
	// Existing is set when the stream already held a live batch with
	// exactly this content (SPEC §11.1): nothing new was stored.
	Existing bool
}

// CreateBatch is Ingest returning only the header: the new batch's, or that
// of the live batch of the stream with exactly the same content.
func (o *DataOwner) CreateBatch(ctx context.Context, b *Batch) (*SignedHeader, error) {
	r, err := o.Ingest(ctx, b)
	if r == nil {
		return nil, err
	}
	return r.Header, err
}

// Ingest commits to a new batch at the end of its stream, signs its header
// and the state with the new stream head, and stores both on the storage
// server (create_batch of SPEC §8, §11). It is safe to retry: a batch whose
// content equals a live batch of the stream is not stored again (Existing
// is set), and a batch that overlaps a live batch, or starts before the end
// of the stream, fails with a *StreamConflictError. The batch is durable in
// the owner's store before it is sent; if the storage server cannot be
// reached the returned error wraps the transport error, the result is
// still returned, and the batch is sent again by Sync or the next
// operation.
func (o *DataOwner) Ingest(ctx context.Context, b *Batch) (*IngestResult, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.syncLocked(ctx); err != nil {
		return nil, err
	}
	if b == nil {
		return nil, invalid("batch", "nil")
	}
	enc, err := b.encode(o.pk.N(), o.cfg.limits)
	if err != nil {
		return nil, err
	}
	content, err := contentHash(b, enc)
	if err != nil {
		return nil, err
	}
	if id, ok := o.streams.content[b.Stream][content]; ok {
		rec, err := o.store.Record(ctx, id)
		if err != nil {
			return nil, err
		}
		if rec.RevokedAt == 0 && rec.Header != nil {
			return &IngestResult{Header: rec.Header, Existing: true}, nil
		}
	}
	t0, t1 := b.Timestamps[0], b.Timestamps[len(b.Timestamps)-1]
	es := o.streams.entries[b.Stream]
	if err := placeNew(b.Stream, es, t0, t1); err != nil {
		return nil, err
	}
	seq := uint64(len(es))
	sh, data, err := o.commitBatch(ctx, b, enc, seq, 0)
	if err != nil {
		return nil, err
	}
	id, _ := sh.Header.Digest()
	next := o.streams.clone()
	next.put(b.Stream, StreamEntry{Seq: seq, Batch: id, T0: t0, T1: t1})
	next.addContent(b.Stream, content, id)
	st, err := o.resign(ctx, next.head())
	if err != nil {
		return nil, err
	}
	req := &StoreBatchRequest{Header: *sh, Data: *data, State: st}
	reqBytes, err := codec.Default().Marshal(req)
	if err != nil {
		return nil, err
	}
	rec := BatchRecord{ID: id, Stream: b.Stream, Seq: seq, T0: t0, T1: t1, Content: content, Header: sh}
	if err := o.store.Commit(ctx, &OwnerTx{State: st, Records: []BatchRecord{rec}, PutPending: []PendingOp{{ID: id, Kind: PendingStore, Request: reqBytes}}}); err != nil {
		return nil, err
	}
	o.streams = next
	res := &IngestResult{Header: sh}
	o.publish(ctx, st)
	if err := o.storage.StoreBatch(ctx, req); err != nil {
		return res, o.push(err)
	}
	return res, o.store.Commit(ctx, &OwnerTx{DeletePending: []BatchID{id}})
}

// placeNew checks that a batch spanning t0..t1 can be appended to a stream
// with entries es (SPEC §11.1): it overlaps no live entry and starts after
// the last entry.
func placeNew(stream string, es []StreamEntry, t0, t1 uint64) error {
	for i := len(es) - 1; i >= 0 && es[i].T1 >= t0; i-- {
		if e := es[i]; !e.Revoked && e.T0 <= t1 {
			id := e.Batch
			return &StreamConflictError{Stream: stream, Batch: &id,
				Reason: fmt.Sprintf("the batch (t=%d..%d) overlaps batch %s (seq %d, t=%d..%d)", t0, t1, id, e.Seq, e.T0, e.T1)}
		}
	}
	if n := len(es); n > 0 && t0 <= es[n-1].T1 {
		last := es[n-1]
		return &StreamConflictError{Stream: stream,
			Reason: fmt.Sprintf("the batch starts at t=%d, before the end of the stream (seq %d ends at t=%d): new batches go at the end; to replace a batch, update it", t0, last.Seq, last.T1)}
	}
	return nil
}

// push records that the storage server may lack something and wraps the
// error of a call to it.
func (o *DataOwner) push(err error) error {
	if err == nil {
		return nil
	}
	o.synced = false
	return fmt.Errorf("vds: saved by the owner, not yet acknowledged by the storage server (retried by Sync; re-running the same request is safe): %w", err)
}

// Revoke revokes a batch (revoke_batch of SPEC §8): it signs the state of the
// next epoch, whose accumulator value includes the batch's element and whose
// stream head marks the entry revoked, stores it, and applies it on the
// storage server.
func (o *DataOwner) Revoke(ctx context.Context, id BatchID) (*SignedState, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.syncLocked(ctx); err != nil {
		return nil, err
	}
	rec, err := o.liveRecord(ctx, id)
	if err != nil {
		return nil, err
	}
	next := o.streams.clone()
	if es := next.entries[rec.Stream]; rec.Seq < uint64(len(es)) && es[rec.Seq].Batch == id {
		e := es[rec.Seq]
		e.Revoked = true
		next.put(rec.Stream, e)
		delete(next.content[rec.Stream], rec.Content)
	}
	st, err := o.nextState(ctx, id, next.head())
	if err != nil {
		return nil, err
	}
	rec.RevokedAt = st.State.Epoch
	if err := o.store.Commit(ctx, &OwnerTx{State: st, Records: []BatchRecord{*rec}}); err != nil {
		return nil, err
	}
	o.streams = next
	// Verifiers learn of the revocation first: until the storage server has
	// the state too, its answers are stale for them (fail closed).
	o.publish(ctx, st)
	if err := o.storage.ApplyState(ctx, st); err != nil {
		return st, o.push(err)
	}
	return st, nil
}

func (o *DataOwner) liveRecord(ctx context.Context, id BatchID) (*BatchRecord, error) {
	rec, err := o.store.Record(ctx, id)
	if err != nil {
		return nil, err
	}
	if rec.RevokedAt != 0 {
		return nil, &RevokedError{Batch: id, Epoch: rec.RevokedAt}
	}
	return rec, nil
}

// UpdatePlan is what an update would change (DataOwner.CheckUpdate).
type UpdatePlan struct {
	Stream         string
	Seq            uint64
	OldBatch       BatchID
	OldVersion     uint32
	NewVersion     uint32
	OldT0, OldT1   uint64
	NewT0, NewT1   uint64
	OldRows        uint32
	NewRows        uint32
	Columns        []ColumnInfo // unchanged by the update
	NeighbourLimit [2]*uint64   // the previous entry's t1 and the next one's t0, if any
}

// CheckUpdate checks that b can replace batch id (SPEC §11.1, item 3) and
// returns what the update would change, without changing anything.
func (o *DataOwner) CheckUpdate(ctx context.Context, id BatchID, b *Batch) (*UpdatePlan, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	plan, _, _, _, err := o.planUpdate(ctx, id, b)
	return plan, err
}

// planUpdate checks an update and returns its plan, the old record, the
// new batch (with its stream filled in) encoded, and its content hash.
func (o *DataOwner) planUpdate(ctx context.Context, id BatchID, b *Batch) (*UpdatePlan, *BatchRecord, *encoded, Hash, error) {
	fail := func(err error) (*UpdatePlan, *BatchRecord, *encoded, Hash, error) { return nil, nil, nil, Hash{}, err }
	if b == nil {
		return fail(invalid("batch", "nil"))
	}
	rec, err := o.liveRecord(ctx, id)
	if err != nil {
		return fail(err)
	}
	if b.Stream == "" {
		b.Stream = rec.Stream
	}
	if b.Stream != rec.Stream {
		return fail(&StreamConflictError{Stream: b.Stream, Batch: &id,
			Reason: fmt.Sprintf("an update keeps the stream: batch %s is in stream %s", id, Display(rec.Stream))})
	}
	enc, err := b.encode(o.pk.N(), o.cfg.limits)
	if err != nil {
		return fail(err)
	}
	content, err := contentHash(b, enc)
	if err != nil {
		return fail(err)
	}
	if content == rec.Content {
		return fail(invalid("update", "the new version of batch %s has the same content as the current one: nothing to update", id))
	}
	if rec.Header == nil {
		return fail(fmt.Errorf("vds: the owner has no header of batch %s: %w", id, ErrNotFound))
	}
	old := &rec.Header.Header
	if len(old.Columns) != len(b.Columns) {
		return fail(&StreamConflictError{Stream: rec.Stream, Batch: &id,
			Reason: fmt.Sprintf("an update keeps the columns: %d columns, the batch has %d", len(b.Columns), len(old.Columns))})
	}
	for i, c := range b.Columns {
		oc := old.Columns[i]
		if c.Name != oc.Name || c.Scale != oc.Scale || enc.bits[i] != oc.Bits {
			return fail(&StreamConflictError{Stream: rec.Stream, Batch: &id,
				Reason: fmt.Sprintf("an update keeps the column names, scales and bounds: column %d is %s (scale %d, %d bits), the batch has %s (scale %d, %d bits)",
					i+1, Display(c.Name), c.Scale, enc.bits[i], Display(oc.Name), oc.Scale, oc.Bits)})
		}
	}
	t0, t1 := b.Timestamps[0], b.Timestamps[len(b.Timestamps)-1]
	plan := &UpdatePlan{Stream: rec.Stream, Seq: rec.Seq, OldBatch: id, OldVersion: rec.Version, NewVersion: rec.Version + 1,
		OldT0: rec.T0, OldT1: rec.T1, NewT0: t0, NewT1: t1, OldRows: old.Rows, NewRows: uint32(len(b.Timestamps)),
		Columns: append([]ColumnInfo(nil), old.Columns...)}
	es := o.streams.entries[rec.Stream]
	if rec.Seq > 0 && rec.Seq-1 < uint64(len(es)) {
		p := es[rec.Seq-1]
		plan.NeighbourLimit[0] = &p.T1
		if t0 <= p.T1 {
			return fail(&StreamConflictError{Stream: rec.Stream, Batch: &p.Batch,
				Reason: fmt.Sprintf("the new version starts at t=%d, not after the previous batch (seq %d ends at t=%d)", t0, p.Seq, p.T1)})
		}
	}
	if rec.Seq+1 < uint64(len(es)) {
		nx := es[rec.Seq+1]
		plan.NeighbourLimit[1] = &nx.T0
		if t1 >= nx.T0 {
			return fail(&StreamConflictError{Stream: rec.Stream, Batch: &nx.Batch,
				Reason: fmt.Sprintf("the new version ends at t=%d, not before the next batch (seq %d starts at t=%d)", t1, nx.Seq, nx.T0)})
		}
	}
	return plan, rec, enc, content, nil
}

// Update replaces a batch by a new version (update_batch of SPEC §8): the old
// version is revoked and the new one, with the same stream, sequence number,
// columns, scales and bounds, a time range still between its neighbours and
// the next version number, is stored — as one operation that survives a
// crash in between (it is durable in the owner's store as one transaction
// and applied on the storage server as one). b.Stream may be empty;
// otherwise it must be the old version's stream. Anything else fails with
// a *StreamConflictError or an *InputError, changing nothing.
func (o *DataOwner) Update(ctx context.Context, id BatchID, b *Batch) (*SignedHeader, *SignedState, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.syncLocked(ctx); err != nil {
		return nil, nil, err
	}
	if b == nil {
		return nil, nil, invalid("batch", "nil")
	}
	nb := *b
	_, rec, enc, content, err := o.planUpdate(ctx, id, &nb)
	if err != nil {
		return nil, nil, err
	}
	sh, data, err := o.commitBatch(ctx, &nb, enc, rec.Seq, rec.Version+1)
	if err != nil {
		return nil, nil, err
	}
	newID, _ := sh.Header.Digest()
	t0, t1 := nb.Timestamps[0], nb.Timestamps[len(nb.Timestamps)-1]
	next := o.streams.clone()
	next.put(rec.Stream, StreamEntry{Seq: rec.Seq, Version: rec.Version + 1, Batch: newID, T0: t0, T1: t1})
	delete(next.content[rec.Stream], rec.Content)
	next.addContent(rec.Stream, content, newID)
	st, err := o.nextState(ctx, id, next.head())
	if err != nil {
		return nil, nil, err
	}
	req := &UpdateBatchRequest{State: *st, Header: *sh, Data: *data}
	reqBytes, err := codec.Default().Marshal(req)
	if err != nil {
		return nil, nil, err
	}
	rec.RevokedAt = st.State.Epoch
	newRec := BatchRecord{ID: newID, Stream: rec.Stream, Seq: rec.Seq, Version: rec.Version + 1, T0: t0, T1: t1, Content: content, Header: sh}
	if err := o.store.Commit(ctx, &OwnerTx{State: st, Records: []BatchRecord{*rec, newRec},
		PutPending: []PendingOp{{ID: newID, Kind: PendingUpdate, Request: reqBytes}}}); err != nil {
		return nil, nil, err
	}
	o.streams = next
	o.publish(ctx, st)
	if err := o.storage.UpdateBatch(ctx, req); err != nil {
		return sh, st, o.push(err)
	}
	return sh, st, o.store.Commit(ctx, &OwnerTx{DeletePending: []BatchID{newID}})
}

// InSync reports whether the storage server is known to hold everything the
// owner has acknowledged or committed to; after a failed push it is false
// until Sync succeeds.
func (o *DataOwner) InSync() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.synced
}

// Sync sends the storage server everything the owner has committed to and
// the server may lack: pending batches and updates, and missing states in
// epoch order. It runs before the first operation after NewDataOwner and
// after any failed push.
func (o *DataOwner) Sync(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.synced = false
	return o.syncLocked(ctx)
}

func (o *DataOwner) syncLocked(ctx context.Context) error {
	if o.synced {
		return nil
	}
	pending, err := o.store.Pending(ctx)
	if err != nil {
		return err
	}
	updates := map[uint64]PendingOp{} // by the epoch of their state
	var stores []PendingOp
	reqs := map[BatchID]*UpdateBatchRequest{}
	for _, p := range pending {
		switch p.Kind {
		case PendingUpdate:
			var r UpdateBatchRequest
			if err := codec.Default().Unmarshal(p.Request, &r); err != nil {
				return fmt.Errorf("vds: pending update %s: %w", p.ID.Short(), err)
			}
			updates[r.State.State.Epoch] = p
			reqs[p.ID] = &r
		default:
			stores = append(stores, p)
		}
	}
	mine, err := o.store.LatestState(ctx)
	if err != nil {
		return err
	}
	next := uint64(0)
	theirs, err := o.storage.LatestState(ctx)
	switch {
	case err == nil:
		next = theirs.State.Epoch + 1
		if theirs.State.Epoch > mine.State.Epoch {
			return fmt.Errorf("vds: storage server is at epoch %d, the owner at %d: %w", theirs.State.Epoch, mine.State.Epoch, ErrConflict)
		}
	case errors.Is(err, ErrUnknownState):
	default:
		return o.push(err)
	}
	done := func(id BatchID) error { return o.store.Commit(ctx, &OwnerTx{DeletePending: []BatchID{id}}) }
	for e := next; e <= mine.State.Epoch; e++ {
		if p, ok := updates[e]; ok {
			if err := o.storage.UpdateBatch(ctx, reqs[p.ID]); err != nil {
				return o.push(err)
			}
			if err := done(p.ID); err != nil {
				return err
			}
			delete(updates, e)
			continue
		}
		sts, err := o.store.States(ctx, e, e)
		if err != nil {
			return err
		}
		if err := o.storage.ApplyState(ctx, &sts[0]); err != nil {
			return o.push(err)
		}
	}
	if theirs != nil && theirs.State.Epoch == mine.State.Epoch && theirs.IssuedAt < mine.IssuedAt {
		if err := o.storage.ApplyState(ctx, mine); err != nil {
			return o.push(err)
		}
	}
	// Updates whose state the server already had: store the new version.
	for _, p := range updates {
		if err := o.storage.UpdateBatch(ctx, reqs[p.ID]); err != nil {
			return o.push(err)
		}
		if err := done(p.ID); err != nil {
			return err
		}
	}
	for _, p := range stores {
		var r StoreBatchRequest
		if err := codec.Default().Unmarshal(p.Request, &r); err != nil {
			return fmt.Errorf("vds: pending batch %s: %w", p.ID.Short(), err)
		}
		if err := o.storage.StoreBatch(ctx, &r); err != nil && !errors.Is(err, ErrRevoked) {
			return o.push(err)
		}
		if err := done(p.ID); err != nil {
			return err
		}
	}
	o.synced = true
	return nil
}
