// The verifier's configuration (golden vectors' system.json): CRS verifier key, owner keys,
// limits, maximum state age.
import { loadCRS } from './crs.js'
import { decode, equalBytes } from './cbor.js'
import { OwnerKeys } from './messages.js'
import { H, hex } from './hash.js'
import { encodeG2 } from './points.js'
import { fail, INVALID_INPUT, CRS_MISMATCH } from './errors.js'

/** keyID returns kid(pk) = hex(H("vds/v1/key", pk)[0..8)) (§2.4). */
export function keyID (pk) { return hex(H('vds/v1/key', pk).subarray(0, 8)) }

/** ownerID returns H("vds/v1/owner", G2(acc)) (§2.4). */
export function ownerIDOf (acc) { return H('vds/v1/owner', encodeG2(acc)) }

export const DEFAULT_LIMITS = { max_columns: 64, max_name_len: 256, max_nonce_len: 64, max_stream_batches: 128 }

/**
 * makeConfig checks and assembles a verifier configuration: crsFile (bytes of the CRS
 * file), crsDigest (expected digest), ownerKeysCbor (bytes of OwnerKeys), limits, maxStateAge
 * (ms; 0 = no age check).
 */
export function makeConfig ({ crsFile, crsDigest, ownerKeysCbor, limits = DEFAULT_LIMITS, maxStateAge = 180000 }) {
  const vk = loadCRS(crsFile)
  if (crsDigest && !equalBytes(vk.digest, crsDigest)) fail(CRS_MISMATCH, 'crs: digest is not the configured one')
  const ok = OwnerKeys(decode(ownerKeysCbor))
  if (ok.sig.length === 0) fail(INVALID_INPUT, 'owner keys: no signing key')
  const keys = []
  for (const k of ok.sig) {
    if (k.key.length !== 32) fail(INVALID_INPUT, 'owner keys: a key is not 32 bytes')
    if (k.id !== keyID(k.key)) fail(INVALID_INPUT, 'owner keys: id is not the key id of its key')
    keys.push({ id: k.id, key: k.key })
  }
  return { vk, acc: ok.acc, ownerID: ownerIDOf(ok.acc), keys, limits: { ...DEFAULT_LIMITS, ...limits }, maxStateAge }
}

/** keyFor returns the first configured key with that id, or null. */
export function keyFor (cfg, kid) {
  const k = cfg.keys.find(k => k.id === kid)
  return k ? k.key : null
}
