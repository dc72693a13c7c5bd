// messages.json of the golden vectors: every message decodes strictly as its type, its
// canonical encoding is its bytes, its digest is the one we compute, signatures verify.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { decode, encode } from '../src/cbor.js'
import * as M from '../src/messages.js'
import { loadSystem } from '../src/verify.js'
import { checkSignedHeader, headerDigest } from '../src/header.js'
import { checkSignedState, stateDigest } from '../src/state.js'
import { entryLeaf } from '../src/stream.js'
import { loadCRS } from '../src/crs.js'
import { ownerIDOf } from '../src/config.js'
import { H, hex } from '../src/hash.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const dir = process.env.VDS_VECTORS_DIR || path.resolve(here, '../../../testdata/vectors/v1')
const present = fs.existsSync(path.join(dir, 'messages.json'))

test('messages.json present', () => {
  // The vectors are part of the repository: their absence is a failure, not a skip.
  assert.ok(present, `no vectors in ${dir}`)
})

// a generic re-encoder: decode → encode gives the same bytes (Maps, arrays, tags, ints)
function same (bytes) { assert.equal(hex(encode(decode(bytes))), hex(bytes)) }

if (present) {
  const cfg = loadSystem(dir)
  const { messages } = JSON.parse(fs.readFileSync(path.join(dir, 'messages.json'), 'utf8'))
  const digestOf = {
    Header: (v) => H('vds/v1/header', v.raw),
    SignedHeader: (v) => { checkSignedHeader(cfg, v); return headerDigest(v) },
    State: (v) => H('vds/v1/state', v.raw),
    SignedState: (v) => { checkSignedState(cfg, v); return stateDigest(v) },
    OwnerKeys: (v) => ownerIDOf(v.acc),
    StreamEntry: (v) => entryLeaf(v),
    CRSFile: (v) => loadCRS(v.crs).digest
  }
  for (const m of messages) {
    test(`message ${m.name} (${m.type})`, () => {
      const bytes = new Uint8Array(Buffer.from(m.cbor, 'hex'))
      const dec = M[m.type]
      assert.ok(dec, `no decoder for ${m.type}`)
      const v = dec(decode(bytes))
      same(bytes)
      if (m.digest !== undefined) assert.equal(hex(digestOf[m.type](v)), m.digest)
    })
  }
}
