// The codec-level golden vectors of the Go library (codec/testdata/vectors: single wire
// types and CBOR corner cases), each with its expected outcome.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { decode } from '../src/cbor.js'
import { T, Struct } from '../src/wire.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const dir = process.env.VDS_CODEC_VECTORS_DIR || path.resolve(here, '../../../codec/testdata/vectors')

// Go sentinel (the files' "want") → wire error code (transport error codes)
const CODE = {
  ErrInvalidEncoding: 'invalid_encoding',
  ErrNonCanonical: 'non_canonical',
  ErrIdentity: 'identity',
  ErrNotOnCurve: 'invalid_point',
  ErrNotInSubgroup: 'invalid_point',
  ErrUnexpectedTag: 'invalid_encoding',
  ErrTrailingBytes: 'invalid_encoding',
  ErrDuplicateKey: 'invalid_encoding',
  ErrUnknownField: 'invalid_encoding',
  ErrTooLarge: 'too_large'
}

const Message = Struct('Message', {
  f: [T.G1, 'req'], h: [T.G2, 'req'], u: [T.Scalar, 'req'], w: [T.G1OrIdentity, 'req'],
  pk: [T.G2, 'req'], col: [T.ScalarVector, 'req'], name: [T.Text, 'req'], epoch: [T.Uint, 'req']
})
const TARGET = {
  Any: (v) => v,
  G1: T.G1,
  G2: T.G2,
  G1OrIdentity: T.G1OrIdentity,
  G2OrIdentity: T.G2OrIdentity,
  Scalar: T.Scalar,
  ScalarVector: T.ScalarVector,
  Message
}

for (const sub of ['valid', 'invalid']) {
  const d = path.join(dir, sub)
  if (!fs.existsSync(d)) continue
  for (const f of fs.readdirSync(d).filter(x => x.endsWith('.hex')).sort()) {
    test(`codec ${sub}/${f}`, () => {
      const text = fs.readFileSync(path.join(d, f), 'utf8')
      const meta = Object.fromEntries(text.split('\n').filter(l => l.startsWith('# ') && l.includes(':')).map(l => l.slice(2).split(/:\s*/, 2)))
      const hex = text.split('\n').filter(l => !l.startsWith('#')).join('').trim()
      const dec = TARGET[meta.target]
      assert.ok(dec, `unknown target ${meta.target}`)
      let got
      try { dec(decode(Buffer.from(hex, 'hex'))); got = 'ok' } catch (e) { if (!e.code) throw e; got = e.code }
      const want = meta.want === 'ok' ? 'ok' : CODE[meta.want]
      assert.ok(want, `unmapped want ${meta.want}`)
      assert.equal(got, want)
    })
  }
}
