package roles_test

import (
	"context"
	"errors"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
)

// manyAnswers returns the queries of precomputeQueries and their honest
// answers.
func manyAnswers(t *testing.T, w *precomputeWorld) ([]*roles.Query, []*roles.Answer) {
	t.Helper()
	var qs []*roles.Query
	var as []*roles.Answer
	for _, q := range precomputeQueries(w.id) {
		a, err := w.l.Server.Answer(context.Background(), q)
		require.NoError(t, err)
		qs, as = append(qs, q), append(as, a)
	}
	return qs, as
}

func TestVerifyManyHonest(t *testing.T) {
	ctx := context.Background()
	w := newPrecomputeWorld(t)
	qs, as := manyAnswers(t, w)
	res, err := w.l.Verifier.VerifyMany(ctx, qs, as)
	require.NoError(t, err)
	require.Len(t, res, len(qs))
	for i := range qs {
		one, err := w.l.Verifier.Verify(ctx, qs[i], as[i])
		require.NoError(t, err)
		require.Equal(t, one, res[i])
	}
	res, err = w.l.Verifier.VerifyMany(ctx, nil, nil)
	require.NoError(t, err)
	require.Empty(t, res)
}

// forgeProof adds the generator to an answer's column proof: a point of
// the subgroup, so only the pairing check can catch it.
func forgeProof(a *roles.Answer) *roles.Answer {
	f := *a
	_, _, g, _ := bls.Generators()
	p := bls.G1Affine(*a.Proof)
	p.Add(&p, &g)
	cp := codec.G1(p)
	f.Proof = &cp
	return &f
}

func TestVerifyManyFindsForgeries(t *testing.T) {
	ctx := context.Background()
	w := newPrecomputeWorld(t)
	qs, as := manyAnswers(t, w)
	for _, bad := range [][]int{{0}, {len(qs) - 1}, {1, 4}} {
		forged := append([]*roles.Answer(nil), as...)
		isBad := map[int]bool{}
		for _, i := range bad {
			if as[i].Proof == nil { // an empty window: forge its value instead
				f := *as[i]
				f.Values = append([]codec.Scalar(nil), as[i].Values...)
				f.Values[0] = codec.Scalar(roles.FromInt64(1))
				forged[i] = &f
			} else {
				forged[i] = forgeProof(as[i])
			}
			isBad[i] = true
		}
		res, err := w.l.Verifier.VerifyMany(ctx, qs, forged)
		var me *roles.VerifyManyError
		require.ErrorAs(t, err, &me)
		require.ErrorIs(t, err, roles.ErrBadProof)
		require.Len(t, me.Errs, len(qs))
		for i := range qs {
			if isBad[i] {
				require.ErrorIs(t, me.Errs[i], roles.ErrBadProof, "answer %d", i)
				require.Nil(t, res[i])
				_, one := w.l.Verifier.Verify(ctx, qs[i], forged[i])
				require.Equal(t, one.Error(), me.Errs[i].Error(), "the error Verify gives")
			} else {
				require.NoError(t, me.Errs[i], "answer %d", i)
				require.NotNil(t, res[i])
			}
		}
	}
}

// TestVerifyManyMalformed mixes an answer rejected before its pairing
// equations (a proof that is the identity, a wrong batch) with good ones:
// its half-added equations must not spoil the others.
func TestVerifyManyMalformed(t *testing.T) {
	ctx := context.Background()
	w := newPrecomputeWorld(t)
	qs, as := manyAnswers(t, w)
	k := -1
	for i := range qs {
		if qs[i].Kind == roles.QueryWindow && as[i].Proof != nil {
			k = i // the window equation is added before the column proof fails
		}
	}
	require.GreaterOrEqual(t, k, 0)
	bad := *as[k]
	var id codec.G1
	bad.Proof = &id
	forged := append([]*roles.Answer(nil), as...)
	forged[k] = &bad
	res, err := w.l.Verifier.VerifyMany(ctx, qs, forged)
	var me *roles.VerifyManyError
	require.ErrorAs(t, err, &me)
	for i := range qs {
		if i == k {
			require.Error(t, me.Errs[i])
			require.Nil(t, res[i])
			continue
		}
		require.NoError(t, me.Errs[i], "answer %d", i)
	}
	_, err = w.l.Verifier.VerifyMany(ctx, qs, as[:1])
	require.ErrorIs(t, err, roles.ErrInvalidInput)
	require.False(t, errors.Is(err, roles.ErrBadProof))
}

// TestVerifyManyWitnessOnce forges the non-membership witness shared by two
// answers on the same batch. The first of them is also malformed, so its
// equations are dropped: the second must still have its witness checked.
func TestVerifyManyWitnessOnce(t *testing.T) {
	ctx := context.Background()
	w := newPrecomputeWorld(t)
	qs, as := manyAnswers(t, w)
	_, _, g, _ := bls.Generators()
	forgeWitness := func(a *roles.Answer) *roles.Answer {
		f := *a
		p := bls.G1Affine(a.Witness.W)
		p.Add(&p, &g)
		f.Witness.W = codec.G1OrIdentity(p)
		return &f
	}
	i, j := -1, -1
	for k := range qs {
		if as[k].Proof != nil && qs[k].Kind != roles.QueryAudit {
			if i < 0 {
				i = k
			} else if j < 0 {
				j = k
			}
		}
	}
	forged := append([]*roles.Answer(nil), as...)
	bad := forgeWitness(as[i])
	var id codec.G1
	bad.Proof = &id // malformed: rejected before its pairing equations count
	forged[i] = bad
	forged[j] = forgeWitness(as[j])
	res, err := w.l.Verifier.VerifyMany(ctx, qs, forged)
	var me *roles.VerifyManyError
	require.ErrorAs(t, err, &me)
	require.Error(t, me.Errs[i])
	require.ErrorIs(t, me.Errs[j], roles.ErrBadProof, "the shared forged witness is checked")
	require.Nil(t, res[j])
	for k := range qs {
		if k != i && k != j {
			require.NoError(t, me.Errs[k], "answer %d", k)
		}
	}
}
