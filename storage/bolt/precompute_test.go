package bolt_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
	"github.com/vdsproject/vds/storage/memory"
)

// TestPrecomputeAcrossRestart stores a batch through a server over a bolt
// file without precomputation (as if the process died before it ran),
// reopens the file, lets a new server resume the precomputation, and checks
// that its answers — now from the tables in the file — are byte-identical
// to direct answers and verify; and that a third opening still has the
// tables.
func TestPrecomputeAcrossRestart(t *testing.T) {
	crs, err := commitment.Setup(16, rand.Reader)
	require.NoError(t, err)
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "server.db")
	owner := memory.NewOwnerStore()

	s, err := bolt.Open(path)
	require.NoError(t, err)
	l, err := roles.NewLocal(ctx, crs, owner, s)
	require.NoError(t, err)
	require.NoError(t, l.Server.Close()) // no precomputation in this "process"
	b := &roles.Batch{Stream: "m", Timestamps: []uint64{10, 20, 30, 40, 50, 60, 70}}
	b.Columns = []roles.Column{{Name: "a", Values: []int64{5, -3, 8, 1, 0, 2, 9}}, {Name: "b", Values: []int64{1, 1, 2, 3, 5, 8, 13}}}
	sh, err := l.Owner.CreateBatch(ctx, b)
	require.NoError(t, err)
	id, _ := sh.Header.Digest()
	cols, _, err := s.ProofTables(ctx, id)
	require.NoError(t, err)
	require.Empty(t, cols)
	require.NoError(t, s.Close())

	s, err = bolt.Open(path)
	require.NoError(t, err)
	srv, err := roles.NewStorageServer(crs, l.Owner.Keys(), s)
	require.NoError(t, err)
	n, err := srv.ResumePrecompute(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NoError(t, srv.WaitPrecomputed(ctx))
	require.NoError(t, srv.Close())
	direct, err := roles.NewStorageServer(crs, l.Owner.Keys(), s, roles.WithoutPrecompute())
	require.NoError(t, err)
	v, err := roles.NewVerifier(crs.VerifierKey(), l.Owner.Keys(), roles.WithTrustedSource(l.Owner))
	require.NoError(t, err)
	list, err := srv.ListBatches(ctx, "")
	require.NoError(t, err)
	require.EqualValues(t, 3, list[0].ProofColumns)
	require.EqualValues(t, 3*7*128, list[0].ProofBytes)
	for _, q := range []*roles.Query{
		{Batch: id, Kind: roles.QueryRange, Columns: []string{"a", "b"}, From: 2, To: 6},
		{Batch: id, Kind: roles.QueryPoint, Columns: []string{"b"}, Row: 7},
		{Batch: id, Kind: roles.QueryWindow, Columns: []string{"a"}, TimeFrom: 15, TimeTo: 45},
	} {
		fast, err := srv.Answer(ctx, q)
		require.NoError(t, err)
		slow, err := direct.Answer(ctx, q)
		require.NoError(t, err)
		fb, _ := codec.Default().Marshal(fast)
		sb, _ := codec.Default().Marshal(slow)
		require.Equal(t, sb, fb, "%s", q.Kind)
		_, err = v.Verify(ctx, q, fast)
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())

	s, err = bolt.Open(path)
	require.NoError(t, err)
	defer s.Close()
	cols, size, err := s.ProofTables(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []int{0, 1, 2}, cols)
	require.EqualValues(t, 3*7*128, size)
}
