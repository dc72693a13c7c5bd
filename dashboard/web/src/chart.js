// The chart of verified totals per period, drawn as SVG by the page itself.
const NS = 'http://www.w3.org/2000/svg'

function el (name, attrs, text) {
  const e = document.createElementNS(NS, name)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v))
  if (text !== undefined) e.textContent = text
  return e
}

/** buckets returns count consecutive UTC periods ('hour', 'day', 'month') from start (ms). */
export function buckets (period, startMs, count) {
  const out = []
  const d = new Date(startMs)
  for (let i = 0; i < count; i++) {
    let a, b
    if (period === 'month') {
      a = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + i, 1)
      b = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + i + 1, 1)
    } else {
      const step = period === 'hour' ? 3600e3 : 86400e3
      a = startMs + i * step
      b = a + step
    }
    out.push({ from: a, to: b - 1, label: label(period, a) })
  }
  return out
}

function label (period, t) {
  const s = new Date(t).toISOString()
  if (period === 'month') return s.slice(0, 7)
  if (period === 'day') return s.slice(5, 10)
  return s.slice(11, 16)
}

/**
 * draw renders bars {label, status, value}: a verified bar at its value, a rejected one
 * as a red mark without a value (the number is never drawn).
 */
export function draw (bars) {
  const W = 760
  const H = 260
  const pad = { l: 70, r: 10, t: 16, b: 40 }
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': 'verified totals' })
  const nums = bars.filter(b => b.status === 'verified').map(b => Number(b.value))
  const max = Math.max(1, ...nums.map(Math.abs))
  const iw = W - pad.l - pad.r
  const ih = H - pad.t - pad.b
  svg.appendChild(el('line', { x1: pad.l, y1: pad.t + ih, x2: W - pad.r, y2: pad.t + ih, class: 'axis' }))
  for (let g = 0; g <= 4; g++) {
    const y = pad.t + ih - (ih * g) / 4
    svg.appendChild(el('line', { x1: pad.l, y1: y, x2: W - pad.r, y2: y, class: 'grid' }))
    svg.appendChild(el('text', { x: pad.l - 6, y: y + 4, class: 'tick', 'text-anchor': 'end' }, fmt((max * g) / 4)))
  }
  const bw = iw / Math.max(1, bars.length)
  bars.forEach((b, i) => {
    const x = pad.l + i * bw + bw * 0.1
    const w = bw * 0.8
    const g = el('g', { class: `bar ${b.status}`, 'data-status': b.status })
    if (b.status === 'verified') {
      const h = (ih * Math.abs(Number(b.value))) / max
      g.appendChild(el('rect', { x, y: pad.t + ih - h, width: w, height: Math.max(h, 1) }))
      g.appendChild(el('title', {}, `${b.label}: ${b.value} (verified)`))
    } else {
      g.appendChild(el('rect', { x, y: pad.t, width: w, height: ih, class: 'rejected-bg' }))
      g.appendChild(el('text', { x: x + w / 2, y: pad.t + ih / 2, 'text-anchor': 'middle', class: 'cross' }, '✕'))
      g.appendChild(el('title', {}, `${b.label}: rejected — ${b.reason}`))
    }
    g.appendChild(el('text', { x: x + w / 2, y: H - pad.b + 16, 'text-anchor': 'middle', class: 'tick' }, b.label))
    svg.appendChild(g)
  })
  return svg
}

function fmt (v) {
  if (Math.abs(v) >= 1e6) return (v / 1e6).toFixed(1) + 'M'
  if (Math.abs(v) >= 1e3) return (v / 1e3).toFixed(1) + 'k'
  return String(Math.round(v * 100) / 100)
}
