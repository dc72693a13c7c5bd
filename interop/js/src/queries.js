// Batch queries and answers of SPEC §7: point, range, weighted, time window, audit.
import { HFr, HFrK, u64, hex, concat } from './hash.js'
import { equalBytes } from './cbor.js'
import { mod, mul, G1, encodeScalar } from './points.js'
import { openingPairs, timeOpeningPairs, checkMerged } from './crs.js'
import { witnessPairs } from './accumulator.js'
import { checkSignedHeader } from './header.js'
import { signed, display } from './values.js'
import { fail, BAD_PROOF, INVALID_INPUT, REVOKED, WRONG_CHALLENGE } from './errors.js'

export const KIND = { point: 1, range: 2, weighted: 3, window: 4, audit: 5 }
const METHOD_KINDS = {
  verify_dc_query: [1, 2, 3],
  verify_da_audit: [5],
  verify_time_proofs: [4]
}
const TWO64 = 1n << 64n
const KIND_FIELDS = { 1: ['row'], 2: ['from', 'to'], 3: ['w'], 4: ['tfrom', 'tto'], 5: ['nonce'] }
const ALL_FIELDS = ['row', 'from', 'to', 'w', 'tfrom', 'tto', 'nonce']

/**
 * witnessEquation returns the non-membership equation of batch D at accumulator value f:
 * u ≠ 0 (else revoked) and e(w, y·ĝ + ĝ^s) = e(f + u·g, ĝ), y = HFr("vds/v1/acc", D).
 */
export function witnessEquation (cfg, f, D, wit) {
  if (wit.u === 0n) fail(REVOKED, 'witness with u = 0')
  return witnessPairs(cfg.vk, cfg.acc, f, HFr('vds/v1/acc', D), wit.w, wit.u)
}

/** columnCoefficients: (ρ_1…ρ_k) = HFr("vds/v1/cols", context, fr(x_1)…fr(x_k); k) (§7.2). */
export function columnCoefficients (context, xs) {
  return HFrK(xs.length, 'vds/v1/cols', context, ...xs.map(encodeScalar))
}

/** boundaryRows returns the boundary rows {i0−1, i0, i1, i1+1} ∩ [1, L], increasing. */
export function boundaryRows (i0, i1, L) {
  return [...new Set([i0 - 1n, i0, i1, i1 + 1n])].filter(r => r >= 1n && r <= L).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

/**
 * boundaryOpening runs the window checks of §12.3 step 8 on (i0, i1, t) against the header
 * and [tfrom, tto] (all bad_proof) and returns the G1 side W and x̂ of the boundary opening.
 */
export function boundaryOpening (cfg, D, h, i0, i1, ts, tfrom, tto) {
  const L = h.rows
  if (i0 < 1n || i0 > L + 1n) fail(BAD_PROOF, 'window: i0 outside [1, L+1]')
  if (!(i1 === i0 - 1n || (i0 <= i1 && i1 <= L))) fail(BAD_PROOF, 'window: i1')
  const rows = boundaryRows(i0, i1, L)
  if (ts.length !== rows.length) fail(BAD_PROOF, 'window: one timestamp per boundary row')
  const at = new Map(rows.map((r, j) => [r, ts[j]]))
  for (const [r, t] of at) {
    if (r === 1n && t !== h.t0) fail(BAD_PROOF, 'window: row 1 is not the header t0')
    if (r === L && t !== h.t1) fail(BAD_PROOF, 'window: row L is not the header t1')
    if (t < h.t0 || t > h.t1) fail(BAD_PROOF, 'window: timestamp outside [t0, t1]')
  }
  for (let j = 1; j < ts.length; j++) if (ts[j] <= ts[j - 1]) fail(BAD_PROOF, 'window: timestamps not increasing')
  if (i0 - 1n >= 1n && !(at.get(i0 - 1n) < tfrom)) fail(BAD_PROOF, 'window: row before the window is inside it')
  if (i1 + 1n <= L && !(at.get(i1 + 1n) > tto)) fail(BAD_PROOF, 'window: row after the window is inside it')
  if (i1 >= i0 && !(at.get(i0) >= tfrom && at.get(i1) <= tto)) fail(BAD_PROOF, 'window: selected rows outside the window')
  const sigma = HFrK(rows.length, 'vds/v1/tw', D, ...rows.map(u64), ...ts.map(u64))
  let W = G1.ZERO
  let xh = 0n
  rows.forEach((r, j) => {
    W = W.add(mul(cfg.vk.g[cfg.vk.n + 1 - Number(r)], sigma[j]))
    xh = mod(xh + sigma[j] * ts[j])
  })
  return { W, xh, rows }
}

/** columnIndexes maps query column names to header columns (1..k, present, unrepeated). */
export function columnIndexes (h, cols, maxCols = Infinity) {
  if (cols.length < 1 || cols.length > Math.min(h.cols.length, maxCols)) fail(INVALID_INPUT, 'query: number of columns')
  const idx = cols.map(name => {
    const i = h.cols.findIndex(c => c.name === name)
    if (i < 0) fail(INVALID_INPUT, `query: no column ${name}`)
    return i
  })
  if (new Set(idx).size !== idx.length) fail(INVALID_INPUT, 'query: repeated column')
  return idx
}

/** combined returns C* = Σ_c ρ_c·C_col(c) and x* = Σ_c ρ_c·x_c. */
export function combined (h, idx, rho, xs) {
  let C = G1.ZERO
  let x = 0n
  idx.forEach((ci, j) => { C = C.add(mul(h.c[ci], rho[j])); x = mod(x + rho[j] * xs[j]) })
  return { C, x }
}

function sameNonceAudits (q, aq) {
  return Number(q.kind) === KIND.audit && Number(aq.kind) === KIND.audit && !equalBytes(q.nonce ?? new Uint8Array(0), aq.nonce ?? new Uint8Array(0))
}

/**
 * verifyAnswer verifies one VerifyRequest for a method at the held state (§12.3) and
 * returns the result object (the verifier service's VerifyResult as JSON).
 */
export function verifyAnswer (cfg, holder, req, method) {
  const { res, equations } = prepareAnswer(cfg, holder, req, method)
  if (!checkMerged(equations)) fail(BAD_PROOF, 'answer: pairing equations do not hold')
  return res
}

/**
 * prepareAnswer runs §12.3 steps 1–10 and returns the result and the answer's pairing
 * equations (step 11 is the caller's: alone, or merged with other answers as in §12.5).
 */
export function prepareAnswer (cfg, holder, req, method) {
  const { q, ans } = req
  const kind = Number(q.kind)
  if (!METHOD_KINDS[method] || !METHOD_KINDS[method].includes(kind)) fail(INVALID_INPUT, `kind ${kind} at ${method}`)
  // 1. the answer is for the query asked
  if (!equalBytes(q.raw, ans.q.raw)) {
    if (sameNonceAudits(q, ans.q)) fail(WRONG_CHALLENGE, 'answer for another audit nonce')
    fail(BAD_PROOF, 'answer for another query')
  }
  // 2. header
  const D = checkSignedHeader(cfg, ans.hdr)
  const h = ans.hdr.h
  const L = h.rows
  if (!equalBytes(q.batch, D)) fail(BAD_PROOF, 'answer: header is not the queried batch')
  // 3. query shape, then the columns
  for (const f of ALL_FIELDS) if (!KIND_FIELDS[kind].includes(f) && q[f] !== undefined) fail(INVALID_INPUT, `query: field ${f} for kind ${kind}`)
  let wVec = null
  let W = null
  switch (kind) {
    case KIND.point:
      if (q.row === undefined || q.row < 1n || q.row > L) fail(INVALID_INPUT, 'query: row outside [1, L]')
      W = cfg.vk.rangeW(Number(q.row), Number(q.row))
      break
    case KIND.range:
      if (q.from === undefined || q.to === undefined || q.from < 1n || q.from > q.to || q.to > L) fail(INVALID_INPUT, 'query: range')
      W = cfg.vk.rangeW(Number(q.from), Number(q.to))
      break
    case KIND.weighted: {
      const w = q.w ?? []
      if (w.length < 1 || BigInt(w.length) > L) fail(INVALID_INPUT, 'query: number of weights')
      if (w.some(x => !(x < TWO64 || x > mod(-TWO64)))) fail(INVALID_INPUT, 'query: weight above 2^64')
      if (w.every(x => x === 0n)) fail(INVALID_INPUT, 'query: all weights zero')
      wVec = [0n, ...w]
      break
    }
    case KIND.window:
      if ((q.tfrom ?? 0n) > (q.tto ?? 0n)) fail(INVALID_INPUT, 'query: tfrom > tto')
      break
    case KIND.audit: {
      const nonce = q.nonce ?? new Uint8Array(0)
      if (nonce.length < 1 || nonce.length > cfg.limits.max_nonce_len) fail(INVALID_INPUT, 'query: nonce length')
      break
    }
  }
  const idx = columnIndexes(h, q.cols, cfg.limits.max_columns)
  // 4. one value per column
  if (ans.x.length !== q.cols.length) fail(BAD_PROOF, 'answer: one value per queried column')
  // 5. the state, 6. the witness
  const st = holder.stateFor(ans.epoch, hex(D))
  const equations = [witnessEquation(cfg, st.s.f, D, ans.wit)]
  // 8. window / other kinds
  let context = concat(D, q.raw)
  let empty = false
  if (kind === KIND.window) {
    if (ans.tw === undefined) fail(BAD_PROOF, 'answer: no window proof')
    const tw = ans.tw
    const { W: Wg1, xh } = boundaryOpening(cfg, D, h, tw.i0, tw.i1, tw.t, q.tfrom ?? 0n, q.tto ?? 0n)
    equations.push(timeOpeningPairs(cfg.vk, Wg1, h.tc, tw.pi, xh))
    if (tw.i1 === tw.i0 - 1n) {
      if (ans.pi !== undefined) fail(BAD_PROOF, 'answer: column proof for an empty window')
      if (ans.x.some(x => x !== 0n)) fail(BAD_PROOF, 'answer: non-zero value for an empty window')
      empty = true
    } else {
      W = cfg.vk.rangeW(Number(tw.i0), Number(tw.i1))
    }
    context = concat(context, u64(tw.i0), u64(tw.i1))
  } else {
    if (ans.tw !== undefined) fail(BAD_PROOF, 'answer: window proof for another kind')
    if (kind === KIND.audit) {
      const rho = HFr('vds/v1/audit', D, ...q.cols, q.nonce, u64(ans.epoch))
      wVec = [0n]
      let p = 1n
      for (let i = 1n; i <= L; i++) { wVec.push(p); p = mod(p * rho) }
    }
    if (wVec) W = cfg.vk.weightsW(wVec)
  }
  if (!empty) {
    // 9. the proof, 10. column coefficients and equation 2
    if (ans.pi === undefined) fail(BAD_PROOF, 'answer: no proof')
    const { C, x } = combined(h, idx, columnCoefficients(context, ans.x), ans.x)
    equations.push(openingPairs(cfg.vk, C, W, ans.pi, x))
  }
  const res = { batch: hex(D), epoch: Number(ans.epoch), kind, cols: q.cols }
  if (kind === KIND.audit) {
    res.values = ans.x.map(x => x.toString())
    res.raw = res.values
  } else {
    const vals = ans.x.map(signed)
    res.values = vals.map((v, j) => display(v, h.cols[idx[j]].scale))
    res.raw = vals.map(v => v.toString())
  }
  if (kind === KIND.window) { res.first = Number(ans.tw.i0); res.last = Number(ans.tw.i1) }
  return { res, equations }
}
