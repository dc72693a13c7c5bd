// preverifyEd25519: the native (WebCrypto) check fills the signature cache only
// with what the strict verifyEd25519 would answer itself.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ed25519 } from '@noble/curves/ed25519.js'
import { preverifyEd25519, sigCached, verifyEd25519 } from '../src/state.js'

const L = (1n << 252n) + 27742317777372353535851937790883648493n
const le = (b) => { let x = 0n; for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]); return x }
const toLE = (x) => { const b = new Uint8Array(32); for (let i = 0; i < 32; i++) { b[i] = Number(x & 0xffn); x >>= 8n } return b }

function signed (n = 1) {
  const sk = ed25519.utils.randomSecretKey()
  const pk = ed25519.getPublicKey(sk)
  const msg = new TextEncoder().encode(`message ${n} ${Math.random()}`)
  return { pk, msg, sig: ed25519.sign(msg, sk) }
}

test('native WebCrypto Ed25519 is present (else the dashboard falls back to the slow path)', () => {
  assert.ok(globalThis.crypto?.subtle, 'no crypto.subtle')
})

test('preverify caches valid signatures, in parallel', async () => {
  const list = Array.from({ length: 8 }, (_, i) => signed(i))
  assert.equal(await preverifyEd25519(list), 8)
  for (const { pk, msg, sig } of list) {
    assert.equal(sigCached(pk, msg, sig), true)
    assert.equal(verifyEd25519(pk, msg, sig), true)
  }
  // already cached: nothing to do again
  assert.equal(await preverifyEd25519(list), 0)
})

test('preverify never caches a forged or tampered signature', async () => {
  const s = signed()
  const cases = []
  const bad = s.sig.slice(); bad[7] ^= 1
  cases.push({ ...s, sig: bad }) // changed R
  const badS = s.sig.slice(); badS[40] ^= 1
  cases.push({ ...s, sig: badS }) // changed S
  cases.push({ ...s, msg: new TextEncoder().encode('another message') })
  const other = signed()
  cases.push({ ...s, pk: other.pk }) // another key
  // S + L: the same equation, a non-canonical S (strict verify refuses it)
  cases.push({ ...s, sig: Uint8Array.from([...s.sig.subarray(0, 32), ...toLE(le(s.sig.subarray(32)) + L)]) })
  // a small-order key (the identity, y = 1) with R = [S]B: the cofactorless
  // equation R = [S]B − [k]A holds for any message; strict verify refuses the key
  const S = 12345n
  const R = ed25519.Point.BASE.multiply(S).toBytes()
  const id = new Uint8Array(32); id[0] = 1
  cases.push({ pk: id, msg: s.msg, sig: Uint8Array.from([...R, ...toLE(S)]) })
  // the identity with its sign bit set (x = 0, x_0 = 1: not a strict encoding)
  const idNeg = id.slice(); idNeg[31] |= 0x80
  cases.push({ pk: idNeg, msg: s.msg, sig: Uint8Array.from([...R, ...toLE(S)]) })
  // wrong lengths and types
  cases.push({ ...s, sig: s.sig.subarray(0, 63) }, { ...s, pk: s.pk.subarray(0, 31) }, { ...s, sig: 'not bytes' })
  assert.equal(await preverifyEd25519(cases), 0)
  for (const c of cases) {
    if (c.sig instanceof Uint8Array && c.pk.length === 32 && c.sig.length === 64) assert.equal(sigCached(c.pk, c.msg, c.sig), undefined)
    assert.equal(verifyEd25519(c.pk, c.msg, c.sig), false)
  }
})
