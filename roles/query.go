package roles

import (
	"fmt"
	"sort"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/internal/hash"
)

// checkHeader checks the structure of a header against the capacity n and
// the limits (not its signature).
func checkHeader(h *Header, n int, lim Limits) error {
	switch {
	case h.Format != FormatVersion:
		return invalid("header", "format %d, want %d", h.Format, FormatVersion)
	case h.Rows == 0 || int64(h.Rows) > int64(n):
		return invalid("header", "%d rows outside [1, %d]", h.Rows, n)
	case len(h.Columns) == 0 || len(h.Columns) > lim.MaxColumns:
		return invalid("header", "%d columns outside [1, %d]", len(h.Columns), lim.MaxColumns)
	case len(h.Commits) != len(h.Columns):
		return invalid("header", "%d commitments for %d columns", len(h.Commits), len(h.Columns))
	case h.FirstTime > h.LastTime || (h.Rows > 1 && h.FirstTime == h.LastTime):
		return invalid("header", "time range %d..%d does not fit %d strictly increasing rows", h.FirstTime, h.LastTime, h.Rows)
	}
	if err := CheckName("header stream", h.Stream, lim.MaxNameLen); err != nil {
		return err
	}
	maxBits := MaxColumnBits(int(h.Rows))
	seen := make(map[string]bool, len(h.Columns))
	for i, c := range h.Columns {
		if err := CheckName(fmt.Sprintf("header column %d", i+1), c.Name, lim.MaxNameLen); err != nil {
			return err
		}
		switch {
		case seen[c.Name]:
			return invalid("header", "duplicate column %q", c.Name)
		case c.Scale > MaxScale:
			return invalid("header", "column %q: scale %d above %d", c.Name, c.Scale, MaxScale)
		case c.Bits == 0 || int(c.Bits) > maxBits:
			// A larger bound would let a sum over the batch wrap modulo r.
			return invalid("header", "column %q: value bound of %d bits outside [1, %d] for %d rows", c.Name, c.Bits, maxBits, h.Rows)
		}
		seen[c.Name] = true
	}
	return nil
}

// queryColumns resolves the queried column names to indexes of the header.
func queryColumns(q *Query, h *Header) ([]int, error) {
	if len(q.Columns) == 0 {
		return nil, invalid("query", "no column")
	}
	if len(q.Columns) > len(h.Columns) {
		return nil, invalid("query", "%d columns, the batch has %d", len(q.Columns), len(h.Columns))
	}
	idx := make([]int, len(q.Columns))
	seen := make(map[string]bool, len(q.Columns))
	for i, name := range q.Columns {
		c, ok := h.Column(name)
		if !ok || seen[name] {
			return nil, invalid("query", "column %q is unknown or repeated", name)
		}
		seen[name] = true
		idx[i] = c
	}
	return idx, nil
}

// checkQueryShape checks the fields a query kind uses against the batch
// length l and the limits, before anything is computed.
func checkQueryShape(q *Query, l int, lim Limits) error {
	unused := func(ok bool, kind string) error {
		if !ok {
			return invalid("query", "fields of another kind set in a %s query", kind)
		}
		return nil
	}
	noTime := q.TimeFrom == 0 && q.TimeTo == 0
	// Weights belong to weighted queries only: outside them the field is
	// absent, not an empty vector, so that a query has one encoding.
	noWeights := q.Weights == nil
	switch q.Kind {
	case QueryPoint:
		if q.Row < 1 || int(q.Row) > l {
			return invalid("query", "row %d outside [1, %d]", q.Row, l)
		}
		return unused(q.From == 0 && q.To == 0 && noWeights && noTime && len(q.Nonce) == 0, "point")
	case QueryRange:
		if q.From < 1 || q.To < q.From || int(q.To) > l {
			return invalid("query", "rows %d..%d outside [1, %d]", q.From, q.To, l)
		}
		return unused(q.Row == 0 && noWeights && noTime && len(q.Nonce) == 0, "range")
	case QueryWeighted:
		if len(q.Weights) == 0 || len(q.Weights) > l {
			return invalid("query", "%d weights for %d rows", len(q.Weights), l)
		}
		nonZero := false
		for i := range q.Weights {
			nonZero = nonZero || !q.Weights[i].IsZero()
			if w := fr.Element(q.Weights[i]); ToBig(&w).BitLen() > MaxWeightBits {
				return invalid("query", "weight %d is not an integer with |w| < 2^%d", i+1, MaxWeightBits)
			}
		}
		if !nonZero {
			return invalid("query", "every weight is zero")
		}
		return unused(q.Row == 0 && q.From == 0 && q.To == 0 && noTime && len(q.Nonce) == 0, "weighted")
	case QueryWindow:
		if q.TimeFrom > q.TimeTo {
			return invalid("query", "time window %d..%d is reversed", q.TimeFrom, q.TimeTo)
		}
		return unused(q.Row == 0 && q.From == 0 && q.To == 0 && noWeights && len(q.Nonce) == 0, "window")
	case QueryAudit:
		if len(q.Nonce) == 0 || len(q.Nonce) > lim.MaxNonceLen {
			return invalid("query", "audit nonce must have 1..%d bytes", lim.MaxNonceLen)
		}
		return unused(q.Row == 0 && q.From == 0 && q.To == 0 && noWeights && noTime, "audit")
	}
	return invalid("query", "unknown kind %d", q.Kind)
}

// queryWeights returns the weights of a point, range, weighted or audit
// query (SPEC §7) for a batch of l rows.
func queryWeights(q *Query, l int, epoch uint64) commitment.Weights {
	switch q.Kind {
	case QueryPoint:
		return commitment.Row(int(q.Row))
	case QueryRange:
		return commitment.Range(int(q.From), int(q.To))
	case QueryWeighted:
		return commitment.Dense([]fr.Element(q.Weights))
	case QueryAudit:
		return commitment.Dense(auditWeights(q, l, epoch))
	}
	return commitment.Weights{}
}

// auditWeights returns wᵢ = ρ^(i−1) for i = 1..l with
// ρ = HFr("vds/v1/audit", D, columns, nonce, epoch) (SPEC §7).
func auditWeights(q *Query, l int, epoch uint64) []fr.Element {
	parts := [][]byte{q.Batch[:]}
	for _, c := range q.Columns {
		parts = append(parts, []byte(c))
	}
	parts = append(parts, q.Nonce, hash.U64(epoch))
	rho := hash.ToFr1(hash.TagAudit, parts...)
	w := make([]fr.Element, l)
	w[0].SetOne()
	for i := 1; i < l; i++ {
		w[i].Mul(&w[i-1], &rho)
	}
	return w
}

// AuditNonce returns a public, non-interactive audit nonce (SPEC §7): it
// binds the audit to the latest state digest and a time slot, so a server
// cannot have precomputed its answer before the slot began.
func AuditNonce(state Hash, slot uint64) []byte {
	h := hash.Sum(hash.TagAuditNonce, state[:], hash.U64(slot))
	return h[:]
}

// columnContext is the context of a combined column opening: the batch
// digest, the encoded query and, for a time window, the rows it selects.
func columnContext(q *Query, first, last uint32) ([]byte, error) {
	b, err := codec.Default().Marshal(q)
	if err != nil {
		return nil, fmt.Errorf("encode query: %w", err)
	}
	ctx := append(append([]byte{}, q.Batch[:]...), b...)
	if q.Kind == QueryWindow {
		ctx = append(ctx, hash.U64(uint64(first))...)
		ctx = append(ctx, hash.U64(uint64(last))...)
	}
	return ctx, nil
}

// BoundaryRows returns the rows whose timestamps a time-window answer opens
// (SPEC §7): {first−1, first, last, last+1} ∩ [1, l], in increasing order,
// for the selected rows first..last (last = first−1 if none).
func BoundaryRows(first, last uint32, l int) []int {
	set := map[int]bool{}
	for _, r := range []int{int(first) - 1, int(first), int(last), int(last) + 1} {
		if r >= 1 && r <= l {
			set[r] = true
		}
	}
	rows := make([]int, 0, len(set))
	for r := range set {
		rows = append(rows, r)
	}
	sort.Ints(rows)
	return rows
}

// windowWeights returns the weights of the boundary opening,
// ρ = HFr("vds/v1/tw", D, positions, claimed timestamps) (SPEC §7: every
// claimed value goes into the hash that folds it), and the value
// x̂ = Σ ρ_p t_p the opening proves.
func windowWeights(id BatchID, rows []int, times []uint64) (commitment.Weights, fr.Element) {
	parts := [][]byte{id[:]}
	for _, r := range rows {
		parts = append(parts, hash.U64(uint64(r)))
	}
	for _, t := range times {
		parts = append(parts, hash.U64(t))
	}
	rho := hash.ToFr(hash.TagTimeWindow, len(rows), parts...)
	var x, t fr.Element
	for i := range rows {
		t.SetUint64(times[i])
		t.Mul(&t, &rho[i])
		x.Add(&x, &t)
	}
	return commitment.Sparse(rows, rho), x
}

// windowRows finds the rows first..last whose timestamps lie in
// [from, to] (last = first−1 if none): times increase strictly.
func windowRows(times []uint64, from, to uint64) (first, last uint32) {
	i0 := sort.Search(len(times), func(i int) bool { return times[i] >= from })
	i1 := sort.Search(len(times), func(i int) bool { return times[i] > to }) // first row after
	if i1 < i0 {
		i1 = i0
	}
	return uint32(i0 + 1), uint32(i1)
}

// checkWindow checks the boundary timestamps of a time-window answer on
// the batch of header h against the window (SPEC §7): the selected rows are
// exactly those with from ≤ t ≤ to, given that timestamps increase strictly,
// and an opened timestamp of the batch's first or last row is the header's
// t0 or t1 (every opened timestamp lies in [t0, t1]).
func checkWindow(h *Header, first, last uint32, rows []int, times []uint64, from, to uint64) error {
	l := int(h.Rows)
	if first < 1 || int(first) > l+1 || (last != first-1 && (last < first || int(last) > l)) {
		return fmt.Errorf("window rows %d..%d do not fit %d rows: %w", first, last, l, ErrBadProof)
	}
	if len(times) != len(rows) {
		return fmt.Errorf("%d boundary timestamps for %d boundary rows: %w", len(times), len(rows), ErrBadProof)
	}
	at := make(map[int]uint64, len(rows))
	for i, r := range rows {
		at[r] = times[i]
		switch {
		case r == 1 && times[i] != h.FirstTime:
			return fmt.Errorf("row 1 opens t = %d, the header's t0 is %d: %w", times[i], h.FirstTime, ErrBadProof)
		case r == l && times[i] != h.LastTime:
			return fmt.Errorf("row %d opens t = %d, the header's t1 is %d: %w", r, times[i], h.LastTime, ErrBadProof)
		case times[i] < h.FirstTime || times[i] > h.LastTime:
			return fmt.Errorf("row %d opens t = %d outside the header's %d..%d: %w", r, times[i], h.FirstTime, h.LastTime, ErrBadProof)
		}
	}
	for i := 1; i < len(rows); i++ {
		if times[i] <= times[i-1] {
			return fmt.Errorf("boundary timestamps do not increase: %w", ErrBadProof)
		}
	}
	before, after := int(first)-1, int(last)+1 // the rows just outside the selection
	if before >= 1 && at[before] >= from {
		return fmt.Errorf("row %d (t = %d) lies in the window but was left out: %w", before, at[before], ErrBadProof)
	}
	if after <= l && at[after] <= to {
		return fmt.Errorf("row %d (t = %d) lies in the window but was left out: %w", after, at[after], ErrBadProof)
	}
	if last >= first {
		if at[int(first)] < from || at[int(last)] > to {
			return fmt.Errorf("selected rows %d..%d reach outside the window: %w", first, last, ErrBadProof)
		}
	}
	return nil
}
