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

type verifierConfig struct {
	anchor StateSource
	source StateSource
	maxAge time.Duration
	now    func() time.Time
	limits Limits
	state  *SignedState
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
// state anchors the verifier, and every later one must extend it. s also
// serves as the state source unless WithStateSource names another.
func WithTrustedSource(s StateSource) VerifierOption {
	return func(c *verifierConfig) { c.anchor = s }
}

// WithMaxStateAge makes the verifier refuse to verify against a state issued
// more than d ago (after trying to catch up from its state source).
func WithMaxStateAge(d time.Duration) VerifierOption {
	return func(c *verifierConfig) { c.maxAge = d }
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
// latest signed state it holds (SPEC §1, §7). It is safe for concurrent use.
type Verifier struct {
	vk      *commitment.VerifierKey
	owner   OwnerKeys
	ownerID Hash
	accKey  *commitment.FixedG2
	cfg     verifierConfig

	mu      sync.Mutex
	headers map[BatchID]bool // headers already verified (bounded)
	state   *SignedState
	digest  Hash               // of state.State
	revoked map[BatchID]uint64 // revocations seen in the chain
}

// NewVerifier returns a verifier for the owner with the given public keys.
func NewVerifier(vk *commitment.VerifierKey, owner OwnerKeys, opts ...VerifierOption) (*Verifier, error) {
	cfg := verifierConfig{now: time.Now, limits: DefaultLimits()}
	for _, o := range opts {
		o(&cfg)
	}
	if vk == nil {
		return nil, invalid("verifier", "nil verifier key")
	}
	if err := cfg.limits.check(); err != nil {
		return nil, err
	}
	if err := owner.Check(); err != nil {
		return nil, err
	}
	v := &Verifier{vk: vk, owner: owner, ownerID: owner.ID(), cfg: cfg, revoked: map[BatchID]uint64{}, headers: map[BatchID]bool{},
		accKey: commitment.NewFixedG2(bls.G2Affine(owner.Accumulator))}
	if cfg.source == nil {
		cfg.source = cfg.anchor
		v.cfg.source = cfg.anchor
	}
	if cfg.state != nil {
		if err := v.AcceptState(context.Background(), cfg.state); err != nil {
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

// AcceptState accepts a new signed state (update_global_pk of SPEC §8): it
// must carry a valid owner signature, be for this CRS and owner, and have an
// epoch not lower than the held one; the next epoch must link to the held
// state by its digest. A state more than one epoch ahead fails with a
// *MissingStatesError (use Sync, or give the intermediate states first).
// A verifier that holds no state yet first anchors itself at its trusted
// source (WithTrustedSource), and fails if it cannot; without one, it takes
// the first state it is given as its anchor — give it the owner's.
func (v *Verifier) AcceptState(ctx context.Context, st *SignedState) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.state == nil && v.cfg.anchor != nil {
		if err := v.syncLocked(ctx, 0); err != nil {
			return err
		}
	}
	return v.acceptLocked(st)
}

// Anchored reports whether the verifier holds a state.
func (v *Verifier) Anchored() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.state != nil
}

func (v *Verifier) acceptLocked(st *SignedState) error {
	if err := verifyState(st, Hash(v.vk.Digest()), &v.owner, v.ownerID); err != nil {
		return err
	}
	d, err := st.State.Digest()
	if err != nil {
		return err
	}
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
	}
	s := *st
	v.state, v.digest = &s, d
	if r := st.State.Revoked; r != nil {
		v.revoked[r.Batch] = e
	}
	return nil
}

// Sync catches up with the state source: it fetches and checks every state
// after the held one (or the latest, if none is held).
func (v *Verifier) Sync(ctx context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.syncLocked(ctx, 0)
}

// syncLocked catches up to the source's latest state, or to epoch target if
// that is higher.
func (v *Verifier) syncLocked(ctx context.Context, target uint64) error {
	if v.cfg.source == nil {
		from := uint64(0)
		if v.state != nil {
			from = v.state.State.Epoch + 1
		}
		if target >= from {
			return &MissingStatesError{From: from, To: target}
		}
		return fmt.Errorf("vds: no state source to catch up from: %w", ErrUnknownState)
	}
	if v.state == nil {
		if v.cfg.anchor == nil {
			return fmt.Errorf("vds: the verifier holds no state: start it WithInitialState or WithTrustedSource (the owner): %w", ErrUnknownState)
		}
		first, err := v.cfg.anchor.LatestState(ctx)
		if err != nil {
			return fmt.Errorf("vds: anchor: %w", err)
		}
		if err := v.acceptLocked(first); err != nil {
			return err
		}
	}
	latest, err := v.cfg.source.LatestState(ctx)
	if err != nil {
		return fmt.Errorf("vds: catch up: %w", err)
	}
	to := max(latest.State.Epoch, target)
	for from := v.state.State.Epoch + 1; from <= to; {
		end := min(to, from+uint64(v.cfg.limits.MaxStatesPerCall)-1)
		sts, err := v.cfg.source.States(ctx, from, end)
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
		for i := range sts {
			if sts[i].State.Epoch != from {
				return &MissingStatesError{From: from, To: to}
			}
			if err := v.acceptLocked(&sts[i]); err != nil {
				return err
			}
			from++
		}
	}
	// A fresher signature of the latest state.
	if latest.State.Epoch == v.state.State.Epoch {
		_ = v.acceptLocked(latest)
	}
	return nil
}

// stateFor returns the state an answer of the given epoch must be verified
// against, catching up if needed (SPEC §6–§7).
func (v *Verifier) stateFor(ctx context.Context, epoch uint64, id BatchID) (*SignedState, uint64, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.state == nil || epoch > v.state.State.Epoch {
		if err := v.syncLocked(ctx, epoch); err != nil {
			return nil, 0, err
		}
	}
	if v.cfg.maxAge > 0 && v.cfg.now().Sub(time.UnixMilli(v.state.IssuedAt)) > v.cfg.maxAge {
		if v.cfg.source != nil {
			if err := v.syncLocked(ctx, 0); err != nil {
				return nil, 0, err
			}
		}
		if age := v.cfg.now().Sub(time.UnixMilli(v.state.IssuedAt)); age > v.cfg.maxAge {
			return nil, 0, &StaleStateError{Have: v.state.State.Epoch, Got: epoch,
				Reason: fmt.Sprintf("latest state was issued %s ago, more than the allowed %s", age.Round(time.Second), v.cfg.maxAge)}
		}
	}
	if epoch < v.state.State.Epoch {
		return nil, 0, &StaleStateError{Have: v.state.State.Epoch, Got: epoch}
	}
	s := *v.state
	return &s, v.revoked[id], nil
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
	if q == nil || ans == nil {
		return nil, invalid("verify", "nil query or answer")
	}
	if err := sameQuery(q, &ans.Query); err != nil {
		return nil, err
	}
	h := &ans.Header.Header
	id, err := v.verifyHeader(&ans.Header)
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

	b := v.vk.NewBatch()
	// Equation 1: non-membership of y = HFr(acc, D) at the held epoch (u ≠ 0
	// is enforced by Terms).
	y := id.Element()
	f := bls.G1Affine(st.State.Acc)
	wit := accumulator.Witness{W: bls.G1Affine(ans.Witness.W), U: fr.Element(ans.Witness.U), Epoch: ans.Epoch}
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

	res := &Result{Batch: id, Header: *h, Epoch: ans.Epoch, Kind: q.Kind, Columns: q.Columns, Values: make([]Value, len(cols))}
	xs := make([]fr.Element, len(cols))
	for i := range xs {
		xs[i] = fr.Element(ans.Values[i])
		res.Values[i] = Value{Int: ToBig(&xs[i]), Scale: h.Columns[cols[i]].Scale}
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
		if err := checkWindow(first, last, l, rows, tw.Times, q.TimeFrom, q.TimeTo); err != nil {
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
			return v.check(b, res)
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
	return v.check(b, res)
}

// maxHeaderCache bounds the verified-header cache.
const maxHeaderCache = 4096

// verifyHeader verifies a signed header (structure, CRS, owner, points,
// signature), remembering the digests of headers already verified so that
// repeated queries on a batch skip the signature and point checks.
func (v *Verifier) verifyHeader(sh *SignedHeader) (BatchID, error) {
	id, err := sh.Header.Digest()
	if err != nil {
		return BatchID{}, fmt.Errorf("vds: header: %w", err)
	}
	v.mu.Lock()
	known := v.headers[id]
	v.mu.Unlock()
	if known {
		return id, nil
	}
	if id, err = verifyHeader(sh, Hash(v.vk.Digest()), &v.owner, v.ownerID, v.vk.N(), v.cfg.limits); err != nil {
		return BatchID{}, err
	}
	v.mu.Lock()
	if len(v.headers) >= maxHeaderCache {
		clear(v.headers)
	}
	v.headers[id] = true
	v.mu.Unlock()
	return id, nil
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
