// Message schemas of SPEC §8.3 (CDDL), as strict struct decoders.
import { T, Fixed, Struct, ArrayOf } from './wire.js'
import { fail, INVALID_ENCODING } from './errors.js'

/** UintN returns a decoder of an unsigned integer of at most `bits` bits. */
function UintN (bits) {
  const max = (1n << BigInt(bits)) - 1n
  return (v, what) => {
    const x = T.Uint(v, what)
    if (x > max) fail(INVALID_ENCODING, `${what}: does not fit u${bits}`)
    return x
  }
}
export const u8 = UintN(8)
export const u16 = UintN(16)
export const u32 = UintN(32)
export const u64 = UintN(64)
const Hash32 = Fixed(32)

/** ListOrNull: `[* T] / null` (null reads as the empty list). */
function ListOrNull (elem) {
  const arr = ArrayOf(elem)
  return (v, what) => v === null ? [] : arr(v, what)
}
/** BytesOrNull: `bytes / null` (null reads as empty bytes). */
function BytesOrNull (v, what) { return v === null ? new Uint8Array(0) : T.Bytes(v, what) }
const Sig = BytesOrNull

function TrueOnly (v, what) {
  if (v !== true) fail(INVALID_ENCODING, `${what}: want true`)
  return true
}

export const ColumnInfo = Struct('ColumnInfo', { name: [T.Text, 'req'], scale: [u8, 'req'], bits: [u8, 'req'] })
export const Header = Struct('Header', {
  fmt: [u16, 'req'],
  crs: [Hash32, 'req'],
  owner: [Hash32, 'req'],
  kid: [T.Text, 'req'],
  stream: [T.Text, 'req'],
  seq: [u64, 'req'],
  ver: [u32, 'req'],
  rows: [u32, 'req'],
  cols: [ListOrNull(ColumnInfo), 'req'],
  t0: [u64, 'req'],
  t1: [u64, 'req'],
  tc: [T.G2, 'req'],
  c: [ListOrNull(T.G1), 'req']
})
export const SignedHeader = Struct('SignedHeader', { h: [Header, 'req'], sig: [Sig, 'req'] })

export const Revocation = Struct('Revocation', { x: [T.Scalar, 'req'], batch: [Hash32, 'req'] })
export const State = Struct('State', {
  fmt: [u16, 'req'],
  crs: [Hash32, 'req'],
  owner: [Hash32, 'req'],
  epoch: [u64, 'req'],
  f: [T.G1, 'req'],
  rev: [Revocation, 'opt'],
  prev: [Hash32, 'req']
})
export const StreamHead = Struct('StreamHead', { root: [Hash32, 'req'], streams: [u64, 'req'], entries: [u64, 'req'] })
export const KeyTime = Struct('KeyTime', { epoch: [u64, 'req'], at: [T.Int, 'req'] })
export const SigningKey = Struct('SigningKey', {
  id: [T.Text, 'req'], key: [BytesOrNull, 'req'], since: [KeyTime, 'opt'], ret: [KeyTime, 'opt']
})
// a key handover (§6.3)
export const Handover = Struct('Handover', {
  from: [T.Text, 'req'], to: [SigningKey, 'req'], epoch: [u64, 'req'], at: [T.Int, 'req'], sig: [Sig, 'req'], pop: [Sig, 'req']
})
export const SignedState = Struct('SignedState', {
  s: [State, 'req'], iat: [T.Int, 'req'], head: [StreamHead, 'req'], kid: [T.Text, 'req'], sig: [Sig, 'req'], keys: [ListOrNull(Handover), 'opt']
})
export const OwnerKeys = Struct('OwnerKeys', { acc: [T.G2, 'req'], sig: [ListOrNull(SigningKey), 'req'] })

export const Query = Struct('Query', {
  batch: [Hash32, 'req'],
  kind: [u8, 'req'],
  cols: [ListOrNull(T.Text), 'req'],
  row: [u32, 'opt'],
  from: [u32, 'opt'],
  to: [u32, 'opt'],
  w: [T.ScalarVector, 'opt-present'],
  tfrom: [u64, 'opt'],
  tto: [u64, 'opt'],
  nonce: [T.Bytes, 'opt']
})
export const Witness = Struct('Witness', { w: [T.G1OrIdentity, 'req'], u: [T.Scalar, 'req'] })
export const WindowProof = Struct('WindowProof', {
  i0: [u32, 'req'], i1: [u32, 'req'], t: [ListOrNull(u64), 'req'], pi: [T.G1, 'req']
})
export const Answer = Struct('Answer', {
  q: [Query, 'req'],
  hdr: [SignedHeader, 'req'],
  epoch: [u64, 'req'],
  wit: [Witness, 'req'],
  x: [ListOrNull(T.Scalar), 'req'],
  pi: [T.G1, 'opt'],
  tw: [WindowProof, 'opt']
})

export const StreamEntry = Struct('StreamEntry', {
  seq: [u64, 'req'], ver: [u32, 'req'], batch: [Hash32, 'req'], t0: [u64, 'req'], t1: [u64, 'req'], rev: [TrueOnly, 'opt']
})
export const StreamQuery = Struct('StreamQuery', {
  stream: [T.Text, 'req'], kind: [u8, 'req'], cols: [ListOrNull(T.Text), 'req'], tfrom: [u64, 'req'], tto: [u64, 'req']
})
export const StreamProof = Struct('StreamProof', {
  idx: [u64, 'req'],
  root: [Hash32, 'req'],
  n: [u64, 'req'],
  path: [ListOrNull(Hash32), 'req'],
  run: [ListOrNull(StreamEntry), 'req'],
  proof: [ListOrNull(Hash32), 'req']
})
export const EdgeRows = Struct('EdgeRows', { i0: [u32, 'req'], i1: [u32, 'req'], t: [ListOrNull(u64), 'req'] })
// hdr and wit are both absent for a batch whose header the verifier holds (§11.5)
export const StreamPart = Struct('StreamPart', {
  hdr: [SignedHeader, 'opt'], wit: [Witness, 'opt'], x: [ListOrNull(T.Scalar), 'req'], edge: [EdgeRows, 'opt']
})
export const StreamAnswer = Struct('StreamAnswer', {
  q: [StreamQuery, 'req'],
  state: [SignedState, 'req'],
  sp: [StreamProof, 'req'],
  parts: [ListOrNull(StreamPart), 'req'],
  pi: [T.G1, 'opt'],
  seg: [u32, 'opt'],
  segs: [u32, 'opt']
})
export const StreamRequest = Struct('StreamRequest', {
  q: [StreamQuery, 'req'], seg: [u32, 'opt'], held: [ListOrNull(Hash32), 'opt']
})

export const VerifyRequest = Struct('VerifyRequest', { q: [Query, 'req'], ans: [Answer, 'req'] })
export const VerifyStreamRequest = Struct('VerifyStreamRequest', {
  q: [StreamQuery, 'req'], ans: [StreamAnswer, 'req'], rest: [ListOrNull(StreamAnswer), 'opt']
})
export const VerifyManyRequest = Struct('VerifyManyRequest', { items: [ListOrNull(T.Raw), 'req'] })
export const CRSFile = Struct('CRSFile', { crs: [BytesOrNull, 'req'], keys: [OwnerKeys, 'req'] })
