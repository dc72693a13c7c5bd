// Signed headers (SPEC §5): digest, signature, owner and key binding, structure and names.
import { H } from './hash.js'
import { equalBytes } from './cbor.js'
import { keyFor } from './config.js'
import { verifyEd25519 } from './state.js'
import { fail, BAD_SIGNATURE, CRS_MISMATCH, INVALID_INPUT } from './errors.js'

const te = new TextEncoder()
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]*$/u

/** validName applies the name rules of §5. */
export function validName (name, maxLen = 256) {
  const n = te.encode(name).length
  if (n < 1 || n > maxLen) return false
  if (!PRINTABLE.test(name)) return false
  if (name.startsWith(' ') || name.endsWith(' ')) return false
  if (name.includes('\\')) return false
  for (const seg of name.split('/')) if (seg === '.' || seg === '..') return false
  return true
}

function bitlen (x) { return x === 0n ? 0 : x.toString(2).length }

/** headerDigest is D = H("vds/v1/header", CBOR(header)) over the received header bytes. */
export function headerDigest (sh) { return H('vds/v1/header', sh.h.raw) }

/**
 * headerSignature returns the signature check of a signed header, {pk, msg, sig}, for
 * preverifyEd25519, or null when its key id is unknown (checkSignedHeader says so).
 */
export function headerSignature (cfg, sh) {
  const pk = keyFor(cfg, sh.h.kid)
  return pk ? { pk, msg: headerDigest(sh), sig: sh.sig } : null
}

/** checkSignedHeader verifies a signed header (§12.2, in order) and returns D. */
export function checkSignedHeader (cfg, sh) {
  const h = sh.h
  const { max_columns: maxCols, max_name_len: maxName } = cfg.limits
  // 1. structure
  if (h.fmt !== 1n) fail(INVALID_INPUT, 'header: format version is not 1')
  if (h.rows < 1n || h.rows > BigInt(cfg.vk.n)) fail(INVALID_INPUT, 'header: rows outside [1, n]')
  const k = h.cols.length
  if (k < 1 || k > maxCols) fail(INVALID_INPUT, 'header: number of columns')
  if (h.c.length !== k) fail(INVALID_INPUT, 'header: one commitment per column')
  if (h.t0 > h.t1 || (h.rows > 1n && h.t0 === h.t1)) fail(INVALID_INPUT, 'header: t0/t1')
  if (!validName(h.stream, maxName)) fail(INVALID_INPUT, 'header: invalid stream name')
  const maxBits = BigInt(253 - 64 - bitlen(h.rows))
  const names = new Set()
  for (const c of h.cols) {
    if (!validName(c.name, maxName)) fail(INVALID_INPUT, 'header: invalid column name')
    if (names.has(c.name)) fail(INVALID_INPUT, 'header: repeated column name')
    names.add(c.name)
    if (c.scale > 30n) fail(INVALID_INPUT, 'header: scale above 30')
    if (c.bits < 1n || c.bits > maxBits) fail(INVALID_INPUT, 'header: bits out of range')
  }
  // 2. parameters and owner
  if (!equalBytes(h.crs, cfg.vk.digest)) fail(CRS_MISMATCH, 'header: for another CRS')
  if (!equalBytes(h.owner, cfg.ownerID)) fail(BAD_SIGNATURE, 'header: another owner')
  // 4. signature over D
  const D = headerDigest(sh)
  const pk = keyFor(cfg, h.kid)
  if (!pk) fail(BAD_SIGNATURE, 'header: unknown key id')
  if (!verifyEd25519(pk, D, sh.sig)) fail(BAD_SIGNATURE, 'header: signature does not verify')
  return D
}
