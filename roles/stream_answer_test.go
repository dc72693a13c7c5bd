package roles_test

import (
	"context"
	"crypto/rand"
	"math/big"
	mrand "math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

// streamModel is what a test wrote into a stream: each live batch's rows.
type streamModel struct {
	live map[roles.BatchID]*roles.Batch
}

// sum is the direct sum of a column over the live rows in [from, to], at
// the column's scale (every test batch uses one scale per column).
func (m *streamModel) sum(col string, from, to uint64) (*big.Int, uint64) {
	total := new(big.Int)
	var rows uint64
	for _, b := range m.live {
		for c, bc := range b.Columns {
			if bc.Name != col {
				continue
			}
			for i, ts := range b.Timestamps {
				if ts >= from && ts <= to {
					total.Add(total, big.NewInt(b.Columns[c].Values[i]))
					if c == 0 {
						rows++
					}
				}
			}
		}
	}
	return total, rows
}

type streamRig struct {
	l     *roles.Local
	model *streamModel
	ids   []roles.BatchID // in stream order (current versions)
}

func newStreamRig(t *testing.T) *streamRig {
	return &streamRig{l: newLocal(t), model: &streamModel{live: map[roles.BatchID]*roles.Batch{}}}
}

// twoCols is a batch of two columns, rows at t0, t0+step, ….
func twoCols(stream string, rows int, t0, step uint64, r *mrand.Rand) *roles.Batch {
	b := &roles.Batch{Stream: stream, Columns: []roles.Column{{Name: "temp", Scale: 1}, {Name: "load"}}}
	for i := range rows {
		b.Timestamps = append(b.Timestamps, t0+uint64(i)*step)
		b.Columns[0].Values = append(b.Columns[0].Values, r.Int64N(2000)-1000)
		b.Columns[1].Values = append(b.Columns[1].Values, r.Int64N(1<<40))
	}
	return b
}

func (r *streamRig) add(t *testing.T, b *roles.Batch) roles.BatchID {
	t.Helper()
	res, err := r.l.Owner.Ingest(context.Background(), b)
	require.NoError(t, err)
	id, _ := res.Header.Header.Digest()
	r.model.live[id] = b
	r.ids = append(r.ids, id)
	return id
}

// addSpaced adds n batches of rows rows each to stream "s": the k-th
// (from 0) has timestamps 1000·(k+1), every 10.
func (r *streamRig) addSpaced(t *testing.T, n, rows int, rng *mrand.Rand) {
	t.Helper()
	for k := range n {
		r.add(t, twoCols("s", rows, uint64(1000*(k+1)), 10, rng))
	}
}

func (r *streamRig) ask(t *testing.T, q *roles.StreamQuery) (*roles.StreamAnswer, *roles.StreamResult) {
	t.Helper()
	ans, err := r.l.Server.AnswerStream(context.Background(), q)
	require.NoError(t, err)
	res, err := r.l.Verifier.VerifyStream(context.Background(), q, ans)
	require.NoError(t, err)
	return ans, res
}

func (r *streamRig) check(t *testing.T, from, to uint64) *roles.StreamResult {
	t.Helper()
	q := &roles.StreamQuery{Stream: "s", Kind: roles.QueryWindow, Columns: []string{"temp", "load"}, TimeFrom: from, TimeTo: to}
	_, res := r.ask(t, q)
	for c, col := range q.Columns {
		want, rows := r.model.sum(col, from, to)
		require.Equal(t, want.String(), res.Totals[c].Int.String(), "%s over %d..%d", col, from, to)
		if c == 0 {
			require.Equal(t, rows, res.Rows, "rows over %d..%d", from, to)
		}
	}
	return res
}

func TestStreamWindow(t *testing.T) {
	r := newStreamRig(t)
	rng := mrand.New(mrand.NewPCG(1, 2))
	_, err := r.l.Owner.Ingest(context.Background(), twoCols("other", 3, 1000, 10, rng))
	require.NoError(t, err)
	// Five batches: t = 1000..1150, 2000..2150, 3000..3150, 4000.., 5000..
	r.addSpaced(t, 5, 16, rng)
	res := r.check(t, 0, 1<<62)
	require.Len(t, res.Batches, 5)
	require.EqualValues(t, 80, res.Rows)
	require.EqualValues(t, 1, res.Totals[0].Scale)
	r.check(t, 1000, 5150) // exactly on the edges: every batch interior
	r.check(t, 1005, 5145) // two edge batches, three interior
	r.check(t, 2000, 2150) // one batch exactly
	r.check(t, 2001, 2149) // inside one batch
	r.check(t, 2155, 2995) // between batches: nothing
	r.check(t, 0, 999)     // before everything
	r.check(t, 6000, 7000) // after everything
	r.check(t, 1150, 2000) // the last row of one, the first of the next
	r.check(t, 1151, 1159) // between two rows of one batch
	r.check(t, 3070, 3070) // one row
	empty := r.check(t, 2151, 2152)
	require.Empty(t, empty.Batches)

	// A revoked batch and an updated one.
	_, err = r.l.Owner.Revoke(context.Background(), r.ids[1])
	require.NoError(t, err)
	delete(r.model.live, r.ids[1])
	nb := twoCols("s", 9, 3003, 7, rng)
	sh, _, err := r.l.Owner.Update(context.Background(), r.ids[2], nb)
	require.NoError(t, err)
	delete(r.model.live, r.ids[2])
	nid, _ := sh.Header.Digest()
	r.model.live[nid] = nb
	res = r.check(t, 0, 1<<62)
	require.Len(t, res.Batches, 4)
	r.check(t, 1100, 3050)
	r.check(t, 2000, 2150)

	// A point at a timestamp.
	q := &roles.StreamQuery{Stream: "s", Kind: roles.QueryPoint, Columns: []string{"temp"}, TimeFrom: 4030, TimeTo: 4030}
	_, pres := r.ask(t, q)
	want, _ := r.model.sum("temp", 4030, 4030)
	require.Equal(t, want.String(), pres.Totals[0].Int.String())
}

// TestStreamWindowProperty: random streams with random revocations and
// updates; the verified total equals the direct sum over the live rows for
// random windows, including windows on batch edges, between batches and
// covering nothing.
func TestStreamWindowProperty(t *testing.T) {
	for seed := range uint64(4) {
		r := newStreamRig(t)
		rng := mrand.New(mrand.NewPCG(seed, 77))
		next := uint64(rng.IntN(100))
		var edges []uint64
		for range 4 + rng.IntN(5) {
			rows := 1 + rng.IntN(16)
			step := uint64(1 + rng.IntN(9))
			b := twoCols("s", rows, next, step, rng)
			r.add(t, b)
			edges = append(edges, b.Timestamps[0], b.Timestamps[rows-1])
			next = b.Timestamps[rows-1] + 1 + uint64(rng.IntN(50))
		}
		ctx := context.Background()
		for range 3 {
			k := rng.IntN(len(r.ids))
			id := r.ids[k]
			if _, ok := r.model.live[id]; !ok {
				continue
			}
			if rng.IntN(2) == 0 {
				_, err := r.l.Owner.Revoke(ctx, id)
				require.NoError(t, err)
				delete(r.model.live, id)
				continue
			}
			old := r.model.live[id]
			nb := twoCols("s", len(old.Timestamps), old.Timestamps[0], 1, rng) // a narrower range, same place
			sh, _, err := r.l.Owner.Update(ctx, id, nb)
			require.NoError(t, err)
			delete(r.model.live, id)
			nid, _ := sh.Header.Digest()
			r.model.live[nid] = nb
			r.ids[k] = nid
		}
		for range 12 {
			pick := func() uint64 {
				switch rng.IntN(3) {
				case 0:
					return edges[rng.IntN(len(edges))]
				case 1:
					return edges[rng.IntN(len(edges))] + 1
				}
				return uint64(rng.IntN(int(next + 50)))
			}
			a, b := pick(), pick()
			r.check(t, min(a, b), max(a, b))
		}
	}
}

// TestStreamMaliciousServer: a storage server that lies about a stream is
// caught, each with a typed error.
func TestStreamMaliciousServer(t *testing.T) {
	ctx := context.Background()
	r := newStreamRig(t)
	rng := mrand.New(mrand.NewPCG(3, 4))
	r.addSpaced(t, 6, 16, rng)
	for _, other := range []string{"a", "t", "u"} { // other streams: the streams root has a path
		_, err := r.l.Owner.Ingest(ctx, twoCols(other, 4, 1000, 10, rng))
		require.NoError(t, err)
	}
	// Batch 4 (index 3) is updated, batch 5 (index 4) revoked.
	oldV := r.ids[3]
	sh, _, err := r.l.Owner.Update(ctx, oldV, twoCols("s", 16, 4000, 9, rng))
	require.NoError(t, err)
	r.ids[3], _ = sh.Header.Digest()
	_, err = r.l.Owner.Revoke(ctx, r.ids[4])
	require.NoError(t, err)

	q := &roles.StreamQuery{Stream: "s", Kind: roles.QueryWindow, Columns: []string{"temp"}, TimeFrom: 1005, TimeTo: 6145}
	honest, _ := r.ask(t, q)
	require.Len(t, honest.Parts, 5) // batches 1, 2, 3, 4 (v1) and 6; 5 is revoked
	verify := func(a *roles.StreamAnswer) error {
		_, err := r.l.Verifier.VerifyStream(ctx, q, a)
		return err
	}
	incomplete := func(name string, edit func(a *roles.StreamAnswer)) {
		t.Helper()
		a := deepCopy(t, honest)
		edit(a)
		err := verify(a)
		require.ErrorIs(t, err, roles.ErrIncomplete, name)
		require.ErrorIs(t, err, roles.ErrBadProof, name)
	}
	badProof := func(name string, edit func(a *roles.StreamAnswer)) {
		t.Helper()
		a := deepCopy(t, honest)
		edit(a)
		require.ErrorIs(t, verify(a), roles.ErrBadProof, name)
	}
	require.NoError(t, verify(deepCopy(t, honest)))

	// Omit an interior batch: its part, or its entry and part.
	incomplete("omit an interior part", func(a *roles.StreamAnswer) { a.Parts = append(a.Parts[:1], a.Parts[2:]...) })
	incomplete("omit an interior entry", func(a *roles.StreamAnswer) {
		a.Proof.Run = append(a.Proof.Run[:2], a.Proof.Run[3:]...)
		a.Parts = append(a.Parts[:1], a.Parts[2:]...)
	})
	// Omit an edge batch (the first, or the last with its neighbour).
	incomplete("omit the first edge", func(a *roles.StreamAnswer) {
		a.Proof.Run = a.Proof.Run[1:]
		a.Parts = a.Parts[1:]
	})
	incomplete("omit the last edge", func(a *roles.StreamAnswer) {
		a.Proof.Run = a.Proof.Run[:len(a.Proof.Run)-1]
		a.Parts = a.Parts[:len(a.Parts)-1]
	})
	// Include the revoked batch: as live in the run, or as an extra part.
	incomplete("revoked entry shown live", func(a *roles.StreamAnswer) { a.Proof.Run[4].Revoked = false })
	rb, err := r.l.Server.Header(ctx, r.ids[4])
	require.NoError(t, err)
	incomplete("revoked batch as an extra part", func(a *roles.StreamAnswer) {
		p := a.Parts[3]
		p.Header = rb
		a.Parts = append(a.Parts[:4], append([]roles.StreamPart{p}, a.Parts[4:]...)...)
	})
	// The old version of the updated batch.
	ob, err := r.l.Server.Header(ctx, oldV)
	require.NoError(t, err)
	incomplete("old version's part", func(a *roles.StreamAnswer) { a.Parts[3].Header = ob })
	incomplete("old version's entry", func(a *roles.StreamAnswer) {
		a.Proof.Run[3].Batch, a.Proof.Run[3].Version = oldV, 0
		a.Parts[3].Header = ob
	})
	// A duplicated batch.
	incomplete("duplicated part", func(a *roles.StreamAnswer) { a.Parts = append(a.Parts, a.Parts[1]) })
	incomplete("duplicated entry", func(a *roles.StreamAnswer) {
		a.Proof.Run = append(a.Proof.Run[:2], a.Proof.Run[1:]...)
		a.Parts = append(a.Parts[:2], a.Parts[1:]...)
	})
	// Swapped values of two batches.
	badProof("swapped values", func(a *roles.StreamAnswer) {
		a.Parts[1].Values, a.Parts[2].Values = a.Parts[2].Values, a.Parts[1].Values
	})
	badProof("a raised value", func(a *roles.StreamAnswer) {
		a.Parts[2].Values[0] = addScalar(a.Parts[2].Values[0], 1)
	})
	// Witnesses: another batch's, or the u = 0 form of a revoked element.
	badProof("swapped witnesses", func(a *roles.StreamAnswer) {
		a.Parts[1].Witness, a.Parts[2].Witness = a.Parts[2].Witness, a.Parts[1].Witness
	})
	{
		a := deepCopy(t, honest)
		a.Parts[2].Witness.U = codec.Scalar{}
		_, err := r.l.Verifier.VerifyStream(ctx, q, a)
		require.ErrorIs(t, err, roles.ErrRevoked, "u = 0")
	}
	// Forged time ranges of entries.
	incomplete("forged t1", func(a *roles.StreamAnswer) { a.Proof.Run[0].T1 = 999 })
	incomplete("forged t0", func(a *roles.StreamAnswer) { a.Proof.Run[2].T0++ })
	// Tampered proofs.
	small := &roles.StreamQuery{Stream: "s", Kind: roles.QueryWindow, Columns: []string{"temp"}, TimeFrom: 2000, TimeTo: 2150}
	sh2, _ := r.ask(t, small)
	require.NotEmpty(t, sh2.Proof.RunProof)
	tampered := deepCopy(t, sh2)
	tampered.Proof.RunProof[0][0] ^= 1
	_, err = r.l.Verifier.VerifyStream(ctx, small, tampered)
	require.ErrorIs(t, err, roles.ErrIncomplete, "merkle path")
	tampered = deepCopy(t, sh2)
	tampered.Proof.RunProof = tampered.Proof.RunProof[1:]
	_, err = r.l.Verifier.VerifyStream(ctx, small, tampered)
	require.ErrorIs(t, err, roles.ErrIncomplete, "merkle path too short")
	incomplete("stream root", func(a *roles.StreamAnswer) { a.Proof.Root[0] ^= 1 })
	incomplete("entry count", func(a *roles.StreamAnswer) { a.Proof.Entries++ })
	incomplete("streams path", func(a *roles.StreamAnswer) { a.Proof.Path[0][5] ^= 1 })
	incomplete("stream index", func(a *roles.StreamAnswer) { a.Proof.Index ^= 1 })
	incomplete("no streams path", func(a *roles.StreamAnswer) { a.Proof.Path = nil })
	badProof("edge rows", func(a *roles.StreamAnswer) { a.Parts[0].Edge.First++ })
	badProof("edge dropped", func(a *roles.StreamAnswer) { a.Parts[0].Edge = nil })

	// An answer for a shifted window, checked against the query.
	shifted := *q
	shifted.TimeFrom += 1000
	sa, err := r.l.Server.AnswerStream(ctx, &shifted)
	require.NoError(t, err)
	_, err = r.l.Verifier.VerifyStream(ctx, q, sa)
	require.ErrorIs(t, err, roles.ErrBadProof)
	sa.Query = *q // relabelled
	_, err = r.l.Verifier.VerifyStream(ctx, q, sa)
	require.ErrorIs(t, err, roles.ErrBadProof)

	// An older signed stream state: before a batch was appended in the
	// window, the answer is stale.
	open := &roles.StreamQuery{Stream: "s", Kind: roles.QueryWindow, Columns: []string{"temp"}, TimeFrom: 5000, TimeTo: 1 << 40}
	before, _ := r.ask(t, open)
	r.add(t, twoCols("s", 4, 8000, 10, rng))
	_, err = r.l.Verifier.VerifyStream(ctx, open, before)
	require.ErrorIs(t, err, roles.ErrStaleState)
	after, res := r.ask(t, open)
	require.Greater(t, len(after.Parts), len(before.Parts))
	require.NotEmpty(t, res.Batches)
}

// lossyServer answers audits of one batch with another batch's data.
type lossyServer struct {
	*roles.StorageServer
	lost, other roles.BatchID
}

func (s lossyServer) Answer(ctx context.Context, q *roles.Query) (*roles.Answer, error) {
	if q.Batch != s.lost {
		return s.StorageServer.Answer(ctx, q)
	}
	q2 := *q
	q2.Batch = s.other
	a, err := s.StorageServer.Answer(ctx, &q2)
	if err != nil {
		return nil, err
	}
	a.Query = *q // relabelled: it no longer holds the lost batch's data
	return a, nil
}

func TestAuditStream(t *testing.T) {
	ctx := context.Background()
	r := newStreamRig(t)
	rng := mrand.New(mrand.NewPCG(9, 9))
	r.addSpaced(t, 4, 8, rng)
	res, err := r.l.Verifier.AuditStream(ctx, r.l.Server, "s", 1500, 4200, []string{"temp", "load"}, []byte("auditor nonce"))
	require.NoError(t, err)
	require.Len(t, res.Batches, 3) // batches 2, 3 and 4 meet the range
	// A server that lost a batch of the range is caught.
	lossy := lossyServer{StorageServer: r.l.Server, lost: r.ids[2], other: r.ids[1]}
	_, err = r.l.Verifier.AuditStream(ctx, lossy, "s", 1500, 4200, []string{"temp"}, []byte("another nonce"))
	require.ErrorIs(t, err, roles.ErrBadProof)
}

// TestStreamAnswerEquivocatedState: a stream answer carrying another state
// of the held epoch, signed by the owner's key with the same issue time and
// stream head (an owner that equivocated, or a stolen key), is refused with
// ErrConflict; so is a signed state with a negative issue time.
func TestStreamAnswerEquivocatedState(t *testing.T) {
	ctx := context.Background()
	signer, err := roles.GenerateEd25519Signer(rand.Reader)
	require.NoError(t, err)
	l, err := roles.NewLocal(ctx, testCRS(t), memory.NewOwnerStore(), memory.NewServerStore(), roles.WithSigner(signer))
	require.NoError(t, err)
	rng := mrand.New(mrand.NewPCG(7, 7))
	res, err := l.Owner.Ingest(ctx, twoCols("s", 4, 1000, 10, rng))
	require.NoError(t, err)
	_, err = l.Owner.Ingest(ctx, twoCols("t", 4, 1000, 10, rng))
	require.NoError(t, err)
	id, _ := res.Header.Header.Digest()
	_, err = l.Owner.Revoke(ctx, id) // epoch 1
	require.NoError(t, err)
	q := &roles.StreamQuery{Stream: "t", Kind: roles.QueryWindow, Columns: []string{"temp"}, TimeFrom: 0, TimeTo: 1 << 40}
	ans, err := l.Server.AnswerStream(ctx, q)
	require.NoError(t, err)
	_, err = l.Verifier.VerifyStream(ctx, q, ans)
	require.NoError(t, err)

	resign := func(st *roles.SignedState) {
		sig, err := signer.Sign(ctx, stateMsg(t, st))
		require.NoError(t, err)
		st.Sig = sig
	}
	twin := deepCopy(t, ans)
	twin.State.State.Acc = addG1(twin.State.State.Acc, g1Gen())
	resign(&twin.State)
	_, err = l.Verifier.VerifyStream(ctx, q, twin)
	require.ErrorIs(t, err, roles.ErrConflict)
	// The same with a later issue time: not adopted as a re-signature.
	twin.State.IssuedAt += 1000
	resign(&twin.State)
	_, err = l.Verifier.VerifyStream(ctx, q, twin)
	require.ErrorIs(t, err, roles.ErrConflict)
	require.Equal(t, ans.State.Sig, l.Verifier.State().Sig, "the held state is unchanged")

	neg := deepCopy(t, ans)
	neg.State.IssuedAt = -1
	resign(&neg.State)
	_, err = l.Verifier.VerifyStream(ctx, q, neg)
	require.ErrorIs(t, err, roles.ErrInvalidInput)
	require.ErrorIs(t, l.Verifier.AcceptState(ctx, &neg.State), roles.ErrInvalidInput)
}
