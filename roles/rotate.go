package roles

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"

	"github.com/vdsproject/vds/internal/hash"
)

// MaxHandovers bounds the key handovers a signed state may carry.
const MaxHandovers = 64

// KeyTime is a point in the owner's signed history: an epoch and an issue
// time (Unix milliseconds).
type KeyTime struct {
	Epoch uint64 `cbor:"epoch"`
	At    int64  `cbor:"at"`
}

// Handover hands the owner's signing over from the key From to the key To
// (SPEC §6.3). It is signed by the retiring key (Sig) and by the new key
// (PoP, proving that its holder has it). From then on the retiring key may
// sign no state of an epoch after Epoch or issued at or after At; the new
// key signs the states from (Epoch, At) on.
type Handover struct {
	From  string     `cbor:"from"` // id of the retiring key
	To    SigningKey `cbor:"to"`   // the new key
	Epoch uint64     `cbor:"epoch"`
	At    int64      `cbor:"at"` // Unix milliseconds
	Sig   []byte     `cbor:"sig"`
	PoP   []byte     `cbor:"pop"`
}

// handoverMessage returns what both keys of a handover sign.
func handoverMessage(owner Hash, h *Handover) []byte {
	m := hash.Sum(hash.TagHandover, owner[:], []byte(h.From), []byte(h.To.ID), h.To.Key,
		hash.U64(h.Epoch), hash.U64(uint64(h.At)))
	return m[:]
}

// handoversDigest returns what a state's signature covers of its handovers.
func handoversDigest(owner Hash, hs []Handover) []byte {
	parts := make([][]byte, len(hs))
	for i := range hs {
		parts[i] = handoverMessage(owner, &hs[i])
	}
	m := hash.Sum(hash.TagHandover, parts...)
	return m[:]
}

// sameHandover reports whether two handovers hand over the same keys at
// the same point.
func sameHandover(a, b *Handover) bool {
	return a.From == b.From && a.To.ID == b.To.ID && a.Epoch == b.Epoch && a.At == b.At
}

func (k *OwnerKeys) index(id string) int {
	return slices.IndexFunc(k.Signing, func(s SigningKey) bool { return s.ID == id })
}

// Extend returns the key set after the handovers hs, checked in order
// (SPEC §6.3): each must be signed by a key of the set that is not retired
// at its point, and by its new key. A handover already in the set is
// skipped, as is one whose new key the set already holds from elsewhere
// (a verifier configured after the rotation). k is not changed.
func (k *OwnerKeys) Extend(owner Hash, hs []Handover) (OwnerKeys, error) {
	if len(hs) > MaxHandovers {
		return OwnerKeys{}, tooLarge("handovers", len(hs), MaxHandovers)
	}
	out := OwnerKeys{Accumulator: k.Accumulator, Signing: slices.Clone(k.Signing)}
	for i := range hs {
		h := &hs[i]
		if len(h.To.Key) != ed25519.PublicKeySize || h.To.ID != KeyID(ed25519.PublicKey(h.To.Key)) {
			return OwnerKeys{}, invalid("handover", "new key id %q does not match its key", h.To.ID)
		}
		if h.At < 0 {
			return OwnerKeys{}, invalid("handover", "time %d is before 1970", h.At)
		}
		f, t := out.index(h.From), out.index(h.To.ID)
		if t >= 0 {
			if nk := out.Signing[t]; nk.Since != nil && nk.Since.Epoch == h.Epoch && nk.Since.At == h.At {
				continue // known
			}
			if f < 0 {
				continue // a key configured directly
			}
			return OwnerKeys{}, fmt.Errorf("vds: handover %d to key %q, which the owner already had: %w", i, h.To.ID, ErrRetiredKey)
		}
		if f < 0 {
			return OwnerKeys{}, fmt.Errorf("vds: handover %d from unknown key %q: %w", i, h.From, ErrBadSignature)
		}
		from := out.Signing[f]
		at := KeyTime{Epoch: h.Epoch, At: h.At}
		if err := from.validAt(at); err != nil {
			return OwnerKeys{}, fmt.Errorf("vds: handover %d: %w", i, err)
		}
		msg := handoverMessage(owner, h)
		if len(h.Sig) != ed25519.SignatureSize || !ed25519.Verify(ed25519.PublicKey(from.Key), msg, h.Sig) {
			return OwnerKeys{}, fmt.Errorf("vds: handover %d is not signed by the retiring key %q: %w", i, h.From, ErrBadSignature)
		}
		if len(h.PoP) != ed25519.SignatureSize || !ed25519.Verify(ed25519.PublicKey(h.To.Key), msg, h.PoP) {
			return OwnerKeys{}, fmt.Errorf("vds: handover %d is not signed by its new key %q: %w", i, h.To.ID, ErrBadSignature)
		}
		from.Retired = &at
		out.Signing[f] = from
		out.Signing = append(out.Signing, SigningKey{ID: h.To.ID, Key: slices.Clone(h.To.Key), Since: &at})
	}
	return out, nil
}

// validAt checks that the key may sign a state at p: not before the
// handover that made it, not at or after the one that retired it.
func (s *SigningKey) validAt(p KeyTime) error {
	if s.Since != nil && (p.Epoch < s.Since.Epoch || p.At < s.Since.At) {
		return fmt.Errorf("key %q signs only from epoch %d, issued at %d on (got epoch %d, issued at %d): %w",
			s.ID, s.Since.Epoch, s.Since.At, p.Epoch, p.At, ErrRetiredKey)
	}
	if s.Retired != nil && (p.Epoch > s.Retired.Epoch || p.At >= s.Retired.At) {
		return fmt.Errorf("key %q was retired at epoch %d, issued at %d (got epoch %d, issued at %d): %w",
			s.ID, s.Retired.Epoch, s.Retired.At, p.Epoch, p.At, ErrRetiredKey)
	}
	return nil
}

// stateKeys checks a state's handovers and signing key against owner and
// returns the key set after its handovers.
func stateKeys(st *SignedState, owner *OwnerKeys, ownerID Hash) (OwnerKeys, error) {
	keys, err := owner.Extend(ownerID, st.Keys)
	if err != nil {
		return OwnerKeys{}, fmt.Errorf("vds: state of epoch %d: %w", st.State.Epoch, err)
	}
	if i := keys.index(st.KeyID); i >= 0 {
		if err := keys.Signing[i].validAt(KeyTime{Epoch: st.State.Epoch, At: st.IssuedAt}); err != nil {
			return OwnerKeys{}, fmt.Errorf("vds: state of epoch %d: %w", st.State.Epoch, err)
		}
	}
	return keys, nil
}

// seeded is a Signer whose key can be kept in the owner's store.
type seeded interface {
	Signer
	Seed() []byte
}

// RotateKey makes a new Ed25519 signing key from the owner's random source
// and rotates to it (Rotate). It is for an owner that keeps its signing key
// in its store: the new seed replaces the old one in the same atomic step
// as the handover state is committed (OwnerStore.RotateKey), so a restarted
// owner signs with the new key. An owner created with an external signer
// (WithSigner) refuses, with ErrExternalSigner, having changed nothing.
func (o *DataOwner) RotateKey(ctx context.Context) (*SignedState, error) {
	if o.cfg.signer != nil {
		return nil, ErrExternalSigner
	}
	next, err := GenerateEd25519Signer(o.cfg.rand)
	if err != nil {
		return nil, err
	}
	return o.Rotate(ctx, next)
}

// Rotate hands the owner's signing over to next (SPEC §6.3): the current
// key signs a handover to next, and next re-signs the latest state with
// it; every later state and header is signed by next and every later state
// carries the handovers. An owner that keeps its signing key in its store
// (no WithSigner) needs an Ed25519Signer and keeps its seed there,
// atomically with the handover state (as RotateKey). An owner with an
// external signer keeps nothing: persist next (its key file or signer)
// before calling Rotate, and start the owner with it afterwards. If Rotate
// fails the owner still signs with its old key and Rotate may be called
// again.
func (o *DataOwner) Rotate(ctx context.Context, next Signer) (*SignedState, error) {
	if next == nil {
		return nil, invalid("rotate", "nil signer")
	}
	if len(next.Public()) != ed25519.PublicKeySize || next.KeyID() != KeyID(next.Public()) {
		return nil, invalid("rotate", "the new signer's key id does not match its key")
	}
	if _, ok := next.(seeded); !ok && o.cfg.signer == nil {
		return nil, invalid("rotate", "the owner keeps its signing key in its store: the new signer must be an Ed25519Signer")
	}
	o.mu.Lock()
	st, keys, err := o.rotate(ctx, next)
	if err != nil {
		o.mu.Unlock()
		return nil, err
	}
	o.keys, o.signer, o.handovers = keys, next, st.Keys
	if err := o.handOver(ctx, st, func() error { return o.storage.ApplyState(ctx, st) }); err != nil {
		return st, o.push(err)
	}
	return st, nil
}

// rotate signs and commits the handover state; o.mu is held.
func (o *DataOwner) rotate(ctx context.Context, next Signer) (*SignedState, OwnerKeys, error) {
	if next.KeyID() == o.signer.KeyID() || o.keys.index(next.KeyID()) >= 0 {
		return nil, OwnerKeys{}, invalid("rotate", "the new key %s is not new", next.KeyID())
	}
	prev, err := o.store.LatestState(ctx)
	if err != nil {
		return nil, OwnerKeys{}, err
	}
	if len(prev.Keys) >= MaxHandovers {
		return nil, OwnerKeys{}, tooLarge("handovers", len(prev.Keys)+1, MaxHandovers)
	}
	h := Handover{From: o.signer.KeyID(), To: SigningKey{ID: next.KeyID(), Key: slices.Clone(next.Public())},
		Epoch: prev.State.Epoch, At: max(o.cfg.now().UnixMilli(), prev.IssuedAt+1)}
	msg := handoverMessage(o.ownerID, &h)
	if h.Sig, err = o.signer.Sign(ctx, msg); err != nil {
		return nil, OwnerKeys{}, fmt.Errorf("vds: sign handover: %w", err)
	}
	if h.PoP, err = next.Sign(ctx, msg); err != nil {
		return nil, OwnerKeys{}, fmt.Errorf("vds: sign handover with the new key: %w", err)
	}
	hs := append(slices.Clone(prev.Keys), h)
	keys, err := o.keys.Extend(o.ownerID, hs)
	if err != nil {
		return nil, OwnerKeys{}, err
	}
	st, err := o.signAt(ctx, prev.State, o.streams.head(), h.At, next, hs)
	if err != nil {
		return nil, OwnerKeys{}, err
	}
	if sk, ok := next.(seeded); ok && o.cfg.signer == nil {
		seed := sk.Seed()
		err = o.store.RotateKey(ctx, seed, st)
		clear(seed)
	} else {
		err = o.store.Commit(ctx, &OwnerTx{State: st})
	}
	if err != nil {
		return nil, OwnerKeys{}, err
	}
	return st, keys, nil
}
