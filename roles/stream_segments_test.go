package roles_test

import (
	"context"
	mrand "math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

// segLimits split every window of more than 6 entries into segments of 4.
func segLimits() roles.Limits {
	l := roles.DefaultLimits()
	l.MaxStreamBatches, l.MaxStreamSegments = 4, 8
	return l
}

// newSegRig is a stream rig of n batches of 8 rows whose answers split
// into segments (SPEC §11.5).
func newSegRig(t *testing.T, n int) *streamRig {
	t.Helper()
	l, err := roles.NewLocal(context.Background(), testCRS(t), memory.NewOwnerStore(), memory.NewServerStore(), roles.WithOwnerLimits(segLimits()))
	require.NoError(t, err)
	r := &streamRig{l: l, model: &streamModel{live: map[roles.BatchID]*roles.Batch{}}}
	r.addSpaced(t, n, 8, mrand.New(mrand.NewPCG(7, 7)))
	return r
}

// segQuery covers batches 1..n−2 whole and half of the first and last.
func segQuery(n int) *roles.StreamQuery {
	return &roles.StreamQuery{Stream: "s", Kind: roles.QueryWindow, Columns: []string{"temp", "load"}, TimeFrom: 1035, TimeTo: uint64(1000*n) + 35}
}

func encodedSize(t *testing.T, a *roles.StreamAnswer) int {
	t.Helper()
	total := 0
	for _, s := range append([]*roles.StreamAnswer{a}, a.Rest...) {
		b, err := codec.Default().Marshal(s)
		require.NoError(t, err)
		total += len(b)
	}
	return total
}

func TestStreamSegments(t *testing.T) {
	ctx := context.Background()
	const n = 18
	r := newSegRig(t, n+6)
	q := segQuery(n)
	ans, res := r.ask(t, q)
	require.EqualValues(t, 5, ans.Segs, "a run of 19 entries in segments of 4")
	require.Len(t, ans.Rest, 4)
	for k, s := range append([]*roles.StreamAnswer{ans}, ans.Rest...) {
		require.EqualValues(t, k, s.Seg)
		require.LessOrEqual(t, len(s.Parts), 4)
		require.Equal(t, k == 4, len(s.Proof.RunProof) > 0, "only the last segment has the range proof")
	}
	require.Len(t, res.Batches, n)
	for c, col := range q.Columns {
		want, rows := r.model.sum(col, q.TimeFrom, q.TimeTo)
		require.Equal(t, want.String(), res.Totals[c].Int.String(), col)
		if c == 0 {
			require.Equal(t, rows, res.Rows)
		}
	}
	// generate_stream_proof's whole answer is not available beyond the
	// limit; a window of one segment is as before.
	small := &roles.StreamQuery{Stream: "s", Kind: roles.QueryWindow, Columns: []string{"temp"}, TimeFrom: 2000, TimeTo: 5100}
	one, _ := r.ask(t, small)
	require.Zero(t, one.Segs)
	require.Empty(t, one.Rest)

	// The verifier now holds every header: a warm answer carries none,
	// and verifies to the same totals.
	held := r.l.Verifier.HeldBatches("s", q.TimeFrom, q.TimeTo)
	require.Len(t, held, n)
	require.Empty(t, r.l.Verifier.HeldBatches("other", 0, 1<<62))
	require.Len(t, r.l.Verifier.HeldBatches("s", 0, 1999), 1)
	warm, err := roles.FetchStream(ctx, r.l.Server, q, held)
	require.NoError(t, err)
	for _, s := range append([]*roles.StreamAnswer{warm}, warm.Rest...) {
		for _, p := range s.Parts {
			require.Nil(t, p.Header)
			require.Nil(t, p.Witness)
		}
	}
	wres, err := r.l.Verifier.VerifyStream(ctx, q, warm)
	require.NoError(t, err)
	require.Equal(t, res.Totals, wres.Totals)
	require.Less(t, encodedSize(t, warm)*2, encodedSize(t, ans), "held headers are not sent")

	// A cold verifier cannot check a header-less answer: incomplete.
	cold, err := roles.NewVerifier(r.l.CRS.VerifierKey(), r.l.Owner.Keys(), roles.WithInitialState(r.l.Verifier.State()),
		roles.WithoutMaxStateAge(), roles.WithVerifierLimits(segLimits()))
	require.NoError(t, err)
	_, err = cold.VerifyStream(ctx, q, warm)
	require.ErrorIs(t, err, roles.ErrIncomplete)
	_, err = cold.VerifyStream(ctx, q, ans)
	require.NoError(t, err, "the cold answer carries its headers")

	// A window beyond MaxStreamBatches × MaxStreamSegments is refused.
	big := newSegRig(t, 34)
	_, err = big.l.Server.AnswerStream(ctx, segQuery(34))
	require.ErrorIs(t, err, roles.ErrTooLarge)
}

// TestStreamSegmentsAttacks: a server that leaves out a batch of the
// middle, a segment, or changes how the answer splits is caught.
func TestStreamSegmentsAttacks(t *testing.T) {
	ctx := context.Background()
	const n = 18
	r := newSegRig(t, n+6)
	q := segQuery(n)
	honest, _ := r.ask(t, q)
	held := r.l.Verifier.HeldBatches("s", q.TimeFrom, q.TimeTo)
	warm, err := roles.FetchStream(ctx, r.l.Server, q, held)
	require.NoError(t, err)

	clone := func(a *roles.StreamAnswer) *roles.StreamAnswer {
		c := deepCopy(t, a)
		for _, s := range a.Rest {
			c.Rest = append(c.Rest, deepCopy(t, s))
		}
		return c
	}
	seg := func(a *roles.StreamAnswer, k int) *roles.StreamAnswer {
		if k == 0 {
			return a
		}
		return a.Rest[k-1]
	}
	attack := func(name string, base *roles.StreamAnswer, want error, tamper func(a *roles.StreamAnswer)) {
		t.Run(name, func(t *testing.T) {
			a := clone(base)
			tamper(a)
			_, err := r.l.Verifier.VerifyStream(ctx, q, a)
			require.ErrorIs(t, err, want)
		})
	}
	for _, base := range []struct {
		name string
		a    *roles.StreamAnswer
	}{{"cold", honest}, {"warm", warm}} {
		b := base.a
		attack(base.name+"/drop a middle batch", b, roles.ErrIncomplete, func(a *roles.StreamAnswer) {
			s := seg(a, 2)
			s.Proof.Run = append(s.Proof.Run[:1], s.Proof.Run[2:]...)
			s.Parts = append(s.Parts[:1], s.Parts[2:]...)
		})
		attack(base.name+"/drop a middle segment", b, roles.ErrIncomplete, func(a *roles.StreamAnswer) {
			a.Rest = append(a.Rest[:1], a.Rest[2:]...)
		})
		attack(base.name+"/drop the last segment", b, roles.ErrIncomplete, func(a *roles.StreamAnswer) {
			a.Rest = a.Rest[:len(a.Rest)-1]
		})
		attack(base.name+"/drop a segment and renumber", b, roles.ErrIncomplete, func(a *roles.StreamAnswer) {
			a.Rest = append(a.Rest[:1], a.Rest[2:]...)
			for k, s := range append([]*roles.StreamAnswer{a}, a.Rest...) {
				s.Seg, s.Segs = uint32(k), uint32(len(a.Rest)+1)
			}
		})
		attack(base.name+"/swap two segments", b, roles.ErrIncomplete, func(a *roles.StreamAnswer) {
			a.Rest[0], a.Rest[1] = a.Rest[1], a.Rest[0]
		})
		attack(base.name+"/only the first segment", b, roles.ErrIncomplete, func(a *roles.StreamAnswer) { a.Rest = nil })
		attack(base.name+"/a raised value in a later segment", b, roles.ErrBadProof, func(a *roles.StreamAnswer) {
			s := seg(a, 3)
			s.Parts[1].Values[0] = addScalar(s.Parts[1].Values[0], 1)
		})
		attack(base.name+"/another segment's proof", b, roles.ErrBadProof, func(a *roles.StreamAnswer) {
			seg(a, 1).Pi, seg(a, 2).Pi = seg(a, 2).Pi, seg(a, 1).Pi
		})
		attack(base.name+"/the range proof in the first segment", b, roles.ErrIncomplete, func(a *roles.StreamAnswer) {
			a.Proof.RunProof = a.Rest[len(a.Rest)-1].Proof.RunProof
		})
	}
	attack("warm/a witness without header", warm, roles.ErrBadProof, func(a *roles.StreamAnswer) {
		seg(a, 1).Parts[0].Witness = seg(honest, 1).Parts[0].Witness
	})
	attack("cold/a header without witness", honest, roles.ErrBadProof, func(a *roles.StreamAnswer) {
		seg(a, 1).Parts[0].Witness = nil
	})
	attack("cold/a segment of one answer as a whole", honest, roles.ErrIncomplete, func(a *roles.StreamAnswer) {
		a.Rest, a.Seg, a.Segs = nil, 0, 0
	})
	t.Run("a segment of another state", func(t *testing.T) {
		a := clone(honest)
		other := newSegRig(t, n+6)
		o, err := other.l.Server.AnswerStream(ctx, q)
		require.NoError(t, err)
		a.Rest[1] = o.Rest[1]
		_, err = r.l.Verifier.VerifyStream(ctx, q, a)
		require.ErrorIs(t, err, roles.ErrIncomplete)
	})
	t.Run("bad requests", func(t *testing.T) {
		_, err := r.l.Server.AnswerStreamSegment(ctx, &roles.StreamRequest{Query: *q, Seg: 5})
		require.ErrorIs(t, err, roles.ErrInvalidInput, "no segment 5 of 5")
		_, err = r.l.Server.AnswerStreamSegment(ctx, &roles.StreamRequest{Query: *q, Held: make([]roles.BatchID, roles.MaxHeldBatches+1)})
		require.ErrorIs(t, err, roles.ErrTooLarge)
	})
}
