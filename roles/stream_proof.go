package roles

import (
	"fmt"
	"sort"

	"github.com/vdsproject/vds/internal/merkle"
)

// intersects reports whether an entry's time range meets [from, to].
func intersects(e *StreamEntry, from, to uint64) bool { return e.T1 >= from && e.T0 <= to }

// interior reports whether every row of an entry lies in [from, to].
func interior(e *StreamEntry, from, to uint64) bool { return e.T0 >= from && e.T1 <= to }

// windowRun returns the run lo..hi of entries a window answer proves: the
// entries that meet the window and the nearest one on each side.
func windowRun(es []StreamEntry, from, to uint64) (lo, hi int) {
	a := sort.Search(len(es), func(i int) bool { return es[i].T1 >= from })
	c := sort.Search(len(es), func(i int) bool { return es[i].T0 > to })
	return max(a-1, 0), min(c, len(es)-1)
}

// incomplete wraps a completeness failure.
func incomplete(format string, args ...any) error {
	return fmt.Errorf("vds: stream answer: %s: %w", fmt.Sprintf(format, args...), ErrIncomplete)
}

// checkRun checks the completeness proof of a stream answer against the
// state's head (SPEC §11.3).
func checkRun(q *StreamQuery, head *StreamHead, p *StreamProof) error {
	if p.Entries == 0 || len(p.Run) == 0 || p.Index >= head.Streams {
		return incomplete("empty run, stream without entries or stream index %d of %d", p.Index, head.Streams)
	}
	if len(p.Path) > merkle.MaxProof(int(min(head.Streams, 1<<40))) || len(p.RunProof) > merkle.MaxProof(int(min(p.Entries, 1<<40))) {
		return incomplete("proof longer than its tree")
	}
	leaf := StreamLeaf(q.Stream, p.Root, p.Entries)
	root, err := merkle.RangeRoot(int(head.Streams), int(p.Index), []merkle.Hash{leaf}, toMerkle(p.Path))
	if err != nil || root != head.Root {
		return incomplete("stream %s is not in the signed streams root", Display(q.Stream))
	}
	first := p.Run[0].Seq
	if first >= p.Entries || uint64(len(p.Run)) > p.Entries-first {
		return incomplete("run %d+%d outside %d entries", first, len(p.Run), p.Entries)
	}
	if err := CheckEntries(first, p.Run); err != nil {
		return err
	}
	sroot, err := merkle.RangeRoot(int(p.Entries), int(first), entryLeaves(p.Run), toMerkle(p.RunProof))
	if err != nil || sroot != p.Root {
		return incomplete("entries %d..%d are not those of the signed stream", first, first+uint64(len(p.Run))-1)
	}
	from, to := q.TimeFrom, q.TimeTo
	n := len(p.Run)
	for i := range p.Run {
		e := &p.Run[i]
		if intersects(e, from, to) {
			continue
		}
		before, after := e.T1 < from, e.T0 > to
		ok := (i == 0 && before) || (i == n-1 && after)
		if !ok {
			return incomplete("entry %d (t=%d..%d) is neither in the window nor its neighbour", e.Seq, e.T0, e.T1)
		}
	}
	if first > 0 && !(p.Run[0].T1 < from) {
		return incomplete("entry %d before the run may meet the window: the run must start with the entry before it", first-1)
	}
	if last := p.Run[n-1]; last.Seq+1 < p.Entries && !(last.T0 > to) {
		return incomplete("entry %d after the run may meet the window: the run must end with the entry after it", last.Seq+1)
	}
	return nil
}

func fromMerkle(hs []merkle.Hash) []Hash {
	if len(hs) == 0 {
		return nil
	}
	out := make([]Hash, len(hs))
	for i := range hs {
		out[i] = Hash(hs[i])
	}
	return out
}

func toMerkle(hs []Hash) []merkle.Hash {
	out := make([]merkle.Hash, len(hs))
	for i := range hs {
		out[i] = merkle.Hash(hs[i])
	}
	return out
}
