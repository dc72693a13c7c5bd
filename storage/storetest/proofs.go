package storetest

import (
	"context"
	"maps"
	mrand "math/rand/v2"
	"slices"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
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
	{"ProofTablesDroppedOnRevocation", proofTablesRevoked},
	{"ProofTablesRevocationProperty", proofTablesRevokedProperty},
	{"ProofTablesClosedAndCancelled", proofTablesClosed},
}

// asProofStore fails the test unless s implements roles.ProofTableStore.
func asProofStore(t *testing.T, s roles.ServerStore) roles.ProofTableStore {
	t.Helper()
	p, ok := s.(roles.ProofTableStore)
	require.True(t, ok, "%T does not implement roles.ProofTableStore", s)
	return p
}

// table is a proof table: points and values.
type table struct {
	p []bls.G1Affine
	v []fr.Element
}

// randomTable returns rows random points and values, the identity at
// position skip.
func randomTable(t *testing.T, rows, skip int) table {
	tab := table{p: make([]bls.G1Affine, rows), v: make([]fr.Element, rows)}
	for i := range tab.p {
		if i != skip {
			tab.p[i] = RandomG1(t)
		}
		tab.v[i] = RandomScalar(t)
	}
	return tab
}

// put stores a copy of a table.
func (tab table) put(ctx context.Context, s roles.ProofTableStore, id roles.BatchID, col int) error {
	return s.PutProofTable(ctx, id, col, append([]bls.G1Affine(nil), tab.p...), append([]fr.Element(nil), tab.v...))
}

func proofTables(t *testing.T, s roles.ProofTableStore, ss roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 8, 2)
	put(t, ss, b)
	cols, size, err := s.ProofTables(bg, b.ID)
	require.NoError(t, err)
	require.Empty(t, cols)
	require.Zero(t, size)
	_, _, err = s.ProofPoints(bg, b.ID, 0, []int{1})
	require.ErrorIs(t, err, roles.ErrNotFound)

	tabs := map[int]table{0: randomTable(t, 8, 3), 2: randomTable(t, 8, -1)} // 2: the timestamps
	for c, tab := range tabs {
		require.NoError(t, tab.put(bg, s, b.ID, c))
	}
	cols, size, err = s.ProofTables(bg, b.ID)
	require.NoError(t, err)
	require.Equal(t, []int{0, 2}, cols)
	require.Positive(t, size)
	_, _, err = s.ProofPoints(bg, b.ID, 1, []int{1})
	require.ErrorIs(t, err, roles.ErrNotFound, "column 1 has no table")
	for c, tab := range tabs {
		idx := []int{8, 1, 4, 4, 5}
		got, vals, err := s.ProofPoints(bg, b.ID, c, idx)
		require.NoError(t, err)
		for k, i := range idx {
			require.True(t, got[k].Equal(&tab.p[i-1]), "column %d P_%d", c, i)
			require.True(t, vals[k].Equal(&tab.v[i-1]), "column %d V_%d", c, i)
		}
	}
	// Replacing a table.
	repl := randomTable(t, 8, -1)
	require.NoError(t, repl.put(bg, s, b.ID, 0))
	got, vals, err := s.ProofPoints(bg, b.ID, 0, []int{2})
	require.NoError(t, err)
	require.True(t, got[0].Equal(&repl.p[1]))
	require.True(t, vals[0].Equal(&repl.v[1]))
	// Tables of another batch are separate.
	other := NewBatch(t, "s", 2, 0, 4, 1)
	put(t, ss, other)
	cols, _, err = s.ProofTables(bg, other.ID)
	require.NoError(t, err)
	require.Empty(t, cols)
}

// proofTablesRevoked checks that a revocation drops the revoked batch's
// tables (AppendState and UpdateBatch alike, atomically with the state)
// and that no table can be put for a revoked batch afterwards; the tables
// of other batches stay.
func proofTablesRevoked(t *testing.T, s roles.ProofTableStore, ss roles.ServerStore) {
	a := NewBatch(t, "s", 1, 0, 8, 2)
	b := NewBatch(t, "s", 2, 0, 8, 2)
	keep := NewBatch(t, "s", 3, 0, 8, 2)
	put(t, ss, a, b, keep)
	for _, id := range []roles.BatchID{a.ID, b.ID, keep.ID} {
		for c := 0; c <= 2; c++ {
			require.NoError(t, randomTable(t, 8, -1).put(bg, s, id, c))
		}
	}
	sts := appendChain(t, ss, a.ID)
	requireNoTables := func(id roles.BatchID, epoch uint64) {
		t.Helper()
		cols, size, err := s.ProofTables(bg, id)
		require.NoError(t, err)
		require.Empty(t, cols, "a revoked batch keeps no table")
		require.Zero(t, size)
		_, _, err = s.ProofPoints(bg, id, 0, []int{1})
		require.ErrorIs(t, err, roles.ErrNotFound)
		requireRevoked(t, randomTable(t, 8, -1).put(bg, s, id, 1), id, epoch)
		cols, _, err = s.ProofTables(bg, id)
		require.NoError(t, err)
		require.Empty(t, cols, "a refused table is not stored")
	}
	requireNoTables(a.ID, 1)

	// An update revokes the old batch: its tables go with it.
	nb := NewBatch(t, "s", 2, 1, 8, 2)
	require.NoError(t, ss.UpdateBatch(bg, NewState(t, sts[1], b.ID), nb))
	requireNoTables(b.ID, 2)
	require.NoError(t, randomTable(t, 8, -1).put(bg, s, nb.ID, 0), "the new version is live")

	// The same revoking state again, or re-signed, changes nothing else.
	require.NoError(t, ss.AppendState(bg, sts[1]))
	cols, _, err := s.ProofTables(bg, keep.ID)
	require.NoError(t, err)
	require.Equal(t, []int{0, 1, 2}, cols, "the live batch keeps its tables")
}

// proofTablesRevokedProperty runs a random sequence of table writes and
// revocations against a model: after every step, a live batch has exactly
// the tables put for it, and a revoked one has none and takes none.
func proofTablesRevokedProperty(t *testing.T, s roles.ProofTableStore, ss roles.ServerStore) {
	seed := mrand.Uint64()
	t.Logf("seed %d", seed)
	rnd := mrand.New(mrand.NewPCG(seed, 16))
	const nb, rows, cols = 4, 4, 1
	batches := make([]*roles.StoredBatch, nb)
	for i := range batches {
		batches[i] = NewBatch(t, "p", uint64(i+1), 0, rows, cols)
		put(t, ss, batches[i])
	}
	st := NewState(t, nil, roles.BatchID{})
	require.NoError(t, ss.AppendState(bg, st))
	have := make([]map[int]bool, nb) // the model: the tables of each live batch
	revoked := make([]uint64, nb)
	for i := range have {
		have[i] = map[int]bool{}
	}
	for step := range 24 {
		i := rnd.IntN(nb)
		if rnd.IntN(4) == 0 && revoked[i] == 0 {
			st = NewState(t, st, batches[i].ID)
			require.NoError(t, ss.AppendState(bg, st))
			revoked[i], have[i] = st.State.Epoch, map[int]bool{}
		} else {
			c := rnd.IntN(cols + 1)
			err := randomTable(t, rows, -1).put(bg, s, batches[i].ID, c)
			if revoked[i] != 0 {
				requireRevoked(t, err, batches[i].ID, revoked[i])
			} else {
				require.NoError(t, err)
				have[i][c] = true
			}
		}
		for k, b := range batches {
			got, _, err := s.ProofTables(bg, b.ID)
			require.NoError(t, err)
			want := slices.Sorted(maps.Keys(have[k]))
			if len(want) == 0 {
				require.Empty(t, got, "step %d batch %d", step, k)
			} else {
				require.Equal(t, want, got, "step %d batch %d", step, k)
			}
		}
	}
}

func proofTablesRefused(t *testing.T, s roles.ProofTableStore, ss roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 8, 2)
	require.ErrorIs(t, randomTable(t, 8, -1).put(bg, s, b.ID, 0), roles.ErrUnknownBatch, "batch not stored")
	_, _, err := s.ProofTables(bg, b.ID)
	require.ErrorIs(t, err, roles.ErrUnknownBatch)
	put(t, ss, b)
	require.ErrorIs(t, randomTable(t, 8, -1).put(bg, s, b.ID, 3), roles.ErrInvalidInput, "column past the timestamps")
	require.ErrorIs(t, randomTable(t, 8, -1).put(bg, s, b.ID, -1), roles.ErrInvalidInput, "negative column")
	require.ErrorIs(t, randomTable(t, 7, -1).put(bg, s, b.ID, 0), roles.ErrInvalidInput, "one row short")
	short := randomTable(t, 8, -1)
	short.v = short.v[:7]
	require.ErrorIs(t, short.put(bg, s, b.ID, 0), roles.ErrInvalidInput, "one value short")
	cols, _, err := s.ProofTables(bg, b.ID)
	require.NoError(t, err)
	require.Empty(t, cols, "a refused table is not stored")
	require.NoError(t, randomTable(t, 8, -1).put(bg, s, b.ID, 1))
	for _, idx := range [][]int{{0}, {9}, {1, -2}} {
		_, _, err := s.ProofPoints(bg, b.ID, 1, idx)
		require.ErrorIs(t, err, roles.ErrInvalidInput, "%v", idx)
	}
	_, _, err = s.ProofPoints(bg, b.ID, -1, []int{1})
	require.ErrorIs(t, err, roles.ErrNotFound)
}

func proofTablesClosed(t *testing.T, s roles.ProofTableStore, ss roles.ServerStore) {
	b := NewBatch(t, "s", 1, 0, 4, 1)
	put(t, ss, b)
	tab := randomTable(t, 4, -1)
	ctx, cancel := context.WithCancel(bg)
	cancel()
	require.ErrorIs(t, tab.put(ctx, s, b.ID, 0), context.Canceled)
	_, _, err := s.ProofPoints(ctx, b.ID, 0, []int{1})
	require.ErrorIs(t, err, context.Canceled)
	_, _, err = s.ProofTables(ctx, b.ID)
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, ss.Close())
	require.ErrorIs(t, tab.put(bg, s, b.ID, 0), roles.ErrClosed)
	_, _, err = s.ProofPoints(bg, b.ID, 0, []int{1})
	require.ErrorIs(t, err, roles.ErrClosed)
	_, _, err = s.ProofTables(bg, b.ID)
	require.ErrorIs(t, err, roles.ErrClosed)
}
