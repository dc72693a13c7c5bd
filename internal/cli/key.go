package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// keyRotateJSON is `vds key rotate -json`: key ids only, never key bytes.
type keyRotateJSON struct {
	OldKeyID string `json:"old_key_id"`
	NewKeyID string `json:"new_key_id"`
	Epoch    uint64 `json:"epoch"`     // the handover's epoch (a rotation is not a new epoch)
	IssuedAt string `json:"issued_at"` // of the handover state, RFC 3339, UTC
	Handover int    `json:"handovers"` // handovers the owner's states carry now
}

// RunKey is `vds key rotate`: the running owner makes a new signing key,
// signs the handover to it with the old key and the new one, keeps the new
// key in its store with the handover state (atomically) and pushes that
// state to the storage server and the verifiers (SPEC §6.3). It prints the
// old and the new key ids. An owner with an external signer (-signer)
// refuses: its key is outside the owner.
func RunKey(ctx context.Context, args []string) error {
	args, err := subcommand(args, "rotate", "usage: vds key rotate [-dir DIR] [-owner A,…] [-tls-dir D] [-token-file F] [-json]")
	if err != nil {
		return err
	}
	c := newCommon("key rotate")
	asJSON := c.jsonFlag()
	if err := c.parse(args); err != nil {
		return err
	}
	ot, err := c.dialOwner()
	if err != nil {
		return err
	}
	defer ot.Close()
	st, err := transport.OwnerClient{T: ot}.RotateKey(ctx)
	if err != nil {
		return ownerRefusal(err)
	}
	if len(st.Keys) == 0 {
		return fmt.Errorf("the owner answered a state without a handover: %w", roles.ErrInvalidEncoding)
	}
	h := st.Keys[len(st.Keys)-1]
	if h.To.ID != st.KeyID {
		return fmt.Errorf("the owner's handover is to key %s, its state is signed by key %s: %w", safeText(h.To.ID), safeText(st.KeyID), roles.ErrKeyMismatch)
	}
	out := keyRotateJSON{OldKeyID: h.From, NewKeyID: h.To.ID, Epoch: h.Epoch,
		IssuedAt: time.UnixMilli(st.IssuedAt).UTC().Format(time.RFC3339Nano), Handover: len(st.Keys)}
	if *asJSON {
		return printJSON(out)
	}
	fmt.Printf("rotated the owner's signing key: old key %s retired, new key %s signs from epoch %d (issued %s)\n",
		safeText(out.OldKeyID), safeText(out.NewKeyID), out.Epoch, out.IssuedAt)
	return nil
}
