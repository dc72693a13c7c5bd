// The CRS verifier key of SPEC §3–§4: g_1..g_n (and the prover's g_{n+2}..g_{2n}, kept for
// the structure check), ĝ_1..ĝ_n, Z = e(g_1, ĝ_n), and the prefix sums S_k = Σ_{i≤k} ĝ_{n+1−i}.
import { randomBytes } from '@noble/hashes/utils.js'
import { G1, G2, mul, bytesToBig, pairingCheck, pairing, decodeG1, decodeG2 } from './points.js'
import { H, concat, hex } from './hash.js'
import { equalBytes } from './cbor.js'
import { fail, INVALID_ENCODING, INVALID_CRS, CRS_MISMATCH } from './errors.js'

/** randomCoeff returns a fresh random 128-bit non-zero coefficient. */
export function randomCoeff () {
  let x = 0n
  while (x === 0n) x = bytesToBig(randomBytes(16))
  return x
}

/**
 * VerifierKey holds the CRS points the verifier needs, built once per CRS.
 * g[i] = g_i for i ∈ [1, 2n] \ {n+1} (g[0] = g), gh[i] = ĝ_i for i ∈ [0, n] (gh[0] = ĝ).
 */
export class VerifierKey {
  constructor (n, g, gh, digest) {
    this.n = n
    this.g = g
    this.gh = gh
    this.digest = digest
    this._Z = null
    // S[k] = Σ_{i≤k} ĝ_{n+1−i}, S[0] = O
    this.S = [G2.ZERO]
    for (let k = 1; k <= n; k++) this.S.push(this.S[k - 1].add(gh[n + 1 - k]))
  }

  /** Z = e(g_1, ĝ_n) (computed on first use; the verification equations use ĝ_n directly). */
  get Z () {
    if (this._Z === null) this._Z = pairing(this.g[1], this.gh[this.n])
    return this._Z
  }

  /** rangeW returns Ŵ for unit weights on rows [a, b] (1 ≤ a ≤ b ≤ n): S_b − S_{a−1}. */
  rangeW (a, b) {
    // the same object for the same rows: pairingCheck sums the G1 sides of pairs that
    // share a G2 object (the interior batches of a stream window: one Miller loop)
    const key = a * (this.n + 1) + b
    this.rw ??= new Map()
    let W = this.rw.get(key)
    if (W === undefined) {
      if (this.rw.size >= 4096) this.rw.clear()
      W = this.S[b].subtract(this.S[a - 1])
      this.rw.set(key, W)
    }
    return W
  }

  /** weightsW returns Ŵ = Σ_i w_i ĝ_{n+1−i} for w indexed 1..n (w[0] unused). */
  weightsW (w) {
    let acc = G2.ZERO
    for (let i = 1; i < w.length; i++) if (w[i] !== 0n) acc = acc.add(mul(this.gh[this.n + 1 - i], w[i]))
    return acc
  }

  /** weightsWG1 returns W = Σ_i w_i g_{n+1−i} ∈ G1 (openings of the G2 timestamp commitment). */
  weightsWG1 (w) {
    let acc = G1.ZERO
    for (let i = 1; i < w.length; i++) if (w[i] !== 0n) acc = acc.add(mul(this.g[this.n + 1 - i], w[i]))
    return acc
  }

  /**
   * checkStructure runs the random-linear-combination pairing check of §3:
   * e(g_{i+1}, ĝ) = e(g_i, ĝ_1) over consecutive existing indices (bridging the gap by
   * e(g_{n+2}, ĝ) = e(g_n, ĝ_2)) and e(g_i, ĝ) = e(g, ĝ_i) for i ∈ [1, n].
   */
  checkStructure () {
    const { n, g, gh } = this
    let A = G1.ZERO // paired with ĝ
    let B = G1.ZERO // paired with ĝ_1
    let Cc = G1.ZERO // paired with ĝ_2
    const pairs = []
    for (let i = 1; i < 2 * n; i++) {
      if (i === n || i === n + 1) continue
      const c = randomCoeff()
      A = A.add(mul(g[i + 1], c))
      B = B.add(mul(g[i], c))
    }
    if (n >= 2) {
      const c = randomCoeff()
      A = A.add(mul(g[n + 2], c))
      Cc = Cc.add(mul(g[n], c))
    }
    // e(g_i, ĝ) = e(g, ĝ_i): Σ c_i g_i paired with ĝ, g paired with −Σ c_i ĝ_i
    let Gh = G2.ZERO
    for (let i = 1; i <= n; i++) {
      const c = randomCoeff()
      A = A.add(mul(g[i], c))
      Gh = Gh.add(mul(gh[i], c))
    }
    pairs.push([A, gh[0]], [B.negate(), gh[1]], [g[0].negate(), Gh])
    if (n >= 2) pairs.push([Cc.negate(), gh[2]])
    return pairingCheck(pairs)
  }
}

/**
 * openingPairs returns the pairs of e(C, Ŵ) = e(π, ĝ)·Z^x, i.e.
 * PairingCheck([C, −π, −x·g_1], [Ŵ, ĝ, ĝ_n]).
 */
export function openingPairs (vk, C, W, proof, x) {
  return [[C, W], [proof.negate(), vk.gh[0]], [mul(vk.g[1], x).negate(), vk.gh[vk.n]]]
}

/**
 * timeOpeningPairs returns the pairs of e(W, Ĉ) = e(π̂, ĝ)·Z^x (opening of the G2
 * timestamp commitment, W ∈ G1).
 */
export function timeOpeningPairs (vk, Wg1, Chat, proof, x) {
  return [[Wg1, Chat], [proof.negate(), vk.gh[0]], [mul(vk.g[1], x).negate(), vk.gh[vk.n]]]
}

/** scalePairs multiplies every G1 side by c (merging equations with random coefficients). */
export function scalePairs (pairs, c) {
  return pairs.map(([a, b]) => [mul(a, c), b])
}

/** checkMerged checks several equations (each a list of pairs = 1) in one multi-pairing. */
export function checkMerged (equations) {
  const all = []
  equations.forEach((eq, i) => all.push(...(i === 0 ? eq : scalePairs(eq, randomCoeff()))))
  return pairingCheck(all)
}

const MAGIC = 'vds-crs\n'
export const MAX_N = 1 << 20

/**
 * loadCRS parses a CRS file (§3.2), checks its digest, every point (curve, subgroup unless
 * the digest is pinned and matches), and the structure (§3, always), and returns the
 * VerifierKey. pinned: optional 32-byte digest the file must carry (crs_mismatch).
 */
export function loadCRS (file, { pinned = null, maxN = MAX_N } = {}) {
  if (!(file instanceof Uint8Array) || file.length < 48) fail(INVALID_ENCODING, 'crs: too short')
  for (let i = 0; i < 8; i++) if (file[i] !== MAGIC.charCodeAt(i)) fail(INVALID_ENCODING, 'crs: bad magic')
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength)
  if (dv.getUint32(8) !== 1) fail(INVALID_ENCODING, 'crs: bad version')
  const n = dv.getUint32(12)
  if (n < 1 || n > maxN) fail(INVALID_ENCODING, 'crs: n out of range')
  const digest = file.slice(16, 48)
  if (pinned && !equalBytes(pinned, digest)) fail(CRS_MISMATCH, 'crs: digest differs from the pinned one')
  if (file.length !== 48 + 48 * (2 * n - 1) + 96 * n) fail(INVALID_ENCODING, 'crs: wrong length')
  const body = concat(file.subarray(8, 16), file.subarray(48))
  if (!equalBytes(H('vds/v1/crs', body), digest)) fail(INVALID_ENCODING, 'crs: digest mismatch')
  const subgroup = !pinned
  let o = 48
  const g = [G1.BASE]
  for (let i = 1; i <= 2 * n; i++) {
    if (i === n + 1) { g.push(null); continue }
    g.push(decodeG1(file.subarray(o, o + 48), { mode: 'crs', subgroup, what: `crs g_${i}` }))
    o += 48
  }
  const gh = [G2.BASE]
  for (let i = 1; i <= n; i++) {
    gh.push(decodeG2(file.subarray(o, o + 96), { mode: 'crs', subgroup, what: `crs ĝ_${i}` }))
    o += 96
  }
  const vk = new VerifierKey(n, g, gh, digest)
  const seen = new Set()
  for (let i = 0; i <= n; i++) {
    const k = hex(g[i].toBytes(true))
    if (seen.has(k)) fail(INVALID_CRS, 'crs: g, g_1…g_n not pairwise distinct')
    seen.add(k)
  }
  if (!vk.checkStructure()) fail(INVALID_CRS, 'crs: structure check failed')
  return vk
}
