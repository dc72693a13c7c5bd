package roles_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/roles"
)

// attacksOnWindows runs TestMaliciousServer's attacks that lie about the
// rows of a time window.
func attacksOnWindows(t *testing.T, s *sharedSystem) {
	r, X, sbX := s.r, s.X, s.sbX

	t.Run("10-window-hidden-boundary-row", func(t *testing.T) {
		t.Parallel()
		// Rows have t = 1000, 1010, …, 1110; [1015, 1055] selects rows 3..6.
		q := windowQ(X, 1015, 1055, "temp", "load")
		ans := r.honest(t, q)
		require.Equal(t, [2]uint32{3, 6}, [2]uint32{ans.Window.First, ans.Window.Last})
		for _, c := range []struct {
			name        string
			first, last uint32
		}{
			{"drop first row", 4, 6},
			{"drop last row", 3, 5},
			{"drop both", 4, 5},
			{"extend before", 2, 6},
			{"extend after", 3, 7},
			{"claim empty", 3, 2},
			{"claim empty after", 7, 6},
			{"claim everything", 1, 12},
		} {
			bad := r.forgeWindow(t, ans, sbX, q, c.first, c.last, sbX.Data.Times, nil)
			requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		}
		// Only the row numbers changed, the rest of the honest answer kept.
		r.requireTamperRejected(t, q, ans, func(bad *roles.Answer) { bad.Window.First = 4 }, roles.ErrBadProof)
	})

	t.Run("11-window-boundary-timestamp-lies", func(t *testing.T) {
		t.Parallel()
		q := windowQ(X, 1015, 1055, "temp", "load")
		ans := r.honest(t, q)
		lieAt := func(row int, t uint64) func([]int, []uint64) {
			return func(rows []int, times []uint64) {
				for i, r := range rows {
					if r == row {
						times[i] = t
					}
				}
			}
		}
		altered := func(row int, t uint64) []uint64 {
			ts := append([]uint64(nil), sbX.Data.Times...)
			ts[row-1] = t
			return ts
		}
		// Hide row 3 (t = 1020) by claiming t_3 = 1014 < 1015: with the
		// opening of the true timestamps…
		bad := r.forgeWindow(t, ans, sbX, q, 4, 6, sbX.Data.Times, lieAt(3, 1014))
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		// …and with an opening computed honestly for the lie.
		bad = r.forgeWindow(t, ans, sbX, q, 4, 6, altered(3, 1014), nil)
		require.Equal(t, []uint64{1014, 1030, 1050, 1060}, bad.Window.Times)
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		// Hide row 6 (t = 1050) by claiming t_6 = 1056, both ways.
		bad = r.forgeWindow(t, ans, sbX, q, 3, 5, sbX.Data.Times, lieAt(6, 1056))
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		bad = r.forgeWindow(t, ans, sbX, q, 3, 5, altered(6, 1056), nil)
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		// Honest rows, one boundary timestamp changed within the rules.
		bad = r.forgeWindow(t, ans, sbX, q, 3, 6, sbX.Data.Times, lieAt(7, 1070))
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		bad = r.forgeWindow(t, ans, sbX, q, 3, 6, altered(2, 1011), nil)
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		// Claim the window is empty between rows 2 and 3 (t_3 = 1060).
		bad = r.forgeWindow(t, ans, sbX, q, 3, 2, altered(3, 1060), nil)
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		// The honest answer with its timestamps edited in place.
		r.requireTamperRejected(t, q, ans, func(bad *roles.Answer) { bad.Window.Times[0]++ }, roles.ErrBadProof)
		r.requireTamperRejected(t, q, ans, func(bad *roles.Answer) {
			bad.Window.Times[1], bad.Window.Times[2] = bad.Window.Times[2], bad.Window.Times[1]
		}, roles.ErrBadProof)
	})

	t.Run("16-window-shape", func(t *testing.T) {
		t.Parallel()
		eq := windowQ(X, 1011, 1019, "temp") // between rows 2 and 3: empty
		empty := r.honest(t, eq)
		require.Nil(t, empty.Proof)
		require.Equal(t, [2]uint32{3, 2}, [2]uint32{empty.Window.First, empty.Window.Last})
		// An empty window with a non-zero sum.
		r.requireTamperRejected(t, eq, empty, func(bad *roles.Answer) { bad.Values[0] = addScalar(bad.Values[0], 5) }, roles.ErrBadProof)
		// An empty window with a column proof.
		bad := deepCopy(t, empty)
		g := codec.G1(g1Gen())
		bad.Proof = &g
		requireErrIs(t, r.verify(eq, bad), roles.ErrBadProof)
		// A non-empty window without its column proof.
		wq := windowQ(X, 1015, 1055, "temp")
		wans := r.honest(t, wq)
		r.requireTamperRejected(t, wq, wans, func(bad *roles.Answer) { bad.Proof = nil }, roles.ErrBadProof)
		// A window answer without boundary proof.
		r.requireTamperRejected(t, wq, wans, func(bad *roles.Answer) { bad.Window = nil }, roles.ErrBadProof)
		// A range answer with a boundary proof attached.
		rq := rangeQ(X, 3, 6, "temp")
		ra := r.honest(t, rq)
		ra.Window = wans.Window
		requireErrIs(t, r.verify(rq, ra), roles.ErrBadProof)
		// A range answer without proof.
		ra = r.honest(t, rq)
		ra.Proof = nil
		requireErrIs(t, r.verify(rq, ra), roles.ErrBadProof)
		// Boundary timestamps: one too many, one too few, none.
		bad = deepCopy(t, wans)
		bad.Window.Times = append(bad.Window.Times, 1070)
		requireErrIs(t, r.verify(wq, bad), roles.ErrBadProof)
		bad.Window.Times = bad.Window.Times[:3]
		requireErrIs(t, r.verify(wq, bad), roles.ErrBadProof)
		bad.Window.Times = nil
		requireErrIs(t, r.verify(wq, bad), roles.ErrBadProof)
		// Rows outside the batch.
		for _, fl := range [][2]uint32{{0, 6}, {0, math.MaxUint32}, {3, 13}, {14, 13}, {13, 14}, {7, 3}, {math.MaxUint32, 6}} {
			r.requireTamperRejected(t, wq, wans, func(bad *roles.Answer) { bad.Window.First, bad.Window.Last = fl[0], fl[1] }, roles.ErrBadProof)
		}
		// The column proof of the range query over the same rows (same sums,
		// but not bound to the window): refused.
		bad = deepCopy(t, wans)
		rr := r.honest(t, rangeQ(X, 3, 6, "temp"))
		require.Equal(t, rr.Values, bad.Values)
		bad.Proof = rr.Proof
		requireErrIs(t, r.verify(wq, bad), roles.ErrBadProof)
		// The column proof of fewer rows than the boundary proof claims.
		ms, gs := columnsOf(t, sbX, "temp")
		bad = deepCopy(t, wans)
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Range(3, 5), wq, 3, 6)
		requireErrIs(t, r.verify(wq, bad), roles.ErrBadProof)
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Range(3, 5), wq, 3, 5)
		requireErrIs(t, r.verify(wq, bad), roles.ErrBadProof)
		// The empty window after the last row, honestly, verifies; shifted
		// one row further it does not.
		aq := windowQ(X, 1200, 1300, "temp")
		after := r.honest(t, aq)
		require.Equal(t, [2]uint32{13, 12}, [2]uint32{after.Window.First, after.Window.Last})
		r.requireTamperRejected(t, aq, after, func(bad *roles.Answer) { bad.Window.First, bad.Window.Last = 14, 13 }, roles.ErrBadProof)
	})
}

// TestAttackWindowSingleRow: time windows on a batch of one row, where the
// boundary rows collapse into one.
func TestAttackWindowSingleRow(t *testing.T) {
	t.Parallel()
	r := newRig(t, testCRS(t), rigOptions{})
	id := r.create(t, &roles.Batch{Stream: "one", Timestamps: []uint64{500},
		Columns: []roles.Column{{Name: "v", Values: []int64{42}}}})
	sb := r.stored(t, id)
	for _, c := range []struct {
		from, to    uint64
		first, last uint32
	}{{400, 600, 1, 1}, {500, 500, 1, 1}, {0, 499, 1, 0}, {501, 900, 2, 1}} {
		q := windowQ(id, c.from, c.to, "v")
		ans := r.honest(t, q)
		require.Equal(t, [2]uint32{c.first, c.last}, [2]uint32{ans.Window.First, ans.Window.Last}, "%+v", c)
		for _, fl := range [][2]uint32{{1, 1}, {1, 0}, {2, 1}} {
			if fl == [2]uint32{c.first, c.last} {
				continue
			}
			bad := r.forgeWindow(t, ans, sb, q, fl[0], fl[1], sb.Data.Times, nil)
			requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		}
	}
}
