// inG1 / inG2 answer exactly what noble's isTorsionFree answers, on points of the
// subgroups, on random points of the curves (almost never in them), on points with a
// small-order component, and on a point of small order itself; and the decoders reject
// such points with invalid_point.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sha256 } from '@noble/hashes/sha2.js'
import { bls12_381 as bls } from '@noble/curves/bls12-381.js'
import { inG1, inG2, mulG1 } from '../src/subgroup.js'
import { decodeG1, decodeG2, bytesToBig } from '../src/points.js'

const G1 = bls.G1.Point
const G2 = bls.G2.Point
const Fp = bls.fields.Fp
const Fp2 = bls.fields.Fp2
const R = bls.fields.Fr.ORDER
const P = Fp.ORDER

// deterministic field elements
const det = (tag, i) => bytesToBig(sha256(new TextEncoder().encode(`${tag}/${i}`))) * bytesToBig(sha256(new TextEncoder().encode(`${tag}/${i}/2`)))

function curveG1 (i) {
  for (let j = 0; ; j++) {
    const x = det(`g1/${i}`, j) % P
    try {
      const y = Fp.sqrt(Fp.add(Fp.pow(x, 3n), 4n))
      return G1.fromAffine({ x, y })
    } catch {}
  }
}

function curveG2 (i) {
  for (let j = 0; ; j++) {
    const x = Fp2.create({ c0: det(`g2/${i}/0`, j) % P, c1: det(`g2/${i}/1`, j) % P })
    try {
      const y = Fp2.sqrt(Fp2.add(Fp2.pow(x, 3n), Fp2.create({ c0: 4n, c1: 4n })))
      return G2.fromAffine({ x, y })
    } catch {}
  }
}

const agree = (pt, inG) => {
  const { x, y } = pt.toAffine()
  const want = pt.isTorsionFree()
  assert.equal(inG(x, y), want)
  return want
}

test('inG1 agrees with isTorsionFree', () => {
  let n = 0
  for (let i = 0; i < 16; i++) {
    assert.ok(agree(G1.BASE.multiply(det('k1', i) % (R - 1n) + 1n), inG1))
    const q = curveG1(i)
    assert.equal(agree(q, inG1), false)
    const t = q.multiplyUnsafe(R - 1n).add(q) // [r]Q: of the cofactor's order
    if (!t.is0()) {
      assert.equal(agree(t, inG1), false)
      assert.equal(agree(t.add(G1.BASE), inG1), false) // in the subgroup but for t
      n++
    }
  }
  // (0, ±2) has order 3
  assert.equal(inG1(0n, 2n), false)
  assert.equal(inG1(0n, P - 2n), false)
  assert.equal(G1.fromAffine({ x: 0n, y: 2n }).multiplyUnsafe(3n).is0(), true)
  assert.ok(n > 0)
})

test('the multiplication handles the exceptional cases of the addition', () => {
  // T = (0, 2) has order 3: [k]T passes through T + T, T + (−T) and the identity + T
  const T = G1.fromAffine({ x: 0n, y: 2n })
  for (let k = 1n; k <= 12n; k++) {
    const want = T.multiplyUnsafe(k)
    const got = mulG1(0n, 2n, k)
    if (want.is0()) assert.equal(got, null, `[${k}]T`)
    else assert.deepEqual(got, want.toAffine(), `[${k}]T`)
  }
  // and on points of the subgroup
  const G = G1.BASE.toAffine()
  for (const k of [1n, 2n, 3n, 5n, 0xd201000000010000n, R - 1n]) assert.deepEqual(mulG1(G.x, G.y, k), G1.BASE.multiplyUnsafe(k).toAffine())
  assert.equal(mulG1(G.x, G.y, R), null)
})

test('inG2 agrees with isTorsionFree', () => {
  let n = 0
  for (let i = 0; i < 12; i++) {
    assert.ok(agree(G2.BASE.multiply(det('k2', i) % (R - 1n) + 1n), inG2))
    const q = curveG2(i)
    assert.equal(agree(q, inG2), false)
    const t = q.multiplyUnsafe(R - 1n).add(q)
    if (!t.is0()) {
      assert.equal(agree(t, inG2), false)
      assert.equal(agree(t.add(G2.BASE), inG2), false)
      n++
    }
  }
  assert.ok(n > 0)
})

test('the decoders reject points outside the subgroups', () => {
  const q1 = curveG1(99)
  assert.throws(() => decodeG1(compress1(q1)), (e) => e.code === 'invalid_point')
  assert.throws(() => decodeG1(compress1(q1.add(G1.BASE))), (e) => e.code === 'invalid_point')
  assert.throws(() => decodeG1(compress1(G1.fromAffine({ x: 0n, y: 2n }))), (e) => e.code === 'invalid_point')
  assert.doesNotThrow(() => decodeG1(compress1(G1.BASE.multiply(7n))))
  const q2 = curveG2(99)
  assert.throws(() => decodeG2(compress2(q2)), (e) => e.code === 'invalid_point')
  assert.doesNotThrow(() => decodeG2(compress2(G2.BASE.multiply(7n))))
  // without the subgroup check (subgroup: false), the same bytes decode
  assert.doesNotThrow(() => decodeG1(compress1(q1), { subgroup: false }))
  assert.doesNotThrow(() => decodeG2(compress2(q2), { subgroup: false }))
})

// compressed encodings of points noble will not encode (outside the subgroup)
const HALF = (P - 1n) / 2n
function be (x, n) { const b = new Uint8Array(n); for (let i = n - 1; i >= 0; i--) { b[i] = Number(x & 0xffn); x >>= 8n } return b }
function compress1 (pt) {
  const { x, y } = pt.toAffine()
  const b = be(x, 48)
  b[0] |= y > HALF ? 0xa0 : 0x80
  return b
}
function compress2 (pt) {
  const { x, y } = pt.toAffine()
  const b = new Uint8Array(96)
  b.set(be(x.c1, 48), 0)
  b.set(be(x.c0, 48), 48)
  b[0] |= (y.c1 === 0n ? y.c0 > HALF : y.c1 > HALF) ? 0xa0 : 0x80
  return b
}
