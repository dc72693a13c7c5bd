// Every golden vector case of testdata/vectors/v1 gets the verdict the vector expects.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { loadSystem, verify, defaultVectorsDir } from '../src/verify.js'

const dir = defaultVectorsDir()
const present = fs.existsSync(path.join(dir, 'cases.json'))

test('vectors directory present', () => {
  // The vectors are part of the repository: their absence is a failure, not a skip.
  assert.ok(present, `no vectors in ${dir}`)
})

if (present) {
  const cfg = loadSystem(dir)
  const { cases } = JSON.parse(fs.readFileSync(path.join(dir, 'cases.json'), 'utf8'))
  for (const c of cases) {
    test(`case ${c.name}`, () => {
      const got = verify(c, cfg)
      if (c.expected.verdict === 'ok') {
        assert.equal(got.error, undefined, `unexpected error ${got.error}: ${got.message}`)
        assert.deepEqual(got.values, c.expected.result)
      } else {
        assert.equal(got.error, c.expected.error, got.message ?? 'accepted')
      }
    })
  }
}
