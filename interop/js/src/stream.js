// Stream windows (SPEC §11, §12.4): completeness proof with Merkle range proofs and the
// aggregated answer over every live batch of the window.
import { H, HFr, HFrK, u64, hex, concat } from './hash.js'
import { mergedWitnessPairs } from './accumulator.js'
import { equalBytes } from './cbor.js'
import { G1, mul, msm, mod, encodeScalar } from './points.js'
import { checkMerged } from './crs.js'
import { rangeRoot } from './merkle.js'
import { checkSignedHeader, validName } from './header.js'
import { checkSignedState, stateDigest } from './state.js'
import { boundaryOpening, columnIndexes, columnCoefficients } from './queries.js'
import { signed, display } from './values.js'
import { fail, BAD_PROOF, INCOMPLETE, INVALID_INPUT, REVOKED, STALE_STATE, TOO_LARGE } from './errors.js'

function bitlen (x) { return x === 0n ? 0 : x.toString(2).length }

/** entryLeaf is leaf(e) = H("vds/v1/stream-entry", CBOR(e)) over the received entry bytes. */
export function entryLeaf (e) { return H('vds/v1/stream-entry', e.raw) }

const meets = (e, T0, T1) => e.t1 >= T0 && e.t0 <= T1

/** checkCompleteness runs §12.4 step 5 (every failure incomplete) and returns the live entries. */
export function checkCompleteness (head, q, sp) {
  const T0 = q.tfrom
  const T1 = q.tto
  const N = sp.n
  const run = sp.run
  if (N < 1n || run.length === 0 || sp.idx >= head.streams) fail(INCOMPLETE, 'completeness: empty stream or run, or index outside the streams')
  if (sp.path.length > 2 * bitlen(head.streams) || sp.proof.length > 2 * bitlen(N)) fail(INCOMPLETE, 'completeness: proof too long')
  const sleaf = H('vds/v1/stream', q.stream, sp.root, u64(N))
  const streamsRoot = rangeRoot(Number(head.streams), Number(sp.idx), [sleaf], sp.path)
  if (!equalBytes(streamsRoot, head.root)) fail(INCOMPLETE, 'completeness: stream leaf not in the streams root')
  const first = run[0].seq
  if (first >= N || BigInt(run.length) > N - first) fail(INCOMPLETE, 'completeness: run outside the stream')
  run.forEach((e, i) => {
    if (e.seq !== first + BigInt(i)) fail(INCOMPLETE, 'completeness: run has a gap')
    if (e.t0 > e.t1) fail(INCOMPLETE, 'completeness: entry with t0 > t1')
    if (i > 0 && !(run[i - 1].t1 < e.t0)) fail(INCOMPLETE, 'completeness: ranges do not increase')
  })
  const root = rangeRoot(Number(N), Number(first), run.map(entryLeaf), sp.proof)
  if (!equalBytes(root, sp.root)) fail(INCOMPLETE, 'completeness: run not in the stream root')
  const last = run.length - 1
  run.forEach((e, i) => {
    if (meets(e, T0, T1)) return
    if (i === 0 && e.t1 < T0) return
    if (i === last && e.t0 > T1) return
    fail(INCOMPLETE, 'completeness: entry of the run outside the window')
  })
  if (first > 0n && !(run[0].t1 < T0)) fail(INCOMPLETE, 'completeness: run does not start before the window')
  if (run[last].seq + 1n < N && !(run[last].t0 > T1)) fail(INCOMPLETE, 'completeness: run does not end after the window')
  return run.filter(e => !e.rev && meets(e, T0, T1))
}

/** verifyStream verifies a VerifyStreamRequest (§12.4, with the segments of §11.5) and returns the VerifyStreamResult. */
export function verifyStream (cfg, holder, req) {
  const { q, ans } = req
  // 1. the query
  if (!validName(q.stream, cfg.limits.max_name_len)) fail(INVALID_INPUT, 'stream query: invalid stream name')
  if (q.cols.length < 1 || q.cols.length > cfg.limits.max_columns || new Set(q.cols).size !== q.cols.length) fail(INVALID_INPUT, 'stream query: columns')
  const kind = Number(q.kind)
  if (!((kind === 4 && q.tfrom <= q.tto) || (kind === 1 && q.tfrom === q.tto))) fail(INVALID_INPUT, 'stream query: kind or window')
  // 2.–3. every segment answers this query, within the bounds; the segments are all there, in order
  const segs = [ans, ...(req.rest ?? [])]
  const m = segs.length
  const maxB = cfg.limits.max_stream_batches
  const maxSegs = cfg.limits.max_stream_segments ?? 64
  if (m > maxSegs) fail(TOO_LARGE, 'stream answer: too many segments')
  const want = ans.segs === undefined ? 1 : Number(ans.segs)
  if (Math.max(want, 1) !== m) fail(INCOMPLETE, `stream answer: ${m} segments of an answer in ${want}`)
  segs.forEach((a, k) => {
    if (!equalBytes(q.raw, a.q.raw)) fail(BAD_PROOF, 'stream answer for another query')
    const seg = a.seg === undefined ? 0 : Number(a.seg)
    const count = a.segs === undefined ? 0 : Number(a.segs)
    if (seg !== k || count !== (m === 1 ? 0 : m)) fail(INCOMPLETE, `stream answer: segment ${seg} of ${count} where ${k} belongs`)
    if (a.sp.run.length > maxB + 2 || a.parts.length > maxB) fail(TOO_LARGE, 'stream answer: too many entries')
    if (a.sp.run.length === 0) fail(INCOMPLETE, 'stream answer: a segment with an empty run')
    if (k > 0) {
      if (!equalBytes(a.state.raw, ans.state.raw)) fail(INCOMPLETE, 'stream answer: segments on different states')
      const p = a.sp
      const p0 = ans.sp
      if (p.idx !== p0.idx || !equalBytes(p.root, p0.root) || p.n !== p0.n || p.path.length !== p0.path.length || p.path.some((h, i) => !equalBytes(h, p0.path[i]))) {
        fail(INCOMPLETE, 'stream answer: segments of different streams')
      }
    }
    if (k < m - 1 && a.sp.proof.length > 0) fail(INCOMPLETE, 'stream answer: a range proof before the last segment')
  })
  // 4. the state
  const st = ans.state
  checkSignedState(cfg, st)
  const held = holder.held
  if (held && st.s.epoch === held.s.epoch && equalBytes(stateDigest(st), holder.heldDigest) && st.iat > held.iat) holder.held = st
  const hs = holder.stateFor(st.s.epoch)
  const head = hs.head
  if (hs.iat !== st.iat || !equalBytes(head.root, st.head.root) || head.streams !== st.head.streams || head.entries !== st.head.entries) {
    fail(STALE_STATE, 'stream answer built on another signature of the state')
  }
  // 5.–6. one completeness proof over the concatenated run; each segment's parts are its live entries
  const merged = { ...ans.sp, run: segs.flatMap(a => a.sp.run), proof: segs[m - 1].sp.proof }
  checkCompleteness(head, q, merged)
  const T0 = q.tfrom
  const T1 = q.tto
  const lives = segs.map(a => a.sp.run.filter(e => !e.rev && meets(e, T0, T1)))
  segs.forEach((a, k) => { if (a.parts.length !== lives[k].length) fail(INCOMPLETE, 'stream answer: one part per live entry') })
  const k = q.cols.length
  const result = {
    stream: q.stream,
    epoch: Number(st.s.epoch),
    iat: Number(st.iat),
    cols: q.cols
  }
  const live = lives.flat()
  // 7. nothing live
  if (live.length === 0) {
    if (segs.some(a => a.pi !== undefined)) fail(BAD_PROOF, 'stream answer: proof without parts')
    return { ...result, totals: q.cols.map(() => '0'), raw: q.cols.map(() => '0'), scales: q.cols.map(() => 0), batches: null, rows: 0 }
  }
  const vk = cfg.vk
  const equations = []
  const all = []
  segs.forEach((a, s) => {
    if (lives[s].length === 0) {
      if (a.pi !== undefined) fail(BAD_PROOF, 'stream answer: proof without parts')
      return
    }
    // 8. the proof, ctx (of the segment: its slice of the run, u64(seg), u64(segs))
    if (a.pi === undefined) fail(BAD_PROOF, 'stream answer: no proof')
    const tail = m > 1 ? [u64(BigInt(s)), u64(BigInt(m))] : []
    const ctx = H('vds/v1/stream-window', q.raw, stateDigest(st), u64(st.iat), st.head.root, ...a.sp.run.map(entryLeaf), ...tail)
    // 9. parts
    const parts = []
    const gammaInput = []
    a.parts.forEach((part, i) => {
      const e = lives[s][i]
      let D, sh
      if (part.hdr !== undefined && part.wit !== undefined) {
        D = checkSignedHeader(cfg, part.hdr)
        sh = part.hdr
        holder.headers?.set(hex(D), sh)
      } else if (part.hdr === undefined && part.wit === undefined) {
        sh = holder.headers?.get(hex(e.batch))
        if (sh === undefined) fail(INCOMPLETE, `stream part ${i}: no header, and none held for the entry's batch`)
        D = e.batch
      } else {
        fail(BAD_PROOF, `stream part ${i}: a header without witness or a witness without header`)
      }
      const h = sh.h
      if (!equalBytes(D, e.batch) || h.stream !== q.stream || h.seq !== e.seq || h.ver !== e.ver || h.t0 !== e.t0 || h.t1 !== e.t1) {
        fail(INCOMPLETE, `stream part ${i}: header is not the entry's batch`)
      }
      const idx = columnIndexes(h, q.cols)
      if (part.x.length !== k) fail(BAD_PROOF, `stream part ${i}: one value per column`)
      const interior = T0 <= e.t0 && e.t1 <= T1
      const p = { D, h, idx, x: part.x, wit: part.wit, interior, rows: 0n }
      gammaInput.push(...part.x.map(encodeScalar))
      if (interior) {
        if (part.edge !== undefined) fail(BAD_PROOF, `stream part ${i}: edge rows for an interior entry`)
        p.a = 1n; p.b = h.rows; p.rows = h.rows
        p.ctx = concat(ctx, u64(e.seq))
      } else {
        if (part.edge === undefined) fail(BAD_PROOF, `stream part ${i}: no edge rows`)
        const { i0, i1, t } = part.edge
        const bo = boundaryOpening(cfg, D, h, i0, i1, t, T0, T1)
        p.edge = bo
        if (i1 === i0 - 1n) {
          if (part.x.some(x => x !== 0n)) fail(BAD_PROOF, `stream part ${i}: non-zero value for an edge without rows`)
          p.empty = true
        } else {
          p.a = i0; p.b = i1; p.rows = i1 - i0 + 1n
        }
        p.ctx = concat(ctx, u64(e.seq), u64(i0), u64(i1))
        gammaInput.push(u64(i0), u64(i1), ...t.map(u64))
      }
      parts.push(p)
    })
    const nEdges = parts.filter(p => !p.interior).length
    const gam = HFrK(parts.length + nEdges, 'vds/v1/stream-window', ctx, ...gammaInput)
    // the §11.4 equation of the segment: Σ pairs = e(π, ĝ)·Z^X
    const pairs = []
    let X = 0n
    let j = 0
    // the parts' commitments, grouped by their Ŵ (one for all interior batches of the
    // same length): one MSM per group instead of two multiplications per part
    const groups = new Map()
    parts.forEach((p, i) => {
      if (!p.empty) {
        const rho = columnCoefficients(p.ctx, p.x)
        const W = vk.rangeW(Number(p.a), Number(p.b))
        let g = groups.get(W)
        if (g === undefined) groups.set(W, (g = { pts: [], ks: [] }))
        p.idx.forEach((ci, c) => {
          const k = mod(gam[i] * rho[c])
          g.pts.push(p.h.c[ci])
          g.ks.push(k)
          X = mod(X + k * p.x[c])
        })
      }
      if (!p.interior) {
        const gp = gam[parts.length + j++]
        pairs.push([mul(p.edge.W, gp), p.h.tc])
        X = mod(X + gp * p.edge.xh)
      }
    })
    for (const [W, g] of groups) pairs.push([msm(g.pts, g.ks, G1.ZERO), W])
    pairs.push([a.pi.negate(), vk.gh[0]], [mul(vk.g[1], X).negate(), vk.gh[vk.n]])
    equations.push(pairs)
    all.push(...parts)
  })
  // 10. witnesses (parts with a header; a held one's entry shows it live, §11.5)
  // (one merged equation: every witness is at the same f)
  const wits = all.filter(p => p.wit !== undefined).map(p => {
    if (p.wit.u === 0n) fail(REVOKED, 'witness with u = 0')
    return { y: HFr('vds/v1/acc', p.D), w: p.wit.w, u: p.wit.u }
  })
  if (wits.length > 0) equations.push(mergedWitnessPairs(cfg.vk, cfg.acc, hs.s.f, wits))
  // 11. one multi-pairing
  if (!checkMerged(equations)) fail(BAD_PROOF, 'stream answer: pairing equations do not hold')
  // totals at each column's largest scale
  const scales = q.cols.map((_, c) => all.reduce((m, p) => (p.h.cols[p.idx[c]].scale > m ? p.h.cols[p.idx[c]].scale : m), 0n))
  const totals = q.cols.map((_, c) => all.reduce((acc, p) => acc + signed(p.x[c]) * 10n ** (scales[c] - p.h.cols[p.idx[c]].scale), 0n))
  return {
    ...result,
    totals: totals.map((v, c) => display(v, scales[c])),
    raw: totals.map(v => v.toString()),
    scales: scales.map(Number),
    batches: live.map(e => {
      const b = { seq: Number(e.seq), ver: Number(e.ver), batch: hex(e.batch), t0: Number(e.t0), t1: Number(e.t1) }
      if (e.rev) b.rev = true
      return b
    }),
    rows: Number(all.reduce((a, p) => a + p.rows, 0n))
  }
}
