// Strict CBOR of SPEC §8: a well-formed, core deterministic item (RFC 8949 §4.2.1), read
// with cborg's tokenizer and checked here: shortest heads, definite lengths, map keys
// sorted bytewise by their encodings and unique, no floats or simple values other than
// false/true/null, only the registered tags, valid UTF-8, nesting ≤ 16, nothing after the
// item. Every decoded array, map and tag keeps its exact bytes in `.raw`.
import { bytesToHex } from '@noble/hashes/utils.js'
import { Tokenizer, Type } from 'cborg'
import { fail, INVALID_ENCODING, NON_CANONICAL, TOO_LARGE } from './errors.js'

/** Registered tags of §8.2. */
export const TAG = {
  G1: 0x56445301,
  G2: 0x56445302,
  SCALAR: 0x56445303,
  G1_IDENTITY: 0x56445304,
  G2_IDENTITY: 0x56445305,
  SCALAR_VECTOR: 0x56445306
}
const REGISTERED = new Set(Object.values(TAG))
const SELF_DESCRIBED = 55799

/** Tagged is a decoded CBOR tag with its content. */
export class Tagged {
  constructor (tag, value) { this.tag = tag; this.value = value }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function headLen (v) {
  if (v < 24n) return 1
  if (v < 0x100n) return 2
  if (v < 0x10000n) return 3
  if (v < 0x100000000n) return 5
  return 9
}

/**
 * decode reads exactly one strict CBOR item from bytes. Options: maxDepth (16), maxArray
 * (largest array length allowed, default unbounded), maxMap (largest map, default 32).
 * Errors: non_canonical (a valid item not in deterministic form), too_large (limits),
 * invalid_encoding (anything else).
 */
export function decode (bytes, { maxDepth = 16, maxArray = Infinity, maxMap = 32 } = {}) {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) fail(INVALID_ENCODING, 'cbor: empty input')
  const tk = new Tokenizer(bytes, { strict: false, allowIndefinite: true, allowUndefined: true, allowBigInt: true, retainStringBytes: true })
  const next = () => {
    const pos = tk.pos()
    if (pos >= bytes.length) fail(INVALID_ENCODING, 'cbor: truncated')
    const ib = bytes[pos]
    const major = ib >> 5
    const minor = ib & 31
    if (minor >= 28 && minor <= 30) fail(INVALID_ENCODING, 'cbor: reserved additional information')
    if (minor === 31) {
      if (major >= 2 && major <= 5) fail(NON_CANONICAL, 'cbor: indefinite length')
      if (major === 7) fail(NON_CANONICAL, 'cbor: break outside an indefinite item')
      fail(INVALID_ENCODING, 'cbor: ill-formed head')
    }
    let t
    try { t = tk.next() } catch (e) { fail(INVALID_ENCODING, `cbor: ${e.message}`) }
    return { t, pos }
  }
  // depth = number of arrays, maps and tags enclosing the item
  const item = (depth) => {
    const { t, pos } = next()
    const ty = t.type
    if ((ty === Type.array || ty === Type.map || ty === Type.tag) && depth + 1 > maxDepth) fail(TOO_LARGE, 'cbor: nested too deep')
    const argHead = (v) => { if (headLen(BigInt(v)) !== ((ty === Type.bytes || ty === Type.string) ? t.encodedLength - Number(t.value.length ?? 0) : t.encodedLength)) fail(NON_CANONICAL, 'cbor: head not in shortest form') }
    switch (ty) {
      case Type.uint:
        argHead(t.value); return BigInt(t.value)
      case Type.negint:
        argHead(-1n - BigInt(t.value)); return BigInt(t.value)
      case Type.bytes: {
        if (headLen(BigInt(t.value.length)) !== t.encodedLength - t.value.length) fail(NON_CANONICAL, 'cbor: head not in shortest form')
        return Uint8Array.from(t.value)
      }
      case Type.string: {
        const b = t.byteValue
        if (headLen(BigInt(b.length)) !== t.encodedLength - b.length) fail(NON_CANONICAL, 'cbor: head not in shortest form')
        try { return utf8.decode(b) } catch { fail(INVALID_ENCODING, 'cbor: invalid UTF-8') }
        break
      }
      case Type.array: {
        argHead(t.value)
        if (t.value > maxArray) fail(TOO_LARGE, 'cbor: array too long')
        const a = []
        for (let i = 0; i < t.value; i++) a.push(item(depth + 1))
        Object.defineProperty(a, 'raw', { value: bytes.subarray(pos, tk.pos()) })
        return a
      }
      case Type.map: {
        argHead(t.value)
        if (t.value > maxMap) fail(TOO_LARGE, 'cbor: map too large')
        const m = new Map()
        let prevKey = null
        const keys = new Set()
        for (let i = 0; i < t.value; i++) {
          const kpos = tk.pos()
          const k = item(depth + 1)
          const kraw = bytes.subarray(kpos, tk.pos())
          const kh = bytesToHex(kraw)
          if (keys.has(kh)) fail(INVALID_ENCODING, 'cbor: duplicate map key')
          keys.add(kh)
          if (prevKey !== null && compareBytes(prevKey, kraw) >= 0) fail(NON_CANONICAL, 'cbor: map keys not in deterministic order')
          prevKey = kraw
          m.set(k, item(depth + 1))
        }
        Object.defineProperty(m, 'raw', { value: bytes.subarray(pos, tk.pos()) })
        return m
      }
      case Type.tag: {
        argHead(t.value)
        if (t.value === SELF_DESCRIBED) fail(NON_CANONICAL, 'cbor: self-described tag')
        // a tag that is not a wire type of §8.2 is non_canonical (§8.1)
        if (!REGISTERED.has(t.value)) fail(NON_CANONICAL, `cbor: unregistered tag ${t.value}`)
        const v = new Tagged(t.value, item(depth + 1))
        Object.defineProperty(v, 'raw', { value: bytes.subarray(pos, tk.pos()) })
        return v
      }
      case Type.true: return true
      case Type.false: return false
      case Type.null: return null
      default:
        fail(INVALID_ENCODING, `cbor: ${ty.name} not allowed`)
    }
  }
  const v = item(0)
  if (tk.pos() !== bytes.length) fail(INVALID_ENCODING, 'cbor: trailing bytes')
  return v
}

function compareBytes (a, b) {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}

export function equalBytes (a, b) {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

// ---- encoding (for digests of values this verifier builds itself) ----

function head (major, v) {
  v = BigInt(v)
  const mb = major << 5
  if (v < 24n) return [mb | Number(v)]
  const n = headLen(v) - 1
  const out = [mb | ({ 1: 24, 2: 25, 4: 26, 8: 27 })[n]]
  for (let i = n - 1; i >= 0; i--) out.push(Number((v >> BigInt(8 * i)) & 0xffn))
  return out
}

/**
 * encode writes the core deterministic encoding of a value built from bigint/number
 * (integers), string, Uint8Array, Array, Map (keys sorted here), Tagged, boolean, null.
 */
export function encode (v) {
  const out = []
  const rec = (x) => {
    if (typeof x === 'number') x = BigInt(x)
    if (typeof x === 'bigint') { out.push(...(x >= 0n ? head(0, x) : head(1, -1n - x))); return }
    if (x === true) { out.push(0xf5); return }
    if (x === false) { out.push(0xf4); return }
    if (x === null) { out.push(0xf6); return }
    if (typeof x === 'string') { const b = new TextEncoder().encode(x); out.push(...head(3, b.length)); for (const c of b) out.push(c); return }
    if (x instanceof Uint8Array) { out.push(...head(2, x.length)); for (const c of x) out.push(c); return }
    if (Array.isArray(x)) { out.push(...head(4, x.length)); x.forEach(rec); return }
    if (x instanceof Tagged) { out.push(...head(6, x.tag)); rec(x.value); return }
    if (x instanceof Map) {
      const ents = [...x.entries()].map(([k, val]) => [encode(k), val])
      ents.sort((a, b) => compareBytes(a[0], b[0]))
      out.push(...head(5, ents.length))
      for (const [k, val] of ents) { for (const c of k) out.push(c); rec(val) }
      return
    }
    throw new TypeError('cbor encode: unsupported value')
  }
  rec(v)
  return Uint8Array.from(out)
}
