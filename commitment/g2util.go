package commitment

import (
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
)

// batchJacobianToAffineG2 converts points to affine coordinates with one
// field inversion (Montgomery's trick); the identity stays the identity.
func batchJacobianToAffineG2(points []bls.G2Jac) []bls.G2Affine {
	res := make([]bls.G2Affine, len(points))
	prod := make([]bls.E2, len(points))
	var acc bls.E2
	acc.SetOne()
	for i := range points {
		prod[i] = acc
		if !points[i].Z.IsZero() {
			acc.Mul(&acc, &points[i].Z)
		}
	}
	var inv bls.E2
	inv.Inverse(&acc)
	for i := len(points) - 1; i >= 0; i-- {
		if points[i].Z.IsZero() {
			continue // (0, 0) is the affine identity
		}
		var zInv, zInv2 bls.E2
		zInv.Mul(&inv, &prod[i])
		inv.Mul(&inv, &points[i].Z)
		zInv2.Square(&zInv)
		res[i].X.Mul(&points[i].X, &zInv2)
		res[i].Y.Mul(&points[i].Y, &zInv2).Mul(&res[i].Y, &zInv)
	}
	return res
}
