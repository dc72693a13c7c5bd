package cli

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
)

func TestManyQueries(t *testing.T) {
	var id roles.BatchID
	qs, err := manyQueries(id, []string{"a"}, "1-4, 7-7", "3,9")
	require.NoError(t, err)
	require.Len(t, qs, 4)
	require.Equal(t, roles.QueryRange, qs[0].Kind)
	require.EqualValues(t, 1, qs[0].From)
	require.EqualValues(t, 4, qs[0].To)
	require.EqualValues(t, 7, qs[1].From)
	require.Equal(t, roles.QueryPoint, qs[3].Kind)
	require.EqualValues(t, 9, qs[3].Row)
	for _, bad := range []struct{ ranges, rows string }{{"1", ""}, {"a-2", ""}, {"1-x", ""}, {"", "x"}, {"", "-1"}} {
		_, err := manyQueries(id, nil, bad.ranges, bad.rows)
		require.Error(t, err, "%+v", bad)
	}
}
