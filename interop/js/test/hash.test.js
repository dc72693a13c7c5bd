// H and HFr against the worked examples of SPEC §2.1–§2.2.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { H, HFrK, HFr, hex, u64 } from '../src/hash.js'

test('H worked example (SPEC §2.1)', () => {
  assert.equal(hex(H('vds/v1/example', 'abc', '')), '3b897e357bfaeac86293d6cd8361fd8428c7973253e2bb7ac2a30f75b4b9e445')
})

test('HFr worked example (SPEC §2.2)', () => {
  const [x1, x2] = HFrK(2, 'vds/v1/example', 'abc', '')
  assert.equal(x1.toString(16).padStart(64, '0'), '342f852852dd9916d073464ee21d296bb9a4e9705349ef0f8f5b9f7254600af1')
  assert.equal(x2.toString(16).padStart(64, '0'), '181637ec81d5a0cc9c84b9eae1f820781afc61e21831da8be03355b63d285c25')
  // len_in_bytes enters b_0: HFr(…;1) is not the first element of HFr(…;2)
  assert.notEqual(HFr('vds/v1/example', 'abc', ''), x1)
})

test('HFr chunking above 170 elements appends the call counter', () => {
  const xs = HFrK(171, 'vds/v1/example', 'abc')
  assert.equal(xs.length, 171)
  // with k ≤ 170 no counter is appended, so the first 170 elements differ
  assert.notEqual(xs[0], HFrK(170, 'vds/v1/example', 'abc')[0])
  assert.equal(hex(u64(-1)), 'ffffffffffffffff')
})
