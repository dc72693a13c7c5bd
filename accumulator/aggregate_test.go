package accumulator

import (
	"errors"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// checkAggregate evaluates e(A, P)·e(B, ĝ) = 1.
func checkAggregate(t *testing.T, pk *bls.G2Affine, a *bls.G1Affine, b *bls.G1Jac) bool {
	t.Helper()
	var bb bls.G1Affine
	bb.FromJacobian(b)
	_, _, _, g2 := bls.Generators()
	ok, err := bls.PairingCheck([]bls.G1Affine{*a, bb}, []bls.G2Affine{*pk, g2})
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestAggregateTerms(t *testing.T) {
	const epochs, k = 6, 5
	h := newHistory(t, epochs)
	f := &h.fs[epochs]
	ys := make([]fr.Element, k)
	ws := make([]Witness, k)
	for i := range ys {
		ys[i] = randomElement(t)
		w, err := Update(InitialWitness(), &ys[i], h.fs[:epochs], h.xs)
		if err != nil {
			t.Fatal(err)
		}
		ws[i] = w
	}
	a, b, _, err := AggregateTerms(f, ys, ws)
	if err != nil {
		t.Fatal(err)
	}
	if !checkAggregate(t, &h.pk, &a, &b) {
		t.Fatal("honest witnesses do not verify together")
	}
	// One witness of another element, two swapped, one shifted: the equation fails.
	for name, edit := range map[string]func(ys []fr.Element, ws []Witness){
		"another element": func(ys []fr.Element, _ []Witness) { ys[2] = randomElement(t) },
		"swapped":         func(_ []fr.Element, ws []Witness) { ws[1], ws[3] = ws[3], ws[1] },
		"shifted w": func(_ []fr.Element, ws []Witness) {
			g := Initial()
			ws[4].W.Add(&ws[4].W, &g)
		},
	} {
		y2, w2 := append([]fr.Element(nil), ys...), append([]Witness(nil), ws...)
		edit(y2, w2)
		a, b, _, err := AggregateTerms(f, y2, w2)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if checkAggregate(t, &h.pk, &a, &b) {
			t.Fatalf("%s: a bad witness verifies in the aggregate", name)
		}
	}
	// u = 0 (the membership form) and a point off the curve are named by index.
	w2 := append([]Witness(nil), ws...)
	w2[3].U.SetZero()
	if _, _, bad, err := AggregateTerms(f, ys, w2); !errors.Is(err, ErrRevoked) || bad != 3 {
		t.Fatalf("u = 0: bad %d, %v", bad, err)
	}
	w2 = append([]Witness(nil), ws...)
	w2[1].W.Y.SetOne()
	if _, _, bad, err := AggregateTerms(f, ys, w2); !errors.Is(err, ErrInvalidPoint) || bad != 1 {
		t.Fatalf("off the curve: bad %d, %v", bad, err)
	}
	if _, _, _, err := AggregateTerms(f, ys[:2], ws); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("lengths: %v", err)
	}
}
