package roles

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/consensys/gnark-crypto/ecc"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/commitment"
)

// StorageClient is how a data owner reaches its storage server: the
// mutating calls of SPEC §8, each carrying owner-signed input. The
// StorageServer implements it in-process; transports implement it remotely.
type StorageClient interface {
	StoreBatch(ctx context.Context, req *StoreBatchRequest) error
	ApplyState(ctx context.Context, st *SignedState) error
	UpdateBatch(ctx context.Context, req *UpdateBatchRequest) error
	LatestState(ctx context.Context) (*SignedState, error)
}

// StateSource serves the owner's signed states, so that a verifier can catch
// up (SPEC §6). Both the StorageServer and the DataOwner implement it.
type StateSource interface {
	LatestState(ctx context.Context) (*SignedState, error)
	States(ctx context.Context, from, to uint64) ([]SignedState, error)
}

// ServerOption configures a StorageServer.
type ServerOption func(*serverConfig)

type serverConfig struct {
	checkCommitments  bool
	limits            Limits
	noPrecompute      bool // precompute.go
	precomputeWorkers int
}

// WithoutCommitmentCheck makes the server store batches without recomputing
// their commitments from the data (SPEC §5 allows it). An honest server
// keeps the check: it refuses data it could not later prove.
func WithoutCommitmentCheck() ServerOption {
	return func(c *serverConfig) { c.checkCommitments = false }
}

// WithServerLimits sets the limits the server applies to requests.
func WithServerLimits(l Limits) ServerOption {
	return func(c *serverConfig) { c.limits = l }
}

// StorageServer is the untrusted storage server of SPEC §1: it stores
// batches the owner signed, applies the owner's signed states in epoch
// order, and answers queries with proofs. All of its state lives in its
// ServerStore, so several servers may share one store. It is safe for
// concurrent use.
type StorageServer struct {
	pk      *commitment.ProverKey
	ownerID Hash
	store   ServerStore

	keysMu sync.Mutex
	owner  OwnerKeys // grows with the handovers of the states it accepts
	loaded bool      // the handovers of the store's latest state are in owner
	cfg    serverConfig
	pre    *precomputer // nil without precomputation (precompute.go)
}

var (
	_ StorageClient = (*StorageServer)(nil)
	_ StateSource   = (*StorageServer)(nil)
)

// NewStorageServer returns a server for the owner with the given public keys,
// using the prover key of the CRS and store for everything it keeps.
func NewStorageServer(crs *commitment.CRS, owner OwnerKeys, store ServerStore, opts ...ServerOption) (*StorageServer, error) {
	cfg := serverConfig{checkCommitments: true, limits: DefaultLimits(), precomputeWorkers: DefaultPrecomputeWorkers()}
	for _, o := range opts {
		o(&cfg)
	}
	if crs == nil || store == nil {
		return nil, invalid("storage server", "nil CRS or store")
	}
	if err := cfg.limits.check(); err != nil {
		return nil, err
	}
	if err := owner.Check(); err != nil {
		return nil, err
	}
	if cfg.precomputeWorkers < 1 {
		return nil, invalid("storage server", "%d precomputation workers", cfg.precomputeWorkers)
	}
	pk := crs.ProverKey()
	return &StorageServer{pk: pk, owner: owner, ownerID: owner.ID(), store: store, cfg: cfg, pre: newPrecomputer(pk, store, &cfg)}, nil
}

// Owner returns the public keys of the owner the server serves.
// After a key rotation it includes the keys the handovers made (SPEC §6.3).
func (s *StorageServer) Owner() OwnerKeys { return *s.keys() }

// keys returns a snapshot of the owner's keys.
func (s *StorageServer) keys() *OwnerKeys {
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	k := s.owner
	return &k
}

// keysFor returns the owner's keys after the handovers of the store's
// latest state, which it reads once (a restarted server knows the keys
// rotated before it stopped).
func (s *StorageServer) keysFor(ctx context.Context) *OwnerKeys {
	s.keysMu.Lock()
	loaded := s.loaded
	s.keysMu.Unlock()
	if !loaded {
		if st, err := s.store.LatestState(ctx); err == nil {
			if k, err := verifyStateKeys(st, s.CRSDigest(), s.keys(), s.ownerID); err == nil {
				s.learn(&k)
			}
			s.keysMu.Lock()
			s.loaded = true
			s.keysMu.Unlock()
		} else if errors.Is(err, ErrUnknownState) {
			s.keysMu.Lock()
			s.loaded = true
			s.keysMu.Unlock()
		}
	}
	return s.keys()
}

// learn keeps k if it knows more keys than the held set: key sets only
// grow along the owner's single chain of handovers.
func (s *StorageServer) learn(k *OwnerKeys) {
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	if len(k.Signing) > len(s.owner.Signing) {
		s.owner = *k
	}
}

// verifyState checks st against the owner's keys and learns its handovers.
func (s *StorageServer) verifyState(ctx context.Context, st *SignedState) error {
	k, err := verifyStateKeys(st, s.CRSDigest(), s.keysFor(ctx), s.ownerID)
	if err != nil {
		return err
	}
	s.learn(&k)
	return nil
}

// CRSDigest returns the digest of the server's CRS.
func (s *StorageServer) CRSDigest() Hash { return Hash(s.pk.Digest()) }

// verifyHeader checks a signed header's structure, parameters and signature
// and returns its id.
func verifyHeader(sh *SignedHeader, crs Hash, owner *OwnerKeys, ownerID Hash, n int, lim Limits) (BatchID, error) {
	h := &sh.Header
	if err := checkHeader(h, n, lim); err != nil {
		return BatchID{}, err
	}
	if h.CRS != crs {
		return BatchID{}, fmt.Errorf("vds: header made for CRS %s: %w", h.CRS, ErrCRSMismatch)
	}
	if h.Owner != ownerID {
		return BatchID{}, fmt.Errorf("vds: header of another owner: %w", ErrBadSignature)
	}
	for i := range h.Commits {
		if err := commitment.CheckPoint((*bls.G1Affine)(&h.Commits[i])); err != nil {
			return BatchID{}, fmt.Errorf("vds: header commitment %d: %w", i, err)
		}
	}
	if tc := (*bls.G2Affine)(&h.TimeCommit); tc.IsInfinity() || !tc.IsOnCurve() || !tc.IsInSubGroup() {
		return BatchID{}, invalid("header", "timestamp commitment is the identity or outside G2")
	}
	id, err := h.Digest()
	if err != nil {
		return BatchID{}, err
	}
	if err := verifySig(owner, h.KeyID, id[:], sh.Sig); err != nil {
		return BatchID{}, fmt.Errorf("vds: header of batch %s: %w", id.Short(), err)
	}
	return id, nil
}

// verifyState checks a signed state's parameters and signature.
func verifyState(st *SignedState, crs Hash, owner *OwnerKeys, ownerID Hash) error {
	_, err := verifyStateKeys(st, crs, owner, ownerID)
	return err
}

// verifyStateKeys checks a signed state's parameters, handovers and
// signature and returns owner's key set after its handovers.
func verifyStateKeys(st *SignedState, crs Hash, owner *OwnerKeys, ownerID Hash) (OwnerKeys, error) {
	s := &st.State
	if s.Format != FormatVersion {
		return OwnerKeys{}, invalid("state", "format %d, want %d", s.Format, FormatVersion)
	}
	if s.CRS != crs {
		return OwnerKeys{}, fmt.Errorf("vds: state made for CRS %s: %w", s.CRS, ErrCRSMismatch)
	}
	if s.Owner != ownerID {
		return OwnerKeys{}, fmt.Errorf("vds: state of another owner: %w", ErrBadSignature)
	}
	if err := commitment.CheckPoint((*bls.G1Affine)(&s.Acc)); err != nil {
		return OwnerKeys{}, fmt.Errorf("vds: accumulator value of epoch %d: %w", s.Epoch, err)
	}
	if st.IssuedAt < 0 {
		return OwnerKeys{}, invalid("state", "issued_at %d is before 1970", st.IssuedAt)
	}
	if (s.Epoch == 0) != (s.Revoked == nil) {
		return OwnerKeys{}, invalid("state", "epoch %d and its revocation entry disagree", s.Epoch)
	}
	if s.Epoch == 0 {
		// The empty accumulator (SPEC §6): f_0 = g and no previous state.
		if g := accumulator.Initial(); !(*bls.G1Affine)(&s.Acc).Equal(&g) {
			return OwnerKeys{}, invalid("state", "the accumulator value of epoch 0 is not g")
		}
		if s.Prev != (Hash{}) {
			return OwnerKeys{}, invalid("state", "the state of epoch 0 names a previous state")
		}
	}
	if r := s.Revoked; r != nil {
		y := r.Batch.Element()
		if x := fr.Element(r.X); !x.Equal(&y) {
			return OwnerKeys{}, invalid("state", "revoked element does not match the revoked batch")
		}
	}
	d, err := s.Digest()
	if err != nil {
		return OwnerKeys{}, err
	}
	keys, err := stateKeys(st, owner, ownerID)
	if err != nil {
		return OwnerKeys{}, err
	}
	if err := verifySig(&keys, st.KeyID, stateMessage(d, st.IssuedAt, st.KeyID, &st.Head, ownerID, st.Keys), st.Sig); err != nil {
		return OwnerKeys{}, fmt.Errorf("vds: state of epoch %d: %w", s.Epoch, err)
	}
	return keys, nil
}

// checkData checks a batch's data against its header and, unless
// configured otherwise, recomputes the commitments.
func (s *StorageServer) checkData(h *Header, d *BatchData) error {
	l, k := int(h.Rows), len(h.Columns)
	if len(d.Times) != l || len(d.Columns) != k || len(d.Gammas) != k {
		return invalid("batch data", "%d timestamps, %d columns, %d randomness values for %d rows and %d columns", len(d.Times), len(d.Columns), len(d.Gammas), l, k)
	}
	for i := 1; i < l; i++ {
		if d.Times[i] <= d.Times[i-1] {
			return invalid("batch data", "timestamps do not increase strictly at row %d", i+1)
		}
	}
	if d.Times[0] != h.FirstTime || d.Times[l-1] != h.LastTime {
		return invalid("batch data", "timestamps %d..%d, header says %d..%d", d.Times[0], d.Times[l-1], h.FirstTime, h.LastTime)
	}
	for c := range d.Columns {
		if len(d.Columns[c]) != l {
			return invalid("batch data", "column %q has %d values for %d rows", h.Columns[c].Name, len(d.Columns[c]), l)
		}
		// |v| < 2^bits (SPEC §5): a value beyond the header's bound could
		// make a sum wrap modulo r, and no verifier could tell.
		b := int(h.Columns[c].Bits)
		for i := range d.Columns[c] {
			if !elementFitsBits((*fr.Element)(&d.Columns[c][i]), b) {
				return invalid("batch data", "column %q row %d: the value does not fit the header's bound of %d bits", h.Columns[c].Name, i+1, b)
			}
		}
	}
	if !s.cfg.checkCommitments {
		return nil
	}
	return checkCommitments(s.pk, h, d)
}

// checkCommitments recomputes the commitments of a batch. The k column
// commitments are checked together with one random linear combination:
// Σ r_c C_c = g^(Σ r_c γ_c) · Π g_j^(Σ_c r_c m_{c,j}), one MSM whatever k.
func checkCommitments(pk *commitment.ProverKey, h *Header, d *BatchData) error {
	l, k := int(h.Rows), len(h.Columns)
	times := make([]fr.Element, l)
	for i, t := range d.Times {
		times[i].SetUint64(t)
	}
	ch, err := pk.CommitG2(times, fr.Element(d.TimeGamma))
	if err != nil {
		return invalid("batch data", "timestamp commitment: %v", err)
	}
	if want := bls.G2Affine(h.TimeCommit); !ch.Equal(&want) {
		return invalid("batch data", "timestamps do not match their commitment")
	}
	var combined []fr.Element
	var gamma fr.Element
	cs := make([]bls.G1Affine, k)
	r := make([]fr.Element, k)
	for c := range k {
		cs[c] = bls.G1Affine(h.Commits[c])
		if k == 1 {
			r[c].SetOne()
		} else if _, err := r[c].SetRandom(); err != nil {
			return fmt.Errorf("vds: randomness: %w", err)
		}
	}
	if k == 1 {
		combined = d.Columns[0]
		gamma = fr.Element(d.Gammas[0])
	} else {
		combined = make([]fr.Element, l)
		var t fr.Element
		for c := range k {
			col := d.Columns[c]
			for j := range col {
				t.Mul(&r[c], &col[j])
				combined[j].Add(&combined[j], &t)
			}
			g := fr.Element(d.Gammas[c])
			t.Mul(&r[c], &g)
			gamma.Add(&gamma, &t)
		}
	}
	got, err := pk.CommitG1(combined, gamma)
	if err != nil {
		return invalid("batch data", "column commitment: %v", err)
	}
	var want bls.G1Affine
	if _, err := want.MultiExp(cs, r, ecc.MultiExpConfig{}); err != nil {
		return err
	}
	if !got.Equal(&want) {
		return invalid("batch data", "columns do not match their commitments")
	}
	return nil
}

// StoreBatch stores a new batch (store_batch of SPEC §8) after checking the
// owner's signature, the header and the data, with the owner's state that
// includes it. Storing the same batch twice is a no-op.
func (s *StorageServer) StoreBatch(ctx context.Context, req *StoreBatchRequest) (err error) {
	if req.State != nil {
		// First: its handovers name the key of a header signed after a
		// rotation.
		if err := s.verifyState(ctx, req.State); err != nil {
			return err
		}
	}
	b, err := s.checkBatch(ctx, req.Header, req.Data)
	if err != nil {
		return err
	}
	defer func() {
		if err == nil {
			s.pre.enqueue(b.ID) // precompute.go
		}
	}()
	if req.State == nil {
		return s.store.PutBatch(ctx, b)
	}
	// The owner's state re-signed with the stream head that includes the
	// batch (SPEC §11.2): stored with the batch, atomically — unless a later
	// state, which includes the batch too, is already held.
	latest, err := s.store.LatestState(ctx)
	if err == nil && !newer(req.State, latest) {
		return s.store.PutBatch(ctx, b)
	}
	return s.store.UpdateBatch(ctx, req.State, b)
}

func (s *StorageServer) checkBatch(ctx context.Context, sh SignedHeader, d BatchData) (*StoredBatch, error) {
	id, err := verifyHeader(&sh, s.CRSDigest(), s.keysFor(ctx), s.ownerID, s.pk.N(), s.cfg.limits)
	if err != nil {
		return nil, err
	}
	if err := s.checkData(&sh.Header, &d); err != nil {
		return nil, err
	}
	return &StoredBatch{ID: id, Header: sh, Data: d}, nil
}

// ApplyState applies a signed state (add_revoked_item of SPEC §8): only the
// next epoch is accepted; a gap fails with a *MissingStatesError naming the
// missing epochs.
func (s *StorageServer) ApplyState(ctx context.Context, st *SignedState) error {
	if err := s.verifyState(ctx, st); err != nil {
		return err
	}
	return s.store.AppendState(ctx, st)
}

// UpdateBatch applies the state that revokes a batch's old version and
// stores its new version, atomically (update_batch of SPEC §8).
func (s *StorageServer) UpdateBatch(ctx context.Context, req *UpdateBatchRequest) error {
	if err := s.verifyState(ctx, &req.State); err != nil {
		return err
	}
	if req.State.State.Revoked == nil {
		return invalid("update", "the state revokes nothing")
	}
	b, err := s.checkBatch(ctx, req.Header, req.Data)
	if err != nil {
		return err
	}
	old, _, err := s.store.Header(ctx, req.State.State.Revoked.Batch)
	if err == nil {
		oh, nh := &old.Header, &b.Header.Header
		if oh.Stream != nh.Stream || oh.Seq != nh.Seq || nh.Version != oh.Version+1 {
			return invalid("update", "new version %s/%d v%d does not follow %s/%d v%d", nh.Stream, nh.Seq, nh.Version, oh.Stream, oh.Seq, oh.Version)
		}
	} else if !errors.Is(err, ErrUnknownBatch) {
		return err
	}
	if err := s.store.UpdateBatch(ctx, &req.State, b); err != nil {
		return err
	}
	s.pre.enqueue(b.ID)
	return nil
}

// Ping checks that the server's store is reachable (Pinger, or a read of
// the latest state for a store without Ping).
func (s *StorageServer) Ping(ctx context.Context) error {
	return ping(ctx, s.store, s.store.LatestState)
}

// LatestState returns the newest state the server holds.
func (s *StorageServer) LatestState(ctx context.Context) (*SignedState, error) {
	return s.store.LatestState(ctx)
}

// States returns the states of epochs from..to (get_states of SPEC §8), at
// most Limits.MaxStatesPerCall of them.
func (s *StorageServer) States(ctx context.Context, from, to uint64) ([]SignedState, error) {
	if to >= from && to-from >= uint64(s.cfg.limits.MaxStatesPerCall) {
		return nil, tooLarge("states", int(min(to-from+1, 1<<31)), s.cfg.limits.MaxStatesPerCall)
	}
	return s.store.States(ctx, from, to)
}

// Header returns a batch's signed header (get_header of SPEC §8).
func (s *StorageServer) Header(ctx context.Context, id BatchID) (*SignedHeader, error) {
	h, _, err := s.store.Header(ctx, id)
	return h, err
}

// ListBatches lists the stored batches of a stream, or all of them
// (list_batches of SPEC §8).
func (s *StorageServer) ListBatches(ctx context.Context, stream string) ([]BatchInfo, error) {
	l, err := s.store.List(ctx, stream)
	if err != nil {
		return nil, err
	}
	return l, s.proofInfo(ctx, l)
}
