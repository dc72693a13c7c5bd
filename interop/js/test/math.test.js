// Unit tests of the pairing equations on a toy CRS whose trapdoor the test knows (n = 4).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { G1, G2, mul, mod, pairingCheck } from '../src/points.js'
import { VerifierKey, openingPairs, timeOpeningPairs, checkMerged } from '../src/crs.js'
import { witnessPairs, chainPairs } from '../src/accumulator.js'

const n = 4
const alpha = 0x1234567890abcdefn
function toyKey (brokenAt = 0) {
  const g = [G1.BASE]; const gh = [G2.BASE]
  for (let i = 1; i <= 2 * n; i++) {
    let e = 1n; for (let k = 0; k < i; k++) e = mod(e * alpha)
    if (i === brokenAt) e = mod(e + 1n)
    g.push(i === n + 1 ? null : mul(G1.BASE, e))
    if (i <= n) gh.push(mul(G2.BASE, e))
  }
  return new VerifierKey(n, g, gh, new Uint8Array(32))
}
const vk = toyKey()
const m = [0n, 5n, mod(-7n), 11n, 0n] // m[1..n]
const gamma = 99n
const C = [1, 2, 3, 4].reduce((acc, j) => acc.add(mul(vk.g[j], m[j])), mul(G1.BASE, gamma))
function openPoint (i) {
  let p = mul(vk.g[n + 1 - i], gamma)
  for (let j = 1; j <= n; j++) if (j !== i && m[j] !== 0n) p = p.add(mul(vk.g[n + 1 - i + j], m[j]))
  return p
}

test('point and range openings verify, tampered values do not', () => {
  for (let i = 1; i <= n; i++) {
    assert.ok(pairingCheck(openingPairs(vk, C, vk.rangeW(i, i), openPoint(i), m[i])), `row ${i}`)
    assert.ok(!pairingCheck(openingPairs(vk, C, vk.rangeW(i, i), openPoint(i), m[i] + 1n)))
  }
  const pr = openPoint(1).add(openPoint(2)).add(openPoint(3))
  assert.ok(pairingCheck(openingPairs(vk, C, vk.rangeW(1, 3), pr, mod(m[1] + m[2] + m[3]))))
  const w = [0n, 3n, 0n, mod(-2n), 1n]
  const pw = mul(openPoint(1), 3n).add(mul(openPoint(3), mod(-2n))).add(openPoint(4))
  const x = mod(3n * m[1] - 2n * m[3] + m[4])
  assert.ok(checkMerged([openingPairs(vk, C, vk.weightsW(w), pw, x), openingPairs(vk, C, vk.rangeW(2, 2), openPoint(2), m[2])]))
  assert.ok(!checkMerged([openingPairs(vk, C, vk.weightsW(w), pw, x), openingPairs(vk, C, vk.rangeW(2, 2), openPoint(2), m[1])]))
})

test('G2 timestamp opening verifies with W in G1', () => {
  const t = [0n, 100n, 200n, 300n, 0n]; const gp = 7n
  const Ch = [1, 2, 3].reduce((acc, j) => acc.add(mul(vk.gh[j], t[j])), mul(G2.BASE, gp))
  let p = mul(vk.g[n + 1 - 2], gp)
  for (let j = 1; j <= n; j++) if (j !== 2 && t[j] !== 0n) p = p.add(mul(vk.g[n + 1 - 2 + j], t[j]))
  const W = vk.weightsWG1([0n, 0n, 1n, 0n, 0n])
  assert.ok(pairingCheck(timeOpeningPairs(vk, W, Ch, p, 200n)))
  assert.ok(!pairingCheck(timeOpeningPairs(vk, W, Ch, p, 201n)))
})

test('CRS structure check', () => {
  assert.ok(vk.checkStructure())
  assert.ok(!toyKey(3).checkStructure())
  assert.ok(!toyKey(n + 2).checkStructure())
  assert.ok(!toyKey(2 * n).checkStructure())
})

test('accumulator witness and chain', () => {
  const s = 777n; const gs = mul(G2.BASE, s)
  const x1 = 31337n; const f0 = G1.BASE; const f1 = mul(f0, x1 + s)
  assert.ok(pairingCheck(chainPairs(vk, gs, f0, f1, x1)))
  assert.ok(!pairingCheck(chainPairs(vk, gs, f0, f1, x1 + 1n)))
  // witness at epoch 1 for y: w = f0 + (x1 − y)·w0 with (w0, u0) = (O, −1): w = f0, u = −(x1 − y)
  const y = 4242n; const w = f0; const u = mod(-(x1 - y))
  assert.ok(pairingCheck(witnessPairs(vk, gs, f1, y, w, u)))
  assert.ok(!pairingCheck(witnessPairs(vk, gs, f1, y + 1n, w, u)))
  // epoch 0: (O, −1)
  assert.ok(pairingCheck(witnessPairs(vk, gs, f0, y, G1.ZERO, mod(-1n))))
})

import { loadCRS } from '../src/crs.js'
import { H, concat, u32 } from '../src/hash.js'

function crsFile (key) {
  const parts = [u32(1), u32(key.n)]
  for (let i = 1; i <= 2 * key.n; i++) if (i !== key.n + 1) parts.push(key.g[i].toBytes(true))
  for (let i = 1; i <= key.n; i++) parts.push(key.gh[i].toBytes(true))
  const body = concat(...parts)
  return concat('vds-crs\n', body.subarray(0, 8), H('vds/v1/crs', body), body.subarray(8))
}

test('CRS file: load, digest, structure, tampering', () => {
  const f = crsFile(vk)
  const k = loadCRS(f)
  assert.equal(k.n, n)
  assert.ok(k.g[3].equals(vk.g[3]))
  const code = (fn) => { try { fn(); return 'ok' } catch (e) { return e.code } }
  const t = f.slice(); t[60] ^= 1
  assert.equal(code(() => loadCRS(t)), 'invalid_encoding') // digest
  assert.equal(code(() => loadCRS(crsFile(toyKey(2)))), 'invalid_crs')
  assert.equal(code(() => loadCRS(f, { pinned: new Uint8Array(32) })), 'crs_mismatch')
  assert.equal(code(() => loadCRS(f.subarray(0, f.length - 1))), 'invalid_encoding')
})

import { pairing, Fp12 } from '../src/points.js'

test('Z = e(g_1, ĝ_n): the opening equation in GT form e(C, Ŵ) = e(π, ĝ)·Z^x', () => {
  assert.ok(Fp12.eql(vk.Z, pairing(vk.g[1], vk.gh[n])))
  const i = 2
  const lhs = pairing(C, vk.rangeW(i, i))
  const rhs = Fp12.mul(pairing(openPoint(i), G2.BASE), Fp12.pow(vk.Z, m[i]))
  assert.ok(Fp12.eql(lhs, rhs))
  assert.ok(!Fp12.eql(lhs, Fp12.mul(pairing(openPoint(i), G2.BASE), Fp12.pow(vk.Z, m[i] + 1n))))
})
