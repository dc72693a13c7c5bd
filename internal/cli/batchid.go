package cli

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/vdsproject/vds/internal/errs"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// minPrefix is the fewest hex digits a batch id prefix may have.
const minPrefix = 8

// resolveBatch turns a batch id or a unique prefix of one (at least
// minPrefix hex digits) into a batch id, asking the storage server's list
// for a prefix.
func resolveBatch(ctx context.Context, c *common, s string) (roles.BatchID, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "":
		return roles.BatchID{}, usageErrorf("-batch is required")
	case len(s) == 2*len(roles.BatchID{}):
		id, err := roles.ParseBatchID(s)
		if err != nil {
			return id, &inputError{fmt.Errorf("-batch: %w", err)}
		}
		return id, nil
	case len(s) < minPrefix || len(s) > 2*len(roles.BatchID{}):
		return roles.BatchID{}, inputErrorf("-batch %q: want a batch id or a prefix of at least %d hex digits", s, minPrefix)
	}
	if _, err := hex.DecodeString(s[:len(s)&^1]); err != nil || !isHex(s) {
		return roles.BatchID{}, inputErrorf("-batch %q: not hexadecimal", s)
	}
	st, err := c.dialStorage(nil)
	if err != nil {
		return roles.BatchID{}, err
	}
	defer st.Close()
	l, err := transport.StorageClient{T: st}.ListBatches(ctx, "")
	if err != nil {
		return roles.BatchID{}, fmt.Errorf("storage server: %w", err)
	}
	return matchPrefix(s, l)
}

// matchPrefix returns the one batch of l whose id starts with prefix.
func matchPrefix(prefix string, l []roles.BatchInfo) (roles.BatchID, error) {
	var found []roles.BatchID
	for _, b := range l {
		if strings.HasPrefix(b.ID.String(), prefix) {
			found = append(found, b.ID)
		}
	}
	switch len(found) {
	case 0:
		return roles.BatchID{}, fmt.Errorf("-batch %s: %w (no batch id starts with it; see vds list)", prefix, errs.ErrUnknownBatch)
	case 1:
		return found[0], nil
	}
	return roles.BatchID{}, inputErrorf("-batch %s: ambiguous prefix of %d batches (%s, %s, …): give more digits", prefix, len(found), found[0].Short(), found[1].Short())
}

func isHex(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}
