// Point and scalar encodings of SPEC §2: compressed BLS12-381 points (G1 48 bytes,
// G2 96 bytes), strictly decoded (canonical coordinates, flag bits, on the curve, in the
// prime-order subgroup) with a per-field identity rule; scalars 32 bytes big-endian < r.
import { bls12_381 as bls } from '@noble/curves/bls12-381.js'
import { fail, INVALID_ENCODING } from './errors.js'

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
  if (x >= R) fail(INVALID_ENCODING, `${what}: not canonical (≥ r)`)
  return x
}

export function encodeScalar (x) { return bigToBytes(mod(x), 32) }

// lexicographically largest: y > (p−1)/2 (for Fp2: of c1, or of c0 when c1 = 0).
const HALF = (P - 1n) / 2n
function largestFp (y) { return y > HALF }
function largestFp2 (y) { return y.c1 === 0n ? largestFp(y.c0) : largestFp(y.c1) }

function parseFlags (b, len, what) {
  if (!(b instanceof Uint8Array) || b.length !== len) fail(INVALID_ENCODING, `${what}: want ${len} bytes`)
  const m = b[0]
  const compressed = (m & 0x80) !== 0
  const infinity = (m & 0x40) !== 0
  const largest = (m & 0x20) !== 0
  if (!compressed) fail(INVALID_ENCODING, `${what}: not compressed`)
  const body = b.slice()
  body[0] &= 0x1f
  if (infinity) {
    if (largest || body.some(v => v !== 0)) fail(INVALID_ENCODING, `${what}: non-canonical identity`)
  }
  return { infinity, largest, body }
}

/**
 * decodeG1 decodes a compressed G1 point: canonical x < p, on the curve, in the subgroup.
 * The identity is accepted only when allowIdentity (SPEC §2: only the witness w).
 */
export function decodeG1 (b, { allowIdentity = false, what = 'G1 point' } = {}) {
  const { infinity, largest, body } = parseFlags(b, 48, what)
  if (infinity) {
    if (!allowIdentity) fail(INVALID_ENCODING, `${what}: identity not allowed`)
    return G1.ZERO
  }
  const x = bytesToBig(body)
  if (x >= P) fail(INVALID_ENCODING, `${what}: x not canonical`)
  const y2 = Fp.add(Fp.pow(x, 3n), 4n)
  let y
  try { y = Fp.sqrt(y2) } catch { y = undefined }
  if (y === undefined || Fp.sqr(y) !== y2) fail(INVALID_ENCODING, `${what}: not on the curve`)
  if (largestFp(y) !== largest) y = Fp.neg(y)
  const pt = G1.fromAffine({ x, y })
  try { pt.assertValidity() } catch { fail(INVALID_ENCODING, `${what}: not on the curve`) }
  if (!pt.isTorsionFree()) fail(INVALID_ENCODING, `${what}: not in the subgroup`)
  return pt
}

/** decodeG2 decodes a compressed G2 point (x = x.c1 ‖ x.c0), with the rules of decodeG1. */
export function decodeG2 (b, { allowIdentity = false, what = 'G2 point' } = {}) {
  const { infinity, largest, body } = parseFlags(b, 96, what)
  if (infinity) {
    if (!allowIdentity) fail(INVALID_ENCODING, `${what}: identity not allowed`)
    return G2.ZERO
  }
  const c1 = bytesToBig(body.subarray(0, 48))
  const c0 = bytesToBig(body.subarray(48))
  if (c1 >= P || c0 >= P) fail(INVALID_ENCODING, `${what}: x not canonical`)
  const x = Fp2.create({ c0, c1 })
  const b2 = Fp2.create({ c0: 4n, c1: 4n })
  const y2 = Fp2.add(Fp2.pow(x, 3n), b2)
  let y
  try { y = Fp2.sqrt(y2) } catch { y = undefined }
  if (y === undefined || !Fp2.eql(Fp2.sqr(y), y2)) fail(INVALID_ENCODING, `${what}: not on the curve`)
  if (largestFp2(y) !== largest) y = Fp2.neg(y)
  const pt = G2.fromAffine({ x, y })
  try { pt.assertValidity() } catch { fail(INVALID_ENCODING, `${what}: not on the curve`) }
  if (!pt.isTorsionFree()) fail(INVALID_ENCODING, `${what}: not in the subgroup`)
  return pt
}

/** encodeG1 / encodeG2: compressed encodings (the identity as 0xc0 0…). */
export function encodeG1 (p) { return p.toBytes(true) }
export function encodeG2 (p) { return p.toBytes(true) }

/** mul multiplies a point by a scalar of Fr (any bigint, reduced; 0 gives the identity). */
export function mul (pt, k) {
  const s = mod(k)
  if (s === 0n) return pt.constructor.ZERO
  return pt.multiply(s)
}

/** msm returns Σ k_i·P_i (naive, n is small). */
export function msm (points, scalars, Zero) {
  let acc = Zero
  for (let i = 0; i < points.length; i++) acc = acc.add(mul(points[i], scalars[i]))
  return acc
}

/**
 * pairingCheck reports whether Π e(a_i, b_i) = 1 in GT. Pairs with an identity side
 * contribute 1 and are dropped (noble refuses to pair the identity).
 */
export function pairingCheck (pairs) {
  const live = pairs.filter(([a, b]) => !a.is0() && !b.is0())
  const gt = bls.pairingBatch(live.map(([g1, g2]) => ({ g1, g2 })))
  return Fp12.eql(gt, Fp12.ONE)
}

/** pairing returns e(a, b) (1 if a side is the identity). */
export function pairing (a, b) {
  if (a.is0() || b.is0()) return Fp12.ONE
  return bls.pairing(a, b)
}
