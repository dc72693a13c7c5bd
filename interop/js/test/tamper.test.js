// Robustness: single-byte changes of honest requests are refused with a wire error code
// (never accepted with other values, never an exception other than a VerifyError).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadSystem, verify } from '../src/verify.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const dir = process.env.VDS_VECTORS_DIR || path.resolve(here, '../../../testdata/vectors/v1')
const present = fs.existsSync(path.join(dir, 'cases.json'))

// a small deterministic generator (xorshift32), so failures reproduce
function rng (seed) {
  let x = seed >>> 0 || 1
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x }
}

test('single-byte changes of honest requests are refused', () => {
  assert.ok(present, `no vectors in ${dir}`)
  const cfg = loadSystem(dir)
  const { cases } = JSON.parse(fs.readFileSync(path.join(dir, 'cases.json'), 'utf8'))
  const honest = cases.filter(c => c.expected.verdict === 'ok' && ['point', 'window', 'audit', 'stream'].includes(c.kind))
  const next = rng(0x5eed)
  let refused = 0
  for (let i = 0; i < 48; i++) {
    const c = honest[i % honest.length]
    const req = Buffer.from(c.request, 'hex')
    const pos = next() % req.length
    req[pos] ^= 1 + (next() % 255)
    const got = verify({ ...c, request: req.toString('hex') }, cfg)
    if (got.error) { refused++; continue }
    // accepted: only possible if the change did not change what was proven
    assert.deepEqual(got.values, c.expected.result, `${c.name}: byte ${pos} changed, accepted with other values`)
  }
  assert.equal(refused, 48, `only ${refused} of 48 changes refused`)
})
