// The worked examples of SPEC §6, §7.2, §8.2 and §11.2, recomputed independently.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decode, encode, Tagged, TAG } from '../src/cbor.js'
import { H, HFr, HFrK, hex, u64 } from '../src/hash.js'
import { G1, G2, R, mod, encodeScalar } from '../src/points.js'
import { T } from '../src/wire.js'
import * as M from '../src/messages.js'
import { stateDigest, sigMessage } from '../src/state.js'
import { entryLeaf } from '../src/stream.js'
import { root } from '../src/merkle.js'
import { columnCoefficients, boundaryRows } from '../src/queries.js'

const fill = (b, n = 32) => new Uint8Array(n).fill(b)
const f32 = (x) => x.toString(16).padStart(64, '0')
const bytes = (h) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'))

test('§8.2 encodings of g, −g, ĝ, the identity, a scalar, a vector', () => {
  const g = encode(new Tagged(TAG.G1, G1.BASE.toBytes(true)))
  assert.equal(hex(g), 'da5644530158309' + '7f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb')
  assert.equal(hex(encode(new Tagged(TAG.G1, G1.BASE.negate().toBytes(true)))), 'da564453015830b7f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb')
  assert.equal(hex(encode(new Tagged(TAG.G2, G2.BASE.toBytes(true)))), 'da56445302586093e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8')
  assert.ok(T.G1OrIdentity(decode(bytes('da5644530440'))).is0())
  assert.equal(T.Scalar(decode(bytes('da564453035820' + f32(5n)))), 5n)
  assert.deepEqual(T.ScalarVector(decode(bytes('da564453065840' + f32(5n) + '73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000'))), [5n, R - 1n])
})

test('§6 epoch-0 state: encoding, digest, signature message', () => {
  const enc = bytes(`a6 6166 da56445301 5830 ${hex(G1.BASE.toBytes(true))} 63637273 5820 ${'11'.repeat(32)} 63666d74 01
    6470726576 5820 ${'00'.repeat(32)} 6565706f6368 00 656f776e6572 5820 ${'22'.repeat(32)}`)
  const s = M.State(decode(enc))
  assert.equal(hex(encode(new Map([['fmt', 1n], ['crs', fill(0x11)], ['owner', fill(0x22)], ['epoch', 0n], ['f', new Tagged(TAG.G1, G1.BASE.toBytes(true))], ['prev', fill(0)]]))), hex(enc))
  const ss = { s, iat: 1700000000000n, kid: '0123456789abcdef', head: { root: fill(0x33), streams: 1n, entries: 2n } }
  assert.equal(hex(stateDigest(ss)), '7b4f30ba803ab82dd4687eff6fa9bf7b60476785b6df8ac1cf2a8d5868160335')
  assert.equal(hex(sigMessage(ss)), '3844a67f059c97b3280b77e8597fe7c0232747d31f7b5ef68af4eb957e86da10')
})

test('§7.2 query bytes and column coefficients', () => {
  const D = fill(0xaa)
  const q = bytes(`a4 63726f77 01 64636f6c73 82 6161 6162 646b696e64 01 656261746368 5820 ${'aa'.repeat(32)}`)
  const query = M.Query(decode(q))
  assert.equal(query.row, 1n)
  assert.equal(hex(encode(new Map([['batch', D], ['kind', 1n], ['cols', ['a', 'b']], ['row', 1n]]))), hex(q))
  const [r1, r2] = columnCoefficients(new Uint8Array([...D, ...q]), [5n, mod(-3n)])
  assert.equal(f32(r1), '4f0808766663e6488dda9e2d83d1dc091b7076eba58eba05e0b7b6e5614ffed1')
  assert.equal(f32(r2), '53422e302e1a45647cceb869659f27db6e243bb82fa182ca98e5624ecb68460f')
})

test('§7.2 audit weights', () => {
  const rho = HFr('vds/v1/audit', fill(0xaa), 'a', 'nonce', u64(7))
  assert.equal(f32(rho), '6cc447acec3795a3bb1e88c57d6edab777eedeeb3be782e738265d42f9cd54cf')
  assert.equal(f32(mod(rho * rho)), '19ed06dec8116bc3b7cbdfacf9251c9f1488113117d346908adf72f9215cb98d')
})

test('§7.2 window weights', () => {
  const [s1, s2] = HFrK(2, 'vds/v1/tw', fill(0xaa), u64(1), u64(2), u64(100), u64(200))
  assert.equal(f32(s1), '567969d365bfb7414b680c3e9e535cadc9a2e10055bdf7395f083c0c7cffaef8')
  assert.equal(f32(s2), '3aa24d703760be759139580d5c89820f210c6966bb2c6108339367e40099e0ff')
  assert.equal(f32(mod(s1 * 100n + s2 * 200n)), '56c474658fcfbcffe4e6e5678e5b241056af1e56b9ff7d806a609fb04c181f69')
  assert.deepEqual(boundaryRows(1n, 1n, 2n), [1n, 2n])
  assert.deepEqual(boundaryRows(3n, 2n, 16n), [2n, 3n]) // empty window between rows 2 and 3
})

test('§11.2 stream entry, leaf and root', () => {
  const enc = bytes(`a5 627430 05 627431 06 63736571 01 63766572 00 656261746368 5820 ${'00'.repeat(32)}`)
  const e = M.StreamEntry(decode(enc))
  assert.equal(hex(entryLeaf(e)), '43f59cad4dec314dbc99828a69959f46bb515152d5d85bb3f74400e4c15dad97')
  const e0 = M.StreamEntry(decode(encode(new Map([['seq', 0n], ['ver', 0n], ['batch', fill(0)], ['t0', 1n], ['t1', 2n]]))))
  assert.equal(hex(root([entryLeaf(e0), entryLeaf(e)])), '42bd849bbbde304f148f54568ea234af510dde5af9c31292d23d15e3072d235b')
  // rev: false present is refused; rev: true is the only present value
  assert.throws(() => M.StreamEntry(decode(encode(new Map([['seq', 0n], ['ver', 0n], ['batch', fill(0)], ['t0', 1n], ['t1', 2n], ['rev', false]])))), { code: 'non_canonical' })
})

test('scalars are written as fr(x)', () => {
  assert.equal(hex(encodeScalar(-1n)), f32(R - 1n))
  assert.equal(hex(H('vds/v1/merkle-empty')).length, 64)
})
