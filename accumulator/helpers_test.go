package accumulator

import (
	"crypto/rand"
	"math/big"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// history is a public revocation log built with a secret key: fs[E] = f_E
// for E = 0..n and xs[E−1] = x_E for E = 1..n, so Update from epoch a to b
// takes fs[a:b] and xs[a:b].
type history struct {
	sk *SecretKey
	pk bls.G2Affine
	fs []bls.G1Affine
	xs []fr.Element
}

func newHistory(t testing.TB, n int) *history {
	t.Helper()
	sk, err := GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h := &history{sk: sk, pk: sk.PublicKey(), fs: []bls.G1Affine{Initial()}}
	for range n {
		h.revoke(t, randomElement(t))
	}
	return h
}

// revoke appends the revocation of x as a new epoch.
func (h *history) revoke(t testing.TB, x fr.Element) {
	t.Helper()
	f, err := h.sk.Accumulate(&h.fs[len(h.fs)-1], &x)
	if err != nil {
		t.Fatal(err)
	}
	h.fs = append(h.fs, f)
	h.xs = append(h.xs, x)
}

func (h *history) epoch() int { return len(h.xs) }

func randomElement(t testing.TB) fr.Element {
	t.Helper()
	var d [32]byte
	if _, err := rand.Read(d[:]); err != nil {
		t.Fatal(err)
	}
	return Element(d)
}

func randomScalar(t testing.TB) fr.Element {
	t.Helper()
	var e fr.Element
	if _, err := e.SetRandom(); err != nil {
		t.Fatal(err)
	}
	return e
}

func mulG1(p *bls.G1Affine, e *fr.Element) bls.G1Affine {
	var b big.Int
	var out bls.G1Affine
	out.ScalarMultiplication(p, e.BigInt(&b))
	return out
}

func mulBase(e *fr.Element) bls.G1Affine {
	g := Initial()
	return mulG1(&g, e)
}

func sameWitness(a, b *Witness) bool {
	return a.Epoch == b.Epoch && a.W.Bytes() == b.W.Bytes() && a.U.Bytes() == b.U.Bytes()
}

// checkWithSecret checks (y+s)·w == f + u·g directly with the secret.
func checkWithSecret(t testing.TB, sk *SecretKey, f *bls.G1Affine, y *fr.Element, w *Witness) {
	t.Helper()
	var ys fr.Element
	ys.Add(y, sk.scalar())
	lhs := mulG1(&w.W, &ys)
	ug := mulBase(&w.U)
	var rhs bls.G1Affine
	rhs.Add(f, &ug)
	if !lhs.Equal(&rhs) {
		t.Fatalf("epoch %d: (y+s)·w != f + u·g", w.Epoch)
	}
}
