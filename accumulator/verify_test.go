package accumulator

import (
	"errors"
	"math/big"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// verifyCase is one (pk, f, y, w) input to Verify and Terms.
type verifyCase struct {
	name string
	pk   *bls.G2Affine
	f    *bls.G1Affine
	y    *fr.Element
	w    *Witness
	want error // nil for a valid witness
}

// verifyCases returns a valid witness at epochs 0 and n and variations of it
// that must be rejected.
func verifyCases(t *testing.T) []verifyCase {
	t.Helper()
	const n = 12
	h := newHistory(t, n)
	y := randomElement(t)
	w, err := Update(InitialWitness(), &y, h.fs[:n], h.xs[:n])
	if err != nil {
		t.Fatal(err)
	}
	w0 := InitialWitness()
	f := &h.fs[n]

	otherY := randomElement(t)
	tamperedW := w
	g := Initial()
	tamperedW.W.Add(&tamperedW.W, &g)
	identityW := w
	identityW.W.SetInfinity()
	tamperedU := w
	var one fr.Element
	one.SetOne()
	tamperedU.U.Add(&tamperedU.U, &one)
	negU := w
	negU.U.Neg(&negU.U)
	zeroU := w
	zeroU.U.SetZero()
	other, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	otherPK := other.PublicKey()
	var identityG1 bls.G1Affine
	identityG1.SetInfinity()
	var identityG2 bls.G2Affine
	identityG2.SetInfinity()
	var seed fp.Element
	seed.SetUint64(7)
	outsideJ := bls.GeneratePointNotInG1(seed)
	var outside bls.G1Affine
	outside.FromJacobian(&outsideJ)
	if !outside.IsOnCurve() || outside.IsInSubGroup() {
		t.Fatal("test point is not on the curve outside G1")
	}
	outsideW := w
	outsideW.W = outside
	var offCurve bls.G1Affine
	offCurve.X.SetUint64(1)
	offCurve.Y.SetUint64(1)
	offCurveW := w
	offCurveW.W = offCurve

	return []verifyCase{
		{"valid", &h.pk, f, &y, &w, nil},
		{"valid epoch 0", &h.pk, &h.fs[0], &y, &w0, nil},
		{"wrong y", &h.pk, f, &otherY, &w, ErrBadProof},
		{"older f", &h.pk, &h.fs[n-1], &y, &w, ErrBadProof},
		{"f of epoch 0", &h.pk, &h.fs[0], &y, &w, ErrBadProof},
		{"epoch 0 witness, newer f", &h.pk, f, &y, &w0, ErrBadProof},
		{"tampered w", &h.pk, f, &y, &tamperedW, ErrBadProof},
		{"identity w", &h.pk, f, &y, &identityW, ErrBadProof},
		{"tampered u", &h.pk, f, &y, &tamperedU, ErrBadProof},
		{"negated u", &h.pk, f, &y, &negU, ErrBadProof},
		{"u = 0", &h.pk, f, &y, &zeroU, ErrRevoked},
		{"wrong public key", &otherPK, f, &y, &w, ErrBadProof},
		{"identity public key", &identityG2, f, &y, &w, ErrIdentity},
		{"identity f", &h.pk, &identityG1, &y, &w, ErrIdentity},
		{"f outside G1", &h.pk, &outside, &y, &w, ErrInvalidPoint},
		{"w outside G1", &h.pk, f, &y, &outsideW, ErrInvalidPoint},
		{"w off curve", &h.pk, f, &y, &offCurveW, ErrInvalidPoint},
		{"nil public key", nil, f, &y, &w, ErrInvalidInput},
		{"nil f", &h.pk, nil, &y, &w, ErrInvalidInput},
		{"nil y", &h.pk, f, nil, &w, ErrInvalidInput},
		{"nil witness", &h.pk, f, &y, nil, ErrInvalidInput},
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	for _, tc := range verifyCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Verify(tc.pk, tc.f, tc.y, tc.w)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("valid witness rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if errors.Is(tc.want, ErrRevoked) && !errors.Is(err, ErrBadProof) {
				t.Fatalf("u = 0: got %v, want it to wrap ErrBadProof too", err)
			}
		})
	}
}

// TestTermsAgreesWithVerify checks that the pairing check on the points of
// Terms, e(A, P)·e(B, ĝ) = 1, accepts exactly what Verify accepts.
func TestTermsAgreesWithVerify(t *testing.T) {
	t.Parallel()
	_, _, _, g2 := bls.Generators()
	checked := 0
	for _, tc := range verifyCases(t) {
		if tc.pk == nil || tc.pk.IsInfinity() || !tc.pk.IsInSubGroup() {
			continue // Terms does not take the key
		}
		verr := Verify(tc.pk, tc.f, tc.y, tc.w)
		a, b, terr := Terms(tc.f, tc.y, tc.w)
		if terr != nil {
			// Terms refuses the same inputs as Verify, for the same reason.
			if verr == nil {
				t.Errorf("%s: Terms fails (%v), Verify accepts", tc.name, terr)
			} else if !errors.Is(terr, tc.want) {
				t.Errorf("%s: Terms: got %v, want %v", tc.name, terr, tc.want)
			}
			continue
		}
		var ba bls.G1Affine
		ba.FromJacobian(&b)
		ok, err := bls.PairingCheck([]bls.G1Affine{a, ba}, []bls.G2Affine{*tc.pk, g2})
		if err != nil {
			t.Fatal(err)
		}
		if ok != (verr == nil) {
			t.Errorf("%s: pairing check on Terms says %v, Verify says %v", tc.name, ok, verr)
		}
		if ok != (tc.want == nil) {
			t.Errorf("%s: pairing check on Terms says %v, want valid = %v", tc.name, ok, tc.want == nil)
		}
		checked++
	}
	if checked < 8 {
		t.Fatalf("only %d cases reached the pairing check", checked)
	}
}

// TestMembershipWitnessRejected builds the membership witness
// (Π_{x∈X, x≠y}(x+s)·g, 0) of a revoked y: it satisfies the pairing equation,
// and only the u ≠ 0 rule rejects it.
func TestMembershipWitnessRejected(t *testing.T) {
	t.Parallel()
	h := newHistory(t, 4)
	y := randomElement(t)
	h.revoke(t, y)
	h.revoke(t, randomElement(t))
	f := &h.fs[h.epoch()]

	var k, d fr.Element
	k.SetOne()
	for i := range h.xs {
		if h.xs[i].Equal(&y) {
			continue
		}
		d.Add(&h.xs[i], h.sk.scalar())
		k.Mul(&k, &d)
	}
	mem := Witness{W: mulBase(&k), Epoch: uint64(h.epoch())} // U = 0

	// The raw equation e(w, y·ĝ + P) = e(f + u·g, ĝ) holds…
	_, _, _, g2 := bls.Generators()
	var yb big.Int
	var q bls.G2Affine
	q.ScalarMultiplication(&g2, y.BigInt(&yb))
	q.Add(&q, &h.pk)
	var negF bls.G1Affine
	negF.Neg(f)
	ok, err := bls.PairingCheck([]bls.G1Affine{mem.W, negF}, []bls.G2Affine{q, g2})
	if err != nil || !ok {
		t.Fatalf("membership witness does not satisfy the pairing equation: %v, %v", ok, err)
	}
	// …and so does its G1-only form e(w, P)·e(y·w − f, ĝ) = 1.
	b := mulG1(&mem.W, &y)
	b.Sub(&b, f)
	ok, err = bls.PairingCheck([]bls.G1Affine{mem.W, b}, []bls.G2Affine{h.pk, g2})
	if err != nil || !ok {
		t.Fatalf("membership witness does not satisfy the G1 form: %v, %v", ok, err)
	}

	err = Verify(&h.pk, f, &y, &mem)
	if !errors.Is(err, ErrRevoked) || !errors.Is(err, ErrBadProof) {
		t.Errorf("Verify: got %v, want ErrRevoked and ErrBadProof", err)
	}
	if _, _, err := Terms(f, &y, &mem); !errors.Is(err, ErrRevoked) {
		t.Errorf("Terms: got %v, want ErrRevoked", err)
	}
}
