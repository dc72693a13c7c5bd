package transport_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/transport"
)

// segSystem is a Local system whose answers split into segments of 4 run
// entries, with 14 batches of 4 rows in stream "s", served in-process
// through the codec.
func segSystem(t testing.TB) (*roles.Local, transport.StorageClient, transport.VerifierClient) {
	t.Helper()
	l := roles.DefaultLimits()
	l.MaxStreamBatches, l.MaxStreamSegments = 4, 8
	loc, err := roles.NewLocal(context.Background(), testCRS(t), memory.NewOwnerStore(), memory.NewServerStore(), roles.WithOwnerLimits(l))
	require.NoError(t, err)
	for k := range 14 {
		b := &roles.Batch{Stream: "s", Columns: []roles.Column{{Name: "v"}}}
		for i := range 4 {
			b.Timestamps = append(b.Timestamps, uint64(100*(k+1)+i))
			b.Columns[0].Values = append(b.Columns[0].Values, int64(k*10+i))
		}
		_, err := loc.Owner.Ingest(context.Background(), b)
		require.NoError(t, err)
	}
	tr := transport.NewInProc([]*transport.Service{transport.StorageService(loc.Server), transport.VerifierService(loc.Verifier)})
	return loc, transport.StorageClient{T: tr}, transport.VerifierClient{T: tr}
}

// Over the wire: segments fetched one by one, verified in one verify_stream
// call, cold then warm; a segment left out is incomplete.
func TestStreamSegmentsOverTheWire(t *testing.T) {
	ctx := context.Background()
	loc, sc, vc := segSystem(t)
	q := &roles.StreamQuery{Stream: "s", Kind: roles.QueryWindow, Columns: []string{"v"}, TimeFrom: 102, TimeTo: 1301}
	var want int64
	for k := range 13 {
		for i := range 4 {
			if ts := 100*(k+1) + i; ts >= 102 && ts <= 1301 {
				want += int64(k*10 + i)
			}
		}
	}
	// generate_stream_proof refuses a window that needs segments.
	var whole roles.StreamAnswer
	err := sc.T.Call(ctx, transport.ServiceStorage, "generate_stream_proof", q, &whole)
	require.ErrorIs(t, err, roles.ErrTooLarge)

	held, err := vc.HeldBatches(ctx, "s", q.TimeFrom, q.TimeTo)
	require.NoError(t, err)
	require.Empty(t, held)
	cold, err := sc.AnswerStream(ctx, q)
	require.NoError(t, err)
	require.EqualValues(t, 4, cold.Segs)
	res, err := vc.VerifyStream(ctx, q, cold)
	require.NoError(t, err)
	require.Equal(t, []string{fmt.Sprint(want)}, res.Raw)
	require.Len(t, res.Batches, 13)

	held, err = vc.HeldBatches(ctx, "s", q.TimeFrom, q.TimeTo)
	require.NoError(t, err)
	require.Len(t, held, 13)
	warm, err := roles.FetchStream(ctx, sc, q, held)
	require.NoError(t, err)
	require.Nil(t, warm.Rest[1].Parts[0].Header)
	res, err = vc.VerifyStream(ctx, q, warm)
	require.NoError(t, err)
	require.Equal(t, []string{fmt.Sprint(want)}, res.Raw)

	for name, a := range map[string]*roles.StreamAnswer{"cold": cold, "warm": warm} {
		dropped := *a
		dropped.Rest = append([]*roles.StreamAnswer{a.Rest[0]}, a.Rest[2:]...)
		_, err = vc.VerifyStream(ctx, q, &dropped)
		require.ErrorIs(t, err, roles.ErrIncomplete, name)
		mid := *a.Rest[1]
		mid.Proof.Run = append(append([]roles.StreamEntry(nil), mid.Proof.Run[:1]...), mid.Proof.Run[2:]...)
		mid.Parts = append(append([]roles.StreamPart(nil), mid.Parts[:1]...), mid.Parts[2:]...)
		gap := *a
		gap.Rest = []*roles.StreamAnswer{a.Rest[0], &mid, a.Rest[2]}
		_, err = vc.VerifyStream(ctx, q, &gap)
		require.ErrorIs(t, err, roles.ErrIncomplete, name)
	}
	// Header-less parts for a verifier that does not hold the headers:
	// refused before any part is decoded.
	lim := loc.Verifier.Limits()
	fresh, err := roles.NewVerifier(loc.CRS.VerifierKey(), loc.Owner.Keys(), roles.WithInitialState(loc.Verifier.State()),
		roles.WithoutMaxStateAge(), roles.WithVerifierLimits(lim))
	require.NoError(t, err)
	vc2 := transport.VerifierClient{T: transport.NewInProc([]*transport.Service{transport.VerifierService(fresh)})}
	_, err = vc2.VerifyStream(ctx, q, warm)
	require.ErrorIs(t, err, roles.ErrIncomplete)
	_, err = vc2.VerifyStream(ctx, q, cold)
	require.NoError(t, err)
}

func FuzzDecodeStreamRequest(f *testing.F) {
	fuzzRoundTrip(f, &roles.StreamRequest{}, &roles.StreamRequest{Query: roles.StreamQuery{Stream: "s", Kind: roles.QueryWindow, Columns: []string{"v"}, TimeTo: 9},
		Seg: 3, Held: []roles.BatchID{{1}, {2}}})
}

// FuzzDecodeStreamAnswerSegments: a verify_stream request with segments
// and header-less parts decodes to what encodes to the same bytes, and the
// verifier service's first decoding step (the method's codec, parts kept
// as bytes) never panics on it. (Serving it runs pairings, too slow under
// the fuzzer's instrumentation: TestStreamSegmentsOverTheWire covers it.)
func FuzzDecodeStreamAnswerSegments(f *testing.F) {
	ctx := context.Background()
	loc, sc, _ := segSystem(f)
	q := &roles.StreamQuery{Stream: "s", Kind: roles.QueryWindow, Columns: []string{"v"}, TimeFrom: 102, TimeTo: 1301}
	cold, err := sc.AnswerStream(ctx, q)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := loc.Verifier.VerifyStream(ctx, q, cold); err != nil {
		f.Fatal(err)
	}
	warm, err := roles.FetchStream(ctx, sc, q, loc.Verifier.HeldBatches("s", 0, 1<<62))
	if err != nil {
		f.Fatal(err)
	}
	m, ok := transport.VerifierService(loc.Verifier).Method("verify_stream")
	if !ok {
		f.Fatal("no verify_stream")
	}
	// The warm answer only: a cold one's headers make every execution
	// decode dozens of points (a few per second under instrumentation).
	for _, a := range []*roles.StreamAnswer{warm} {
		r := &transport.VerifyStreamRequest{Query: *q, Answer: *a}
		r.Answer.Rest = nil
		for _, s := range a.Rest {
			r.Rest = append(r.Rest, *s)
		}
		b, err := codec.Default().Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v transport.VerifyStreamRequest
		if err := codec.Default().Unmarshal(data, &v); err == nil {
			out, err := codec.Default().Marshal(&v)
			if err != nil {
				t.Fatalf("decoded value does not encode: %v", err)
			}
			if string(out) != string(data) {
				t.Fatalf("accepted %x, re-encodes to %x", data, out)
			}
		}
		_ = m.Codec.Unmarshal(data, m.NewRequest())
	})
}
