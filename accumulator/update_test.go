package accumulator

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// checkpoints returns the epochs of 0..n at which a test compares witnesses:
// all of them for a small n, otherwise both sides of the multi-exponentiation
// threshold, a few in the middle and the last.
func checkpoints(n int) []int {
	if n <= 2*msmThreshold {
		out := make([]int, n+1)
		for i := range out {
			out[i] = i
		}
		return out
	}
	var out []int
	for _, e := range []int{0, 1, 2, 3, msmThreshold - 2, msmThreshold - 1, msmThreshold, msmThreshold + 1, 64, n / 2, n - 1, n} {
		if e <= n && (len(out) == 0 || out[len(out)-1] < e) {
			out = append(out, e)
		}
	}
	return out
}

func TestUpdateMatchesSteps(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 5, 1000} {
		t.Run(fmt.Sprintf("revocations=%d", n), func(t *testing.T) {
			t.Parallel()
			h := newHistory(t, n)
			y := randomElement(t)
			cps := checkpoints(n)

			step := InitialWitness()
			next := 0
			for e := 0; e <= n; e++ {
				if e > 0 {
					var err error
					step, err = UpdateStep(step, &y, &h.fs[e-1], &h.xs[e-1])
					if err != nil {
						t.Fatalf("UpdateStep to epoch %d: %v", e, err)
					}
				}
				if next >= len(cps) || cps[next] != e {
					continue
				}
				next++
				batch, err := Update(InitialWitness(), &y, h.fs[:e], h.xs[:e])
				if err != nil {
					t.Fatalf("Update to epoch %d: %v", e, err)
				}
				if batch.Epoch != uint64(e) || step.Epoch != uint64(e) {
					t.Fatalf("epochs %d, %d; want %d", batch.Epoch, step.Epoch, e)
				}
				if !sameWitness(&batch, &step) {
					t.Fatalf("epoch %d: batch and step witnesses differ", e)
				}
				for name, w := range map[string]*Witness{"batch": &batch, "step": &step} {
					if err := Verify(&h.pk, &h.fs[e], &y, w); err != nil {
						t.Fatalf("epoch %d: %s witness: %v", e, name, err)
					}
				}
				checkWithSecret(t, h.sk, &h.fs[e], &y, &batch)
			}
			if next != len(cps) {
				t.Fatalf("checked %d of %d checkpoints", next, len(cps))
			}
		})
	}
}

func TestUpdateInChunks(t *testing.T) {
	t.Parallel()
	const n = 1000
	h := newHistory(t, n)
	y := randomElement(t)
	want, err := Update(InitialWitness(), &y, h.fs[:n], h.xs[:n])
	if err != nil {
		t.Fatal(err)
	}
	for _, sizes := range [][]int{
		{1, 2, 3, 5, 6, 7, 8, 13, 64, 300, 591},
		{997, 1, 0, 2},
		{0, 500, 499, 1},
		{msmThreshold - 1, msmThreshold, msmThreshold + 1, n - 3*msmThreshold},
	} {
		t.Run(fmt.Sprint(sizes), func(t *testing.T) {
			t.Parallel()
			w := InitialWitness()
			for _, k := range sizes {
				e := int(w.Epoch)
				var err error
				w, err = Update(w, &y, h.fs[e:e+k], h.xs[e:e+k])
				if err != nil {
					t.Fatalf("chunk %d..%d: %v", e, e+k, err)
				}
				if err := Verify(&h.pk, &h.fs[e+k], &y, &w); err != nil {
					t.Fatalf("after chunk %d..%d: %v", e, e+k, err)
				}
			}
			if w.Epoch != n {
				t.Fatalf("chunks end at epoch %d, want %d", w.Epoch, n)
			}
			if !sameWitness(&w, &want) {
				t.Fatal("chunked witness differs from the one-batch witness")
			}
		})
	}
}

// TestUpdateDirectFormula compares Update with the witness computed with the
// secret: u_E = −Π(x_l − y) and w_E = ((Π(x_l + s) − Π(x_l − y)) / (y + s))·g.
func TestUpdateDirectFormula(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 5, 200} {
		t.Run(fmt.Sprintf("revocations=%d", n), func(t *testing.T) {
			t.Parallel()
			h := newHistory(t, n)
			y := randomElement(t)
			got, err := Update(InitialWitness(), &y, h.fs[:n], h.xs[:n])
			if err != nil {
				t.Fatal(err)
			}
			var ps, py, d, ys fr.Element
			ps.SetOne()
			py.SetOne()
			for i := range h.xs {
				d.Add(&h.xs[i], h.sk.scalar())
				ps.Mul(&ps, &d)
				d.Sub(&h.xs[i], &y)
				py.Mul(&py, &d)
			}
			var wantU, k fr.Element
			wantU.Neg(&py)
			ys.Add(&y, h.sk.scalar())
			ys.Inverse(&ys)
			k.Sub(&ps, &py).Mul(&k, &ys)
			wantW := mulBase(&k)
			if !got.U.Equal(&wantU) {
				t.Error("u differs from −Π(x − y)")
			}
			if !got.W.Equal(&wantW) {
				t.Error("w differs from ((Π(x+s) − Π(x−y))/(y+s))·g")
			}
			wantF := mulBase(&ps)
			if !wantF.Equal(&h.fs[n]) {
				t.Error("f_E differs from Π(x+s)·g")
			}
			checkWithSecret(t, h.sk, &h.fs[n], &y, &got)
		})
	}
}

func TestUpdateRevoked(t *testing.T) {
	t.Parallel()
	const n = 40
	for _, at := range []int{1, msmThreshold, 23, n} { // epoch that revokes y
		t.Run(fmt.Sprintf("revokedAt=%d", at), func(t *testing.T) {
			t.Parallel()
			sk, err := GenerateKey(nil)
			if err != nil {
				t.Fatal(err)
			}
			h := &history{sk: sk, pk: sk.PublicKey(), fs: []bls.G1Affine{Initial()}}
			y := randomElement(t)
			for e := 1; e <= n; e++ {
				if e == at {
					h.revoke(t, y)
				} else {
					h.revoke(t, randomElement(t))
				}
			}
			checkRevoked := func(t *testing.T, err error) {
				t.Helper()
				if !errors.Is(err, ErrRevoked) {
					t.Fatalf("got %v, want ErrRevoked", err)
				}
				var re *RevokedError
				if !errors.As(err, &re) || re.Epoch != uint64(at) {
					t.Fatalf("got %v, want a RevokedError for epoch %d", err, at)
				}
			}

			// Up to the epoch before the revocation the witness is fine.
			before, err := Update(InitialWitness(), &y, h.fs[:at-1], h.xs[:at-1])
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(&h.pk, &h.fs[at-1], &y, &before); err != nil {
				t.Fatal(err)
			}
			// Every range that crosses the revocation fails.
			for _, r := range [][2]int{{0, at}, {0, n}, {at - 1, at}, {at - 1, n}} {
				var from Witness
				switch r[0] {
				case 0:
					from = InitialWitness()
				case at - 1:
					from = before
				}
				_, err := Update(from, &y, h.fs[r[0]:r[1]], h.xs[r[0]:r[1]])
				checkRevoked(t, err)
			}
			// One epoch at a time.
			_, err = UpdateStep(before, &y, &h.fs[at-1], &h.xs[at-1])
			checkRevoked(t, err)
		})
	}
}

func TestUpdateBadInput(t *testing.T) {
	t.Parallel()
	h := newHistory(t, 3)
	y := randomElement(t)
	w0 := InitialWitness()
	membership := w0
	membership.U.SetZero()
	late := w0
	late.Epoch = math.MaxUint64 - 1
	withIdentity := slices.Clone(h.fs[:3])
	withIdentity[1].SetInfinity()

	for _, tc := range []struct {
		name string
		run  func() error
		want error
	}{
		{"length mismatch", func() error { _, err := Update(w0, &y, h.fs[:2], h.xs[:3]); return err }, ErrInvalidInput},
		{"nil y", func() error { _, err := Update(w0, nil, h.fs[:3], h.xs[:3]); return err }, ErrInvalidInput},
		{"nil y step", func() error { _, err := UpdateStep(w0, nil, &h.fs[0], &h.xs[0]); return err }, ErrInvalidInput},
		{"nil f step", func() error { _, err := UpdateStep(w0, &y, nil, &h.xs[0]); return err }, ErrInvalidInput},
		{"nil x step", func() error { _, err := UpdateStep(w0, &y, &h.fs[0], nil); return err }, ErrInvalidInput},
		{"epoch overflow", func() error { _, err := Update(late, &y, h.fs[:3], h.xs[:3]); return err }, ErrInvalidInput},
		{"u = 0", func() error { _, err := Update(membership, &y, h.fs[:3], h.xs[:3]); return err }, ErrRevoked},
		{"u = 0 step", func() error { _, err := UpdateStep(membership, &y, &h.fs[0], &h.xs[0]); return err }, ErrRevoked},
		{"identity f", func() error { _, err := Update(w0, &y, withIdentity, h.xs[:3]); return err }, ErrIdentity},
		{"identity f step", func() error { _, err := UpdateStep(w0, &y, &withIdentity[1], &h.xs[1]); return err }, ErrIdentity},
	} {
		if err := tc.run(); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}

	// Zero epochs is the identity function; epoch overflow is checked exactly.
	if got, err := Update(late, &y, nil, nil); err != nil || !sameWitness(&got, &late) {
		t.Errorf("Update over no epochs: %v", err)
	}
	if got, err := UpdateStep(late, &y, &h.fs[0], &h.xs[0]); err != nil || got.Epoch != math.MaxUint64 {
		t.Errorf("UpdateStep to the last epoch: %v", err)
	}
}

// frozenElementZero is HFr("vds/v1/acc", 0³²) in hex, cross-checked against
// an independent implementation of RFC 9380 expand_message_xmd (SHA-256,
// 48 bytes, reduced mod r) over the message 0x0000000000000020 ‖ 0³².
const frozenElementZero = "1706104c8c5ac801e094e62712ae4b642d951c5131c735305bcf71863cc473b8"

func TestElement(t *testing.T) {
	t.Parallel()
	var d1, d2 [32]byte
	d2[31] = 1
	a, b := Element(d1), Element(d1)
	c := Element(d2)
	if !a.Equal(&b) {
		t.Error("Element is not deterministic")
	}
	if a.Equal(&c) {
		t.Error("distinct digests give the same element")
	}
	// Frozen value: HFr("vds/v1/acc", 0³²) must not change within v1.
	if got := a.Text(16); got != frozenElementZero {
		t.Errorf("Element(0…0) = %s, want %s", got, "x")
	}
}

func TestInitial(t *testing.T) {
	t.Parallel()
	_, _, g, _ := bls.Generators()
	f0 := Initial()
	if !f0.Equal(&g) {
		t.Fatal("f₀ is not the generator")
	}
	sk, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	pk := sk.PublicKey()
	y := randomElement(t)
	w := InitialWitness()
	if !w.W.IsInfinity() || w.Epoch != 0 {
		t.Fatal("initial witness is not (O, ·) at epoch 0")
	}
	var minusOne fr.Element
	minusOne.SetOne().Neg(&minusOne)
	if !w.U.Equal(&minusOne) {
		t.Fatal("initial u is not −1")
	}
	if err := Verify(&pk, &f0, &y, &w); err != nil {
		t.Fatalf("initial witness: %v", err)
	}
}

// TestCombinePathsAgree checks that the multi-exponentiation and the
// per-point loop give the same point, with and without an identity witness
// point, on both sides of msmThreshold.
func TestCombinePathsAgree(t *testing.T) {
	t.Parallel()
	h := newHistory(t, 2*msmThreshold)
	for k := 1; k <= 2*msmThreshold; k++ {
		c := make([]fr.Element, k+1)
		for i := range k {
			c[i] = randomScalar(t)
		}
		c[k].SetOne()
		for _, w := range []bls.G1Affine{{}, h.fs[k]} {
			var viaMSM, viaLoop bls.G1Jac
			if err := combine(&viaMSM, &w, h.fs[:k], c, true); err != nil {
				t.Fatal(err)
			}
			if err := combine(&viaLoop, &w, h.fs[:k], c, false); err != nil {
				t.Fatal(err)
			}
			if !viaMSM.Equal(&viaLoop) {
				t.Fatalf("k = %d, identity w = %v: paths differ", k, w.IsInfinity())
			}
		}
	}
}
