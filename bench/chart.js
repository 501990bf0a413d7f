'use strict'
// Self-contained HTML (inline SVG, no script) for bench/run.js results:
// latency percentiles per configuration, and RSS over time per configuration.
const COLORS = ['#8d99ae', '#e76f51', '#e9c46a', '#2a9d8f', '#264653']

function esc (s) { return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]) }

function latencySvg (byConfig, configs) {
  const W = 560; const H = 220; const P = 36
  const metrics = [['p50', 'p50'], ['p99', 'p99'], ['p999', 'p99.9']]
  const max = Math.max(1, ...configs.flatMap((c) => byConfig[c] ? metrics.map(([k]) => byConfig[c][k]) : [0]))
  const groupW = (W - 2 * P) / metrics.length
  const barW = groupW / (configs.length + 1)
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="${W}" height="${H}" fill="#fff"/>`
  metrics.forEach(([k, label], g) => {
    configs.forEach((c, i) => {
      const s = byConfig[c]
      if (!s) return
      const h = (H - 2 * P) * s[k] / max
      const x = P + g * groupW + (i + 0.5) * barW
      svg += `<rect x="${x.toFixed(1)}" y="${(H - P - h).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[i % COLORS.length]}"><title>${esc(c)} ${label}: ${s[k].toFixed(1)} ms</title></rect>`
      svg += `<text x="${(x + barW / 2).toFixed(1)}" y="${(H - P - h - 3).toFixed(1)}" font-size="9" text-anchor="middle">${s[k].toFixed(0)}</text>`
    })
    svg += `<text x="${(P + (g + 0.5) * groupW).toFixed(1)}" y="${H - P + 14}" font-size="11" text-anchor="middle">${label} (ms)</text>`
  })
  return svg + '</svg>'
}

function rssSvg (seriesByConfig, configs) {
  const W = 560; const H = 220; const P = 40
  const all = configs.flatMap((c) => seriesByConfig[c] || [])
  const maxT = Math.max(1, ...all.map(([t]) => t))
  const maxR = Math.max(1, ...all.map(([, r]) => r || 0))
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="${W}" height="${H}" fill="#fff"/>`
  configs.forEach((c, i) => {
    const pts = (seriesByConfig[c] || []).filter(([, r]) => r).map(([t, r]) => `${(P + (W - 2 * P) * t / maxT).toFixed(1)},${(H - P - (H - 2 * P) * r / maxR).toFixed(1)}`)
    if (pts.length) svg += `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" points="${pts.join(' ')}"><title>${esc(c)}</title></polyline>`
  })
  svg += `<text x="${P}" y="${P - 8}" font-size="11">RSS, peak ${(maxR / 1048576).toFixed(0)} MiB</text><text x="${W - P}" y="${H - 8}" font-size="11" text-anchor="end">${maxT.toFixed(0)} s</text>`
  return svg + '</svg>'
}

function renderChart ({ header, results, series, configs }) {
  const legend = configs.map((c, i) => `<span style="display:inline-block;width:12px;height:12px;background:${COLORS[i % COLORS.length]}"></span> ${esc(c)}`).join(' &nbsp; ')
  let body = `<h1>SAMM end-to-end benchmark</h1><p>${esc(header)}</p><p>${legend}</p>`
  for (const key of Object.keys(results)) {
    body += `<h2>${esc(key)}</h2><div style="display:flex;gap:16px;flex-wrap:wrap"><figure>${latencySvg(results[key], configs)}<figcaption>latency percentiles (medians of the runs)</figcaption></figure><figure>${rssSvg(series[key], configs)}<figcaption>RSS over time (last repetition)</figcaption></figure></div>`
  }
  return `<!doctype html><html><head><meta charset="utf-8"><title>SAMM benchmark</title><style>body{font:14px system-ui,sans-serif;margin:2em}</style></head><body>${body}</body></html>\n`
}

module.exports = { renderChart }
