// Bilinear-map accumulator of SPEC §6: non-membership witnesses and the state chain.
import { G1, mul, mod, msm } from './points.js'
import { randomCoeff } from './crs.js'

/**
 * witnessPairs returns the pairs of e(w, y·ĝ + ĝ^s) = e(f + u·g, ĝ), written as
 * e(y·w − f − u·g, ĝ)·e(w, ĝ^s) = 1: both G2 sides are the same for every batch, so the
 * witnesses of many batches merge into two Miller loops. The caller must have checked
 * u ≠ 0 (mandatory: for a revoked y, u = 0 satisfies the equation).
 */
export function witnessPairs (vk, gs, f, y, w, u) {
  const lhs = mul(w, y).subtract(f).subtract(mul(G1.BASE, u))
  return [[lhs, vk.gh[0]], [w, gs]]
}

/**
 * mergedWitnessPairs is the equations of witnessPairs for several batches at the same f,
 * each with a fresh random coefficient c_i, summed into two pairs: e(A, ĝ)·e(B, ĝ^s) = 1
 * with A = Σ c_i·y_i·w_i − (Σ c_i)·f − (Σ c_i·u_i)·g and B = Σ c_i·w_i (two multi-scalar
 * multiplications). items: [{y, w, u}], each u ≠ 0 checked by the caller.
 */
export function mergedWitnessPairs (vk, gs, f, items) {
  const cs = items.map(() => randomCoeff())
  let sc = 0n
  let su = 0n
  items.forEach(({ u }, i) => { sc = mod(sc + cs[i]); su = mod(su + cs[i] * u) })
  const ws = items.map(it => it.w)
  const A = msm(ws, items.map(({ y }, i) => mod(cs[i] * y)), G1.ZERO).subtract(mul(f, sc)).subtract(mul(G1.BASE, su))
  const B = msm(ws, cs, G1.ZERO)
  return [[A, vk.gh[0]], [B, gs]]
}

/** chainPairs returns the pairs of e(f_E, ĝ) = e(f_{E−1}, ĝ^{x_E}·ĝ^s). */
export function chainPairs (vk, gs, fPrev, f, x) {
  const X = mod(x) === 0n ? gs : vk.gh[0].multiply(mod(x)).add(gs)
  return [[f, vk.gh[0]], [fPrev.negate(), X]]
}
