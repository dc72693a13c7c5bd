// Batch queries and answers of SPEC §7: point, range, weighted, time window, audit.
import { H, HFr, HFrK, u64, hex, concat } from './hash.js'
import { equalBytes } from './cbor.js'
import { mod, mul, G1, pairingCheck, encodeScalar } from './points.js'
import { openingPairs, timeOpeningPairs } from './crs.js'
import { witnessPairs } from './accumulator.js'
import { checkSignedHeader } from './header.js'
import { signed, display } from './values.js'
import { fail, BAD_PROOF, INVALID_INPUT, REVOKED, STALE_STATE, UNKNOWN_STATE, WRONG_CHALLENGE } from './errors.js'

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
 * checkWitness returns the non-membership equation of batch D at the held state: u ≠ 0
 * (else revoked) and e(w, y·ĝ + ĝ^s) = e(f_E + u·g, ĝ).
 */
export function witnessEquation (cfg, holder, D, wit) {
  if (holder.revoked.has(hex(D))) fail(REVOKED, 'batch revoked in a held state')
  if (wit.u === 0n) fail(REVOKED, 'witness with u = 0')
  return witnessPairs(cfg.vk, cfg.acc, holder.held.s.f, HFr('vds/v1/acc', D), wit.w, wit.u)
}

/** checkEpoch compares an answer's epoch with the held one. */
export function checkEpoch (holder, epoch) {
  const he = holder.held.s.epoch
  if (epoch < he) fail(STALE_STATE, `answer for epoch ${epoch}, held ${he}`)
  if (epoch > he) fail(UNKNOWN_STATE, `answer for epoch ${epoch}, held ${he}: states missing`)
}

/** columnCoefficients: (ρ_1…ρ_k) = HFr("vds/v1/cols", context, fr(x_1)…fr(x_k); k) (§7.2). */
export function columnCoefficients (context, xs) {
  return HFrK(xs.length, 'vds/v1/cols', context, ...xs.map(encodeScalar))
}

/** windowBoundary returns the boundary rows {i0−1, i0, i1, i1+1} ∩ [1, L], increasing. */
export function boundaryRows (i0, i1, L) {
  return [...new Set([i0 - 1n, i0, i1, i1 + 1n])].filter(r => r >= 1n && r <= L).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

/**
 * checkBoundary checks a window's boundary rows and timestamps against [tfrom, tto] and
 * the header (§7, D8(a)) and returns the G1-side W and x̂ of the boundary opening.
 */
export function boundaryOpening (cfg, D, h, i0, i1, ts, tfrom, tto) {
  const L = h.rows
  if (i0 < 1n || i0 > L + 1n || i1 < i0 - 1n || i1 > L) fail(BAD_PROOF, 'window: rows outside the batch')
  const rows = boundaryRows(i0, i1, L)
  if (ts.length !== rows.length) fail(BAD_PROOF, 'window: one timestamp per boundary row')
  const at = new Map(rows.map((r, j) => [r, ts[j]]))
  for (let j = 1; j < ts.length; j++) if (ts[j] <= ts[j - 1]) fail(BAD_PROOF, 'window: timestamps not increasing')
  if (i0 >= 2n && !(at.get(i0 - 1n) < tfrom)) fail(BAD_PROOF, 'window: row before the window is inside it')
  if (i0 <= i1 && !(at.get(i0) >= tfrom)) fail(BAD_PROOF, 'window: first row before the window')
  if (i0 <= i1 && !(at.get(i1) <= tto)) fail(BAD_PROOF, 'window: last row after the window')
  if (i1 + 1n <= L && !(at.get(i1 + 1n) > tto)) fail(BAD_PROOF, 'window: row after the window is inside it')
  if (at.has(1n) && at.get(1n) !== h.t0) fail(BAD_PROOF, 'window: first row is not the header t0')
  if (at.has(L) && at.get(L) !== h.t1) fail(BAD_PROOF, 'window: last row is not the header t1')
  const sigma = HFrK(rows.length, 'vds/v1/tw', D, ...rows.map(u64), ...ts.map(u64))
  let W = G1.ZERO
  let xh = 0n
  rows.forEach((r, j) => {
    W = W.add(mul(cfg.vk.g[cfg.vk.n + 1 - Number(r)], sigma[j]))
    xh = mod(xh + sigma[j] * ts[j])
  })
  return { W, xh, rows }
}

/**
 * verifyAnswer verifies one VerifyRequest for a method at the held state and returns the
 * result object (the verifier service's VerifyResult as JSON).
 */
export function verifyAnswer (cfg, holder, req, method) {
  const { q, ans } = req
  const kind = Number(ans.q.kind)
  if (!equalBytes(q.raw, ans.q.raw)) {
    if (Number(q.kind) === KIND.audit) fail(WRONG_CHALLENGE, 'answer for another audit query')
    fail(BAD_PROOF, 'answer for another query')
  }
  if (!METHOD_KINDS[method] || !METHOD_KINDS[method].includes(kind)) fail(INVALID_INPUT, `kind ${kind} at ${method}`)
  const D = checkSignedHeader(cfg, ans.hdr)
  const h = ans.hdr.h
  const L = h.rows
  if (!equalBytes(q.batch, D)) fail(BAD_PROOF, 'answer: header is not the queried batch')
  // query shape (§7.1)
  const k = q.cols.length
  if (k < 1 || k > h.cols.length) fail(INVALID_INPUT, 'query: number of columns')
  const idx = q.cols.map(name => {
    const i = h.cols.findIndex(c => c.name === name)
    if (i < 0) fail(INVALID_INPUT, `query: no column ${name}`)
    return i
  })
  if (new Set(idx).size !== idx.length) fail(INVALID_INPUT, 'query: repeated column')
  for (const f of ALL_FIELDS) if (!KIND_FIELDS[kind].includes(f) && q[f] !== undefined) fail(INVALID_INPUT, `query: field ${f} for kind ${kind}`)
  // weights (G2 side) of the column equation
  let W = null
  let wVec = null
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
    case KIND.window: {
      const tfrom = q.tfrom ?? 0n
      const tto = q.tto ?? 0n
      if (tfrom > tto) fail(INVALID_INPUT, 'query: tfrom > tto')
      break
    }
    case KIND.audit: {
      const nonce = q.nonce ?? new Uint8Array(0)
      if (nonce.length < 1 || nonce.length > cfg.limits.max_nonce_len) fail(INVALID_INPUT, 'query: nonce length')
      break
    }
  }
  // state
  holder.fresh(holder.now)
  checkEpoch(holder, ans.epoch)
  const equations = [witnessEquation(cfg, holder, D, ans.wit)]
  if (ans.x.length !== k) fail(INVALID_INPUT, 'answer: one value per queried column')
  if ((kind === KIND.window) !== (ans.tw !== undefined)) fail(INVALID_INPUT, 'answer: window proof present exactly for a window')
  let context = concat(D, q.raw)
  let first, last
  if (kind === KIND.window) {
    const tw = ans.tw
    const tfrom = q.tfrom ?? 0n
    const tto = q.tto ?? 0n
    const { W: Wg1, xh } = boundaryOpening(cfg, D, h, tw.i0, tw.i1, tw.t, tfrom, tto)
    equations.push(timeOpeningPairs(cfg.vk, Wg1, h.tc, tw.pi, xh))
    first = tw.i0; last = tw.i1
    if (tw.i1 < tw.i0) {
      if (ans.pi !== undefined) fail(BAD_PROOF, 'answer: column proof for an empty window')
      if (ans.x.some(x => x !== 0n)) fail(BAD_PROOF, 'answer: non-zero value for an empty window')
    } else {
      W = cfg.vk.rangeW(Number(tw.i0), Number(tw.i1))
    }
    context = concat(context, u64(tw.i0), u64(tw.i1))
  } else if (kind === KIND.audit) {
    const rho = HFr('vds/v1/audit', D, ...q.cols, q.nonce, u64(ans.epoch))
    wVec = [0n]
    let p = 1n
    for (let i = 1n; i <= L; i++) { wVec.push(p); p = mod(p * rho) }
  }
  if (wVec) W = cfg.vk.weightsW(wVec)
  if (W !== null) {
    if (ans.pi === undefined) fail(INVALID_INPUT, 'answer: no proof')
    const rho = columnCoefficients(context, ans.x)
    let Cs = G1.ZERO
    let xs = 0n
    idx.forEach((ci, j) => { Cs = Cs.add(mul(h.c[ci], rho[j])); xs = mod(xs + rho[j] * ans.x[j]) })
    equations.push(openingPairs(cfg.vk, Cs, W, ans.pi, xs))
  }
  for (const eq of equations) if (!pairingCheck(eq)) fail(BAD_PROOF, 'answer: pairing equation does not hold')
  const res = { batch: hex(D), epoch: Number(ans.epoch), kind, cols: q.cols }
  if (kind === KIND.audit) {
    res.values = ans.x.map(x => x.toString())
    res.raw = res.values
  } else {
    const vals = ans.x.map(signed)
    res.values = vals.map((v, j) => display(v, h.cols[idx[j]].scale))
    res.raw = vals.map(v => v.toString())
  }
  if (kind === KIND.window) { res.first = Number(first); res.last = Number(last) }
  return res
}
