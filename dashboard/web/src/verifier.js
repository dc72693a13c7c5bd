// The page's verifier: the storage server's HTTP transport (CBOR bodies),
// the pinned trust root, the owner's state chain and the answers, all
// checked by interop/js's verifier. No DOM here.
import { decode, encode } from '../../../interop/js/src/cbor.js'
import { makeConfig } from '../../../interop/js/src/config.js'
import { Holder } from '../../../interop/js/src/state.js'
import { SignedState, SignedHeader, Answer, StreamAnswer, Query, StreamQuery } from '../../../interop/js/src/messages.js'
import { verifyAnswer, KIND } from '../../../interop/js/src/queries.js'
import { verifyStream } from '../../../interop/js/src/stream.js'
import { hex } from '../../../interop/js/src/hash.js'
import { checkSignedHeader, headerSignature } from '../../../interop/js/src/header.js'
import { preverifyEd25519 } from '../../../interop/js/src/state.js'
import { VerifyError } from '../../../interop/js/src/errors.js'

export { KIND, hex }

/** unhex turns hex into bytes. */
export function unhex (s) {
  if (typeof s !== 'string' || s.length % 2 !== 0 || /[^0-9a-f]/i.test(s)) throw new Error('not hex')
  const b = new Uint8Array(s.length / 2)
  for (let i = 0; i < b.length; i++) b[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16)
  return b
}

/** REASONS says each error code of SPEC §8.4 in plain words. */
export const REASONS = {
  bad_proof: 'the proof does not match the numbers: a value or a proof was changed on the way',
  bad_signature: 'not signed by the pinned owner key',
  revoked: 'the batch was revoked by the owner',
  stale_state: 'the answer is built on an older owner state than the one the page holds (a replay from before a change, such as a revocation)',
  unknown_state: 'the answer is for an owner state the page has not seen',
  incomplete: 'data of the window is missing from the answer (a batch was left out)',
  crs_mismatch: 'made for another CRS than the pinned one',
  conflict: 'two different owner states for the same epoch',
  wrong_challenge: 'the audit answer is for another challenge',
  invalid_encoding: 'the answer is malformed',
  non_canonical: 'the answer is not in its one valid encoding',
  invalid_point: 'the answer carries an invalid curve point',
  identity: 'the answer carries a forbidden identity point',
  invalid_crs: 'the CRS is invalid',
  invalid_input: 'the query or the answer is out of bounds',
  too_large: 'the answer is larger than the limits allow',
  not_found: 'the storage server has no such data',
  unknown_batch: 'the storage server does not know that batch',
  unavailable: 'the storage server could not be reached',
  untrusted: 'no trust root is pinned: the page verifies nothing'
}

/** reason returns the plain-words reason of a code. */
export function reason (code) { return REASONS[code] || 'rejected' }

class RemoteError extends Error {
  constructor (code, message) { super(`${code}: ${message}`); this.code = code }
}

/** streamRequest is the storage request for a stream window {stream, cols, tfrom, tto}. */
function streamRequest (q) {
  return new Map([['stream', q.stream], ['kind', KIND.window], ['cols', q.cols], ['tfrom', BigInt(q.tfrom)], ['tto', BigInt(q.tto)]])
}

/** Verifier talks to the storage server and verifies what it answers. */
export class Verifier {
  constructor (config) {
    this.config = config
    this.storage = config.storage
    this.cfg = null // interop/js configuration, once the trust root is loaded
    this.holder = null
  }

  /** call POSTs one CBOR request to the storage service and returns the decoded response item. */
  async call (method, req, opts) {
    let res
    try {
      res = await fetch(`${this.storage}/v1/storage/${method}`, {
        method: 'POST', headers: { 'Content-Type': 'application/cbor' }, body: encode(req), credentials: 'omit'
      })
    } catch (e) {
      throw new RemoteError('unavailable', String(e))
    }
    const body = new Uint8Array(await res.arrayBuffer())
    if (res.status !== 200) {
      let code = 'unavailable'
      let msg = `HTTP ${res.status}`
      try {
        const we = decode(body)
        code = we.get('code') || code
        msg = we.get('msg') || msg
      } catch {}
      throw new RemoteError(code, msg)
    }
    return { item: decode(body, opts), bytes: body }
  }

  /** loadTrust fetches the pinned CRS and builds the verifier configuration (it checks the digest). */
  async loadTrust () {
    if (!this.config.pinned) return false
    const res = await fetch('crs.bin')
    const crsFile = new Uint8Array(await res.arrayBuffer())
    this.cfg = makeConfig({
      crsFile,
      crsDigest: unhex(this.config.crs_digest),
      ownerKeysCbor: unhex(this.config.owner_keys),
      maxStateAge: this.config.max_state_age_ms || 0
    })
    if (hex(this.cfg.ownerID) !== this.config.owner_id) throw new VerifyError('bad_signature', 'pinned owner id does not match the pinned keys')
    this.cfg.limits.max_stream_segments = 64
    return true
  }

  /**
   * syncState fetches the owner's states up to the latest and verifies the chain (from
   * epoch 0 the first time, then each new one). It returns the held state and how many
   * states it checked.
   */
  async syncState () {
    // one at a time: the held state moves forward in order
    const run = (this.syncing ?? Promise.resolve()).catch(() => {}).then(() => this.syncOnce())
    this.syncing = run
    return run
  }

  async syncOnce () {
    const { item } = await this.call('latest_state', new Map())
    const latest = SignedState(item)
    const E = latest.s.epoch
    let checked = 0
    if (!this.cfg) return { state: latest, checked, verified: false }
    if (!this.holder) this.holder = new Holder(this.cfg)
    const h = this.holder
    let from = h.held ? h.held.s.epoch + 1n : 0n
    while (from <= E) {
      const to = from + 99n < E ? from + 99n : E
      const { item: l } = await this.call('get_states', new Map([['from', from], ['to', to]]), { maxArray: 1000 })
      const states = l.get('states') || []
      if (states.length === 0) throw new VerifyError('unknown_state', `no states ${from}..${to}`)
      for (const raw of states) {
        const ss = SignedState(raw)
        if (!h.held) {
          if (ss.s.epoch !== 0n) throw new VerifyError('unknown_state', 'the first state is not epoch 0')
          h.anchor(ss)
        } else h.accept(ss)
        checked++
      }
      from = h.held.s.epoch + 1n
    }
    h.accept(latest) // the latest signature of the held epoch
    this.checked = (this.checked ?? 0) + checked
    const r = { state: h.held, checked: this.checked, verified: true }
    if (this.onState) this.onState(r)
    return r
  }

  /** batches lists the stored batches, grouped by stream (as the storage server lists them). */
  async batches () {
    const { item } = await this.call('list_batches', new Map(), { maxArray: 1 << 20 })
    const streams = new Map()
    for (const b of item.get('batches') || []) {
      const s = b.get('stream')
      if (!streams.has(s)) streams.set(s, [])
      streams.get(s).push({
        id: hex(b.get('id')), stream: s, seq: Number(b.get('seq')), ver: Number(b.get('ver') ?? 0n), rows: Number(b.get('rows')),
        t0: Number(b.get('t0')), t1: Number(b.get('t1')), revoked: b.get('revoked') === true,
        revokedVerified: this.holder ? this.holder.revoked.has(hex(b.get('id'))) : false
      })
    }
    for (const l of streams.values()) l.sort((a, b) => a.seq - b.seq || a.ver - b.ver)
    return streams
  }

  /** columns returns the column names of a batch, from its header (signature checked when a trust root is pinned). */
  async columns (batch) {
    const { item } = await this.call('get_header', new Map([['batch', unhex(batch)]]), { maxArray: 64 })
    const sh = SignedHeader(item)
    if (this.cfg) checkSignedHeader(this.cfg, sh)
    return sh.h.cols.map(c => c.name)
  }

  /**
   * query asks and verifies one batch query: {kind: 'point'|'range'|'window', batch (hex),
   * cols, row, from, to, tfrom, tto}. It returns {status: 'verified', values, ...} or
   * {status: 'rejected', code, reason}, never a value that did not verify.
   */
  async query (q) {
    return this.guard(async () => {
      await this.syncState()
      const k = KIND[q.kind]
      if (!k || k === KIND.weighted || k === KIND.audit) throw new VerifyError('invalid_input', `kind ${q.kind}`)
      const m = new Map([['batch', unhex(q.batch)], ['kind', k], ['cols', q.cols]])
      if (k === KIND.point) m.set('row', BigInt(q.row))
      if (k === KIND.range) { m.set('from', BigInt(q.from)); m.set('to', BigInt(q.to)) }
      if (k === KIND.window) {
        if (BigInt(q.tfrom) !== 0n) m.set('tfrom', BigInt(q.tfrom))
        if (BigInt(q.tto) !== 0n) m.set('tto', BigInt(q.tto))
      }
      const qbytes = encode(m)
      const query = Query(decode(qbytes))
      const method = k === KIND.window ? 'generate_time_proofs' : 'generate_dc_proof'
      const { item } = await this.call(method, m, { maxArray: this.cfg.limits.max_columns, maxMap: 32 })
      this.holder.now = BigInt(Date.now())
      const r = verifyAnswer(this.cfg, this.holder, { q: query, ans: Answer(item) }, k === KIND.window ? 'verify_time_proofs' : 'verify_dc_query')
      return { status: 'verified', values: r.values, epoch: r.epoch, first: r.first, last: r.last }
    })
  }

  /**
   * request starts asking the storage server for the answer to a stream window (see
   * stream, which verifies it when given it as pending): a page that needs several
   * answers has the next ones on their way while it verifies one. Nothing is trusted
   * here; a failure is stream's to report.
   */
  request (q) {
    const p = (async () => this.call('generate_stream_proof', streamRequest(q), this.streamLimits()))()
    p.catch(() => {}) // reported when stream awaits it
    return p
  }

  /** streamLimits are the CBOR decoding bounds of a stream answer under the loaded configuration. */
  streamLimits () {
    return { maxArray: (this.cfg?.limits.max_stream_batches ?? 0) + 2, maxMap: 32 }
  }

  /**
   * stream asks and verifies a stream window {stream, cols, tfrom, tto}: the totals over
   * every live batch of the stream in the window (one answer, or its segments). pending
   * is the storage server's answer to the same window, from request.
   */
  async stream (q, { sync = true, pending } = {}) {
    return this.guard(async () => {
      if (sync) await this.syncState()
      const sq = streamRequest(q)
      const query = StreamQuery(decode(encode(sq)))
      const opts = this.streamLimits()
      let ans
      const rest = []
      // verifyMs: the page's own work on the answers (checking every point as it is
      // decoded, the signatures, the proofs), without the waits for the server
      let verifyMs = 0
      const parse = (item) => {
        const t = performance.now()
        try { return StreamAnswer(item) } finally { verifyMs += performance.now() - t }
      }
      try {
        ans = parse((await (pending ?? this.call('generate_stream_proof', sq, opts))).item)
      } catch (e) {
        if (e.code !== 'too_large') throw e
        const seg = async (i) => parse((await this.call('generate_stream_segment', new Map([['q', sq]].concat(i > 0 ? [['seg', BigInt(i)]] : [])), opts)).item)
        ans = await seg(0)
        for (let i = 1; i < Number(ans.segs ?? 0); i++) rest.push(await seg(i))
      }
      const t = performance.now()
      // the headers' signatures first, natively and in parallel where the browser can
      await preverifyEd25519([ans, ...rest].flatMap(a => a.parts.filter(p => p.hdr !== undefined).map(p => headerSignature(this.cfg, p.hdr)).filter(Boolean)))
      this.holder.now = BigInt(Date.now())
      const r = verifyStream(this.cfg, this.holder, { q: query, ans, rest })
      verifyMs += performance.now() - t
      return { status: 'verified', values: r.totals, epoch: r.epoch, rows: r.rows, batches: (r.batches || []).length, verifyMs }
    })
  }

  /** guard turns a failure into a rejection with its code; nothing counts as verified without a trust root. */
  async guard (f) {
    if (!this.cfg) return { status: 'rejected', code: 'untrusted', reason: reason('untrusted') }
    try {
      return await f()
    } catch (e) {
      if (e instanceof VerifyError || e instanceof RemoteError) {
        const code = e.code
        return { status: 'rejected', code, reason: reason(code), detail: e.message }
      }
      return { status: 'rejected', code: 'invalid_encoding', reason: reason('invalid_encoding'), detail: String(e) }
    }
  }
}
