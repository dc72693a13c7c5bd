package accumulator

import (
	"errors"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// TestCheckStep: every honest step of a history passes; a step with another
// element, another value, another key, skipped or repeated fails.
func TestCheckStep(t *testing.T) {
	h := newHistory(t, 4)
	for e := 1; e <= 4; e++ {
		if err := CheckStep(&h.pk, &h.fs[e-1], &h.fs[e], &h.xs[e-1]); err != nil {
			t.Fatalf("honest step %d: %v", e, err)
		}
	}
	other := newHistory(t, 1)
	g := Initial()
	var shifted bls.G1Affine
	shifted.Add(&h.fs[2], &g)
	var xPlus fr.Element
	one := fr.One()
	xPlus.Add(&h.xs[1], &one)
	var inf bls.G1Affine
	inf.SetInfinity()
	var infG2 bls.G2Affine
	infG2.SetInfinity()
	for _, c := range []struct {
		name       string
		pk         *bls.G2Affine
		prev, next *bls.G1Affine
		x          *fr.Element
		want       error
	}{
		{"other element", &h.pk, &h.fs[1], &h.fs[2], &xPlus, ErrBadProof},
		{"other value", &h.pk, &h.fs[1], &shifted, &h.xs[1], ErrBadProof},
		{"other key", &other.pk, &h.fs[1], &h.fs[2], &h.xs[1], ErrBadProof},
		{"skipped epoch", &h.pk, &h.fs[1], &h.fs[3], &h.xs[1], ErrBadProof},
		{"repeated value", &h.pk, &h.fs[2], &h.fs[2], &h.xs[1], ErrBadProof},
		{"identity next", &h.pk, &h.fs[1], &inf, &h.xs[1], ErrIdentity},
		{"identity key", &infG2, &h.fs[1], &h.fs[2], &h.xs[1], ErrIdentity},
		{"nil", nil, &h.fs[1], &h.fs[2], &h.xs[1], ErrInvalidInput},
	} {
		if err := CheckStep(c.pk, c.prev, c.next, c.x); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}
