package transport_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/internal/worstcase"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/transport"
)

// testServices returns the three services on the test CRS.
func testServices(t *testing.T) map[string]*transport.Service {
	t.Helper()
	o := mustOwner(t)
	srv, err := roles.NewStorageServer(testCRS(t), o.Keys(), memory.NewServerStore())
	require.NoError(t, err)
	v, err := roles.NewVerifier(testCRS(t).VerifierKey(), o.Keys())
	require.NoError(t, err)
	return map[string]*transport.Service{
		transport.ServiceOwner:    transport.OwnerService(o, nil),
		transport.ServiceStorage:  transport.StorageService(srv),
		transport.ServiceVerifier: transport.VerifierService(v),
	}
}

// The largest legitimate request of every method fits its limit, at the
// default capacity and at the test's, and decodes with the method's codec.
func TestRequestLimitsFitWorstRequests(t *testing.T) {
	l := roles.DefaultLimits()
	for _, n := range []int{testCRS(t).N(), 1024} {
		lim := transport.RequestLimits(n, l)
		for svc, ms := range worstcase.Requests(n, l) {
			for name, req := range ms {
				b, err := codec.Default().Marshal(req)
				require.NoError(t, err)
				require.LessOrEqual(t, int64(len(b)), lim[svc][name], "n=%d %s/%s", n, svc, name)
				// Not much room either: the limit is the size of what the method carries.
				require.Greater(t, int64(len(b)), lim[svc][name]-4096-lim[svc][name]/8, "n=%d %s/%s: limit far above the largest request", n, svc, name)
			}
		}
	}
	services := testServices(t)
	n := testCRS(t).N()
	for svc, ms := range worstcase.Requests(n, l) {
		for name, req := range ms {
			m, ok := services[svc].Method(name)
			require.True(t, ok)
			require.Equal(t, transport.RequestLimits(n, l)[svc][name], m.MaxRequestBytes)
			b, err := codec.Default().Marshal(req)
			require.NoError(t, err)
			err = m.Codec.Unmarshal(b, m.NewRequest())
			require.NoError(t, err, "%s/%s: the method's codec refuses its largest request", svc, name)
		}
	}
}

// A header with more commitments than MaxColumns, or an answer with more
// values, is refused by the verifier's codec for its size: the points and
// scalars in it are all invalid, and none is looked at.
func TestStructuralLimitsBeforePoints(t *testing.T) {
	services := testServices(t)
	n, l := testCRS(t).N(), roles.DefaultLimits()
	m, _ := services[transport.ServiceVerifier].Method("verify_dc_query")
	for _, build := range []func() ([]byte, error){
		func() ([]byte, error) { return worstcase.OversizedHeader(n, l, l.MaxColumns+1) },
		func() ([]byte, error) { return worstcase.OversizedValues(n, l, 4096) },
	} {
		b, err := build()
		require.NoError(t, err)
		c, err := codec.NewCBOR(codec.Limits{MaxMessageBytes: len(b)})
		require.NoError(t, err)
		// The default codec gets to the spoiled points: the message is bad.
		require.ErrorIs(t, c.Unmarshal(b, m.NewRequest()), codec.ErrInvalidEncoding)
		require.NotErrorIs(t, c.Unmarshal(b, m.NewRequest()), codec.ErrTooLarge)
		// The method's codec stops at the array's length.
		big, err := codec.NewCBOR(codec.Limits{MaxMessageBytes: len(b), MaxArrayElements: l.MaxColumns})
		require.NoError(t, err)
		require.ErrorIs(t, big.Unmarshal(b, m.NewRequest()), codec.ErrTooLarge)
		if int64(len(b)) <= m.MaxRequestBytes {
			require.ErrorIs(t, m.Codec.Unmarshal(b, m.NewRequest()), codec.ErrTooLarge)
		}
	}
}

// startHTTP serves the services over HTTP on 127.0.0.1 until the test ends
// and returns the base URL.
func startHTTP(t *testing.T, services []*transport.Service, opts ...transport.Option) string {
	t.Helper()
	ls, err := transport.ListenHTTP("127.0.0.1:0", transport.NewHTTPHandler(services, opts...), opts...)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ls.Serve(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	return "http://" + ls.Addr()
}

// postRaw posts a body and returns the status and the decoded wire error.
func postRaw(t *testing.T, url string, body []byte) (int, *transport.WireError) {
	t.Helper()
	res, err := http.Post(url, transport.ContentType, bytes.NewReader(body))
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	if res.StatusCode == http.StatusOK {
		return res.StatusCode, nil
	}
	var we transport.WireError
	require.NoError(t, codec.Default().Unmarshal(b, &we))
	return res.StatusCode, &we
}

// store_batch and update_batch check the header's signature before they
// decode the data: a forged header with undecodable data is refused for
// its signature, never for its data.
func TestStoreBatchHeaderBeforeData(t *testing.T) {
	o := mustOwner(t)
	srv, err := roles.NewStorageServer(testCRS(t), o.Keys(), memory.NewServerStore())
	require.NoError(t, err)
	base := startHTTP(t, []*transport.Service{transport.StorageService(srv)})
	n, l := testCRS(t).N(), roles.DefaultLimits()
	type wire struct {
		State  *roles.SignedState `cbor:"state,omitempty"`
		Header cbor.RawMessage    `cbor:"hdr"`
		Data   cbor.RawMessage    `cbor:"data"`
	}
	sh := worstcase.Header(n, l)
	keys := o.Keys()
	sh.Header.CRS, sh.Header.Owner = srv.CRSDigest(), keys.ID()
	hdr, err := codec.Default().Marshal(&sh)
	require.NoError(t, err)
	data, err := codec.Default().Marshal(worstcase.BatchData(n, l))
	require.NoError(t, err)
	st, err := o.LatestState(context.Background())
	require.NoError(t, err)
	for _, name := range []string{"store_batch", "update_batch"} {
		w := wire{Header: hdr, Data: worstcase.Spoil(data)}
		if name == "update_batch" {
			w.State = st
		}
		body, err := codec.Default().Marshal(&w)
		require.NoError(t, err)
		status, we := postRaw(t, base+"/v1/storage/"+name, body)
		require.NotNil(t, we, name)
		require.ErrorIs(t, we.Err(), roles.ErrBadSignature, "%s: %+v", name, we)
		require.Equal(t, http.StatusUnprocessableEntity, status)
	}
}

// Every method of every service has a limit of its own in RequestLimits (a
// method without one would get the 1 KiB of requests without a variable
// part): a new method must say what it can carry.
func TestEveryMethodHasALimit(t *testing.T) {
	lim := transport.RequestLimits(testCRS(t).N(), roles.DefaultLimits())
	for name, svc := range testServices(t) {
		for _, m := range svc.Methods() {
			_, ok := lim[name][m]
			require.True(t, ok, "%s/%s has no entry in RequestLimits", name, m)
			meth, _ := svc.Method(m)
			require.Positive(t, meth.MaxRequestBytes)
			require.NotNil(t, meth.Codec)
		}
	}
}
