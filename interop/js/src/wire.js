// Wire types of SPEC §8.2–§8.3 on top of the strict CBOR reader: tagged points and scalars,
// and structs (CBOR maps with text keys) with the omission rule: an optional field is
// absent exactly when it is zero, a required field is always present; anything else is
// not the deterministic encoding (non_canonical), an unknown key is invalid_encoding.
import { Tagged, TAG } from './cbor.js'
import { decodeG1, decodeG2, decodeScalar, G1, G2, R } from './points.js'
import { fail, INVALID_ENCODING, NON_CANONICAL, IDENTITY, INVALID_INPUT } from './errors.js'

function tagged (v, tag, what) {
  if (!(v instanceof Tagged) || v.tag !== tag) fail(INVALID_ENCODING, `${what}: unexpected tag or type`)
  if (!(v.value instanceof Uint8Array)) fail(INVALID_ENCODING, `${what}: tag content is not a byte string`)
  return v.value
}

export const T = {
  G1: (v, what = 'G1') => {
    if (v instanceof Tagged && v.tag === TAG.G1_IDENTITY) fail(IDENTITY, `${what}: identity not allowed`)
    return decodeG1(tagged(v, TAG.G1, what), { what })
  },
  G2: (v, what = 'G2') => {
    if (v instanceof Tagged && v.tag === TAG.G2_IDENTITY) fail(IDENTITY, `${what}: identity not allowed`)
    return decodeG2(tagged(v, TAG.G2, what), { what })
  },
  G1OrIdentity: (v, what = 'G1 or identity') => {
    if (v instanceof Tagged && v.tag === TAG.G1_IDENTITY) {
      if (!(v.value instanceof Uint8Array) || v.value.length !== 0) fail(INVALID_ENCODING, `${what}: identity tag content must be empty bytes`)
      return G1.ZERO
    }
    return decodeG1(tagged(v, TAG.G1, what), { what, allowIdentity: true })
  },
  G2OrIdentity: (v, what = 'G2 or identity') => {
    if (v instanceof Tagged && v.tag === TAG.G2_IDENTITY) {
      if (!(v.value instanceof Uint8Array) || v.value.length !== 0) fail(INVALID_ENCODING, `${what}: identity tag content must be empty bytes`)
      return G2.ZERO
    }
    return decodeG2(tagged(v, TAG.G2, what), { what, allowIdentity: true })
  },
  Scalar: (v, what = 'scalar') => {
    const b = tagged(v, TAG.SCALAR, what)
    if (b.length !== 32) fail(INVALID_ENCODING, `${what}: want 32 bytes`)
    return decodeScalar(b, what)
  },
  ScalarVector: (v, what = 'scalar vector') => {
    const b = tagged(v, TAG.SCALAR_VECTOR, what)
    if (b.length % 32 !== 0) fail(INVALID_ENCODING, `${what}: length not a multiple of 32`)
    const out = []
    for (let i = 0; i < b.length; i += 32) out.push(decodeScalar(b.subarray(i, i + 32), `${what}[${i / 32}]`))
    return out
  },
  Uint: (v, what = 'uint') => {
    if (typeof v !== 'bigint' || v < 0n) fail(INVALID_ENCODING, `${what}: want an unsigned integer`)
    return v
  },
  Int: (v, what = 'int') => {
    if (typeof v !== 'bigint') fail(INVALID_ENCODING, `${what}: want an integer`)
    if (v < -(1n << 63n) || v >= (1n << 63n)) fail(INVALID_ENCODING, `${what}: out of int64 range`)
    return v
  },
  Text: (v, what = 'text') => {
    if (typeof v !== 'string') fail(INVALID_ENCODING, `${what}: want a text string`)
    return v
  },
  Bytes: (v, what = 'bytes') => {
    if (!(v instanceof Uint8Array)) fail(INVALID_ENCODING, `${what}: want a byte string`)
    return v
  },
  Bool: (v, what = 'bool') => {
    if (typeof v !== 'boolean') fail(INVALID_ENCODING, `${what}: want a boolean`)
    return v
  },
  /** Raw keeps the decoded item as it is (its .raw bytes when a map or array). */
  Raw: (v) => v
}

/** Fixed returns a decoder of a byte string of exactly n bytes. */
export function Fixed (n) {
  return (v, what = 'bytes') => {
    if (!(v instanceof Uint8Array)) fail(INVALID_ENCODING, `${what}: want a byte string`)
    if (v.length !== n) fail(INVALID_ENCODING, `${what}: want ${n} bytes`)
    return v
  }
}

/** ArrayOf returns a decoder of an array of elements. */
export function ArrayOf (elem) {
  return (v, what = 'array') => {
    if (!Array.isArray(v)) fail(INVALID_ENCODING, `${what}: want an array`)
    return v.map((x, i) => elem(x, `${what}[${i}]`))
  }
}

/** isZeroRaw reports whether a decoded CBOR value is the zero value of its Go type. */
function isZeroRaw (v) {
  if (v === null || v === false) return true
  if (typeof v === 'bigint') return v === 0n
  if (typeof v === 'string' || v instanceof Uint8Array || Array.isArray(v)) return v.length === 0
  if (v instanceof Map) return v.size === 0
  return false
}

/**
 * Struct returns a decoder of a CBOR map: fields = { key: [decoder, 'req' | 'opt' | 'opt-present'] }.
 * The result is an object keyed like the map, absent optional fields undefined, plus
 * `raw` (the map's exact bytes).
 */
export function Struct (name, fields) {
  return (v, what = name) => {
    if (!(v instanceof Map)) fail(INVALID_ENCODING, `${what}: want a map`)
    for (const k of v.keys()) {
      if (typeof k !== 'string') fail(INVALID_ENCODING, `${what}: non-text key`)
      if (!Object.hasOwn(fields, k)) fail(INVALID_ENCODING, `${what}: unknown field ${JSON.stringify(k)}`)
    }
    const out = {}
    Object.defineProperty(out, 'raw', { value: v.raw })
    for (const [k, [dec, mode]] of Object.entries(fields)) {
      if (!v.has(k)) {
        if (mode === 'req') fail(NON_CANONICAL, `${what}: missing field ${k}`)
        out[k] = undefined
        continue
      }
      const x = v.get(k)
      // 'opt': omitted when zero, a present zero refused; 'opt-present': omitted only when
      // absent (the query's w: a present empty vector is accepted, §8.1)
      if (mode === 'opt' && isZeroRaw(x)) fail(NON_CANONICAL, `${what}: zero field ${k} present`)
      out[k] = dec(x, `${what}.${k}`)
    }
    return out
  }
}

export { R, INVALID_INPUT }
