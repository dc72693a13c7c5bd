// Bilinear-map accumulator of SPEC §6: non-membership witnesses and the state chain.
import { G1, mul, mod } from './points.js'

/**
 * witnessPairs returns the pairs of e(w, y·ĝ + ĝ^s) = e(f + u·g, ĝ); the caller must have
 * checked u ≠ 0 (mandatory: for a revoked y, u = 0 satisfies the equation).
 */
export function witnessPairs (vk, gs, f, y, w, u) {
  const left = vk.gh[0].multiply(mod(y) === 0n ? 1n : mod(y)) // y = 0 has negligible probability
  const Y = mod(y) === 0n ? gs : left.add(gs)
  const rhs = f.add(mul(G1.BASE, u))
  return [[w, Y], [rhs.negate(), vk.gh[0]]]
}

/** chainPairs returns the pairs of e(f_E, ĝ) = e(f_{E−1}, ĝ^{x_E}·ĝ^s). */
export function chainPairs (vk, gs, fPrev, f, x) {
  const X = mod(x) === 0n ? gs : vk.gh[0].multiply(mod(x)).add(gs)
  return [[f, vk.gh[0]], [fPrev.negate(), X]]
}
