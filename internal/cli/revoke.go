package cli

import (
	"context"
	"fmt"

	"github.com/vdsproject/vds/transport"
)

// RunRevoke is `vds revoke -batch ID`: the owner revokes the batch.
func RunRevoke(ctx context.Context, args []string) error {
	c := newCommon("revoke")
	batch := c.batchFlag(batchHelp)
	if err := c.parse(args); err != nil {
		return err
	}
	id, err := resolveBatch(ctx, c, *batch)
	if err != nil {
		return err
	}
	ot, err := c.dialOwner()
	if err != nil {
		return err
	}
	defer ot.Close()
	st, err := transport.OwnerClient{T: ot}.Revoke(ctx, id)
	if err != nil {
		return ownerRefusal(err)
	}
	fmt.Printf("revoked %s at epoch %d\n", id, st.State.Epoch)
	return nil
}
