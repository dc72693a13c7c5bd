package transport_test

import (
	"context"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// TestVerifyManyOverTransports sends honest answers and one forged answer
// to the verifier service in one verify_many call.
func TestVerifyManyOverTransports(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := newSystem(t, kind)
			vc := transport.VerifierClient{T: serve(t, kind, []*transport.Service{transport.VerifierService(s.verifier)})}
			sh, err := s.owner.CreateBatch(ctx, batch(8))
			require.NoError(t, err)
			id, _ := sh.Header.Digest()
			qs := []*roles.Query{
				{Batch: id, Kind: roles.QueryRange, Columns: []string{"v"}, From: 2, To: 7},
				{Batch: id, Kind: roles.QueryPoint, Columns: []string{"v"}, Row: 3},
				{Batch: id, Kind: roles.QueryWindow, Columns: []string{"v"}, TimeFrom: 115, TimeTo: 160},
			}
			as := make([]*roles.Answer, len(qs))
			for i, q := range qs {
				as[i], err = s.storage.Answer(ctx, q)
				require.NoError(t, err)
			}
			res, err := vc.VerifyMany(ctx, qs, as)
			require.NoError(t, err)
			require.Len(t, res, 3)
			require.Equal(t, []string{"49"}, res[0].Raw) // Σ_{k=1..6} (k² − 7)
			require.Equal(t, []string{"-3"}, res[1].Raw)

			forged := *as[1]
			_, _, g, _ := bls.Generators()
			p := bls.G1Affine(*forged.Proof)
			p.Add(&p, &g)
			cp := codec.G1(p)
			forged.Proof = &cp
			res, err = vc.VerifyMany(ctx, qs, []*roles.Answer{as[0], &forged, as[2]})
			var me *roles.VerifyManyError
			require.ErrorAs(t, err, &me)
			require.NoError(t, me.Errs[0])
			require.ErrorIs(t, me.Errs[1], roles.ErrBadProof)
			require.NoError(t, me.Errs[2])
			require.NotNil(t, res[0])
			require.Nil(t, res[1])
			require.NotNil(t, res[2])
		})
	}
}
