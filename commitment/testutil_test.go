package commitment

import "github.com/consensys/gnark-crypto/ecc/bls12-381/fp"

func fpFromUint(i uint64) fp.Element {
	var e fp.Element
	e.SetUint64(i)
	return e
}
