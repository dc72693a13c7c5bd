package commitment

import (
	"math/big"
	"math/bits"

	"github.com/consensys/gnark-crypto/ecc"
	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// Batched affine arithmetic in G1 for the G1 FFT of precompute.go: many
// independent scalar multiplications run in lockstep, so that every
// doubling and addition of a step shares one field inversion (Montgomery's
// trick) and costs a few multiplications in affine coordinates. Scalars are
// split with the GLV endomorphism φ(x, y) = (βx, y) = λ·(x, y) into two
// halves of about 128 bits, each in width-4 NAF over the table
// {1, 3, 5, 7}·P (and its image under φ, free).

var (
	glvBeta    fp.Element  // a primitive cube root of unity in Fp
	glvLambda  big.Int     // its eigenvalue: φ(P) = λ·P on G1
	glvLattice ecc.Lattice // short basis for splitting scalars
)

func init() {
	// The constants of gnark-crypto's own GLV multiplication on BLS12-381
	// G1; TestGLVConstants checks φ(P) = λ·P.
	glvBeta.SetString("4002409555221667392624310435006688643935503118305586438271171395842971157480381377015405980053539358417135540939436")
	glvLambda.SetString("228988810152649578064853576960394133503", 10)
	ecc.PrecomputeLattice(fr.Modulus(), &glvLambda, &glvLattice)
}

// nafWidth is the width of the NAF digits: odd digits in [−7, 7].
const nafWidth = 4

// glvScalar is a scalar k = k₁ + k₂·λ (mod r) with both halves in NAF,
// least significant digit first.
type glvScalar struct {
	d [2][]int8
}

// splitScalar returns the GLV-NAF form of s.
func splitScalar(s *fr.Element) glvScalar {
	var b big.Int
	s.BigInt(&b)
	k := ecc.SplitScalar(&b, &glvLattice)
	return glvScalar{d: [2][]int8{naf(&k[0]), naf(&k[1])}}
}

// naf returns the width-4 NAF of k (which may be negative), least
// significant digit first.
func naf(k *big.Int) []int8 {
	var w [5]uint64
	for i, x := range new(big.Int).Abs(k).Bits() {
		w[i] = uint64(x)
	}
	sign := int8(1)
	if k.Sign() < 0 {
		sign = -1
	}
	out := make([]int8, 0, 132)
	for w != ([5]uint64{}) {
		var d int8
		if w[0]&1 == 1 {
			d = int8(w[0] & 15)
			if d >= 8 {
				d -= 16
			}
			// w −= d, with d odd in [−7, 7].
			if d > 0 {
				var borrow uint64
				w[0], borrow = bits.Sub64(w[0], uint64(d), 0)
				for i := 1; borrow != 0 && i < len(w); i++ {
					w[i], borrow = bits.Sub64(w[i], 0, borrow)
				}
			} else {
				var carry uint64
				w[0], carry = bits.Add64(w[0], uint64(-d), 0)
				for i := 1; carry != 0 && i < len(w); i++ {
					w[i], carry = bits.Add64(w[i], 0, carry)
				}
			}
		}
		out = append(out, sign*d)
		for i := 0; i < len(w)-1; i++ {
			w[i] = w[i]>>1 | w[i+1]<<63
		}
		w[len(w)-1] >>= 1
	}
	return out
}

// affineBatch holds the scratch space of lockstep operations.
type affineBatch struct {
	den, inv, pre []fp.Element
	idx           []int
	add           []bls.G1Affine
	gidx          []int
	gadd          []bls.G1Affine
	all           []int
	table         [4][]bls.G1Affine
	dbl           []bls.G1Affine
}

func (s *affineBatch) grow(n int) {
	if cap(s.den) >= n {
		return
	}
	s.den, s.inv, s.pre = make([]fp.Element, n), make([]fp.Element, n), make([]fp.Element, n)
	s.idx, s.gidx, s.all = make([]int, n), make([]int, 0, n), make([]int, 0, n)
	s.add, s.gadd, s.dbl = make([]bls.G1Affine, n), make([]bls.G1Affine, 0, n), make([]bls.G1Affine, n)
	for i := range s.table {
		s.table[i] = make([]bls.G1Affine, n)
	}
}

// invert sets s.inv[i] = 1/s.den[i] for i < n (every den non-zero) with
// one field inversion.
func (s *affineBatch) invert(n int) {
	if n == 0 {
		return
	}
	var acc fp.Element
	acc.SetOne()
	for i := range n {
		s.pre[i] = acc
		acc.Mul(&acc, &s.den[i])
	}
	acc.Inverse(&acc)
	for i := n - 1; i >= 0; i-- {
		s.inv[i].Mul(&acc, &s.pre[i])
		acc.Mul(&acc, &s.den[i])
	}
}

// addInto sets a[idx[t]] += b[t] for every t, in affine coordinates with
// one shared inversion. The a[idx[t]] must be distinct. Identities and the
// exceptional cases (a = ±b) take a slow path.
func (s *affineBatch) addInto(a []bls.G1Affine, idx []int, b []bls.G1Affine) {
	k := 0
	for t, i := range idx {
		p, q := &a[i], &b[t]
		switch {
		case q.IsInfinity():
		case p.IsInfinity():
			*p = *q
		case p.X.Equal(&q.X):
			p.Add(p, q) // a doubling or the identity: rare
		default:
			s.den[k].Sub(&q.X, &p.X)
			s.idx[k], s.add[k] = i, *q
			k++
		}
	}
	s.invert(k)
	for t := range k {
		p, q := &a[s.idx[t]], &s.add[t]
		*p = chord(p, &q.X, &q.Y, &s.inv[t])
	}
}

// chord returns p + (x₂, y₂) given inv = 1/(x₂ − x_p): the affine
// addition of two points with different x.
func chord(p *bls.G1Affine, x2, y2, inv *fp.Element) bls.G1Affine {
	var l, x3, y3 fp.Element
	l.Sub(y2, &p.Y)
	l.Mul(&l, inv)
	x3.Square(&l)
	x3.Sub(&x3, &p.X)
	x3.Sub(&x3, x2)
	y3.Sub(&p.X, &x3)
	y3.Mul(&y3, &l)
	y3.Sub(&y3, &p.Y)
	return bls.G1Affine{X: x3, Y: y3}
}

// doubleIn doubles a[i] for every i in idx (none of them the identity),
// with one shared inversion.
func (s *affineBatch) doubleIn(a []bls.G1Affine, idx []int) {
	for t, i := range idx {
		s.den[t].Double(&a[i].Y)
	}
	s.invert(len(idx))
	var l, x3, y3 fp.Element
	for t, i := range idx {
		p := &a[i]
		l.Square(&p.X)
		x3.Double(&l)
		l.Add(&l, &x3) // 3x²
		l.Mul(&l, &s.inv[t])
		x3.Square(&l)
		x3.Sub(&x3, &p.X)
		x3.Sub(&x3, &p.X)
		y3.Sub(&p.X, &x3)
		y3.Mul(&y3, &l)
		y3.Sub(&y3, &p.Y)
		p.X, p.Y = x3, y3
	}
}

// mul sets out[i] = sc[i]·p[i] for every i, all in lockstep: one shared
// inversion per doubling step and per addition step. out and p must not
// overlap.
func (s *affineBatch) mul(out, p []bls.G1Affine, sc []*glvScalar) {
	n := len(p)
	s.grow(n)
	all := s.all[:0]
	longest := 0
	for i := range p {
		out[i] = bls.G1Affine{}
		if !p[i].IsInfinity() {
			all = append(all, i)
			longest = max(longest, len(sc[i].d[0]), len(sc[i].d[1]))
		}
	}
	// The table {1, 3, 5, 7}·P; 2P in s.dbl.
	copy(s.table[0], p)
	copy(s.dbl, p)
	s.doubleIn(s.dbl, all)
	gadd := s.gadd[:0]
	for _, i := range all {
		gadd = append(gadd, s.dbl[i])
	}
	for k := 1; k < 4; k++ {
		copy(s.table[k], s.table[k-1])
		s.addInto(s.table[k], all, gadd)
	}
	for b := longest - 1; b >= 0; b-- {
		idx := s.gidx[:0]
		for _, i := range all {
			if !out[i].IsInfinity() {
				idx = append(idx, i)
			}
		}
		s.doubleIn(out, idx)
		for h := range 2 {
			idx, gadd = s.gidx[:0], s.gadd[:0]
			for _, i := range all {
				ds := sc[i].d[h]
				if b >= len(ds) || ds[b] == 0 {
					continue
				}
				d := ds[b]
				e := s.table[(max(d, -d))>>1][i]
				if h == 1 {
					e.X.Mul(&e.X, &glvBeta)
				}
				if d < 0 {
					e.Y.Neg(&e.Y)
				}
				idx, gadd = append(idx, i), append(gadd, e)
			}
			s.addInto(out, idx, gadd)
		}
	}
}

// butterflies sets (a[ui[k]], a[vi[k]]) = (u + t[k], u − t[k]) with
// u = a[ui[k]], for every k, sharing one inversion between the sum and the
// difference and across all k.
func (s *affineBatch) butterflies(a []bls.G1Affine, ui, vi []int, t []bls.G1Affine) {
	m := 0
	for k := range ui {
		u, tt := &a[ui[k]], &t[k]
		switch {
		case tt.IsInfinity():
			a[vi[k]] = *u
		case u.IsInfinity():
			a[ui[k]] = *tt
			a[vi[k]].Neg(tt)
		case u.X.Equal(&tt.X):
			var sum, dif bls.G1Affine
			sum.Add(u, tt)
			dif.Sub(u, tt)
			a[ui[k]], a[vi[k]] = sum, dif
		default:
			s.den[m].Sub(&tt.X, &u.X)
			s.idx[m] = k
			m++
		}
	}
	s.invert(m)
	var negY fp.Element
	for q := range m {
		k := s.idx[q]
		u, tt := a[ui[k]], &t[k]
		negY.Neg(&tt.Y)
		a[ui[k]] = chord(&u, &tt.X, &tt.Y, &s.inv[q])
		a[vi[k]] = chord(&u, &tt.X, &negY, &s.inv[q])
	}
}
