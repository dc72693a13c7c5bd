package commitment

import (
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// frToBig returns the canonical integer of e.
func frToBig(e *fr.Element) *big.Int {
	var b big.Int
	e.BigInt(&b)
	return &b
}
