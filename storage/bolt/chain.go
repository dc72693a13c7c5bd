package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"go.etcd.io/bbolt"

	"github.com/vdsproject/vds/roles"
)

// The revocation chain: one per file, shared by the server and the owner
// methods (LatestState and States are methods of both interfaces).

// latestState returns the newest state of the chain, or nil if it is empty.
func latestState(tx *bbolt.Tx) (*roles.SignedState, error) {
	k, v := tx.Bucket(bChain).Cursor().Last()
	if k == nil {
		return nil, nil
	}
	return decodeState(k, v)
}

func decodeState(k, v []byte) (*roles.SignedState, error) {
	if len(k) != 8 {
		return nil, fmt.Errorf("bolt: state key of %d bytes: %w", len(k), ErrCorrupt)
	}
	e := binary.BigEndian.Uint64(k)
	st, err := decode[roles.SignedState](fmt.Sprintf("state of epoch %d", e), v)
	if err != nil {
		return nil, err
	}
	if st.State.Epoch != e {
		return nil, fmt.Errorf("bolt: state of epoch %d stored under epoch %d: %w", st.State.Epoch, e, ErrCorrupt)
	}
	return st, nil
}

// appendState applies st to the chain as ServerStore.AppendState and
// OwnerStore.Commit do, deciding with roles.NextStep exactly as the memory
// stores. latest is the newest held state (nil for an empty chain). On
// StepAppend it also records f_E and x_E in the history buckets and marks
// the revoked batch (freeing its live slot). It returns the step taken.
func appendState(tx *bbolt.Tx, latest, st *roles.SignedState) (roles.ChainStep, error) {
	var held *roles.SignedState
	e := st.State.Epoch
	if latest != nil && e <= latest.State.Epoch {
		if e == latest.State.Epoch {
			held = latest
		} else if v := tx.Bucket(bChain).Get(epochKey(e)); v != nil {
			var err error
			if held, err = decodeState(epochKey(e), v); err != nil {
				return 0, err
			}
		}
	}
	step, err := roles.NextStep(latest, held, st)
	if err != nil {
		return 0, err
	}
	if step == roles.StepNoop {
		return step, nil
	}
	enc, err := encode("state", st)
	if err != nil {
		return 0, err
	}
	if err := tx.Bucket(bChain).Put(epochKey(e), enc); err != nil {
		return 0, err
	}
	if step == roles.StepReplace {
		return step, nil
	}
	// StepAppend.
	f := bls.G1Affine(st.State.Acc)
	if err := tx.Bucket(bAcc).Put(epochKey(e), g1Raw(&f)); err != nil {
		return 0, err
	}
	if r := st.State.Revoked; r != nil {
		x := fr.Element(r.X)
		if err := tx.Bucket(bX).Put(epochKey(e), scalarBytes(&x)); err != nil {
			return 0, err
		}
		if err := markRevoked(tx, r.Batch, e); err != nil {
			return 0, err
		}
	}
	return step, nil
}

// markRevoked records that epoch e revoked the batch id, drops its proof
// tables and, if the batch is stored and holds its slot, frees the slot.
func markRevoked(tx *bbolt.Tx, id roles.BatchID, e uint64) error {
	if err := tx.Bucket(bRevoked).Put(clone(id[:]), epochKey(e)); err != nil {
		return err
	}
	if err := dropTables(tx, id); err != nil {
		return err
	}
	v := tx.Bucket(bInfo).Get(id[:])
	if v == nil {
		return nil
	}
	info, err := decode[roles.BatchInfo]("batch info", v)
	if err != nil {
		return err
	}
	live := tx.Bucket(bLive)
	k := slotKey(info.Stream, info.Seq)
	if bytes.Equal(live.Get(k), id[:]) {
		return live.Delete(k)
	}
	return nil
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// heldStates returns the number of held states: the latest epoch + 1, or
// 0 for an empty chain.
func heldStates(tx *bbolt.Tx) (uint64, error) {
	k, _ := tx.Bucket(bChain).Cursor().Last()
	if k == nil {
		return 0, nil
	}
	if len(k) != 8 {
		return 0, fmt.Errorf("bolt: state key of %d bytes: %w", len(k), ErrCorrupt)
	}
	return binary.BigEndian.Uint64(k) + 1, nil
}

// checkRange checks from ≤ to ≤ latest as the memory stores do.
func checkRange(tx *bbolt.Tx, from, to uint64) error {
	if from > to {
		return inputError("epochs", "from %d > to %d", from, to)
	}
	n, err := heldStates(tx)
	if err != nil {
		return err
	}
	if to >= n {
		return &roles.MissingStatesError{From: max(from, n), To: to}
	}
	return nil
}

// LatestState returns the newest state of the chain, or an error wrapping
// roles.ErrUnknownState if it is empty. It implements both
// roles.ServerStore and roles.OwnerStore (one chain per file).
func (s *Store) LatestState(ctx context.Context) (*roles.SignedState, error) {
	var st *roles.SignedState
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		st, err = latestState(tx)
		if err == nil && st == nil {
			err = fmt.Errorf("bolt: no state yet: %w", roles.ErrUnknownState)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// States returns the states of epochs from..to inclusive; a
// *roles.MissingStatesError if some are not held. It implements both
// roles.ServerStore and roles.OwnerStore.
func (s *Store) States(ctx context.Context, from, to uint64) ([]roles.SignedState, error) {
	var out []roles.SignedState
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		if err := checkRange(tx, from, to); err != nil {
			return err
		}
		out = make([]roles.SignedState, 0, to-from+1)
		c := tx.Bucket(bChain).Cursor()
		k, v := c.Seek(epochKey(from))
		for e := from; ; e++ {
			if !bytes.Equal(k, epochKey(e)) {
				return fmt.Errorf("bolt: state of epoch %d missing: %w", e, ErrCorrupt)
			}
			st, err := decodeState(k, v)
			if err != nil {
				return err
			}
			out = append(out, *st)
			if e == to {
				break
			}
			k, v = c.Next()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
