package compare

// Named is a query of the benchmarks, with the rows it selects.
type Named struct {
	Name string
	Q    Query
	Rows int
}

// Queries returns the queries the benchmarks ask of a batch d (batch 0):
// a point in the middle; range sums over 1%, 10% and 100% of the rows (the
// short ones from the first quarter); a time window over the middle 10%.
// Revoked is asked after another batch's revocation.
func Queries(d *Data) []Named {
	n := d.Rows()
	rng := func(name string, length int) Named {
		from := uint32(n/4 + 1)
		if length == n {
			from = 1
		}
		return Named{name, Query{Kind: Range, From: from, To: from + uint32(length) - 1}, length}
	}
	w := max(2, n/10)
	return []Named{
		{"point", Query{Kind: Point, Row: uint32(n / 2)}, 1},
		rng("range-1pct", max(2, n/100)),
		rng("range-10pct", max(2, n/10)),
		rng("range-100pct", n),
		{"window-10pct", Query{Kind: Window, TimeFrom: d.Times[n/2], TimeTo: d.Times[n/2+w-1]}, w},
	}
}

// Revoked is the query asked after a revocation of another batch: the 10%
// range sum again, now with the owner's newer state.
func Revoked(d *Data) Named {
	q := Queries(d)[2]
	q.Name = "revoked"
	return q
}
