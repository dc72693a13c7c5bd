package roles_test

// The scenarios of the earlier prototype (seed/DISTRIBUTED_PROGRESS.md),
// each as a test that can fail: DC queries, DA audits, revocation, update,
// binding failure and tampering, with the specific error asserted.

import (
	"bytes"
	"crypto/rand"
	"math/big"
	"testing"

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
