// Signed states (SPEC §6, §6.2, §12.1): signature, owner, CRS, epoch-0 rule, chain link and
// accumulator step; the held state of a verifier.
import { ed25519 } from '@noble/curves/ed25519.js'
import { H, HFr, u64, hex } from './hash.js'
import { equalBytes } from './cbor.js'
import { G1, pairingCheck } from './points.js'
import { chainPairs } from './accumulator.js'
import { keyFor } from './config.js'
import { fail, BAD_SIGNATURE, BAD_PROOF, CRS_MISMATCH, INVALID_INPUT, STALE_STATE, UNKNOWN_STATE, CONFLICT, REVOKED } from './errors.js'

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

// accumulator steps already checked: held digest ‖ new digest (a pure function of both
// states and the configured ĝ^s, which the key includes)
const stepCache = new Set()

/** stateDigest is H("vds/v1/state", CBOR(state)), the state's received bytes. */
export function stateDigest (ss) { return H('vds/v1/state', ss.s.raw) }

/** sigMessage is the 32-byte message of a signed state's signature (§6). */
export function sigMessage (ss) {
  return H('vds/v1/state-sig', stateDigest(ss), u64(ss.iat), ss.kid, ss.head.root, u64(ss.head.streams), u64(ss.head.entries))
}

/**
 * checkSignedState is check(st) of §12.1: what a state carries by itself, in order —
 * format, CRS, owner; rev absent ⇔ epoch 0, the epoch-0 rule (f = g, prev = 0) and
 * x = HFr("vds/v1/acc", rev.batch); then key id and signature.
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
  const pk = keyFor(cfg, ss.kid)
  if (!pk) fail(BAD_SIGNATURE, 'state: unknown key id')
  if (!verifyEd25519(pk, sigMessage(ss), ss.sig)) fail(BAD_SIGNATURE, 'state: signature does not verify')
}

/** Holder keeps a verifier's latest state and the batches revoked in the states it saw. */
export class Holder {
  constructor (cfg) { this.cfg = cfg; this.held = null; this.revoked = new Set() }

  /** anchor takes a first state obtained out of band. */
  anchor (ss) {
    checkSignedState(this.cfg, ss)
    this.held = ss
    this.heldDigest = stateDigest(ss)
    if (ss.s.rev) this.revoked.add(hex(ss.s.rev.batch))
  }

  /** accept takes a later state as update_global_pk does. */
  accept (ss) {
    if (!this.held) { this.anchor(ss); return }
    checkSignedState(this.cfg, ss)
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
