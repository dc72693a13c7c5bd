package cli

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

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

// csvOptions say how to read a CSV file.
type csvOptions struct {
	timeCol string           // the timestamp column
	cols    []string         // the data columns to keep (nil: every other column)
	scales  map[string]uint8 // decimal places per column (-scale: each must be a data column)
	// defaults are scales for the data columns -scale does not name (for
	// update: the old version's), used if the column exists.
	defaults map[string]uint8
	time     *timeSpec // nil: unsigned integers, taken as given
}

// readCSV reads a CSV file whose first row names the columns. o.timeCol
// names the timestamp column (strictly increasing; integers, or times as
// o.time says); the data columns are o.cols, or every other column, and
// must be numeric. A column named in o.cols or o.scales that the header
// lacks is an error. o.scales fixes a column's number of decimal places; a
// column without one takes the most places any of its values has, and a
// value with more places than its column's scale is an error (never
// rounded).
func readCSV(r io.Reader, o csvOptions) (*table, error) {
	spec := o.time
	if spec == nil {
		spec = &timeSpec{format: "unix", loc: time.UTC}
	}
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = false
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	t := &table{}
	tcol, idx, names, err := csvColumns(head, o)
	if err != nil {
		return nil, err
	}
	t.names = names
	var raw [][]string
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		ts, err := spec.parse(rec[tcol], false)
		if err != nil {
			return nil, fmt.Errorf("line %d: timestamp: %w", line, err)
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
		scale, ok := o.scales[name]
		if !ok {
			scale, ok = o.defaults[name]
		}
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
				if o.cols == nil && !looksNumeric(row[j]) {
					return nil, fmt.Errorf("line %d: column %q is not numeric (%q): choose the numeric columns with -cols", r+2, name, row[j])
				}
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

// csvColumns finds, in a CSV header, the timestamp column o.timeCol and
// the data columns to keep (o.cols, or every other column): their indexes
// and names. A column named in o.cols or o.scales that the header lacks is
// an error.
func csvColumns(head []string, o csvOptions) (tcol int, idx []int, names []string, err error) {
	tcol = -1
	pos := map[string]int{}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))
		if _, dup := pos[h]; dup {
			return 0, nil, nil, fmt.Errorf("column %q appears twice in the header", h)
		}
		pos[h] = i
		if h == o.timeCol {
			tcol = i
		}
	}
	if tcol < 0 {
		return 0, nil, nil, fmt.Errorf("no timestamp column %q in header %q (choose it with -time-col)", o.timeCol, head)
	}
	if o.cols != nil {
		for _, name := range o.cols {
			i, ok := pos[name]
			switch {
			case !ok:
				return 0, nil, nil, fmt.Errorf("-cols: no column %q in header %q", name, head)
			case i == tcol:
				return 0, nil, nil, fmt.Errorf("-cols: %q is the timestamp column", name)
			}
			names = append(names, name)
			idx = append(idx, i)
		}
	} else {
		for i, h := range head {
			if i != tcol {
				names = append(names, strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")))
				idx = append(idx, i)
			}
		}
	}
	for name := range o.scales {
		if !slices.Contains(names, name) {
			return 0, nil, nil, fmt.Errorf("-scale: no data column %q (columns: %s)", name, strings.Join(names, ", "))
		}
	}
	if len(names) == 0 {
		return 0, nil, nil, fmt.Errorf("no data column besides %q", o.timeCol)
	}
	return tcol, idx, names, nil
}

// looksNumeric reports whether s is made of a sign, digits and a point.
func looksNumeric(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	digits := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = true
		case r == '.', r == 'e', r == 'E', r == '-', r == '+':
		default:
			return false
		}
	}
	return digits
}

// readCSVFile reads a CSV file; its errors are input errors (exit 4).
func readCSVFile(path string, o csvOptions) (*table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &inputError{err}
	}
	defer f.Close()
	t, err := readCSV(f, o)
	if err != nil {
		return nil, &inputError{fmt.Errorf("%s: %w", path, err)}
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
	if !strings.Contains(s, "=") {
		return nil, inputErrorf("-scale %q: want column=places,… (e.g. temp=1,load=2)", s)
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		p, err := strconv.ParseUint(v, 10, 8)
		if !ok || err != nil || p > roles.MaxScale {
			return nil, inputErrorf("-scale %q: want column=places with places ≤ %d", kv, roles.MaxScale)
		}
		m[strings.TrimSpace(k)] = uint8(p)
	}
	return m, nil
}

// csvFlags are the flags of a command that reads a CSV file (ingest,
// update): -file, -time-col, -cols, -scale and the time flags.
type csvFlags struct {
	file, timeCol, cols, scales *string
	time                        timeFlags
}

// addCSVFlags adds them; fileHelp, colsHelp and scaleHelp say what the
// command does with each.
func addCSVFlags(c *common, fileHelp, colsHelp, scaleHelp string) *csvFlags {
	return &csvFlags{
		file:    c.fs.String("file", "", fileHelp),
		timeCol: c.fs.String("time-col", "timestamp", "name of the timestamp column"),
		cols:    c.fs.String("cols", "", colsHelp),
		scales:  c.fs.String("scale", "", scaleHelp),
		time:    addTimeFlags(c, true),
	}
}

// options checks the time flags and -scale and says how to read the file.
func (f *csvFlags) options() (csvOptions, error) {
	spec, err := f.time.spec()
	if err != nil {
		return csvOptions{}, err
	}
	sc, err := parseScales(*f.scales)
	if err != nil {
		return csvOptions{}, err
	}
	return csvOptions{timeCol: *f.timeCol, cols: splitListOrNil(*f.cols), scales: sc, time: spec}, nil
}
