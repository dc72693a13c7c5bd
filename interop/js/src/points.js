// Point and scalar encodings of SPEC §2: compressed BLS12-381 points (G1 48 bytes,
// G2 96 bytes), strictly decoded (canonical coordinates, flag bits, on the curve, in the
// prime-order subgroup) with a per-field identity rule; scalars 32 bytes big-endian < r.
import { bytesToHex } from '@noble/hashes/utils.js'
import { bls12_381 as bls } from '@noble/curves/bls12-381.js'
import { pippenger } from '@noble/curves/abstract/curve.js'
import { inG1, inG2 } from './subgroup.js'
import { fail, INVALID_ENCODING, NON_CANONICAL, IDENTITY, INVALID_POINT } from './errors.js'

export const G1 = bls.G1.Point
export const G2 = bls.G2.Point
export const Fp = bls.fields.Fp
export const Fp2 = bls.fields.Fp2
export const Fp12 = bls.fields.Fp12
/** R is the order r of the scalar field Fr. */
export const R = bls.fields.Fr.ORDER
const P = Fp.ORDER

/** mod reduces a bigint into [0, r). */
export function mod (a) {
  const x = a % R
  return x < 0n ? x + R : x
}

export function bytesToBig (b) {
  let x = 0n
  for (const v of b) x = (x << 8n) | BigInt(v)
  return x
}

export function bigToBytes (x, len) {
  const out = new Uint8Array(len)
  for (let i = len - 1; i >= 0; i--) { out[i] = Number(x & 0xffn); x >>= 8n }
  if (x !== 0n) throw new Error('bigToBytes: value too large')
  return out
}

/** decodeScalar reads a canonical 32-byte big-endian element of Fr (rejects ≥ r). */
export function decodeScalar (b, what = 'scalar') {
  if (!(b instanceof Uint8Array) || b.length !== 32) fail(INVALID_ENCODING, `${what}: want 32 bytes`)
  const x = bytesToBig(b)
  if (x >= R) fail(NON_CANONICAL, `${what}: not canonical (≥ r)`)
  return x
}

export function encodeScalar (x) { return bigToBytes(mod(x), 32) }

// lexicographically largest: y > (p−1)/2 (for Fp2: of c1, or of c0 when c1 = 0).
const HALF = (P - 1n) / 2n
function largestFp (y) { return y > HALF }
function largestFp2 (y) { return y.c1 === 0n ? largestFp(y.c0) : largestFp(y.c1) }

// compressG1 / compressG2 encode affine coordinates (§2.3: x big-endian, x_1 ‖ x_0 for
// G2, flags 100 or 101 by the sign of y). noble's toBytes would do the same after
// assertValidity, whose subgroup check is the most expensive part of a decode: the
// decoders have done it already and must not pay for it twice.
function compressG1 (x, y) {
  const b = bigToBytes(x, 48)
  b[0] |= largestFp(y) ? 0xa0 : 0x80
  return b
}
function compressG2 (x, y) {
  const b = new Uint8Array(96)
  b.set(bigToBytes(x.c1, 48), 0)
  b.set(bigToBytes(x.c0, 48), 48)
  b[0] |= largestFp2(y) ? 0xa0 : 0x80
  return b
}

// Decoding is a pure function of the bytes and the options: successful decodes are
// remembered (bounded), so points repeated across messages are checked once.
const cache = new Map()
function memo (group, b, opts, fn) {
  if (!(b instanceof Uint8Array)) return fn(b, opts)
  const key = `${group}${opts.mode || 'wire'}${opts.subgroup === false ? 0 : 1}${bytesToHex(b)}`
  const hit = cache.get(key)
  if (hit) return hit
  const pt = fn(b, opts)
  if (cache.size > 16384) cache.clear()
  cache.set(key, pt)
  return pt
}

// parseFlags applies the checks of §2.3 up to the flags. mode 'wire': flags other than
// 100/101 are identity (0xc0, where forbidden) / non_canonical (0xc0 where allowed: the
// identity travels only under its own tag) / invalid_encoding; mode 'crs' (§3.2): byte 0 &
// 0xc0 must be 0x80 (0xc0 is identity, else invalid_encoding) and x ≥ p is invalid_point.
function parseFlags (b, len, what, mode, allowIdentity) {
  if (!(b instanceof Uint8Array) || b.length !== len) fail(INVALID_ENCODING, `${what}: want ${len} bytes`)
  const m = b[0]
  if (mode === 'crs') {
    if ((m & 0xc0) === 0xc0) fail(IDENTITY, `${what}: identity`)
    if ((m & 0xc0) !== 0x80) fail(INVALID_ENCODING, `${what}: bad flags`)
  } else {
    const f = m & 0xe0
    if (f === 0xc0) fail(allowIdentity ? NON_CANONICAL : IDENTITY, `${what}: identity as point bytes`)
    if (f !== 0x80 && f !== 0xa0) fail(INVALID_ENCODING, `${what}: bad flags`)
  }
  const body = Uint8Array.from(b)
  body[0] &= 0x1f
  return { largest: (m & 0x20) !== 0, body, xcode: mode === 'crs' ? INVALID_POINT : NON_CANONICAL }
}

/**
 * decodeG1 decodes a compressed non-identity G1 point (§2.3): canonical x < p, on the
 * curve, in the subgroup, re-encoding equal to the bytes. Options: mode 'wire' | 'crs',
 * allowIdentity (only changes the error code of identity bytes: the identity itself
 * travels under its own CBOR tag), subgroup = false to skip the subgroup check.
 */
export function decodeG1 (b, opts = {}) { return memo('1', b, opts, decodeG1Uncached) }

function decodeG1Uncached (b, { what = 'G1 point', mode = 'wire', allowIdentity = false, subgroup = true } = {}) {
  const { largest, body, xcode } = parseFlags(b, 48, what, mode, allowIdentity)
  const x = bytesToBig(body)
  if (x >= P) fail(xcode, `${what}: x ≥ p`)
  const y2 = Fp.add(Fp.pow(x, 3n), 4n)
  let y
  try { y = Fp.sqrt(y2) } catch { y = undefined }
  if (y === undefined || Fp.sqr(y) !== y2) fail(INVALID_POINT, `${what}: not on the curve`)
  if (largestFp(y) !== largest) y = Fp.neg(y)
  // on the curve by construction (y² = x³ + 4 was checked above)
  if (subgroup && !inG1(x, y)) fail(INVALID_POINT, `${what}: not in the subgroup`)
  const pt = G1.fromAffine({ x, y })
  if (mode !== 'crs' && !equalBytes(compressG1(x, y), b)) fail(NON_CANONICAL, `${what}: re-encoding differs`)
  return pt
}

/** decodeG2 decodes a compressed G2 point (x = x_1 ‖ x_0), with the rules of decodeG1. */
export function decodeG2 (b, opts = {}) { return memo('2', b, opts, decodeG2Uncached) }

function decodeG2Uncached (b, { what = 'G2 point', mode = 'wire', allowIdentity = false, subgroup = true } = {}) {
  const { largest, body, xcode } = parseFlags(b, 96, what, mode, allowIdentity)
  const c1 = bytesToBig(body.subarray(0, 48))
  const c0 = bytesToBig(body.subarray(48))
  if (c1 >= P || c0 >= P) fail(xcode, `${what}: x ≥ p`)
  const x = Fp2.create({ c0, c1 })
  const b2 = Fp2.create({ c0: 4n, c1: 4n })
  const y2 = Fp2.add(Fp2.pow(x, 3n), b2)
  let y
  try { y = Fp2.sqrt(y2) } catch { y = undefined }
  if (y === undefined || !Fp2.eql(Fp2.sqr(y), y2)) fail(INVALID_POINT, `${what}: not on the curve`)
  if (largestFp2(y) !== largest) y = Fp2.neg(y)
  // on the curve by construction (y² = x³ + 4(1 + u) was checked above)
  if (subgroup && !inG2(x, y)) fail(INVALID_POINT, `${what}: not in the subgroup`)
  const pt = G2.fromAffine({ x, y })
  if (mode !== 'crs' && !equalBytes(compressG2(x, y), b)) fail(NON_CANONICAL, `${what}: re-encoding differs`)
  return pt
}

function equalBytes (a, b) {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** encodeG1 / encodeG2: compressed encodings (the identity as 0xc0 0…). */
export function encodeG1 (p) { return p.toBytes(true) }
export function encodeG2 (p) { return p.toBytes(true) }

/** mul multiplies a point by a scalar of Fr (any bigint, reduced; 0 gives the identity). */
export function mul (pt, k) {
  const s = mod(k)
  if (s === 0n || pt.is0()) return pt.constructor.ZERO
  return pt.multiplyUnsafe(s) // public inputs only: no constant-time need
}

/** msm returns Σ k_i·P_i (Pippenger's method; one or two points: plain multiplications). */
export function msm (points, scalars, Zero) {
  if (points.length <= 2) {
    let acc = Zero
    for (let i = 0; i < points.length; i++) acc = acc.add(mul(points[i], scalars[i]))
    return acc
  }
  return pippenger(Zero.constructor, points, scalars.map(mod))
}

/**
 * pairingCheck reports whether Π e(a_i, b_i) = 1 in GT. Pairs with an identity side
 * contribute 1 and are dropped (noble refuses to pair the identity).
 */
export function pairingCheck (pairs) {
  // pairs sharing the same G2 object (ĝ, ĝ_n, …) are summed in G1 first: one Miller loop each
  const byG2 = new Map()
  for (const [a, b] of pairs) byG2.set(b, byG2.has(b) ? byG2.get(b).add(a) : a)
  const live = [...byG2].map(([b, a]) => [a, b]).filter(([a, b]) => !a.is0() && !b.is0())
  const gt = bls.pairingBatch(live.map(([g1, g2]) => ({ g1, g2 })))
  return Fp12.eql(gt, Fp12.ONE)
}

/** pairing returns e(a, b) (1 if a side is the identity). */
export function pairing (a, b) {
  if (a.is0() || b.is0()) return Fp12.ONE
  return bls.pairing(a, b)
}
