// Strict CBOR (SPEC §8): definite lengths only, shortest integer forms, no duplicate map
// keys, no floats/undefined, only registered tags, and core deterministic encoding — a
// message is accepted only if re-encoding what was decoded gives back the same bytes.
import { decode as cborDecode, encode as cborEncode, rfc8949EncodeOptions, Token, Type } from 'cborg'
import { fail, INVALID_ENCODING } from './errors.js'

/** Tagged is a decoded CBOR tag with its content. */
export class Tagged {
  constructor (tag, value) { this.tag = tag; this.value = value }
}

function encodeTagged (obj, typ, options) {
  if (!(obj instanceof Tagged)) return null
  return [new Token(Type.tag, obj.tag), ...toTokens(obj.value, options)]
}

function toTokens (v, options) {
  // the content of our tags is a byte string or an array of them
  if (v instanceof Uint8Array) return [new Token(Type.bytes, v)]
  if (Array.isArray(v)) return [new Token(Type.array, v.length), ...v.flatMap(x => toTokens(x, options))]
  if (v instanceof Tagged) return encodeTagged(v, 'Tagged', options)
  // fall back to a full encode of the value, re-tokenised as raw bytes is not possible in
  // cborg; tags in this protocol only wrap byte strings or arrays of byte strings.
  throw new Error('unsupported tag content')
}

// RFC 8949 §4.2.1 core deterministic encoding: map keys sorted bytewise by their encoding.
const encodeOptions = { ...rfc8949EncodeOptions, typeEncoders: { Object: encodeTagged, Tagged: encodeTagged } }

/** encode returns the deterministic CBOR encoding of a JS value (Maps keep key types). */
export function encode (v) {
  return cborEncode(v, encodeOptions)
}

/**
 * decodeStrict decodes one CBOR item with the registered tags (tag number → true) and
 * refuses anything not in deterministic form; failures are invalid_encoding.
 */
export function decodeStrict (bytes, registeredTags = []) {
  if (!(bytes instanceof Uint8Array)) fail(INVALID_ENCODING, 'cbor: not bytes')
  const tags = []
  for (const t of registeredTags) tags[t] = (dec) => new Tagged(t, dec())
  let v
  try {
    v = cborDecode(bytes, {
      strict: true,
      useMaps: true,
      rejectDuplicateMapKeys: true,
      allowIndefinite: false,
      allowUndefined: false,
      allowInfinity: false,
      allowNaN: false,
      allowBigInt: true,
      tags
    })
  } catch (e) {
    fail(INVALID_ENCODING, `cbor: ${e.message}`)
  }
  checkNoFloat(v)
  let again
  try { again = encode(v) } catch (e) { fail(INVALID_ENCODING, `cbor: ${e.message}`) }
  if (!equalBytes(again, bytes)) fail(INVALID_ENCODING, 'cbor: not in deterministic encoding')
  return v
}

function checkNoFloat (v) {
  if (typeof v === 'number' && !Number.isInteger(v)) fail(INVALID_ENCODING, 'cbor: float')
  if (Array.isArray(v)) v.forEach(checkNoFloat)
  else if (v instanceof Map) for (const [k, x] of v) { checkNoFloat(k); checkNoFloat(x) }
  else if (v instanceof Tagged) checkNoFloat(v.value)
}

export function equalBytes (a, b) {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
