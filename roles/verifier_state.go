package roles

import (
	"context"
	"fmt"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/accumulator"
)

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

// checkState checks a state's parameters and signature (no lock needed) and
// returns its digest.
func (v *Verifier) checkState(st *SignedState) (Hash, error) {
	k, err := verifyStateKeys(st, Hash(v.vk.Digest()), v.keys(), v.ownerID)
	if err != nil {
		return Hash{}, err
	}
	v.mu.Lock()
	if len(k.Signing) > len(v.owner.Signing) {
		// Handovers signed by keys it trusts (SPEC §6.3): key sets only
		// grow along the owner's one chain of handovers.
		v.owner = k
	}
	v.mu.Unlock()
	return st.State.Digest()
}

// keys returns a snapshot of the owner's keys, with the handovers learnt.
func (v *Verifier) keys() *OwnerKeys {
	v.mu.Lock()
	defer v.mu.Unlock()
	k := v.owner
	return &k
}

// Owner returns the owner's public keys as the verifier holds them: the
// ones it was configured with and those the handovers it accepted made.
func (v *Verifier) Owner() OwnerKeys { return *v.keys() }

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
