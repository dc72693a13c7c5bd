// Value semantics of SPEC §5.1: signed reading and display.
import { R } from './points.js'

const HALF = (R - 1n) / 2n

/** signed reads x ∈ [0, r) as x if x ≤ (r−1)/2, else x − r. */
export function signed (x) { return x <= HALF ? x : x - R }

/** display prints a signed integer v at scale s (§5.1). */
export function display (v, s) {
  s = Number(s)
  if (s === 0) return v.toString()
  const neg = v < 0n
  let d = (neg ? -v : v).toString()
  if (d.length < s + 1) d = '0'.repeat(s + 1 - d.length) + d
  return (neg ? '-' : '') + d.slice(0, d.length - s) + '.' + d.slice(d.length - s)
}
