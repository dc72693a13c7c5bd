// Entry point: run one golden-vector case (testdata/vectors/v1/README.md) with a fresh
// verifier and return its verdict.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { decode } from './cbor.js'
import { makeConfig } from './config.js'
import { Holder } from './state.js'
import { SignedState, SignedHeader, VerifyRequest, VerifyStreamRequest, VerifyManyRequest } from './messages.js'
import { verifyAnswer, prepareAnswer } from './queries.js'
import { checkMerged } from './crs.js'
import { verifyStream } from './stream.js'
import { checkSignedHeader } from './header.js'
import { hex } from './hash.js'
import { VerifyError, TOO_LARGE, BAD_PROOF } from './errors.js'

const unhex = (s) => new Uint8Array(Buffer.from(s, 'hex'))

/** loadSystem reads system.json and crs.bin of a vectors directory into a configuration. */
export function loadSystem (dir) {
  const sys = JSON.parse(fs.readFileSync(path.join(dir, 'system.json'), 'utf8'))
  const cfg = makeConfig({
    crsFile: new Uint8Array(fs.readFileSync(path.join(dir, sys.crs_file))),
    crsDigest: unhex(sys.crs_digest),
    ownerKeysCbor: unhex(sys.owner_keys),
    limits: sys.limits,
    maxStateAge: sys.max_state_age_ms
  })
  cfg.system = sys
  return cfg
}

const ARRAY_LIMIT = {
  verify_dc_query: (cfg) => cfg.limits.max_columns,
  verify_da_audit: (cfg) => cfg.limits.max_columns,
  verify_time_proofs: (cfg) => cfg.limits.max_columns,
  verify_stream: (cfg) => cfg.limits.max_stream_batches + 2,
  verify_many: () => 4096,
  update_global_pk: () => Infinity
}

function run (cfg, c) {
  const holder = new Holder(cfg)
  holder.now = BigInt(c.now)
  c.held_states.forEach((h, i) => {
    const ss = SignedState(decode(unhex(h)))
    if (i === 0) holder.anchor(ss)
    else holder.accept(ss)
  })
  cfg = holder.cfg // with the keys the held states' handovers added (§6.3)
  // headers the verifier holds from earlier answers (§11.5), by digest
  holder.headers = new Map()
  for (const h of c.held_headers ?? []) {
    const sh = SignedHeader(decode(unhex(h)))
    holder.headers.set(hex(checkSignedHeader(cfg, sh)), sh)
  }
  const limit = (ARRAY_LIMIT[c.method] || (() => Infinity))(cfg)
  const body = decode(unhex(c.request), { maxArray: limit, maxMap: 32 })
  switch (c.method) {
    case 'verify_dc_query':
    case 'verify_da_audit':
    case 'verify_time_proofs':
      return verifyAnswer(cfg, holder, VerifyRequest(body), c.method)
    case 'verify_stream':
      return verifyStream(cfg, holder, VerifyStreamRequest(body))
    case 'verify_many': {
      // §12.5: steps 1–10 per item, the equations of all passing items in one
      // multi-pairing; if it fails, each item is checked alone
      const req = VerifyManyRequest(body)
      if (req.items.length > 4096) throw new VerifyError(TOO_LARGE, 'verify_many: too many items')
      const items = req.items.map((raw) => {
        try {
          const r = VerifyRequest(raw)
          const kind = Number(r.q.kind)
          const method = kind === 5 ? 'verify_da_audit' : kind === 4 ? 'verify_time_proofs' : 'verify_dc_query'
          return { prepared: prepareAnswer(cfg, holder, r, method) }
        } catch (e) {
          if (!(e instanceof VerifyError)) throw e
          return { verdict: 'error', error: e.code }
        }
      })
      const ready = items.filter(it => it.prepared)
      const allOk = ready.length === 0 || checkMerged(ready.flatMap(it => it.prepared.equations))
      return {
        items: items.map(it => {
          if (!it.prepared) return it
          if (allOk || checkMerged(it.prepared.equations)) return { verdict: 'ok', result: it.prepared.res }
          return { verdict: 'error', error: BAD_PROOF }
        })
      }
    }
    case 'update_global_pk': {
      holder.accept(SignedState(body))
      return { epoch: Number(holder.held.s.epoch), iat: Number(holder.held.iat) }
    }
    default:
      throw new Error(`unknown method ${c.method}`)
  }
}

let defaultCfg = null

/** defaultVectorsDir is $VDS_VECTORS_DIR or testdata/vectors/v1 of the repository. */
export function defaultVectorsDir () {
  return process.env.VDS_VECTORS_DIR || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../testdata/vectors/v1')
}

/**
 * verify runs one case with a fresh verifier configured by cfg (loadSystem; by default the
 * system of defaultVectorsDir()) and returns {ok: true, values: result} or {error: code}.
 */
export function verify (c, cfg) {
  if (cfg === undefined) cfg = defaultCfg ??= loadSystem(defaultVectorsDir())
  try {
    return { ok: true, values: run(cfg, c) }
  } catch (e) {
    if (e instanceof VerifyError) return { error: e.code, message: e.message }
    throw e
  }
}
