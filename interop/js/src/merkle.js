// Merkle trees of SPEC §11.2–§11.3: RFC 6962 §2.1 shape (split at the largest power of two
// below the size), node = H("vds/v1/merkle-node", left, right), empty root
// H("vds/v1/merkle-empty"). Range proofs list the roots of the maximal subtrees outside the
// known leaves, left to right.
import { H } from './hash.js'
import { fail, INCOMPLETE } from './errors.js'

function split (size) {
  let k = 1
  while (k * 2 < size) k *= 2
  return k
}

export function nodeHash (l, r) { return H('vds/v1/merkle-node', l, r) }
export function emptyRoot () { return H('vds/v1/merkle-empty') }

/** root computes the Merkle tree hash of the leaf hashes. */
export function root (leaves) {
  if (leaves.length === 0) return emptyRoot()
  const rec = (lo, hi) => {
    if (hi - lo === 1) return leaves[lo]
    const k = split(hi - lo)
    return nodeHash(rec(lo, lo + k), rec(lo + k, hi))
  }
  return rec(0, leaves.length)
}

/**
 * rangeRoot recomputes the root of a tree of `size` leaves from the consecutive leaf hashes
 * `leaves` at positions [first, first + leaves.length) and the proof hashes (roots of the
 * maximal subtrees outside the range, left to right). Every proof hash must be used.
 */
export function rangeRoot (size, first, leaves, proof, code = INCOMPLETE) {
  const last = first + leaves.length
  if (size === 0) {
    if (leaves.length !== 0 || proof.length !== 0) fail(code, 'merkle: proof for an empty tree')
    return emptyRoot()
  }
  if (first < 0 || leaves.length === 0 || last > size) fail(code, 'merkle: range outside the tree')
  let next = 0
  const rec = (lo, hi) => {
    if (hi <= first || lo >= last) {
      if (next >= proof.length) fail(code, 'merkle: proof too short')
      return proof[next++]
    }
    if (hi - lo === 1) return leaves[lo - first]
    const k = split(hi - lo)
    const l = rec(lo, lo + k)
    const r = rec(lo + k, hi)
    return nodeHash(l, r)
  }
  const r = rec(0, size)
  if (next !== proof.length) fail(code, 'merkle: proof too long')
  return r
}
