'use strict'
// Self-contained HTML (inline SVG, no script) for bench/run.js results: per
// example and shape, latency percentiles and throughput per configuration,
// and RSS over time per configuration, each with labelled axes.
const COLORS = ['#8d99ae', '#e76f51', '#e9c46a', '#2a9d8f', '#264653']
const W = 400
const H = 240
const PAD = { left: 52, right: 14, top: 28, bottom: 40 }

function esc (s) { return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]) }

// Tick values 0, step, 2 step... covering max with about `count` steps of 1, 2 or 5 × 10^n.
function ticks (max, count = 4) {
  const raw = Math.max(max, 1e-9) / count
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)
  const out = []
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)))
  if (out[out.length - 1] < max) out.push(Number((out[out.length - 1] + step).toPrecision(12)))
  return out
}

function fmt (v) {
  if (v >= 1e6) return `${(v / 1e6).toFixed(v % 1e6 === 0 ? 0 : 1)}M`
  if (v >= 1e4) return `${(v / 1e3).toFixed(v % 1e3 === 0 ? 0 : 1)}k`
  return Number.isInteger(v) ? String(v) : v.toFixed(1)
}

function frame (title) {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}"><rect width="${W}" height="${H}" fill="#fff"/>`
}

// A y axis from 0 to the last tick, labelled; returns the svg and y(v).
function yAxis (max, label) {
  const t = ticks(max)
  const top = t[t.length - 1]
  const plotH = H - PAD.top - PAD.bottom
  const y = (v) => H - PAD.bottom - plotH * v / top
  let svg = `<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#333"/>`
  for (const v of t) {
    svg += `<line x1="${PAD.left - 4}" x2="${W - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${v === 0 ? '#333' : '#e5e5e5'}"/>`
    svg += `<text class="axis-label" x="${PAD.left - 7}" y="${(y(v) + 3.5).toFixed(1)}" font-size="10" text-anchor="end">${fmt(v)}</text>`
  }
  svg += `<text class="axis-label" x="${PAD.left}" y="${PAD.top - 12}" font-size="11">${esc(label)}</text>`
  return { svg, y }
}

// Grouped bars: one group per metric, one bar per configuration.
function barsSvg (byConfig, configs, metrics, axisLabel, title) {
  const values = configs.flatMap((c) => byConfig[c] ? metrics.map(([k]) => byConfig[c][k]) : []).filter(Number.isFinite)
  const { svg: axis, y } = yAxis(Math.max(1, ...values), axisLabel)
  const plotW = W - PAD.left - PAD.right
  const groupW = plotW / metrics.length
  const barW = Math.min(36, (groupW - 12) / configs.length)
  let svg = frame(title) + axis
  metrics.forEach(([k, label], g) => {
    const x0 = PAD.left + g * groupW + (groupW - barW * configs.length) / 2
    configs.forEach((c, i) => {
      const s = byConfig[c]
      if (!s || !Number.isFinite(s[k])) return
      const x = x0 + i * barW
      const top = y(s[k])
      svg += `<rect x="${(x + 1).toFixed(1)}" y="${top.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(H - PAD.bottom - top).toFixed(1)}" fill="${COLORS[i % COLORS.length]}"><title>${esc(c)} ${label}: ${s[k].toFixed(1)}</title></rect>`
    })
    svg += `<text class="axis-label" x="${(PAD.left + (g + 0.5) * groupW).toFixed(1)}" y="${H - PAD.bottom + 16}" font-size="11" text-anchor="middle">${esc(label)}</text>`
  })
  return svg + '</svg>'
}

function latencySvg (byConfig, configs) {
  return barsSvg(byConfig, configs, [['p50', 'p50'], ['p99', 'p99'], ['p999', 'p99.9']], 'latency, ms (medians of the runs)', 'latency percentiles')
}

// Requests per second per configuration, with the ratio to the first
// configuration (the baseline) under each bar.
function throughputSvg (byConfig, configs) {
  const shown = configs.filter((c) => byConfig[c] && Number.isFinite(byConfig[c].rps))
  const { svg: axis, y } = yAxis(Math.max(1, ...shown.map((c) => byConfig[c].rps)), 'throughput, requests/s (medians)')
  const plotW = W - PAD.left - PAD.right
  const slot = plotW / Math.max(1, configs.length)
  const barW = Math.min(44, slot - 12)
  const base = byConfig[configs[0]] && byConfig[configs[0]].rps
  let svg = frame('throughput') + axis
  configs.forEach((c, i) => {
    const s = byConfig[c]
    if (!s || !Number.isFinite(s.rps)) return
    const cx = PAD.left + (i + 0.5) * slot
    const top = y(s.rps)
    svg += `<rect x="${(cx - barW / 2).toFixed(1)}" y="${top.toFixed(1)}" width="${barW.toFixed(1)}" height="${(H - PAD.bottom - top).toFixed(1)}" fill="${COLORS[i % COLORS.length]}"><title>${esc(c)}: ${s.rps.toFixed(0)} req/s</title></rect>`
    svg += `<text class="axis-label" x="${cx.toFixed(1)}" y="${H - PAD.bottom + 14}" font-size="10" text-anchor="middle">${esc(c)}</text>`
    if (base > 0) svg += `<text class="axis-label" x="${cx.toFixed(1)}" y="${H - PAD.bottom + 27}" font-size="10" text-anchor="middle">${(s.rps / base).toFixed(2)}×</text>`
  })
  return svg + '</svg>'
}

function rssSvg (seriesByConfig, configs) {
  const all = configs.flatMap((c) => seriesByConfig[c] || []).filter(([, r]) => r)
  const MiB = 1048576
  const maxT = Math.max(1, ...all.map(([t]) => t))
  const { svg: axis, y } = yAxis(Math.max(1, ...all.map(([, r]) => r / MiB)), 'RSS, MiB')
  const plotW = W - PAD.left - PAD.right
  const tTicks = ticks(maxT)
  const tTop = tTicks[tTicks.length - 1]
  const x = (t) => PAD.left + plotW * t / tTop
  let svg = frame('RSS over time') + axis
  for (const t of tTicks) {
    svg += `<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom + 4}" stroke="#333"/>`
    svg += `<text class="axis-label" x="${x(t).toFixed(1)}" y="${H - PAD.bottom + 15}" font-size="10" text-anchor="middle">${fmt(t)}</text>`
  }
  svg += `<text class="axis-label" x="${(PAD.left + plotW / 2).toFixed(1)}" y="${H - 6}" font-size="11" text-anchor="middle">seconds into the measured run</text>`
  configs.forEach((c, i) => {
    const pts = (seriesByConfig[c] || []).filter(([, r]) => r).map(([t, r]) => `${x(t).toFixed(1)},${y(r / MiB).toFixed(1)}`)
    if (pts.length) svg += `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" points="${pts.join(' ')}"><title>${esc(c)}</title></polyline>`
  })
  return svg + '</svg>'
}

function renderChart ({ header, results, series, configs }) {
  const legend = configs.map((c, i) => `<span class="key"><span class="swatch" style="background:${COLORS[i % COLORS.length]}"></span>${esc(c)}</span>`).join('')
  let body = `<h1>SAMM end-to-end benchmark</h1><p>${esc(header)}</p><p class="legend">${legend}</p>`
  for (const key of Object.keys(results)) {
    body += `<h2>${esc(key)}</h2><div class="row">` +
      `<figure>${throughputSvg(results[key], configs)}<figcaption>throughput; the ratio to ${esc(configs[0])} under each bar</figcaption></figure>` +
      `<figure>${latencySvg(results[key], configs)}<figcaption>latency percentiles</figcaption></figure>` +
      `<figure>${rssSvg(series[key] || {}, configs)}<figcaption>RSS over time (last repetition)</figcaption></figure></div>`
  }
  const style = 'body{font:14px system-ui,sans-serif;margin:2em}.row{display:flex;gap:16px;flex-wrap:wrap}figure{margin:0}' +
    'figcaption{font-size:12px;color:#444;max-width:400px}svg{max-width:100%;height:auto}.legend{display:flex;gap:16px;flex-wrap:wrap}' +
    '.swatch{display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:-1px}'
  return `<!doctype html><html><head><meta charset="utf-8"><title>SAMM benchmark</title><style>${style}</style></head><body>${body}</body></html>\n`
}

module.exports = { renderChart, ticks }
