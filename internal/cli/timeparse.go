package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // -tz works without a system tz database
)

// timeSpec says how the command turns time text into a stream's integer
// timestamps. A stream's timestamps are whatever integers were ingested;
// the command converts times to unix seconds, or to milliseconds with
// -time-unit ms (ingest and query must agree).
type timeSpec struct {
	// format is "" (auto: an integer is taken as given, anything else is
	// RFC 3339, a date or a date and time), "rfc3339", "unix", "unix-ms" or
	// a Go layout (time.Parse).
	format string
	loc    *time.Location // for inputs without an offset
	ms     bool           // the stream counts milliseconds
}

// Layouts tried, in order, for a time without a given format.
var autoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	dateLayout,
}

const dateLayout = "2006-01-02"

// newTimeSpec checks the flags -time-format, -tz and -time-unit.
func newTimeSpec(format, tz, unit string) (*timeSpec, error) {
	ts := &timeSpec{format: format}
	switch strings.ToLower(format) {
	case "", "auto":
		ts.format = ""
	case "rfc3339", "unix", "unix-ms":
		ts.format = strings.ToLower(format)
	default:
		// A Go layout must contain at least a year.
		if !strings.Contains(format, "2006") && !strings.Contains(format, "06") {
			return nil, inputErrorf("-time-format %q: want rfc3339, unix, unix-ms or a Go layout such as 2006-01-02T15:04:05", format)
		}
	}
	switch unit {
	case "", "s":
	case "ms":
		ts.ms = true
	default:
		return nil, inputErrorf("-time-unit %q: want s or ms", unit)
	}
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, inputErrorf("-tz %q: not an IANA time zone name (e.g. UTC, Europe/Paris): %v", tz, err)
	}
	ts.loc = loc
	return ts, nil
}

// unitName is "unix seconds" or "unix milliseconds".
func (ts *timeSpec) unitName() string {
	if ts.ms {
		return "unix milliseconds"
	}
	return "unix seconds"
}

// parse returns the timestamp of s. With end set, a bare date (no time of
// day) stands for the end of the day before it — the last second (or
// millisecond) before midnight — so that the window from one date to
// another is exactly the days in between.
func (ts *timeSpec) parse(s string, end bool) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty time")
	}
	switch ts.format {
	case "unix", "unix-ms":
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q: want an unsigned integer (-time-format %s)", s, ts.format)
		}
		return ts.fromUnit(v, ts.format == "unix-ms", s)
	case "":
		if isDigits(s) {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%q: %w", s, err)
			}
			return v, nil // integers are taken as given
		}
		for _, l := range autoLayouts {
			if t, err := time.ParseInLocation(l, s, ts.loc); err == nil {
				return ts.fromTime(t, end && l == dateLayout, s)
			}
		}
		return 0, fmt.Errorf("%q: want unix seconds, RFC 3339 (2010-02-01T00:00:00Z), a date (2010-02-01) or a date and time (2010-02-01 13:00)", s)
	case "rfc3339":
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, fmt.Errorf("%q: want RFC 3339 such as 2010-02-01T00:00:00Z", s)
		}
		return ts.fromTime(t, false, s)
	default:
		t, err := time.ParseInLocation(ts.format, s, ts.loc)
		if err != nil {
			return 0, fmt.Errorf("%q does not match the layout %q", s, ts.format)
		}
		return ts.fromTime(t, false, s)
	}
}

// fromUnit converts a unix integer in seconds (or ms) to the stream's unit.
func (ts *timeSpec) fromUnit(v uint64, ms bool, s string) (uint64, error) {
	switch {
	case ms == ts.ms:
		return v, nil
	case ts.ms: // seconds → ms
		if v > (1<<63)/1000 {
			return 0, fmt.Errorf("%q: out of range", s)
		}
		return v * 1000, nil
	default: // ms → seconds
		if v%1000 != 0 {
			return 0, fmt.Errorf("%q has milliseconds: give -time-unit ms (and query with it too)", s)
		}
		return v / 1000, nil
	}
}

func (ts *timeSpec) fromTime(t time.Time, endOfPrevDay bool, s string) (uint64, error) {
	var v int64
	if ts.ms {
		v = t.UnixMilli()
		if t.Nanosecond()%int(time.Millisecond) != 0 {
			return 0, fmt.Errorf("%q: finer than a millisecond", s)
		}
	} else {
		v = t.Unix()
		if t.Nanosecond() != 0 {
			return 0, fmt.Errorf("%q has a fraction of a second: give -time-unit ms", s)
		}
	}
	if endOfPrevDay {
		v--
	}
	if v < 0 {
		return 0, fmt.Errorf("%q is before 1970-01-01T00:00:00Z", s)
	}
	return uint64(v), nil
}

// format shows a timestamp as RFC 3339 in UTC.
func (ts *timeSpec) show(v uint64) string {
	if v > 1<<62 {
		return "(out of range)"
	}
	var t time.Time
	if ts.ms {
		t = time.UnixMilli(int64(v))
	} else {
		t = time.Unix(int64(v), 0)
	}
	if ts.ms {
		return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	return t.UTC().Format(time.RFC3339)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// timeFlags are the flags that say how times are read: -tz and
// -time-unit, and -time-format where a file is read.
type timeFlags struct {
	format, tz, unit *string
}

func addTimeFlags(c *common, withFormat bool) timeFlags {
	var tf timeFlags
	if withFormat {
		tf.format = c.fs.String("time-format", "auto", "timestamps in the file: auto (integers as given, else RFC 3339 or a date), rfc3339, unix, unix-ms or a Go layout such as \"2006-01-02 15:04\"")
	}
	tf.tz = c.fs.String("tz", "UTC", "IANA time zone of times written without an offset, e.g. Europe/Paris")
	tf.unit = c.fs.String("time-unit", "s", "the stream's timestamps count unix seconds (s) or milliseconds (ms); ingest and query must agree")
	return tf
}

func (tf timeFlags) spec() (*timeSpec, error) {
	f := ""
	if tf.format != nil {
		f = *tf.format
	}
	return newTimeSpec(f, *tf.tz, *tf.unit)
}
