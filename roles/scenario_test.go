package roles_test

// The scenarios of the earlier prototype (seed/DISTRIBUTED_PROGRESS.md),
// each as a test that can fail: DC queries, DA audits, revocation, update,
// binding failure and tampering, with the specific error asserted.

import (
	"bytes"
	"crypto/rand"
	"errors"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

// weightedSum returns Σ wᵢ vᵢ over the first len(w) rows.
func weightedSum(v []int64, w []int64) int64 {
	var s int64
	for i := range w {
		s += w[i] * v[i]
	}
	return s
}

func TestScenarioDCQuerySingleColumn(t *testing.T) {
	t.Parallel()
	r := newRig(t, testCRS(t), rigOptions{})
	ctx := r.ctx
	b := sampleBatch("dc1", 10, 11)
	id := r.create(t, b)
	temp := b.Columns[0].Values

	res, err := r.l.Query(ctx, pointQ(id, 7, "temp"))
	require.NoError(t, err)
	require.Equal(t, id, res.Batch)
	require.Equal(t, roles.QueryPoint, res.Kind)
	require.Equal(t, []string{"temp"}, res.Columns)
	require.Len(t, res.Values, 1)
	require.Equal(t, temp[6], res.Values[0].Int.Int64())
	require.EqualValues(t, 1, res.Values[0].Scale)
	require.Equal(t, roles.FormatDecimal(big.NewInt(temp[6]), 1), res.Values[0].String())
	require.EqualValues(t, 0, res.Epoch)

	for _, ab := range [][2]uint32{{1, 10}, {3, 3}, {2, 9}, {10, 10}} {
		res, err = r.l.Query(ctx, rangeQ(id, ab[0], ab[1], "temp"))
		require.NoError(t, err)
		require.Equal(t, sum(temp, int(ab[0]), int(ab[1])), res.Values[0].Int.Int64(), "%v", ab)
	}
	w := []int64{2, 0, -3, 1, 5}
	res, err = r.l.Query(ctx, weightedQ(id, w, "temp"))
	require.NoError(t, err)
	require.Equal(t, weightedSum(temp, w), res.Values[0].Int.Int64())

	res, err = r.l.Query(ctx, windowQ(id, 1020, 1049, "temp"))
	require.NoError(t, err)
	require.Equal(t, [2]uint32{3, 5}, [2]uint32{res.First, res.Last})
	require.Equal(t, sum(temp, 3, 5), res.Values[0].Int.Int64())

	// A negative sum comes back negative.
	neg := &roles.Batch{Stream: "dc1-neg", Timestamps: []uint64{1, 2, 3},
		Columns: []roles.Column{{Name: "v", Scale: 2, Values: []int64{-5, -7, 1}}}}
	nid := r.create(t, neg)
	res, err = r.l.Query(ctx, rangeQ(nid, 1, 3, "v"))
	require.NoError(t, err)
	require.EqualValues(t, -11, res.Values[0].Int.Int64())
	require.Equal(t, "-0.11", res.Values[0].String())
}

func TestScenarioDCQueryMultiColumn(t *testing.T) {
	t.Parallel()
	r := newRig(t, testCRS(t), rigOptions{})
	ctx := r.ctx
	b := sampleBatch("dc2", 12, 12)
	b.Columns = append(b.Columns, roles.Column{Name: "flow", Scale: 3, Big: make([]*big.Int, 12)})
	flow := make([]int64, 12)
	for i := range flow {
		flow[i] = int64(i*i) - 40
		b.Columns[2].Big[i] = big.NewInt(flow[i])
	}
	id := r.create(t, b)
	temp, load := b.Columns[0].Values, b.Columns[1].Values

	// Values come back in the order asked, whatever the header's order.
	res, err := r.l.Query(ctx, rangeQ(id, 2, 11, "flow", "load", "temp"))
	require.NoError(t, err)
	require.Equal(t, []string{"flow", "load", "temp"}, res.Columns)
	require.Equal(t, sum(flow, 2, 11), res.Values[0].Int.Int64())
	require.Equal(t, sum(load, 2, 11), res.Values[1].Int.Int64())
	require.Equal(t, sum(temp, 2, 11), res.Values[2].Int.Int64())
	require.Equal(t, []uint8{3, 0, 1}, []uint8{res.Values[0].Scale, res.Values[1].Scale, res.Values[2].Scale})

	res, err = r.l.Query(ctx, pointQ(id, 4, "temp", "load"))
	require.NoError(t, err)
	require.Equal(t, []int64{temp[3], load[3]}, []int64{res.Values[0].Int.Int64(), res.Values[1].Int.Int64()})

	w := []int64{1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1}
	res, err = r.l.Query(ctx, weightedQ(id, w, "load", "flow"))
	require.NoError(t, err)
	require.Equal(t, weightedSum(load, w), res.Values[0].Int.Int64())
	require.Equal(t, weightedSum(flow, w), res.Values[1].Int.Int64())

	res, err = r.l.Query(ctx, windowQ(id, 1000, 1075, "temp", "load", "flow"))
	require.NoError(t, err)
	require.Equal(t, [2]uint32{1, 8}, [2]uint32{res.First, res.Last})
	for i, v := range [][]int64{temp, load, flow} {
		require.Equal(t, sum(v, 1, 8), res.Values[i].Int.Int64())
	}

	// A multi-column answer is one proof: every column must be right.
	q := rangeQ(id, 1, 12, "temp", "load", "flow")
	for i := range 3 {
		bad := r.honest(t, q)
		bad.Values[i] = addScalar(bad.Values[i], 1)
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
	}
}

func TestScenarioDAAudit(t *testing.T) {
	t.Parallel()
	r := newRig(t, testCRS(t), rigOptions{})
	ctx := r.ctx
	b := sampleBatch("da", 9, 13)
	id := r.create(t, b)
	sb := r.stored(t, id)

	fresh := func() string {
		n := make([]byte, 32)
		_, err := rand.Read(n)
		require.NoError(t, err)
		return string(n)
	}
	// wantAudit is Σ ρ^(i−1) mᵢ for the column, computed independently.
	wantAudit := func(q *roles.Query, col int, epoch uint64) *big.Int {
		w := auditWeightsOf(q, 9, epoch)
		var s, p fr.Element
		for i := range w {
			p.Mul(&w[i], &sb.Data.Columns[col][i])
			s.Add(&s, &p)
		}
		return s.BigInt(new(big.Int)) // an audit value is a field element in [0, r)
	}
	q1 := auditQ(id, fresh(), "temp", "load")
	res1, err := r.l.Query(ctx, q1)
	require.NoError(t, err)
	require.Equal(t, roles.QueryAudit, res1.Kind)
	require.Zero(t, wantAudit(q1, 0, 0).Cmp(res1.Values[0].Int))
	require.Zero(t, wantAudit(q1, 1, 0).Cmp(res1.Values[1].Int))
	// A fresh nonce is a fresh challenge.
	q2 := auditQ(id, fresh(), "temp", "load")
	res2, err := r.l.Query(ctx, q2)
	require.NoError(t, err)
	require.NotEqual(t, 0, res1.Values[0].Int.Cmp(res2.Values[0].Int))
	// The verifier rejects an answer whose nonce is not the auditor's.
	a1 := r.honest(t, q1)
	requireErrIs(t, r.verify(q2, a1), roles.ErrWrongChallenge)
	// A non-interactive nonce from the latest state and a time slot.
	d, err := r.l.Verifier.State().State.Digest()
	require.NoError(t, err)
	nq := auditQ(id, string(roles.AuditNonce(d, 42)), "load")
	require.Len(t, nq.Nonce, 32)
	_, err = r.l.Query(ctx, nq)
	require.NoError(t, err)
	require.NotEqual(t, roles.AuditNonce(d, 42), roles.AuditNonce(d, 43))
	// A nonce is required and bounded.
	_, err = r.l.Query(ctx, auditQ(id, "", "temp"))
	requireErrIs(t, err, roles.ErrInvalidInput)
	_, err = r.l.Query(ctx, auditQ(id, string(make([]byte, 65)), "temp"))
	requireErrIs(t, err, roles.ErrInvalidInput)
	// The challenge depends on the epoch: after a revocation the same nonce
	// gives another answer, and the old one is stale.
	r.revoke(t, r.create(t, sampleBatch("da-other", 2, 1)))
	res3, err := r.l.Query(ctx, q1)
	require.NoError(t, err)
	require.Zero(t, wantAudit(q1, 0, 1).Cmp(res3.Values[0].Int))
	require.NotEqual(t, 0, res1.Values[0].Int.Cmp(res3.Values[0].Int))
	requireErrIs(t, r.verify(q1, a1), roles.ErrStaleState)
}

func TestScenarioRevocation(t *testing.T) {
	t.Parallel()
	r := newRig(t, testCRS(t), rigOptions{})
	ctx := r.ctx
	var ids []roles.BatchID
	for i := range 3 {
		ids = append(ids, r.create(t, sampleBatch("rev", 6, uint64(20+i))))
	}
	A := ids[1]
	qA := rangeQ(A, 1, 6, "temp", "load")
	before := r.honest(t, qA)

	st, err := r.l.Owner.Revoke(ctx, A)
	require.NoError(t, err)
	require.EqualValues(t, 1, st.State.Epoch)
	require.NotNil(t, st.State.Revoked)
	require.Equal(t, A, st.State.Revoked.Batch)
	require.Equal(t, codec.Scalar(A.Element()), st.State.Revoked.X)
	require.EqualValues(t, 1, r.l.Verifier.State().State.Epoch, "the owner pushed the state to the verifier")
	latest, err := r.l.Server.LatestState(ctx)
	require.NoError(t, err)
	require.Equal(t, st.State, latest.State)

	// The honest server refuses the revoked batch.
	_, err = r.l.Server.Answer(ctx, qA)
	var re *roles.RevokedError
	require.ErrorAs(t, err, &re)
	require.Equal(t, roles.RevokedError{Batch: A, Epoch: 1}, *re)
	_, err = r.l.Server.Witness(ctx, A)
	requireErrIs(t, err, roles.ErrRevoked)
	_, err = r.l.Query(ctx, qA)
	requireErrIs(t, err, roles.ErrRevoked)
	// A verifier given an answer for it fails: the pre-revocation answer is
	// stale, and relabelled to the current epoch it is revoked.
	requireErrIs(t, r.verify(qA, before), roles.ErrStaleState)
	relabelled := deepCopy(t, before)
	relabelled.Epoch = 1
	require.ErrorAs(t, r.verify(qA, relabelled), &re)
	require.Equal(t, A, re.Batch)
	// Other batches still verify, at the new epoch.
	for _, id := range []roles.BatchID{ids[0], ids[2]} {
		res, err := r.l.Query(ctx, rangeQ(id, 1, 6, "temp"))
		require.NoError(t, err)
		require.EqualValues(t, 1, res.Epoch)
	}
	// Revoking again, updating it, or storing it again are refused.
	_, err = r.l.Owner.Revoke(ctx, A)
	requireErrIs(t, err, roles.ErrRevoked)
	_, _, err = r.l.Owner.Update(ctx, A, sampleBatch("rev", 6, 99))
	requireErrIs(t, err, roles.ErrRevoked)
	sb := r.stored(t, A)
	requireErrIs(t, r.l.Server.StoreBatch(ctx, &roles.StoreBatchRequest{Header: sb.Header, Data: sb.Data}), roles.ErrRevoked)
	// The listing shows it revoked.
	infos, err := r.l.Server.ListBatches(ctx, "rev")
	require.NoError(t, err)
	revoked := map[roles.BatchID]bool{}
	for _, in := range infos {
		revoked[in.ID] = in.Revoked
	}
	require.Equal(t, map[roles.BatchID]bool{ids[0]: false, A: true, ids[2]: false}, revoked)
	// A second revocation moves to epoch 2; the first one is still honoured.
	st2 := r.revoke(t, ids[0])
	require.EqualValues(t, 2, st2.State.Epoch)
	d1, err := st.State.Digest()
	require.NoError(t, err)
	require.Equal(t, d1, st2.State.Prev)
	relabelled.Epoch = 2
	require.ErrorAs(t, r.verify(qA, relabelled), &re)
	require.Equal(t, roles.RevokedError{Batch: A, Epoch: 1}, *re)
	_, err = r.l.Query(ctx, rangeQ(ids[2], 1, 6, "temp"))
	require.NoError(t, err)
}

func TestScenarioUpdate(t *testing.T) {
	t.Parallel()
	r := newRig(t, testCRS(t), rigOptions{})
	ctx := r.ctx
	A := r.create(t, sampleBatch("upd", 6, 30))
	other := r.create(t, sampleBatch("upd", 6, 31))
	hA, err := r.l.Server.Header(ctx, A)
	require.NoError(t, err)
	qA := rangeQ(A, 1, 6, "temp")
	before := r.honest(t, qA)

	nb := sampleBatch("", 5, 32) // stream taken from the old version
	sh, st, err := r.l.Owner.Update(ctx, A, nb)
	require.NoError(t, err)
	require.EqualValues(t, 1, sh.Header.Version)
	require.Equal(t, hA.Header.Stream, sh.Header.Stream)
	require.Equal(t, hA.Header.Seq, sh.Header.Seq)
	require.EqualValues(t, 5, sh.Header.Rows)
	require.EqualValues(t, 1, st.State.Epoch)
	require.Equal(t, A, st.State.Revoked.Batch)
	B, err := sh.Header.Digest()
	require.NoError(t, err)
	require.NotEqual(t, A, B)

	// The new version verifies with the new data.
	res, err := r.l.Query(ctx, rangeQ(B, 1, 5, "temp", "load"))
	require.NoError(t, err)
	require.EqualValues(t, 1, res.Epoch)
	require.EqualValues(t, 1, res.Header.Version)
	require.Equal(t, sum(nb.Columns[0].Values, 1, 5), res.Values[0].Int.Int64())
	require.Equal(t, sum(nb.Columns[1].Values, 1, 5), res.Values[1].Int.Int64())
	// The old version is rejected.
	_, err = r.l.Server.Answer(ctx, qA)
	var re *roles.RevokedError
	require.ErrorAs(t, err, &re)
	require.Equal(t, roles.RevokedError{Batch: A, Epoch: 1}, *re)
	requireErrIs(t, r.verify(qA, before), roles.ErrStaleState)
	relabelled := deepCopy(t, before)
	relabelled.Epoch = 1
	require.ErrorAs(t, r.verify(qA, relabelled), &re)
	// Other batches are untouched.
	_, err = r.l.Query(ctx, rangeQ(other, 1, 6, "temp"))
	require.NoError(t, err)

	// A second update: version 2, epoch 2; the first update's version is
	// then rejected too.
	nb2 := sampleBatch("upd", 4, 33)
	sh2, st2, err := r.l.Owner.Update(ctx, B, nb2)
	require.NoError(t, err)
	require.EqualValues(t, 2, sh2.Header.Version)
	require.EqualValues(t, 2, st2.State.Epoch)
	require.Equal(t, hA.Header.Seq, sh2.Header.Seq)
	C, _ := sh2.Header.Digest()
	res, err = r.l.Query(ctx, rangeQ(C, 1, 4, "temp"))
	require.NoError(t, err)
	require.Equal(t, sum(nb2.Columns[0].Values, 1, 4), res.Values[0].Int.Int64())
	_, err = r.l.Query(ctx, rangeQ(B, 1, 5, "temp"))
	requireErrIs(t, err, roles.ErrRevoked)
	require.EqualValues(t, 2, r.l.Verifier.State().State.Epoch)

	// Updating a superseded version, or into another stream, is refused.
	_, _, err = r.l.Owner.Update(ctx, A, sampleBatch("upd", 3, 34))
	requireErrIs(t, err, roles.ErrRevoked)
	_, _, err = r.l.Owner.Update(ctx, C, sampleBatch("elsewhere", 3, 35))
	requireErrIs(t, err, roles.ErrConflict)
	var sc *roles.StreamConflictError
	require.ErrorAs(t, err, &sc)
	// The listing holds the three versions of the slot, the latest live.
	infos, err := r.l.Server.ListBatches(ctx, "upd")
	require.NoError(t, err)
	versions := map[uint32]bool{}
	for _, in := range infos {
		if in.Seq == hA.Header.Seq {
			versions[in.Version] = in.Revoked
		}
	}
	require.Equal(t, map[uint32]bool{0: true, 1: true, 2: false}, versions)
}

func TestScenarioBindingFailure(t *testing.T) {
	t.Parallel()
	// The test plays the owner here: it signs headers with the owner's real
	// key, as a buggy owner could.
	r := newRig(t, testCRS(t), rigOptions{})
	ctx := r.ctx
	A := r.create(t, sampleBatch("bind", 6, 40))
	B := r.create(t, sampleBatch("bind", 6, 41))
	sbA, sbB := r.stored(t, A), r.stored(t, B)
	seq := uint64(90)
	resign := func(h *roles.SignedHeader) roles.BatchID {
		seq++
		h.Header.Seq = seq // a free slot: only the commitments can be wrong
		id, err := h.Header.Digest()
		require.NoError(t, err)
		h.Sig, err = r.signer.Sign(ctx, id[:])
		require.NoError(t, err)
		return id
	}
	store := func(h *roles.SignedHeader, d roles.BatchData) error {
		return r.l.Server.StoreBatch(ctx, &roles.StoreBatchRequest{Header: *h, Data: d})
	}

	swapped := deepCopy(t, &sbA.Header)
	c := swapped.Header.Commits
	c[0], c[1] = c[1], c[0]
	swappedID := resign(swapped)
	requireErrIs(t, store(swapped, sbA.Data), roles.ErrInvalidInput)

	mixed := deepCopy(t, &sbA.Header)
	mixed.Header.Commits[0] = sbB.Header.Header.Commits[0]
	mixedID := resign(mixed)
	requireErrIs(t, store(mixed, sbA.Data), roles.ErrInvalidInput)

	mixedTime := deepCopy(t, &sbA.Header)
	mixedTime.Header.TimeCommit = sbB.Header.Header.TimeCommit
	resign(mixedTime)
	requireErrIs(t, store(mixedTime, sbA.Data), roles.ErrInvalidInput)

	// Data of one column replaced by the other batch's.
	honestHdr := deepCopy(t, &sbA.Header)
	honestID := resign(honestHdr)
	d := sbA.Data
	d.Columns = []codec.ScalarVector{sbA.Data.Columns[0], sbB.Data.Columns[1]}
	requireErrIs(t, store(honestHdr, d), roles.ErrInvalidInput)
	// A header whose declared bound is below a value of its data (SPEC §5:
	// a sum could wrap and no verifier could tell) is refused before the
	// commitments are recomputed.
	narrow := deepCopy(t, &sbA.Header)
	narrow.Header.Columns[0].Bits = 1
	resign(narrow)
	requireErrIs(t, store(narrow, sbA.Data), roles.ErrInvalidInput)
	err := store(narrow, sbA.Data)
	require.ErrorContains(t, err, "bound of 1 bits")
	// Control: the re-signed header with A's true commitments is stored.
	require.NoError(t, store(honestHdr, sbA.Data))

	// A server configured not to check stores the swapped header; its
	// answers, computed from the true data, fail at the verifier.
	lax, err := roles.NewStorageServer(r.l.CRS, r.keys, memory.NewServerStore(), roles.WithoutCommitmentCheck())
	require.NoError(t, err)
	for _, st := range r.states(t) {
		require.NoError(t, lax.ApplyState(ctx, &st))
	}
	for _, h := range []*roles.SignedHeader{swapped, mixed, honestHdr} {
		require.NoError(t, lax.StoreBatch(ctx, &roles.StoreBatchRequest{Header: *h, Data: sbA.Data}))
	}
	for _, q := range []*roles.Query{
		rangeQ(swappedID, 1, 6, "temp"), rangeQ(swappedID, 1, 6, "load"), rangeQ(swappedID, 1, 6, "temp", "load"),
		pointQ(swappedID, 2, "temp"), rangeQ(mixedID, 1, 6, "temp"), auditQ(mixedID, "n", "temp", "load"),
	} {
		ans, err := lax.Answer(ctx, q)
		require.NoError(t, err)
		requireErrIs(t, r.verify(q, ans), roles.ErrBadProof)
	}
	// Columns whose commitment is right still verify (mixed only replaced
	// temp's); so does the correctly committed copy.
	ans, err := lax.Answer(ctx, rangeQ(mixedID, 1, 6, "load"))
	require.NoError(t, err)
	require.NoError(t, r.verify(rangeQ(mixedID, 1, 6, "load"), ans))
	ans, err = lax.Answer(ctx, rangeQ(honestID, 1, 6, "temp", "load"))
	require.NoError(t, err)
	require.NoError(t, r.verify(rangeQ(honestID, 1, 6, "temp", "load"), ans))

	// An honest answer verified against the swapped header (relabelled to
	// its id) fails, with or without a proof recomputed for that id.
	q := rangeQ(A, 1, 6, "temp")
	bad := r.honest(t, q)
	sq := rangeQ(swappedID, 1, 6, "temp")
	bad.Query, bad.Header = *sq, *swapped
	requireErrIs(t, r.verify(sq, bad), roles.ErrBadProof)
	ms, gs := columnsOf(t, sbA, "temp")
	bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Range(1, 6), sq, 0, 0)
	requireErrIs(t, r.verify(sq, bad), roles.ErrBadProof)
}

func TestScenarioTamper(t *testing.T) {
	t.Parallel()
	r := newRig(t, testCRS(t), rigOptions{})
	id := r.create(t, sampleBatch("tamper", 8, 50))
	r.revoke(t, r.create(t, sampleBatch("tamper-x", 2, 51))) // epoch 1
	q := rangeQ(id, 2, 7, "temp", "load")
	ans := r.honest(t, q)

	bad := deepCopy(t, ans) // a changed value
	bad.Values[0] = addScalar(bad.Values[0], 1)
	requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)

	bad = deepCopy(t, ans) // a changed proof
	bad.Proof = ptrG1(addG1(*bad.Proof, g1Gen()))
	requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)

	bad = deepCopy(t, ans) // another valid proof (of another query)
	bad.Proof = r.honest(t, rangeQ(id, 2, 6, "temp", "load")).Proof
	requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)

	bad = deepCopy(t, ans) // a changed witness
	bad.Witness.W = codec.G1OrIdentity(addG1(codec.G1(bad.Witness.W), g1Gen()))
	requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
	r.requireTamperRejected(t, q, ans, func(bad *roles.Answer) { bad.Witness.U = addScalar(bad.Witness.U, 1) }, roles.ErrBadProof)

	wq := windowQ(id, 1010, 1040, "temp")
	wans := r.honest(t, wq)
	bad = deepCopy(t, wans) // a changed boundary proof
	bad.Window.Proof = addG1(bad.Window.Proof, g1Gen())
	requireErrIs(t, r.verify(wq, bad), roles.ErrBadProof)

	// Byte-level tampering of an encoded answer: every single-bit flip is
	// either refused by the decoder or by the verifier — never accepted.
	// The header signature is the one exception for a verifier that already
	// verified the header: it caches headers by digest and, as SPEC §7
	// allows (an answer may carry just the digest of a header the verifier
	// has), does not look at the signature again. A verifier that has not
	// seen the header refuses the flip with ErrBadSignature.
	enc, err := codec.Default().Marshal(ans)
	require.NoError(t, err)
	sigAt := bytes.Index(enc, ans.Header.Sig)
	require.Positive(t, sigAt)
	st := r.l.Verifier.State()
	step := max(1, len(enc)/150)
	for i := 0; i < len(enc); i += step {
		flipped := append([]byte{}, enc...)
		flipped[i] ^= 1 << (i % 8)
		var a roles.Answer
		if err := codec.Default().Unmarshal(flipped, &a); err != nil {
			requireErrIs(t, err, roles.ErrInvalidInput)
			continue
		}
		_, err := r.freshVerifier(t, st).Verify(r.ctx, q, &a)
		require.Error(t, err, "bit flip at byte %d accepted", i)
		if i >= sigAt && i < sigAt+len(ans.Header.Sig) {
			requireErrIs(t, err, roles.ErrBadSignature)
			continue
		}
		_, err = r.l.Verifier.Verify(r.ctx, q, &a)
		require.Error(t, err, "bit flip at byte %d accepted", i)
	}
}

// TestScenarioStaleVerifier: a verifier cut off from the owner must not
// verify forever against its old state when configured with a maximum age.
func TestScenarioStaleVerifier(t *testing.T) {
	t.Parallel()
	// One clock for the owner (it stamps states) and the verifiers.
	var mu sync.Mutex
	t0 := time.UnixMilli(1_700_000_000_000)
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	setNow := func(t time.Time) { mu.Lock(); defer mu.Unlock(); now = t }
	r := newRig(t, testCRS(t), rigOptions{clock: clock})
	ctx := r.ctx
	A := r.create(t, sampleBatch("age", 4, 60))
	q := rangeQ(A, 1, 4, "temp")
	ans := r.honest(t, q)
	st0, err := r.l.Owner.LatestState(ctx)
	require.NoError(t, err)
	require.InDelta(t, t0.UnixMilli(), st0.IssuedAt, 10, "re-signed with the stream head at t0 (+1 ms per re-signature)")
	setNow(t0.Add(30 * time.Second))
	v := r.freshVerifier(t, st0, roles.WithMaxStateAge(time.Minute), roles.WithVerifierClock(clock))
	_, err = v.Verify(ctx, q, ans)
	require.NoError(t, err)
	// The owner revokes A; the isolated verifier does not hear of it, but
	// its state ages out.
	r.revoke(t, A)
	setNow(t0.Add(2 * time.Minute))
	_, err = v.Verify(ctx, q, ans)
	requireErrIs(t, err, roles.ErrStaleState)
	var se *roles.StaleStateError
	require.ErrorAs(t, err, &se)
	require.NotEmpty(t, se.Reason)
	// With a state source it catches up — and then the replay is stale and
	// the batch revoked.
	vs := r.freshVerifier(t, st0, roles.WithMaxStateAge(time.Minute), roles.WithVerifierClock(clock), roles.WithStateSource(r.l.Server))
	latest, err := r.l.Owner.Refresh(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, latest.State.Epoch)
	setNow(t0.Add(2*time.Minute + 10*time.Second))
	_, err = vs.Verify(ctx, q, ans)
	requireErrIs(t, err, roles.ErrStaleState)
	require.EqualValues(t, 1, vs.State().State.Epoch)
	require.Equal(t, latest.IssuedAt, vs.State().IssuedAt)
	relabelled := deepCopy(t, ans)
	relabelled.Epoch = 1
	_, err = vs.Verify(ctx, q, relabelled)
	requireErrIs(t, err, roles.ErrRevoked)
	// Once the refreshed state ages out too, and the owner is silent, even
	// the source cannot help.
	setNow(t0.Add(4 * time.Minute))
	other := r.create(t, sampleBatch("age", 4, 61))
	oq := rangeQ(other, 1, 4, "temp")
	oans, err := r.l.Server.Answer(ctx, oq)
	require.NoError(t, err)
	setNow(t0.Add(6 * time.Minute))
	_, err = vs.Verify(ctx, oq, oans)
	requireErrIs(t, err, roles.ErrStaleState)
}

// TestScenarioConcurrentVerifyDuringRevocation: a Verifier is documented as
// safe for concurrent use; verifying while new states arrive — pushed by the
// owner (the Local verifier), or pulled from the storage server by another
// Verify that catches up (a standalone verifier) — must not race.
//
// It is deliberately not parallel: the race detector fails every test that
// is running when it reports, so this one runs alone.
func TestScenarioConcurrentVerifyDuringRevocation(t *testing.T) {
	r := newRig(t, testCRS(t), rigOptions{})
	ctx := r.ctx
	live := r.create(t, sampleBatch("conc", 4, 70))
	var victims []roles.BatchID
	for i := range 12 {
		victims = append(victims, r.create(t, sampleBatch("conc-v", 2, uint64(71+i))))
	}
	pulling, err := roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, roles.WithTrustedSource(r.l.Owner), roles.WithStateSource(r.l.Server))
	require.NoError(t, err)
	q := rangeQ(live, 1, 4, "temp")
	stop := make(chan struct{})
	errs := make(chan error, 1024)
	var done atomic.Int64
	var wg sync.WaitGroup
	for i := range 6 {
		v := r.l.Verifier
		if i%2 == 1 {
			v = pulling
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ans, err := r.l.Server.Answer(ctx, q)
				if err == nil {
					_, err = v.Verify(ctx, q, ans)
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
				done.Add(1)
			}
		}()
	}
	for _, id := range victims {
		// Let the verifying goroutines make progress between revocations.
		for target := done.Load() + 6; done.Load() < target; {
			time.Sleep(time.Millisecond)
		}
		r.revoke(t, id)
	}
	for target := done.Load() + 6; done.Load() < target; {
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		// An answer made just before a revocation may be stale by the time
		// it is verified; nothing else may fail.
		require.True(t, errors.Is(err, roles.ErrStaleState), "%v", err)
	}
	for _, v := range []*roles.Verifier{r.l.Verifier, pulling} {
		ans, err := r.l.Server.Answer(ctx, q)
		require.NoError(t, err)
		res, err := v.Verify(ctx, q, ans)
		require.NoError(t, err)
		require.EqualValues(t, len(victims), res.Epoch)
	}
}
