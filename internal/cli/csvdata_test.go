package cli

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReadCSV(t *testing.T) {
	in := "timestamp,temp,count\n100,21.5,3\n110,-0.25,4\n120,22,5\n"
	tb, err := readCSV(strings.NewReader(in), csvOptions{timeCol: "timestamp"})
	require.NoError(t, err)
	require.Equal(t, []uint64{100, 110, 120}, tb.times)
	require.Equal(t, []string{"temp", "count"}, tb.names)
	require.Equal(t, []uint8{2, 0}, tb.scales, "inferred: the most places in the column")
	require.Equal(t, []int64{2150, -25, 2200}, tb.values[0])
	require.Equal(t, []int64{3, 4, 5}, tb.values[1])

	tb, err = readCSV(strings.NewReader(in), csvOptions{timeCol: "timestamp", scales: map[string]uint8{"temp": 3}})
	require.NoError(t, err)
	require.Equal(t, []int64{21500, -250, 22000}, tb.values[0])

	bs := tb.batches("s", 2)
	require.Len(t, bs, 2)
	require.Equal(t, []uint64{100, 110}, bs[0].Timestamps)
	require.Equal(t, []uint64{120}, bs[1].Timestamps)
	require.Equal(t, uint8(3), bs[1].Columns[0].Scale)

	for name, c := range map[string]struct {
		in     string
		scales map[string]uint8
		want   string
	}{
		"more places than the scale": {in, map[string]uint8{"temp": 1}, "more than 1 decimal places"},
		"no timestamp column":        {"time,x\n1,2\n", nil, "no timestamp column"},
		"not increasing":             {"timestamp,x\n5,1\n5,2\n", nil, "does not increase"},
		"negative timestamp":         {"timestamp,x\n-5,1\n", nil, "unsigned integer"},
		"not a number":               {"timestamp,x\n5,abc\n", nil, `column "x" is not numeric ("abc"): choose the numeric columns with -cols`},
		"unknown scale column":       {"timestamp,x\n5,1\n", map[string]uint8{"y": 1}, `-scale: no data column "y"`},
		"exponent":                   {"timestamp,x\n5,1e3\n", nil, "not a decimal"},
		"no rows":                    {"timestamp,x\n", nil, "no data rows"},
		"no data column":             {"timestamp\n1\n", nil, "no data column"},
		"ragged row":                 {"timestamp,x\n1,2,3\n", nil, "wrong number of fields"},
		"too big for int64":          {"timestamp,x\n1,99999999999999999999\n", nil, "64 bits"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := readCSV(strings.NewReader(c.in), csvOptions{timeCol: "timestamp", scales: c.scales})
			require.ErrorContains(t, err, c.want)
		})
	}
}

func TestParseScales(t *testing.T) {
	m, err := parseScales("temp=1, load=2")
	require.NoError(t, err)
	require.Equal(t, map[string]uint8{"temp": 1, "load": 2}, m)
	for _, bad := range []string{"temp", "temp=x", "temp=99", "=-1"} {
		_, err := parseScales(bad)
		require.Error(t, err, bad)
	}
}

// -cols chooses the data columns: a non-numeric column is skipped, an
// unknown one is an error, and times in RFC 3339 become unix seconds.
func TestReadCSVColumnsAndTimes(t *testing.T) {
	in := "time,station,temp,dew\n2010-01-01T00:00:00Z,ABC,1.5,-0.25\n2010-01-01T01:00:00+01:00,ABC,2,0\n2010-01-01T01:00:00Z,ABC,-3.5,1\n"
	ts, err := newTimeSpec("", "UTC", "s")
	require.NoError(t, err)
	// 01:00+01:00 is 00:00Z: not after the first row.
	_, err = readCSV(strings.NewReader(in), csvOptions{timeCol: "time", cols: []string{"temp"}, time: ts})
	require.ErrorContains(t, err, "does not increase")

	in = strings.Replace(in, "01:00:00+01:00", "00:30:00Z", 1)
	_, err = readCSV(strings.NewReader(in), csvOptions{timeCol: "time", time: ts})
	require.ErrorContains(t, err, `column "station" is not numeric`)
	require.ErrorContains(t, err, "-cols")
	_, err = readCSV(strings.NewReader(in), csvOptions{timeCol: "time", cols: []string{"temp", "wind"}, time: ts})
	require.ErrorContains(t, err, `-cols: no column "wind"`)
	_, err = readCSV(strings.NewReader(in), csvOptions{timeCol: "time", cols: []string{"time"}, time: ts})
	require.ErrorContains(t, err, "timestamp column")

	tb, err := readCSV(strings.NewReader(in), csvOptions{timeCol: "time", cols: []string{"dew", "temp"}, scales: map[string]uint8{"temp": 2}, time: ts})
	require.NoError(t, err)
	require.Equal(t, []string{"dew", "temp"}, tb.names)
	require.Equal(t, []uint8{2, 2}, tb.scales)
	require.Equal(t, []uint64{1262304000, 1262305800, 1262307600}, tb.times)
	require.Equal(t, []int64{150, 200, -350}, tb.values[1])
	require.Equal(t, []int64{-25, 0, 100}, tb.values[0])

	// Update defaults apply only to columns the file has.
	tb, err = readCSV(strings.NewReader(in), csvOptions{timeCol: "time", cols: []string{"temp"}, defaults: map[string]uint8{"temp": 3, "gone": 1}, time: ts})
	require.NoError(t, err)
	require.Equal(t, []uint8{3}, tb.scales)
}
