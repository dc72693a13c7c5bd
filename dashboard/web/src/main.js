// The dashboard page: the trust root, the owner's state, the streams and
// their batches, a chart of verified totals and queries by hand. Every
// number is shown with its verdict; a rejected one is never shown.
import { Verifier, reason } from './verifier.js'
import { buckets, draw } from './chart.js'

const $ = (id) => document.getElementById(id)

function h (tag, attrs = {}, ...kids) {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v)
    else e.setAttribute(k, v)
  }
  for (const c of kids) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c))
  return e
}

/** badge shows a result's verdict: verified, or rejected with its reason in plain words. */
function badge (r) {
  if (r.status === 'verified') return h('span', { class: 'badge ok', 'data-status': 'verified' }, '✔ verified')
  return h('span', { class: 'badge bad', 'data-status': 'rejected', 'data-code': r.code, title: r.detail || '' }, `✕ rejected: ${r.reason} (${r.code})`)
}

const fmtTime = (ms) => new Date(Number(ms)).toISOString().replace('.000Z', 'Z')

// The page's time unit for stream timestamps: seconds unless the config says ms.
let unitMs = 1000
const toUnit = (ms) => Math.floor(ms / unitMs)
const fromUnit = (t) => t * unitMs

function section (title, ...kids) { return h('section', {}, h('h2', {}, title), ...kids) }

function trustSection (cfg) {
  if (!cfg.pinned) {
    return section('Trust root', h('p', { class: 'banner bad', id: 'untrusted' },
      'No trust root is pinned (vds web -keys DIR): the page verifies nothing and shows no number as verified.'))
  }
  return section('Trust root', h('dl', { id: 'trust' },
    h('dt', {}, 'owner id'), h('dd', { class: 'mono' }, cfg.owner_id),
    h('dt', {}, 'signing key ids'), h('dd', { class: 'mono', id: 'key-ids' }, (cfg.key_ids || []).join(', ')),
    h('dt', {}, 'CRS digest'), h('dd', { class: 'mono', id: 'crs-digest' }, cfg.crs_digest),
    h('dt', {}, 'pinned from'), h('dd', { class: 'mono' }, `${cfg.source} (vds web -keys), served by this page's server; the CRS is checked against the digest`)))
}

async function stateSection (v) {
  const out = h('div', { id: 'state' })
  try {
    const { state, checked, verified } = await v.syncState()
    const rows = [
      ['epoch', String(state.s.epoch)], ['issued', fmtTime(state.iat)],
      ['revoked batches', verified ? String(v.holder.revoked.size) : 'unknown'], ['streams', String(state.head.streams)], ['signing key', state.kid]
    ]
    out.append(h('dl', {}, ...rows.flatMap(([k, x]) => [h('dt', {}, k), h('dd', { 'data-field': k }, x)])))
    out.append(verified
      ? h('p', {}, badge({ status: 'verified' }), h('span', { class: 'chain' }, ` the chain of ${checked} signed states from epoch 0, each accumulator step and signature`))
      : h('p', {}, badge({ status: 'rejected', code: 'untrusted', reason: reason('untrusted') })))
    // later states (a revocation since the page opened) update the fields
    v.onState = ({ state: st, checked: n }) => {
      const set = (k, x) => { const e = out.querySelector(`[data-field="${k}"]`); if (e) e.textContent = x }
      set('epoch', String(st.s.epoch)); set('issued', fmtTime(st.iat)); set('revoked batches', String(v.holder.revoked.size))
      set('streams', String(st.head.streams)); set('signing key', st.kid)
      const c = out.querySelector('.chain')
      if (c) c.textContent = ` the chain of ${n} signed states from epoch 0, each accumulator step and signature`
    }
  } catch (e) {
    out.append(h('p', {}, badge({ status: 'rejected', code: e.code || 'invalid_encoding', reason: reason(e.code), detail: e.message })))
  }
  return section("Owner's state", out)
}

async function streamsSection (v, streams) {
  const box = h('div', { id: 'streams' })
  if (streams.size === 0) box.append(h('p', {}, 'no batches stored'))
  for (const [name, list] of streams) {
    const live = list.filter(b => !b.revoked).length
    const versions = list.filter(b => b.ver > 0).length
    const t = h('table', { class: 'batches', 'data-stream': name },
      h('tr', {}, ...['batch', 'seq', 'version', 'rows', 'from', 'to', 'status'].map(x => h('th', {}, x))))
    for (const b of list) {
      const st = b.revoked ? (b.revokedVerified ? 'revoked (in the verified state)' : 'revoked (as listed)') : 'live'
      t.append(h('tr', { class: b.revoked ? 'revoked' : 'live', 'data-batch': b.id },
        h('td', { class: 'mono', title: b.id }, b.id.slice(0, 12)), h('td', {}, b.seq), h('td', {}, b.ver), h('td', {}, b.rows),
        h('td', {}, fmtTime(fromUnit(b.t0))), h('td', {}, fmtTime(fromUnit(b.t1))), h('td', {}, st)))
    }
    const d = h('details', list.length <= 12 ? { open: '' } : {}, h('summary', {}, `${name}: ${list.length} batches, ${live} live, ${list.length - live} revoked, ${versions} updated`), t)
    box.append(d)
  }
  box.append(h('p', { class: 'note' }, 'The list is what the storage server says; every number below is verified on its own.'))
  return section('Streams and batches', box)
}

/** defaults picks the chart's first view: the first stream's span in hours, days or months. */
function defaults (streams) {
  const names = [...streams.keys()]
  const list = names.length ? streams.get(names[0]) : []
  if (list.length === 0) return { period: 'month', from: '2010-01-01', count: 12 }
  const t0 = fromUnit(Math.min(...list.map(b => b.t0)))
  const t1 = fromUnit(Math.max(...list.map(b => b.t1)))
  const span = t1 - t0
  if (span <= 2 * 86400e3) return { period: 'hour', from: new Date(t0 - (t0 % 3600e3)).toISOString().slice(0, 13) + ':00:00Z', count: Math.min(48, Math.ceil((t1 - t0 + (t0 % 3600e3)) / 3600e3) || 1) }
  if (span <= 62 * 86400e3) return { period: 'day', from: new Date(t0).toISOString().slice(0, 10), count: Math.min(62, Math.ceil(span / 86400e3) + 1) }
  const d0 = new Date(t0)
  const d1 = new Date(t1)
  return { period: 'month', from: d0.toISOString().slice(0, 7), count: Math.min(36, (d1.getUTCFullYear() - d0.getUTCFullYear()) * 12 + d1.getUTCMonth() - d0.getUTCMonth() + 1) }
}

function chartSection (v, streams, cols) {
  const names = [...streams.keys()]
  const d = defaults(streams)
  const form = h('form', { id: 'chart-form' },
    h('label', {}, 'stream ', h('select', { name: 'stream' }, ...names.map(n => h('option', {}, n)))),
    h('label', {}, ' column ', h('input', { name: 'col', value: cols[0] || 'value', size: 10 })),
    h('label', {}, ' per ', h('select', { name: 'period' }, ...['month', 'day', 'hour'].map(p => h('option', p === d.period ? { selected: '' } : {}, p)))),
    h('label', {}, ' from ', h('input', { name: 'from', value: d.from, size: 20 })),
    h('label', {}, ' periods ', h('input', { name: 'count', value: String(d.count), size: 3 })),
    h('button', {}, 'draw'))
  const out = h('div', { id: 'chart' })
  const timing = h('p', { id: 'chart-timing', class: 'note' })
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    const f = new FormData(form)
    await chart(v, { stream: f.get('stream'), col: f.get('col'), period: f.get('period'), from: f.get('from'), count: Number(f.get('count')) }, out, timing)
  })
  return section('Verified totals', form, out, timing)
}

const AHEAD = 4 // stream answers a chart has on their way at once

/** chart asks and verifies one stream answer per period and draws them. */
async function chart (v, { stream, col, period, from, count }, out = $('chart'), timing = $('chart-timing')) {
  out.replaceChildren(h('p', {}, 'verifying…'))
  const form = $('chart-form')
  if (form) Object.assign(form.elements.namedItem('stream'), { value: stream }) && Object.entries({ col, period, from, count }).forEach(([k, x]) => { form.elements.namedItem(k).value = String(x) })
  const start = Date.parse(from.length === 7 ? from + '-01T00:00:00Z' : from.length === 10 ? from + 'T00:00:00Z' : from)
  if (Number.isNaN(start)) throw new Error(`from ${from}`)
  const t0 = performance.now()
  await v.syncState()
  const bars = []
  let verifyMs = 0
  // the answers are asked AHEAD at a time: the next ones travel while one is verified
  const bs = buckets(period, start, count)
  const qs = bs.map(b => ({ stream, cols: [col], tfrom: toUnit(b.from), tto: toUnit(b.to + 1) - 1 }))
  const pending = qs.slice(0, AHEAD).map(q => v.request(q))
  for (const [i, b] of bs.entries()) {
    if (i + AHEAD < qs.length) pending.push(v.request(qs[i + AHEAD]))
    const r = await v.stream(qs[i], { sync: false, pending: pending[i] })
    pending[i] = undefined
    verifyMs += r.verifyMs || 0
    bars.push({ label: b.label, status: r.status, value: r.status === 'verified' ? r.values[0] : undefined, reason: r.reason, code: r.code })
  }
  const totalMs = performance.now() - t0
  const table = h('table', { class: 'totals' }, h('tr', {}, h('th', {}, period), h('th', {}, `total of ${col}`), h('th', {}, 'verdict')),
    ...bars.map(b => h('tr', { 'data-status': b.status }, h('td', {}, b.label), h('td', { class: 'num' }, b.status === 'verified' ? b.value : '—'), h('td', {}, badge(b)))))
  out.replaceChildren(draw(bars), table)
  const ok = bars.filter(b => b.status === 'verified').length
  timing.textContent = `${ok} of ${bars.length} answers verified; verification ${verifyMs.toFixed(0)} ms, with the requests ${totalMs.toFixed(0)} ms (in this browser)`
  const res = { bars, verifyMs, totalMs }
  window.vds.lastChart = res
  return res
}

function querySection (v, streams, cols) {
  const anyBatch = [...streams.values()].flat().find(b => !b.revoked)
  const form = h('form', { id: 'query-form' },
    h('label', {}, 'kind ', h('select', { name: 'kind' }, ...['point', 'range', 'window', 'stream window'].map(k => h('option', {}, k)))),
    h('label', {}, ' batch or stream ', h('input', { name: 'target', value: anyBatch ? anyBatch.id : '', size: 24 })),
    h('label', {}, ' columns ', h('input', { name: 'cols', value: cols.join(',') || 'value', size: 16 })),
    h('label', {}, ' row / from ', h('input', { name: 'a', value: '1', size: 20 })),
    h('label', {}, ' to ', h('input', { name: 'b', value: '', size: 20 })),
    h('button', {}, 'ask'))
  const list = h('ol', { id: 'results', reversed: '' })
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    const f = new FormData(form)
    const kind = f.get('kind')
    const cols = f.get('cols').split(',').map(s => s.trim()).filter(Boolean)
    const a = f.get('a').trim()
    const b = f.get('b').trim()
    const q = { kind, cols }
    if (kind === 'stream window') Object.assign(q, { stream: f.get('target').trim(), tfrom: a, tto: b })
    else Object.assign(q, { batch: f.get('target').trim(), row: a, from: a, to: b, tfrom: a, tto: b })
    await ask(q)
  })
  return section('Queries', h('p', { class: 'note' }, 'point: row; range: from..to (rows); window and stream window: times (RFC 3339 or a number in the stream\'s unit)'), form, list)
}

function parseTime (s) {
  if (/^\d+$/.test(String(s))) return Number(s)
  const t = Date.parse(s)
  if (Number.isNaN(t)) throw new Error(`time ${s}`)
  return toUnit(t)
}

/** ask runs one query by hand and lists its verdict; it returns the result. */
async function ask (q) {
  const v = window.vds.verifier
  let r
  try {
    if (q.kind === 'stream window') r = await v.stream({ stream: q.stream, cols: q.cols, tfrom: parseTime(q.tfrom), tto: parseTime(q.tto) })
    else if (q.kind === 'window') r = await v.query({ ...q, tfrom: parseTime(q.tfrom), tto: parseTime(q.tto) })
    else r = await v.query(q)
  } catch (e) {
    r = { status: 'rejected', code: 'invalid_input', reason: reason('invalid_input'), detail: String(e) }
  }
  const what = q.kind === 'stream window' ? `${q.stream} ${q.tfrom}..${q.tto}` : `${String(q.batch).slice(0, 12)} ${q.kind === 'point' ? 'row ' + q.row : q.kind === 'range' ? `rows ${q.from}..${q.to}` : `${q.tfrom}..${q.tto}`}`
  const vals = r.status === 'verified' ? q.cols.map((c, i) => `${c} = ${r.values[i]}`).join(', ') : '—'
  $('results')?.prepend(h('li', { 'data-status': r.status, 'data-code': r.code || '' }, `${q.kind} ${what}: `, h('b', { class: 'num' }, vals), ' ', badge(r)))
  return r
}

async function main () {
  const app = $('app')
  const cfg = await (await fetch('config.json')).json()
  if (cfg.time_unit === 'ms') unitMs = 1
  const v = new Verifier(cfg)
  window.vds = { verifier: v, ask, chart: (o) => chart(v, o), ready: false, config: cfg }
  app.append(trustSection(cfg))
  try {
    await v.loadTrust()
  } catch (e) {
    app.append(h('p', { class: 'banner bad' }, badge({ status: 'rejected', code: e.code || 'invalid_crs', reason: reason(e.code || 'invalid_crs'), detail: e.message })))
    v.cfg = null
  }
  app.append(await stateSection(v))
  let streams = new Map()
  try { streams = await v.batches() } catch (e) { app.append(h('p', {}, badge({ status: 'rejected', code: e.code, reason: reason(e.code) }))) }
  let cols = []
  const firstLive = [...streams.values()].flat().find(b => !b.revoked)
  if (firstLive) try { cols = await v.columns(firstLive.id) } catch {}
  app.append(await streamsSection(v, streams), chartSection(v, streams, cols), querySection(v, streams, cols))
  if (streams.size > 0 && v.cfg) {
    const f = $('chart-form')
    const el = (k) => f.elements.namedItem(k).value
    await chart(v, { stream: el('stream'), col: el('col'), period: el('period'), from: el('from'), count: Number(el('count')) })
  }
  $('status').textContent = v.cfg ? `storage ${cfg.storage}; every number verified in this page` : `storage ${cfg.storage}; not verifying (no trust root)`
  window.vds.ready = true
}

main().catch(e => { $('status').textContent = 'error: ' + e.message; window.vds = { ...(window.vds || {}), ready: true, error: String(e) } })
