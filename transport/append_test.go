package transport_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/internal/testkit"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/transport"
)

func FuzzDecodeAppendRequest(f *testing.F) {
	fuzzRoundTrip(f, &transport.AppendRequest{}, &transport.AppendRequest{Stream: "s", Columns: []roles.ColumnInfo{{Name: "v", Bits: 8}},
		Rows: []roles.Row{{Time: 1, Values: []int64{-1}}, {Time: 1 << 63, Values: []int64{1 << 62}}}})
}

func FuzzDecodeAppendResponse(f *testing.F) {
	fuzzRoundTrip(f, &transport.AppendResponse{}, &transport.AppendResponse{Acknowledged: 3, Sealed: 1, Pending: 2, Last: 99})
}

// downStorage is a storage server that cannot be reached.
type downStorage struct{ roles.StorageClient }

func (downStorage) StoreBatch(context.Context, *roles.StoreBatchRequest) error {
	return roles.ErrUnavailable
}
func (downStorage) ApplyState(context.Context, *roles.SignedState) error { return roles.ErrUnavailable }
func (downStorage) LatestState(context.Context) (*roles.SignedState, error) {
	return nil, roles.ErrUnavailable
}

func serveOwner(t *testing.T, o *roles.DataOwner) string {
	t.Helper()
	// Every caller is the admin here: TestRoleMatrix checks who may call
	// append_rows.
	admin := transport.AuthorizerFunc(func(context.Context, *transport.Peer, string, string) error { return nil })
	opts := []transport.Option{transport.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), transport.WithAuthorizer(admin)}
	ls, err := transport.ListenHTTP("127.0.0.1:0", transport.NewHTTPHandler([]*transport.Service{transport.OwnerService(o, nil)}, opts...), opts...)
	require.NoError(t, err)
	return "http://" + testkit.Serve(t, ls)
}

func httpClient(t *testing.T, base string) *transport.HTTPClient {
	t.Helper()
	c, err := transport.NewHTTPClient(base, transport.WithRetries(0, 0))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

var liveCols = []roles.ColumnInfo{{Name: "v"}, {Name: "b", Bits: 4}}

// TestAppendRowsOverHTTP: rows are acknowledged and sealed through the
// owner service; each rule's refusal arrives as the typed error with its
// sentinel; a lost response is recovered with an empty call.
func TestAppendRowsOverHTTP(t *testing.T) {
	ctx := context.Background()
	l, err := roles.NewLocal(ctx, testCRS(t), memory.NewOwnerStore(), memory.NewServerStore(), roles.WithAppendPolicy(roles.AppendPolicy{MaxRows: 4}))
	require.NoError(t, err)
	c := transport.OwnerClient{T: httpClient(t, serveOwner(t, l.Owner))}
	rows := []roles.Row{{Time: 10, Values: []int64{1, 1}}, {Time: 11, Values: []int64{2, 0}}, {Time: 12, Values: []int64{3, 0}}, {Time: 13, Values: []int64{4, -7}}, {Time: 14, Values: []int64{5, 0}}}
	r, err := c.AppendRows(ctx, "live", liveCols, rows)
	require.NoError(t, err)
	require.Equal(t, uint64(5), r.Acknowledged)
	require.Equal(t, uint64(14), r.Last)
	for name, c2 := range map[string]struct {
		rows []roles.Row
		want error
	}{
		"not increasing": {[]roles.Row{{Time: 14, Values: []int64{1, 1}}}, roles.ErrNotIncreasing},
		"shape":          {[]roles.Row{{Time: 15, Values: []int64{1}}}, roles.ErrRowShape},
		"bound":          {[]roles.Row{{Time: 15, Values: []int64{1, 16}}}, roles.ErrValueBound},
	} {
		_, err := c.AppendRows(ctx, "live", liveCols, c2.rows)
		require.ErrorIs(t, err, c2.want, name)
		require.ErrorIs(t, err, roles.ErrInvalidInput, name)
		var re *roles.RowError
		require.True(t, errors.As(err, &re), name)
		require.Equal(t, c2.rows[0].Time, re.Time, name)
	}
	_, err = c.AppendRows(ctx, "live", liveCols[:1], nil)
	require.ErrorIs(t, err, roles.ErrSchemaMismatch)
	// A request of more rows than MaxPending (16 here) appends nothing.
	many := make([]roles.Row, 17)
	for i := range many {
		many[i] = roles.Row{Time: uint64(100 + i), Values: []int64{1, 1}}
	}
	_, err = c.AppendRows(ctx, "live", liveCols, many)
	require.ErrorIs(t, err, roles.ErrTooLarge)
	_, err = c.AppendRows(ctx, "live", liveCols, many[:8])
	require.NoError(t, err)
	r, err = c.AppendRows(ctx, "live", liveCols, nil)
	require.NoError(t, err)
	require.Equal(t, uint64(107), r.Last, "an empty call reports the last acknowledged row")
	require.Zero(t, r.Acknowledged)
	require.NoError(t, l.Owner.CloseAppenders(ctx))
	es := l.Owner.StreamEntries("live")
	require.Len(t, es, 4) // 13 rows in batches of 4
	require.Equal(t, uint64(107), es[3].T1)
}

// TestAppendRowsBackPressure: with the storage server down nothing seals;
// once MaxPending rows are pending the service answers 503 with
// Retry-After and the client's error matches roles.ErrBufferFull.
func TestAppendRowsBackPressure(t *testing.T) {
	ctx := context.Background()
	o, err := roles.NewDataOwner(ctx, testCRS(t), memory.NewOwnerStore(), downStorage{}, roles.WithAppendPolicy(roles.AppendPolicy{MaxRows: 2, MaxPending: 4}))
	require.NoError(t, err)
	base := serveOwner(t, o)
	c := transport.OwnerClient{T: httpClient(t, base)}
	for i := range 4 {
		_, err := c.AppendRows(ctx, "bp", liveCols[:1], []roles.Row{{Time: uint64(i), Values: []int64{1}}})
		require.NoError(t, err)
	}
	_, err = c.AppendRows(ctx, "bp", liveCols[:1], []roles.Row{{Time: 9, Values: []int64{1}}})
	require.ErrorIs(t, err, roles.ErrBufferFull)
	require.ErrorIs(t, err, roles.ErrUnavailable)

	body, err := codec.Default().Marshal(&transport.AppendRequest{Stream: "bp", Columns: liveCols[:1], Rows: []roles.Row{{Time: 9, Values: []int64{1}}}})
	require.NoError(t, err)
	res, err := http.Post(base+"/v1/owner/append_rows", transport.ContentType, bytes.NewReader(body))
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	require.Equal(t, "1", res.Header.Get("Retry-After"))
	r, err := c.AppendRows(ctx, "bp", liveCols[:1], nil)
	require.NoError(t, err)
	require.Equal(t, uint64(4), r.Pending, "refused calls appended nothing")
	require.Equal(t, uint64(3), r.Last)
	cctx, cancel := context.WithTimeout(ctx, 200e6)
	defer cancel()
	require.Error(t, o.CloseAppenders(cctx), "nothing can be sealed")
}

// lossy forwards calls and loses some: every third call's response (the
// call happened) and every fifth call before it is sent.
type lossy struct {
	transport.Transport
	n int
}

func (l *lossy) Call(ctx context.Context, service, method string, req, resp any) error {
	l.n++
	if l.n%5 == 0 {
		return fmt.Errorf("lossy: not sent: %w", roles.ErrUnavailable)
	}
	err := l.Transport.Call(ctx, service, method, req, resp)
	if l.n%3 == 0 {
		return fmt.Errorf("lossy: response lost (%v): %w", err, roles.ErrUnavailable)
	}
	return err
}

// TestAppendAll: over a transport that loses requests and responses,
// AppendAll acknowledges every row, each appended once; a refused row
// stops it at once with the rows before it acknowledged; with nothing
// sealing (the storage server down) it waits out buffer_full until its
// context ends.
func TestAppendAll(t *testing.T) {
	ctx := context.Background()
	l, err := roles.NewLocal(ctx, testCRS(t), memory.NewOwnerStore(), memory.NewServerStore(), roles.WithAppendPolicy(roles.AppendPolicy{MaxRows: 16}))
	require.NoError(t, err)
	in := transport.NewInProc([]*transport.Service{transport.OwnerService(l.Owner, nil)})
	c := transport.OwnerClient{T: &lossy{Transport: in}}
	var rows []roles.Row
	var want int64
	for i := range 100 {
		rows = append(rows, roles.Row{Time: uint64(10 + 2*i), Values: []int64{int64(i), 0}})
		want += int64(i)
	}
	n, err := c.AppendAll(ctx, "all", liveCols, rows, 7)
	require.NoError(t, err)
	require.Equal(t, len(rows), n)
	require.NoError(t, l.Owner.CloseAppenders(ctx))
	res, err := l.QueryStream(ctx, &roles.StreamQuery{Stream: "all", Kind: roles.QueryWindow, Columns: []string{"v"}, TimeTo: 1 << 40})
	require.NoError(t, err)
	require.Equal(t, uint64(100), res.Rows)
	require.Equal(t, want, res.Totals[0].Int.Int64())

	bad := []roles.Row{{Time: 1000, Values: []int64{1, 0}}, {Time: 1001, Values: []int64{1, 99}}}
	n, err = transport.OwnerClient{T: in}.AppendAll(ctx, "all2", liveCols, bad, 1)
	require.ErrorIs(t, err, roles.ErrValueBound)
	require.Equal(t, 1, n)

	o, err := roles.NewDataOwner(ctx, testCRS(t), memory.NewOwnerStore(), downStorage{}, roles.WithAppendPolicy(roles.AppendPolicy{MaxRows: 2, MaxPending: 4}))
	require.NoError(t, err)
	down := transport.OwnerClient{T: transport.NewInProc([]*transport.Service{transport.OwnerService(o, nil)})}
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	n, err = down.AppendAll(cctx, "bp", liveCols, rows[:10], 2)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, roles.ErrBufferFull)
	require.Equal(t, 4, n, "MaxPending rows acknowledged")
	sctx, cancel2 := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel2()
	_ = o.CloseAppenders(sctx)
}

// TestAppendRowsFlush: append_rows with flush seals the pending rows
// before it answers (batches of the client's size, below the owner's
// MaxRows); a flush with nothing pending changes nothing; a flush of a
// stream whose owner cannot reach the storage server fails and keeps the
// rows pending.
func TestAppendRowsFlush(t *testing.T) {
	ctx := context.Background()
	l, err := roles.NewLocal(ctx, testCRS(t), memory.NewOwnerStore(), memory.NewServerStore(), roles.WithAppendPolicy(roles.AppendPolicy{MaxRows: 8}))
	require.NoError(t, err)
	c := transport.OwnerClient{T: httpClient(t, serveOwner(t, l.Owner))}
	for i := range 3 {
		r, err := c.AppendRows(ctx, "f", liveCols, []roles.Row{{Time: uint64(10 + 2*i), Values: []int64{1, 1}}, {Time: uint64(11 + 2*i), Values: []int64{2, 0}}})
		require.NoError(t, err)
		require.Equal(t, uint64(2), r.Pending)
		r, err = c.FlushRows(ctx, "f", liveCols)
		require.NoError(t, err)
		require.Equal(t, uint64(i+1), r.Sealed)
		require.Zero(t, r.Pending)
		require.Zero(t, r.Acknowledged)
		require.Equal(t, uint64(11+2*i), r.Last)
	}
	r, err := c.FlushRows(ctx, "f", liveCols)
	require.NoError(t, err)
	require.Equal(t, uint64(3), r.Sealed, "nothing pending: nothing sealed")
	es := l.Owner.StreamEntries("f")
	require.Len(t, es, 3)
	for i, e := range es {
		require.Equal(t, [2]uint64{uint64(10 + 2*i), uint64(11 + 2*i)}, [2]uint64{e.T0, e.T1})
	}

	o, err := roles.NewDataOwner(ctx, testCRS(t), memory.NewOwnerStore(), downStorage{})
	require.NoError(t, err)
	d := transport.OwnerClient{T: httpClient(t, serveOwner(t, o))}
	_, err = d.AppendRows(ctx, "f", liveCols[:1], []roles.Row{{Time: 1, Values: []int64{1}}})
	require.NoError(t, err)
	fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = d.FlushRows(fctx, "f", liveCols[:1])
	require.Error(t, err)
	r, err = d.AppendRows(ctx, "f", liveCols[:1], nil)
	require.NoError(t, err)
	require.Equal(t, uint64(1), r.Pending, "the rows stay pending")
}
