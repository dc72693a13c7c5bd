// H and HFr of SPEC §2.1–§2.2.
import { bytesToHex } from '@noble/hashes/utils.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { expand_message_xmd } from '@noble/curves/abstract/hash-to-curve.js'
import { R, bytesToBig } from './points.js'

const te = new TextEncoder()

/** bytes converts a part (Uint8Array or string, taken as UTF-8) to bytes. */
export function bytes (p) {
  if (typeof p === 'string') return te.encode(p)
  if (p instanceof Uint8Array) return p
  throw new TypeError('hash part must be bytes or a string')
}

/** u64 is the 8-byte big-endian encoding (a negative value as its two's complement). */
export function u64 (v) {
  let x = BigInt(v)
  if (x < 0n) x += 1n << 64n
  if (x < 0n || x >= (1n << 64n)) throw new RangeError('u64 out of range')
  const out = new Uint8Array(8)
  for (let i = 7; i >= 0; i--) { out[i] = Number(x & 0xffn); x >>= 8n }
  return out
}

/** u32 is the 4-byte big-endian encoding. */
export function u32 (v) {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, Number(v))
  return out
}

export function concat (...parts) {
  const bs = parts.map(bytes)
  const out = new Uint8Array(bs.reduce((a, b) => a + b.length, 0))
  let o = 0
  for (const b of bs) { out.set(b, o); o += b.length }
  return out
}

function framed (parts) {
  return concat(...parts.flatMap(p => { const b = bytes(p); return [u64(b.length), b] }))
}

/** H(tag, p_1…p_m) = SHA-256(u64(len tag) ‖ tag ‖ u64(len p_1) ‖ p_1 ‖ …) (§2.1). */
export function H (tag, ...parts) {
  return sha256(framed([tag, ...parts]))
}

const CHUNK = 170

/** HFr(tag, parts; k) returns k elements of Fr (§2.2); the tag is the DST. */
export function HFrK (k, tag, ...parts) {
  const msg = framed(parts)
  const out = []
  if (k <= CHUNK) return xmdElements(msg, tag, k)
  for (let j = 0; out.length < k; j++) {
    out.push(...xmdElements(concat(msg, u32(j)), tag, Math.min(CHUNK, k - CHUNK * j)))
  }
  return out
}

/** HFr(tag, parts) is HFrK with k = 1, returning the one element. */
export function HFr (tag, ...parts) { return HFrK(1, tag, ...parts)[0] }

function xmdElements (msg, tag, k) {
  const u = expand_message_xmd(msg, bytes(tag), 48 * k, sha256)
  const out = []
  for (let i = 0; i < k; i++) out.push(bytesToBig(u.subarray(48 * i, 48 * (i + 1))) % R)
  return out
}

/** hex is lower-case hex without 0x. */
export function hex (b) { return bytesToHex(b) }
