// Signed states (SPEC §6, §6.2, §12.1): signature, owner, CRS, epoch-0 rule, chain link and
// accumulator step; the held state of a verifier.
import { ed25519 } from '@noble/curves/ed25519.js'
import { H, HFr, u64, hex } from './hash.js'
import { equalBytes } from './cbor.js'
import { G1, pairingCheck } from './points.js'
import { chainPairs } from './accumulator.js'
import { keyID } from './config.js'
import { fail, TOO_LARGE, BAD_SIGNATURE, BAD_PROOF, CRS_MISMATCH, INVALID_INPUT, STALE_STATE, UNKNOWN_STATE, CONFLICT, REVOKED } from './errors.js'

const ZERO32 = new Uint8Array(32)

const sigCache = new Map()

/** verifyEd25519 checks an RFC 8032 signature (strict: canonical S and key encoding). */
export function verifyEd25519 (pk, msg, sig) {
  if (!(sig instanceof Uint8Array) || sig.length !== 64 || pk.length !== 32) return false
  const key = hex(pk) + hex(msg) + hex(sig)
  if (sigCache.has(key)) return sigCache.get(key)
  let ok
  try { ok = ed25519.verify(sig, msg, pk, { zip215: false }) } catch { ok = false }
  if (sigCache.size > 4096) sigCache.clear()
  sigCache.set(key, ok)
  return ok
}

// Ed25519's field prime p and group order L (RFC 8032 §5.1)
const ED_P = (1n << 255n) - 19n
const ED_L = (1n << 252n) + 27742317777372353535851937790883648493n
const le = (b) => { let x = 0n; for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]); return x }

/**
 * strictEncoding tells whether a point encoding passes the decoding rules of the
 * strict verify above: y < p, and no sign bit on a point with x = 0 (y = ±1).
 */
function strictEncoding (b) {
  const sign = (b[31] & 0x80) !== 0
  const c = b.slice()
  c[31] &= 0x7f
  const y = le(c)
  return y < ED_P && !(sign && (y === 1n || y === ED_P - 1n))
}

const smallOrder = new Map() // public key (hex) → small order
const nativeKeys = new Map() // public key (hex) → Promise of a WebCrypto key, or null
const subtle = globalThis.crypto?.subtle

/**
 * preverifyEd25519 checks signatures [{pk, msg, sig}] ahead of verifyEd25519 with the
 * platform's native Ed25519 (WebCrypto, in parallel, off the page's thread) where there
 * is one. Only a success counts, and only for the encodings verifyEd25519 accepts
 * (canonical S, A and R; A not of small order): the native check is cofactorless, so
 * its success implies the cofactored equation verifyEd25519 tests, and the cache then
 * answers exactly what verifyEd25519 would have. A failure, or no WebCrypto, leaves the
 * signature to verifyEd25519. It never throws.
 */
export async function preverifyEd25519 (list) {
  if (!subtle) return 0
  let n = 0
  await Promise.all(list.map(async ({ pk, msg, sig }) => {
    try {
      if (!(sig instanceof Uint8Array) || sig.length !== 64 || !(pk instanceof Uint8Array) || pk.length !== 32) return
      const kh = hex(pk)
      const key = kh + hex(msg) + hex(sig)
      if (sigCache.has(key)) return
      if (le(sig.subarray(32)) >= ED_L || !strictEncoding(sig.subarray(0, 32)) || !strictEncoding(pk)) return
      if (!smallOrder.has(kh)) smallOrder.set(kh, ed25519.Point.fromBytes(pk).isSmallOrder())
      if (smallOrder.get(kh)) return
      if (!nativeKeys.has(kh)) nativeKeys.set(kh, subtle.importKey('raw', pk, { name: 'Ed25519' }, false, ['verify']).catch(() => null))
      const ck = await nativeKeys.get(kh)
      if (ck === null) return
      if (await subtle.verify({ name: 'Ed25519' }, ck, sig, msg)) {
        if (sigCache.size > 4096) sigCache.clear()
        sigCache.set(key, true)
        n++
      }
    } catch {}
  }))
  return n
}

/** sigCached tells whether a signature's verdict is cached (for tests). */
export function sigCached (pk, msg, sig) { return sigCache.get(hex(pk) + hex(msg) + hex(sig)) }

// accumulator steps already checked: held digest ‖ new digest (a pure function of both
// states and the configured ĝ^s, which the key includes)
const stepCache = new Set()

/** stateDigest is H("vds/v1/state", CBOR(state)), the state's received bytes. */
export function stateDigest (ss) { return H('vds/v1/state', ss.s.raw) }

/** handoverMessage is what both keys of a handover sign (§6.3). */
export function handoverMessage (ownerID, h) {
  return H('vds/v1/handover', ownerID, h.from, h.to.id, h.to.key, u64(h.epoch), u64(h.at))
}

/** sigMessage is the 32-byte message of a signed state's signature (§6, §6.3). */
export function sigMessage (ss) {
  const parts = [stateDigest(ss), u64(ss.iat), ss.kid, ss.head.root, u64(ss.head.streams), u64(ss.head.entries)]
  const hs = ss.keys || []
  if (hs.length > 0) parts.push(H('vds/v1/handover', ...hs.map(h => handoverMessage(ss.s.owner, h))))
  return H('vds/v1/state-sig', ...parts)
}

const MAX_HANDOVERS = 64

/** validAt checks a key may sign at (epoch, at): not before its handover, not at or after its retirement (§6.3). */
function validAt (k, epoch, at) {
  if (k.since && (epoch < k.since.epoch || at < k.since.at)) return false
  if (k.ret && (epoch > k.ret.epoch || at >= k.ret.at)) return false
  return true
}

/**
 * extendKeys returns keys after the handovers hs, checked in order (§6.3); keys is not
 * changed.
 */
export function extendKeys (cfg, keys, hs) {
  if (hs.length > MAX_HANDOVERS) fail(TOO_LARGE, 'state: too many handovers')
  const out = keys.map(k => ({ ...k }))
  for (const h of hs) {
    if (h.to.key.length !== 32 || h.to.id !== keyID(h.to.key)) fail(INVALID_INPUT, 'handover: new key id does not match its key')
    if (h.at < 0n) fail(INVALID_INPUT, 'handover: time before 1970')
    const f = out.find(k => k.id === h.from)
    const t = out.find(k => k.id === h.to.id)
    if (t) {
      if (t.since && t.since.epoch === h.epoch && t.since.at === h.at) continue // known
      if (!f) continue // a key configured directly
      fail(BAD_SIGNATURE, 'handover: to a key the owner already had')
    }
    if (!f) fail(BAD_SIGNATURE, 'handover: from an unknown key')
    if (!validAt(f, h.epoch, h.at)) fail(BAD_SIGNATURE, 'handover: by a retired key')
    const m = handoverMessage(cfg.ownerID, h)
    if (!verifyEd25519(f.key, m, h.sig)) fail(BAD_SIGNATURE, 'handover: not signed by the retiring key')
    if (!verifyEd25519(h.to.key, m, h.pop)) fail(BAD_SIGNATURE, 'handover: not signed by its new key')
    const p = { epoch: h.epoch, at: h.at }
    f.ret = p
    out.push({ id: h.to.id, key: h.to.key, since: p })
  }
  return out
}

/**
 * checkSignedState is check(st) of §12.1: what a state carries by itself, in order —
 * format, CRS, owner; rev absent ⇔ epoch 0, the epoch-0 rule (f = g, prev = 0) and
 * x = HFr("vds/v1/acc", rev.batch); then the handovers (§6.3), key id and signature.
 * It returns cfg's keys after the state's handovers.
 */
export function checkSignedState (cfg, ss) {
  const s = ss.s
  if (s.fmt !== 1n) fail(INVALID_INPUT, 'state: format version is not 1')
  if (!equalBytes(s.crs, cfg.vk.digest)) fail(CRS_MISMATCH, 'state: for another CRS')
  if (!equalBytes(s.owner, cfg.ownerID)) fail(BAD_SIGNATURE, 'state: another owner')
  if ((s.rev === undefined) !== (s.epoch === 0n)) fail(INVALID_INPUT, 'state: rev must be absent exactly at epoch 0')
  if (s.epoch === 0n) {
    if (!s.f.equals(G1.BASE) || !equalBytes(s.prev, ZERO32)) fail(INVALID_INPUT, 'state: epoch 0 needs f = g and a zero prev')
  } else if (HFr('vds/v1/acc', s.rev.batch) !== s.rev.x) {
    fail(INVALID_INPUT, 'state: x is not HFr(acc, batch)')
  }
  const keys = extendKeys(cfg, cfg.keys, ss.keys || [])
  const k = keys.find(k => k.id === ss.kid)
  if (!k) fail(BAD_SIGNATURE, 'state: unknown key id')
  if (!validAt(k, s.epoch, ss.iat)) fail(BAD_SIGNATURE, 'state: signed by a retired key')
  if (!verifyEd25519(k.key, sigMessage(ss), ss.sig)) fail(BAD_SIGNATURE, 'state: signature does not verify')
  return keys
}

/** Holder keeps a verifier's latest state and the batches revoked in the states it saw. */
export class Holder {
  // cfg is the holder's own copy: its keys grow with the handovers it accepts (§6.3)
  constructor (cfg) { this.cfg = { ...cfg }; this.held = null; this.revoked = new Set() }

  /** check is checkSignedState, keeping the keys the state's handovers add. */
  check (ss) {
    const keys = checkSignedState(this.cfg, ss)
    if (keys.length > this.cfg.keys.length) this.cfg.keys = keys
  }

  /** anchor takes a first state obtained out of band. */
  anchor (ss) {
    this.check(ss)
    this.held = ss
    this.heldDigest = stateDigest(ss)
    if (ss.s.rev) this.revoked.add(hex(ss.s.rev.batch))
  }

  /** accept takes a later state as update_global_pk does. */
  accept (ss) {
    if (!this.held) { this.anchor(ss); return }
    this.check(ss)
    const he = this.held.s.epoch
    const e = ss.s.epoch
    const d = stateDigest(ss)
    if (e < he) fail(STALE_STATE, `state: epoch ${e} is older than the held ${he}`)
    if (e === he) {
      if (!equalBytes(d, this.heldDigest)) fail(CONFLICT, 'state: another state for the held epoch')
      // a later re-signature replaces the held one; an earlier one is ignored
      if (ss.iat > this.held.iat) this.held = ss
      return
    }
    if (e > he + 1n) fail(UNKNOWN_STATE, `state: epochs ${he + 1n}..${e - 1n} missing`)
    if (!equalBytes(ss.s.prev, this.heldDigest)) fail(BAD_SIGNATURE, 'state: does not link to the held state')
    const stepKey = hex(this.cfg.ownerID) + hex(this.heldDigest) + hex(d)
    if (!stepCache.has(stepKey)) {
      if (!pairingCheck(chainPairs(this.cfg.vk, this.cfg.acc, this.held.s.f, ss.s.f, ss.s.rev.x))) fail(BAD_PROOF, 'state: accumulator step does not hold')
      stepCache.add(stepKey)
    }
    this.held = ss
    this.heldDigest = d
    this.revoked.add(hex(ss.s.rev.batch))
  }

  /**
   * stateFor applies §12.1 steps 6–9 for an answer of epoch E about batch D (hex, or
   * null): no source to catch up from, so E > h is unknown_state.
   */
  stateFor (E, Dhex = null) {
    if (!this.held) fail(UNKNOWN_STATE, 'no state held')
    const h = this.held.s.epoch
    if (E < h) fail(STALE_STATE, `answer for epoch ${E}, held ${h}`)
    if (E > h) fail(UNKNOWN_STATE, `answer for epoch ${E}, held ${h}: states missing`)
    this.fresh(this.now)
    if (Dhex !== null && this.revoked.has(Dhex)) fail(REVOKED, `batch ${Dhex} revoked`)
    return this.held
  }

  /** fresh checks the held state is not older than max-state-age at now (ms). */
  fresh (now) {
    if (!this.held) fail(UNKNOWN_STATE, 'no state held')
    if (this.cfg.maxStateAge > 0 && BigInt(now) - this.held.iat > BigInt(this.cfg.maxStateAge)) fail(STALE_STATE, 'held state older than max-state-age')
  }
}
