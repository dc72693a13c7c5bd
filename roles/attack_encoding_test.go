package roles_test

import (
	"errors"
	"math/big"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
)

// attacksOnEncodings runs TestMaliciousServer's attacks with malformed
// points and scalars.
func attacksOnEncodings(t *testing.T, s *sharedSystem) {
	r, ctx, X, sbX := s.r, s.r.ctx, s.X, s.sbX

	t.Run("12-identity-and-invalid-points", func(t *testing.T) {
		t.Parallel()
		q := rangeQ(X, 1, 12, "temp", "load")
		ans := r.honest(t, q)
		wq := windowQ(X, 1015, 1055, "temp")
		wans := r.honest(t, wq)
		bad := deepCopy(t, ans)
		bad.Proof = ptrG1(identityG1())
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof, roles.ErrInvalidInput)
		require.ErrorIs(t, r.verify(q, bad), codec.ErrIdentity)

		r.requireTamperRejected(t, wq, wans, func(bad *roles.Answer) { bad.Window.Proof = identityG1() }, roles.ErrBadProof, codec.ErrIdentity)

		// The identity is a legitimate witness point only at epoch 0.
		bad = deepCopy(t, ans)
		bad.Witness.W = codec.G1OrIdentity(identityG1())
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)
		// …also with the epoch-0 witness (O, −1) as a whole.
		w0 := accumulator.InitialWitness()
		bad.Witness = roles.WitnessWire{W: codec.G1OrIdentity(w0.W), U: codec.Scalar(w0.U)}
		requireErrIs(t, r.verify(q, bad), roles.ErrBadProof)

		// Identity commitments in the header (this also breaks the signature;
		// the header is refused as invalid input before its signature is
		// checked, SPEC §2). The storage server refuses it the same way.
		bad = deepCopy(t, ans)
		bad.Header.Header.Commits[0] = identityG1()
		requireErrIs(t, r.verify(q, bad), roles.ErrInvalidInput)
		require.False(t, errors.Is(r.verify(q, bad), roles.ErrBadSignature))
		requireErrIs(t, r.l.Server.StoreBatch(ctx, &roles.StoreBatchRequest{Header: bad.Header, Data: sbX.Data}), roles.ErrInvalidInput, codec.ErrIdentity)
		bad = deepCopy(t, ans)
		var o2 bls.G2Affine
		o2.SetInfinity()
		bad.Header.Header.TimeCommit = codec.G2(o2)
		requireErrIs(t, r.verify(q, bad), roles.ErrInvalidInput)

		// Points on the curve outside the prime-order subgroup.
		ns := nonSubgroupG1(t)
		r.requireTamperRejected(t, q, ans, func(bad *roles.Answer) { bad.Proof = ptrG1(codec.G1(ns)) }, roles.ErrBadProof, codec.ErrInvalidPoint)
		r.requireTamperRejected(t, wq, wans, func(bad *roles.Answer) { bad.Window.Proof = codec.G1(ns) }, roles.ErrBadProof, codec.ErrInvalidPoint)
		r.requireTamperRejected(t, q, ans, func(bad *roles.Answer) { bad.Witness.W = codec.G1OrIdentity(ns) }, codec.ErrInvalidPoint)
		r.requireTamperRejected(t, q, ans, func(bad *roles.Answer) { bad.Header.Header.Commits[1] = codec.G1(ns) }, codec.ErrInvalidPoint)

		// Points off the curve.
		oc := offCurveG1()
		r.requireTamperRejected(t, q, ans, func(bad *roles.Answer) { bad.Proof = ptrG1(codec.G1(oc)) }, roles.ErrBadProof, codec.ErrInvalidPoint)
		r.requireTamperRejected(t, q, ans, func(bad *roles.Answer) { bad.Witness.W = codec.G1OrIdentity(oc) }, codec.ErrInvalidPoint)
		r.requireTamperRejected(t, q, ans, func(bad *roles.Answer) { bad.Header.Header.Commits[0] = codec.G1(oc) }, codec.ErrInvalidPoint)

		// On the wire: the same substitutions in the encoded answer.
		enc, err := codec.Default().Marshal(ans)
		require.NoError(t, err)
		proofPt := bls.G1Affine(*ans.Proof)
		proofBytes := proofPt.Bytes()
		nsBytes := ns.Bytes()
		var infBytes [48]byte
		infBytes[0] = 0xc0 // compressed identity
		for _, c := range []struct {
			name string
			repl []byte
			want error
		}{
			{"outside the subgroup", nsBytes[:], codec.ErrNotInSubgroup},
			{"identity as point bytes", infBytes[:], codec.ErrIdentity},
		} {
			patched := replaceOnce(t, enc, proofBytes[:], c.repl)
			var a roles.Answer
			err := codec.Default().Unmarshal(patched, &a)
			requireErrIs(t, err, c.want, roles.ErrInvalidInput)
		}
		// The identity under its own tag where a G1 is required.
		tagged := append([]byte{0xda, 0x56, 0x44, 0x53, 0x01, 0x58, 0x30}, proofBytes[:]...)
		patched := replaceOnce(t, enc, tagged, []byte{0xda, 0x56, 0x44, 0x53, 0x04, 0x40})
		var a roles.Answer
		requireErrIs(t, codec.Default().Unmarshal(patched, &a), codec.ErrIdentity)
		// The witness point outside the subgroup.
		witPt := bls.G1Affine(ans.Witness.W)
		wb := witPt.Bytes()
		patched = replaceOnce(t, enc, wb[:], nsBytes[:])
		requireErrIs(t, codec.Default().Unmarshal(patched, &a), codec.ErrNotInSubgroup)
	})

	t.Run("13-non-canonical-scalars", func(t *testing.T) {
		t.Parallel()
		q := weightedQ(X, []int64{3, -1, 7, 2}, "temp", "load")
		ans := r.honest(t, q)
		enc, err := codec.Default().Marshal(ans)
		require.NoError(t, err)
		var ok roles.Answer
		require.NoError(t, codec.Default().Unmarshal(enc, &ok))
		require.NoError(t, r.verify(q, &ok), "the decoded honest answer verifies")

		plusR := func(e fr.Element) []byte {
			var b big.Int
			e.BigInt(&b)
			b.Add(&b, fr.Modulus())
			require.Less(t, b.BitLen(), 257)
			out := make([]byte, 32)
			b.FillBytes(out)
			return out
		}
		scalarItem := func(e fr.Element) []byte {
			b := e.Bytes()
			return append([]byte{0xda, 0x56, 0x44, 0x53, 0x03, 0x58, 0x20}, b[:]...)
		}
		for _, c := range []struct {
			name string
			e    fr.Element
		}{
			{"value", fr.Element(ans.Values[0])},
			{"second value", fr.Element(ans.Values[1])},
			{"witness u", fr.Element(ans.Witness.U)},
		} {
			item := scalarItem(c.e)
			patched := replaceOnce(t, enc, item, append(append([]byte{}, item[:7]...), plusR(c.e)...))
			var a roles.Answer
			err := codec.Default().Unmarshal(patched, &a)
			requireErrIs(t, err, codec.ErrNonCanonical, codec.ErrInvalidEncoding)
		}
		// A weight of the query inside the answer (a scalar vector).
		w := q.Weights[2] // 7
		wb := w.Bytes()
		patched := replaceOnce(t, enc, wb[:], plusR(w))
		var a roles.Answer
		requireErrIs(t, codec.Default().Unmarshal(patched, &a), codec.ErrNonCanonical, codec.ErrInvalidEncoding)
		// The same for a value equal to zero: 0 + r = r.
		zero := codec.Scalar{}
		zb, err := codec.Default().Marshal(zero)
		require.NoError(t, err)
		bad := append(append([]byte{}, zb[:7]...), plusR(fr.Element{})...)
		var s codec.Scalar
		requireErrIs(t, codec.Default().Unmarshal(bad, &s), codec.ErrNonCanonical)
	})
}
