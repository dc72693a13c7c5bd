package roles_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/roles"
)

// attacksOnQueries runs TestMaliciousServer's attacks that answer another
// query, batch, header or challenge than the one asked.
func attacksOnQueries(t *testing.T, s *sharedSystem) {
	const epoch = sharedEpoch
	signer, r, ctx, X, Y, Z, sbX, v := s.signer, s.r, s.r.ctx, s.X, s.Y, s.Z, s.sbX, s.r.l.Verifier

	t.Run("03-proof-for-another-batch", func(t *testing.T) {
		t.Parallel()
		qX, qY := rangeQ(X, 1, 8, "temp"), rangeQ(Y, 1, 8, "temp")
		ansX, ansY := r.honest(t, qX), r.honest(t, qY)
		// X's answer for a query on Y.
		requireErrIs(t, r.verify(qY, ansX), roles.ErrBadProof)
		// Relabelled: X's header does not digest to Y.
		r.requireTamperRejected(t, qY, ansX, func(bad *roles.Answer) { bad.Query = *qY }, roles.ErrBadProof)
		// Y's header with X's witness, values and proof.
		r.requireTamperRejected(t, qY, ansX, func(bad *roles.Answer) { bad.Query, bad.Header = *qY, ansY.Header }, roles.ErrBadProof)
		// Y's header and witness, X's values and proof.
		r.requireTamperRejected(t, qY, ansY, func(bad *roles.Answer) { bad.Values, bad.Proof = ansX.Values, ansX.Proof }, roles.ErrBadProof)
		// With the prover key: X's data opened under Y's query context.
		ms, gs := columnsOf(t, sbX, "temp")
		r.requireTamperRejected(t, qY, ansY, func(bad *roles.Answer) {
			bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Range(1, 8), qY, 0, 0)
		}, roles.ErrBadProof)
		// The witness of another batch (they differ from epoch 1 on).
		require.NotEqual(t, ansX.Witness, ansY.Witness)
		r.requireTamperRejected(t, qY, ansY, func(bad *roles.Answer) { bad.Witness = ansX.Witness }, roles.ErrBadProof)
		// The witness of a third batch.
		wit, err := r.l.Server.Witness(ctx, Z)
		require.NoError(t, err)
		r.requireTamperRejected(t, qY, ansY, func(bad *roles.Answer) {
			bad.Witness = roles.WitnessWire{W: codec.G1OrIdentity(wit.W), U: codec.Scalar(wit.U)}
		}, roles.ErrBadProof)
	})

	t.Run("04-foreign-header", func(t *testing.T) {
		t.Parallel()
		// Another system: another owner on another CRS.
		other := newRig(t, otherCRS(t), rigOptions{})
		oid := other.create(t, sampleBatch("sensors", 12, 1))
		oq := rangeQ(oid, 1, 12, "temp")
		oans := other.honest(t, oq)
		requireErrIs(t, r.verify(oq, oans), roles.ErrCRSMismatch)
		// Its header in an answer on one of our batches.
		bad := r.honest(t, rangeQ(X, 1, 12, "temp"))
		bad.Header = oans.Header
		requireErrIs(t, r.verify(rangeQ(X, 1, 12, "temp"), bad), roles.ErrCRSMismatch)

		// Another owner on the same CRS.
		stranger := newRig(t, testCRS(t), rigOptions{})
		sid := stranger.create(t, sampleBatch("sensors", 12, 1))
		sq := rangeQ(sid, 1, 12, "temp")
		sans := stranger.honest(t, sq)
		requireErrIs(t, r.verify(sq, sans), roles.ErrBadSignature)
		// Its header re-signed… it cannot: the attacker has only the
		// stranger's signatures. With our owner's key id it fails too.
		sh := deepCopy(t, &sans.Header)
		sh.Header.KeyID = r.keys.Signing[0].ID
		sans2 := deepCopy(t, sans)
		sans2.Header = *sh
		requireErrIs(t, r.verify(sq, sans2), roles.ErrBadSignature)

		// A twin of our owner — the very same keys — on another CRS: its
		// signatures are the owner's, but made for other parameters.
		twin := newRig(t, otherCRS(t), rigOptions{seed: sharedSeed, signer: signer})
		require.Equal(t, r.keys.ID(), twin.keys.ID())
		tid := twin.create(t, sampleBatch("sensors", 12, 1))
		tq := rangeQ(tid, 1, 12, "temp")
		tans := twin.honest(t, tq)
		requireErrIs(t, r.verify(tq, tans), roles.ErrCRSMismatch)
		requireErrIs(t, r.l.Server.StoreBatch(ctx, &roles.StoreBatchRequest{Header: tans.Header, Data: twin.stored(t, tid).Data}), roles.ErrCRSMismatch)

		// Same owner, another stream: a genuine header, not the queried batch.
		qX := rangeQ(X, 1, 8, "temp")
		r.honest(t, qX)
		qZ := rangeQ(Z, 1, 8, "temp")
		bad = r.honest(t, qZ)
		bad.Query = *qX
		requireErrIs(t, r.verify(qX, bad), roles.ErrBadProof)
		// …nor with its values and proof recomputed for X's query context.
		ms, gs := columnsOf(t, r.stored(t, Z), "temp")
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Range(1, 8), qX, 0, 0)
		requireErrIs(t, r.verify(qX, bad), roles.ErrBadProof)
	})

	t.Run("09-stale-nonce", func(t *testing.T) {
		t.Parallel()
		q1 := auditQ(X, "nonce-1", "temp", "load")
		q2 := auditQ(X, "nonce-2", "temp", "load")
		a1 := r.honest(t, q1)
		r.honest(t, q2)
		// The answer to an old challenge.
		err := r.verify(q2, a1)
		requireErrIs(t, err, roles.ErrWrongChallenge, roles.ErrBadProof)
		// Relabelled with the new nonce: the weights are not those of the
		// old challenge.
		bad := deepCopy(t, a1)
		bad.Query = *q2
		requireErrIs(t, r.verify(q2, bad), roles.ErrBadProof)
		require.False(t, errors.Is(r.verify(q2, bad), roles.ErrWrongChallenge))
		// The audit answered by a range sum over all rows (no challenge).
		bad = r.honest(t, rangeQ(X, 1, 12, "temp", "load"))
		bad.Query = *q2
		requireErrIs(t, r.verify(q2, bad), roles.ErrBadProof)
		// With the weights of another epoch (precomputed before epoch 1).
		ms, gs := columnsOf(t, sbX, "temp", "load")
		bad = deepCopy(t, a1)
		bad.Query = *q2
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Dense(auditWeightsOf(q2, 12, epoch-1)), q2, 0, 0)
		requireErrIs(t, r.verify(q2, bad), roles.ErrBadProof)
		// Control: the mirror with the right epoch is the honest answer.
		good := deepCopy(t, a1)
		good.Query = *q2
		good.Values, good.Proof = r.openColumns(t, ms, gs, commitment.Dense(auditWeightsOf(q2, 12, epoch)), q2, 0, 0)
		require.NoError(t, r.verify(q2, good))
		// Without the first column's data: only the rows the server kept.
		ms[0] = ms[0][:6]
		bad.Values, bad.Proof = r.openColumns(t, ms, gs, commitment.Dense(auditWeightsOf(q2, 12, epoch)), q2, 0, 0)
		requireErrIs(t, r.verify(q2, bad), roles.ErrBadProof)
	})

	t.Run("16-other-query", func(t *testing.T) {
		t.Parallel()
		asked := rangeQ(X, 2, 5, "temp")
		r.honest(t, asked)
		other := r.honest(t, rangeQ(X, 2, 6, "temp"))
		requireErrIs(t, r.verify(asked, other), roles.ErrBadProof)
		other.Query = *asked
		requireErrIs(t, r.verify(asked, other), roles.ErrBadProof)
		// Same weights, other kind: point row 3 answered as range 3..3.
		pq := pointQ(X, 3, "temp")
		r.honest(t, pq)
		rr := r.honest(t, rangeQ(X, 3, 3, "temp"))
		requireErrIs(t, r.verify(pq, rr), roles.ErrBadProof)
		rr.Query = *pq
		requireErrIs(t, r.verify(pq, rr), roles.ErrBadProof)
		// The answered query carries an extra field.
		a := r.honest(t, asked)
		a.Query.Row = 3
		requireErrIs(t, r.verify(asked, a), roles.ErrBadProof)
		// Columns in another order.
		q2 := rangeQ(X, 1, 12, "temp", "load")
		r.honest(t, q2)
		sw := r.honest(t, rangeQ(X, 1, 12, "load", "temp"))
		requireErrIs(t, r.verify(q2, sw), roles.ErrBadProof)
		sw.Query = *q2
		requireErrIs(t, r.verify(q2, sw), roles.ErrBadProof)
		// Fewer columns than asked.
		one := r.honest(t, rangeQ(X, 1, 12, "temp"))
		one.Query = *q2
		requireErrIs(t, r.verify(q2, one), roles.ErrBadProof)
	})

	t.Run("16-rows-beyond-batch", func(t *testing.T) {
		t.Parallel()
		// Rows 13..16 exist in the CRS (n = 16) and are zero in the
		// commitment: an opening there is computable, but not a valid query.
		ms, gs := columnsOf(t, sbX, "temp")
		for _, q := range []*roles.Query{pointQ(X, 13, "temp"), pointQ(X, 16, "temp"), rangeQ(X, 10, 13, "temp"), pointQ(X, 0, "temp")} {
			_, err := r.l.Server.Answer(ctx, q)
			requireErrIs(t, err, roles.ErrInvalidInput)
			forged := r.honest(t, pointQ(X, 1, "temp"))
			forged.Query = *q
			if q.Kind == roles.QueryPoint && q.Row >= 1 {
				forged.Values, forged.Proof = r.openColumns(t, ms, gs, commitment.Row(int(q.Row)), q, 0, 0)
			} else if q.Kind == roles.QueryRange {
				forged.Values, forged.Proof = r.openColumns(t, ms, gs, commitment.Range(int(q.From), int(q.To)), q, 0, 0)
			}
			requireErrIs(t, r.verify(q, forged), roles.ErrInvalidInput)
		}
	})

	t.Run("16-header-tampering", func(t *testing.T) {
		t.Parallel()
		q := rangeQ(X, 1, 12, "temp")
		ans := r.honest(t, q)
		// A verifier that has not seen the header yet (the shared one caches
		// headers it verified, by digest).
		v2 := r.freshVerifier(t, r.l.Verifier.State())
		bad := deepCopy(t, ans)
		bad.Header.Sig[5] ^= 1
		_, err := v2.Verify(ctx, q, bad)
		requireErrIs(t, err, roles.ErrBadSignature)
		bad.Header.Sig = nil
		_, err = v2.Verify(ctx, q, bad)
		requireErrIs(t, err, roles.ErrBadSignature)
		// Fields changed: every one changes the digest, so the signature
		// no longer verifies.
		for _, mut := range []func(h *roles.Header){
			func(h *roles.Header) { h.LastTime++ },
			func(h *roles.Header) { h.Rows = 11 },
			func(h *roles.Header) { h.Version = 1 },
			func(h *roles.Header) { h.Columns[0].Scale = 2 },
			func(h *roles.Header) { h.Columns[0].Name, h.Columns[1].Name = h.Columns[1].Name, h.Columns[0].Name },
			func(h *roles.Header) { h.Commits[0], h.Commits[1] = h.Commits[1], h.Commits[0] },
			func(h *roles.Header) { h.KeyID = "0000000000000000" },
		} {
			bad := deepCopy(t, ans)
			mut(&bad.Header.Header)
			// Relabel the query to the tampered header's digest, so that the
			// only thing wrong is the header itself.
			id, err := bad.Header.Header.Digest()
			require.NoError(t, err)
			q2 := *q
			q2.Batch = id
			bad.Query = q2
			_, err = v2.Verify(ctx, &q2, bad)
			requireErrIs(t, err, roles.ErrBadSignature)
			requireErrIs(t, r.verify(&q2, bad), roles.ErrBadSignature)
		}
		_, err = v2.Verify(ctx, q, ans)
		require.NoError(t, err)
	})

	t.Run("16-bad-query", func(t *testing.T) {
		t.Parallel()
		a := r.honest(t, rangeQ(X, 1, 3, "temp"))
		_, err := v.Verify(ctx, nil, a)
		requireErrIs(t, err, roles.ErrInvalidInput)
		_, err = v.Verify(ctx, rangeQ(X, 1, 3, "temp"), nil)
		requireErrIs(t, err, roles.ErrInvalidInput)
		// A column the batch does not have.
		q := rangeQ(X, 1, 3, "pressure")
		_, err = r.l.Server.Answer(ctx, q)
		requireErrIs(t, err, roles.ErrInvalidInput)
		a.Query = *q
		requireErrIs(t, r.verify(q, a), roles.ErrInvalidInput)
		// A query on an unknown batch.
		_, err = r.l.Server.Answer(ctx, rangeQ(roles.BatchID{1}, 1, 3, "temp"))
		requireErrIs(t, err, roles.ErrUnknownBatch)
	})
}
