package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// table is a CSV file read into columns: a timestamp column and numeric
// data columns with their fixed-point scales.
type table struct {
	times  []uint64
	names  []string
	scales []uint8
	values [][]int64 // values[c][row], scaled integers
}

// readCSV reads a CSV file whose first row names the columns. timeCol names
// the timestamp column (unsigned integers, strictly increasing); every other
// column is numeric. scales fixes a column's number of decimal places;
// a column without one takes the most places any of its values has, and a
// value with more places than its column's scale is an error (never
// rounded).
func readCSV(r io.Reader, timeCol string, scales map[string]uint8) (*table, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = false
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	tcol := -1
	t := &table{}
	var idx []int
	for i, h := range head {
		h = strings.TrimSpace(h)
		if h == timeCol {
			tcol = i
			continue
		}
		t.names = append(t.names, h)
		idx = append(idx, i)
	}
	if tcol < 0 {
		return nil, fmt.Errorf("no timestamp column %q in header %q", timeCol, head)
	}
	if len(t.names) == 0 {
		return nil, fmt.Errorf("no data column besides %q", timeCol)
	}
	var raw [][]string
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		ts, err := strconv.ParseUint(strings.TrimSpace(rec[tcol]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: timestamp %q: want an unsigned integer", line, rec[tcol])
		}
		if n := len(t.times); n > 0 && ts <= t.times[n-1] {
			return nil, fmt.Errorf("line %d: timestamp %d does not increase strictly after %d", line, ts, t.times[n-1])
		}
		t.times = append(t.times, ts)
		row := make([]string, len(idx))
		for j, i := range idx {
			row[j] = strings.TrimSpace(rec[i])
		}
		raw = append(raw, row)
	}
	if len(t.times) == 0 {
		return nil, fmt.Errorf("no data rows")
	}
	for j, name := range t.names {
		scale, ok := scales[name]
		if !ok {
			for _, row := range raw {
				if _, frac, found := strings.Cut(row[j], "."); found {
					scale = max(scale, uint8(min(len(frac), roles.MaxScale)))
				}
			}
		}
		col := make([]int64, len(raw))
		for r, row := range raw {
			v, err := roles.ParseDecimal(row[j], scale)
			if err != nil {
				return nil, fmt.Errorf("line %d, column %q: %w", r+2, name, err)
			}
			if !v.IsInt64() {
				return nil, fmt.Errorf("line %d, column %q: %s does not fit 64 bits at scale %d", r+2, name, row[j], scale)
			}
			col[r] = v.Int64()
		}
		t.scales = append(t.scales, scale)
		t.values = append(t.values, col)
	}
	return t, nil
}

// readCSVFile reads a CSV file with the scales given as "col=places,…".
func readCSVFile(path, timeCol, scales string) (*table, error) {
	sc, err := parseScales(scales)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := readCSV(f, timeCol, sc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// batches splits the table into batches of at most rows rows.
func (t *table) batches(stream string, rows int) []*transport.NewBatch {
	var out []*transport.NewBatch
	for lo := 0; lo < len(t.times); lo += rows {
		hi := min(lo+rows, len(t.times))
		b := &transport.NewBatch{Stream: stream, Timestamps: t.times[lo:hi]}
		for c, name := range t.names {
			b.Columns = append(b.Columns, transport.ColumnValues{Name: name, Scale: t.scales[c], Values: t.values[c][lo:hi]})
		}
		out = append(out, b)
	}
	return out
}

// parseScales parses "col=places,col2=places".
func parseScales(s string) (map[string]uint8, error) {
	m := map[string]uint8{}
	if s == "" {
		return m, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		p, err := strconv.ParseUint(v, 10, 8)
		if !ok || err != nil || p > roles.MaxScale {
			return nil, fmt.Errorf("scale %q: want column=places with places ≤ %d", kv, roles.MaxScale)
		}
		m[strings.TrimSpace(k)] = uint8(p)
	}
	return m, nil
}
