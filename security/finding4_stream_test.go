package security

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/internal/worstcase"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// Finding 4, stream answers: a verify_stream request carries many headers.
// Their points are decoded only once the state, the completeness proof and
// the digests of the headers' bytes tie each one to a live entry of the
// owner's signed stream; a request that does not is refused before a
// single point of its parts is looked at.
func TestFinding4StreamPartsDecodedLast(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	for k := range 3 {
		w.create(t, batch("s", 4, uint64(1000*(k+1))))
	}
	v := w.verifier(t)
	svc := transport.VerifierService(v)
	m, ok := svc.Method("verify_stream")
	require.True(t, ok)
	q := &roles.StreamQuery{Stream: "s", Kind: roles.QueryWindow, Columns: []string{"temp"}, TimeFrom: 0, TimeTo: 10_000}
	ans, err := w.server.AnswerStream(ctx, q)
	require.NoError(t, err)
	serve := func(req *transport.VerifyStreamRequest) error {
		body, err := codec.Default().Marshal(req)
		require.NoError(t, err)
		return serveBytes(t, m, body)
	}
	require.NoError(t, serve(&transport.VerifyStreamRequest{Query: *q, Answer: *ans}))

	// Foreign headers whose every point is spoiled: refused as incomplete
	// (their digests are not the entries'), not as invalid points.
	foreign := *ans
	foreign.Parts = append([]roles.StreamPart(nil), ans.Parts...)
	for i := range foreign.Parts {
		h := worstcase.Header(capacity, roles.DefaultLimits())
		foreign.Parts[i].Header = &h
	}
	body, err := codec.Default().Marshal(&transport.VerifyStreamRequest{Query: *q, Answer: foreign})
	require.NoError(t, err)
	err = serveBytes(t, m, spoilParts(t, body))
	require.ErrorIs(t, err, vds.ErrIncomplete)
	require.NotErrorIs(t, err, vds.ErrInvalidPoint)

	// With a forged state, nothing of the parts is touched either.
	forged := foreign
	forged.State.Sig = make([]byte, 64)
	body, err = codec.Default().Marshal(&transport.VerifyStreamRequest{Query: *q, Answer: forged})
	require.NoError(t, err)
	err = serveBytes(t, m, spoilParts(t, body))
	require.ErrorIs(t, err, vds.ErrBadSignature)
	require.NotErrorIs(t, err, vds.ErrInvalidPoint)
}

// serveBytes decodes a body with a method's codec and serves it, as a
// server does.
func serveBytes(t *testing.T, m *transport.Method, body []byte) error {
	t.Helper()
	req := m.NewRequest()
	if err := m.Codec.Unmarshal(body, req); err != nil {
		return err
	}
	_, err := m.Serve(context.Background(), req)
	return err
}

// spoilParts spoils every point and scalar of the parts of an encoded
// verify_stream request (worstcase.Spoil), leaving the state, the
// completeness proof and the aggregated proof intact.
func spoilParts(t *testing.T, body []byte) []byte {
	t.Helper()
	// Canonical key order: q, pi, sp, parts, state.
	i := bytes.Index(body, []byte("\x65parts"))
	j := i + bytes.Index(body[i:], []byte("\x65state"))
	require.True(t, i > 0 && j > i)
	out := append([]byte(nil), body[:i]...)
	out = append(out, worstcase.Spoil(body[i:j])...)
	return append(out, body[j:]...)
}
