package storetest

import (
	"context"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
)

// proofTests are the subtests of TestServerStore for roles.ProofTableStore,
// which every store must implement.
var proofTests = []struct {
	name string
	fn   func(t *testing.T, s roles.ProofTableStore, ss roles.ServerStore)
}{
	{"ProofTables", proofTables},
	{"ProofTablesRefused", proofTablesRefused},
	{"ProofTablesClosedAndCancelled", proofTablesClosed},
}

// asProofStore fails the test unless s implements roles.ProofTableStore.
func asProofStore(t *testing.T, s roles.ServerStore) roles.ProofTableStore {
	t.Helper()
	p, ok := s.(roles.ProofTableStore)
	require.True(t, ok, "%T does not implement roles.ProofTableStore", s)
	return p
}

// randomTable returns rows random points, the identity at position skip.
func randomTable(t *testing.T, rows, skip int) []bls.G1Affine {
	tab := make([]bls.G1Affine, rows)
	for i := range tab {
		if i != skip {
			tab[i] = RandomG1(t)
		}
	}
	return tab
}

func proofTables(t *testing.T, s roles.ProofTableStore, ss roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 8, 2)
	put(t, ss, b)
	cols, size, err := s.ProofTables(bg, b.ID)
	require.NoError(t, err)
	require.Empty(t, cols)
	require.Zero(t, size)
	_, err = s.ProofPoints(bg, b.ID, 0, []int{1})
	require.ErrorIs(t, err, roles.ErrNotFound)

	tabs := map[int][]bls.G1Affine{0: randomTable(t, 8, 3), 2: randomTable(t, 8, -1)} // 2: the timestamps
	for c, tab := range tabs {
		require.NoError(t, s.PutProofTable(bg, b.ID, c, append([]bls.G1Affine(nil), tab...)))
	}
	cols, size, err = s.ProofTables(bg, b.ID)
	require.NoError(t, err)
	require.Equal(t, []int{0, 2}, cols)
	require.Positive(t, size)
	_, err = s.ProofPoints(bg, b.ID, 1, []int{1})
	require.ErrorIs(t, err, roles.ErrNotFound, "column 1 has no table")
	for c, tab := range tabs {
		idx := []int{8, 1, 4, 4, 5}
		got, err := s.ProofPoints(bg, b.ID, c, idx)
		require.NoError(t, err)
		for k, i := range idx {
			require.True(t, got[k].Equal(&tab[i-1]), "column %d P_%d", c, i)
		}
	}
	// Replacing a table.
	repl := randomTable(t, 8, -1)
	require.NoError(t, s.PutProofTable(bg, b.ID, 0, repl))
	got, err := s.ProofPoints(bg, b.ID, 0, []int{2})
	require.NoError(t, err)
	require.True(t, got[0].Equal(&repl[1]))
	// Tables of another batch are separate.
	other := NewBatch(t, "s", 2, 0, 4, 1)
	put(t, ss, other)
	cols, _, err = s.ProofTables(bg, other.ID)
	require.NoError(t, err)
	require.Empty(t, cols)
}

func proofTablesRefused(t *testing.T, s roles.ProofTableStore, ss roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 8, 2)
	require.ErrorIs(t, s.PutProofTable(bg, b.ID, 0, randomTable(t, 8, -1)), roles.ErrUnknownBatch, "batch not stored")
	_, _, err := s.ProofTables(bg, b.ID)
	require.ErrorIs(t, err, roles.ErrUnknownBatch)
	put(t, ss, b)
	require.ErrorIs(t, s.PutProofTable(bg, b.ID, 3, randomTable(t, 8, -1)), roles.ErrInvalidInput, "column past the timestamps")
	require.ErrorIs(t, s.PutProofTable(bg, b.ID, -1, randomTable(t, 8, -1)), roles.ErrInvalidInput, "negative column")
	require.ErrorIs(t, s.PutProofTable(bg, b.ID, 0, randomTable(t, 7, -1)), roles.ErrInvalidInput, "one point short")
	cols, _, err := s.ProofTables(bg, b.ID)
	require.NoError(t, err)
	require.Empty(t, cols, "a refused table is not stored")
	require.NoError(t, s.PutProofTable(bg, b.ID, 1, randomTable(t, 8, -1)))
	for _, idx := range [][]int{{0}, {9}, {1, -2}} {
		_, err := s.ProofPoints(bg, b.ID, 1, idx)
		require.ErrorIs(t, err, roles.ErrInvalidInput, "%v", idx)
	}
	_, err = s.ProofPoints(bg, b.ID, -1, []int{1})
	require.ErrorIs(t, err, roles.ErrNotFound)
}

func proofTablesClosed(t *testing.T, s roles.ProofTableStore, ss roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 4, 1)
	put(t, ss, b)
	tab := randomTable(t, 4, -1)
	ctx, cancel := context.WithCancel(bg)
	cancel()
	require.ErrorIs(t, s.PutProofTable(ctx, b.ID, 0, tab), context.Canceled)
	_, err := s.ProofPoints(ctx, b.ID, 0, []int{1})
	require.ErrorIs(t, err, context.Canceled)
	_, _, err = s.ProofTables(ctx, b.ID)
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, ss.Close())
	require.ErrorIs(t, s.PutProofTable(bg, b.ID, 0, tab), roles.ErrClosed)
	_, err = s.ProofPoints(bg, b.ID, 0, []int{1})
	require.ErrorIs(t, err, roles.ErrClosed)
	_, _, err = s.ProofTables(bg, b.ID)
	require.ErrorIs(t, err, roles.ErrClosed)
}
