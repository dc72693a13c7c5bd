package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReadCSV(t *testing.T) {
	in := "timestamp,temp,count\n100,21.5,3\n110,-0.25,4\n120,22,5\n"
	tb, err := readCSV(strings.NewReader(in), "timestamp", nil)
	require.NoError(t, err)
	require.Equal(t, []uint64{100, 110, 120}, tb.times)
	require.Equal(t, []string{"temp", "count"}, tb.names)
	require.Equal(t, []uint8{2, 0}, tb.scales, "inferred: the most places in the column")
	require.Equal(t, []int64{2150, -25, 2200}, tb.values[0])
	require.Equal(t, []int64{3, 4, 5}, tb.values[1])

	tb, err = readCSV(strings.NewReader(in), "timestamp", map[string]uint8{"temp": 3})
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
		"not a number":               {"timestamp,x\n5,abc\n", nil, "not a decimal"},
		"exponent":                   {"timestamp,x\n5,1e3\n", nil, "not a decimal"},
		"no rows":                    {"timestamp,x\n", nil, "no data rows"},
		"no data column":             {"timestamp\n1\n", nil, "no data column"},
		"ragged row":                 {"timestamp,x\n1,2,3\n", nil, "wrong number of fields"},
		"too big for int64":          {"timestamp,x\n1,99999999999999999999\n", nil, "64 bits"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := readCSV(strings.NewReader(c.in), "timestamp", c.scales)
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
