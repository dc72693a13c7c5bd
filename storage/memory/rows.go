package memory

import (
	"context"
	"fmt"
	"slices"

	"github.com/vdsproject/vds/roles"
)

var _ roles.RowStore = (*OwnerStore)(nil)

// AppendRows implements roles.RowStore.
func (m *OwnerStore) AppendRows(ctx context.Context, stream string, rows []roles.Row) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	have := m.rows[stream]
	for i := range rows {
		var prev *roles.Row
		if i > 0 {
			prev = &rows[i-1]
		} else if n := len(have); n > 0 {
			prev = &have[n-1]
		}
		if prev != nil && rows[i].Time <= prev.Time {
			return fmt.Errorf("vds: pending row at t=%d does not follow t=%d: %w", rows[i].Time, prev.Time, roles.ErrConflict)
		}
	}
	if m.rows == nil {
		m.rows = map[string][]roles.Row{}
	}
	for _, r := range rows {
		have = append(have, roles.Row{Time: r.Time, Values: slices.Clone(r.Values)})
	}
	m.rows[stream] = have
	return nil
}

// PendingRows implements roles.RowStore.
func (m *OwnerStore) PendingRows(ctx context.Context, stream string) ([]roles.Row, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return nil, err
	}
	out := make([]roles.Row, len(m.rows[stream]))
	for i, r := range m.rows[stream] {
		out[i] = roles.Row{Time: r.Time, Values: slices.Clone(r.Values)}
	}
	return out, nil
}

// SealRows implements roles.RowStore.
func (m *OwnerStore) SealRows(ctx context.Context, tx *roles.OwnerTx, stream string, through uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return err
	}
	if tx != nil {
		if err := m.commitLocked(tx); err != nil {
			return err
		}
	}
	have := m.rows[stream]
	i, _ := slices.BinarySearchFunc(have, through, func(r roles.Row, t uint64) int {
		if r.Time <= t {
			return -1
		}
		return 1
	})
	if i == len(have) {
		delete(m.rows, stream)
	} else {
		m.rows[stream] = slices.Clone(have[i:])
	}
	return nil
}
