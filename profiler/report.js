'use strict'
// samm report: a self-contained HTML page (inline SVG, no scripts) with a
// lifetime histogram per site, the cluster centroids and boundaries of its
// size class and the class it was given; and a short table on the terminal.
// Takes a profile (baked on the fly, nothing is rebuilt) or a table file.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { parseArgs, UsageError } = require('./args')
const { readProfile, binStartUs, BINS } = require('./profile-format')
const { bakeTool } = require('../lib/tools')

const COLORS = { short: '#2a9d8f', medium: '#e9c46a', long: '#e76f51', heap: '#8d99ae' }
// Beyond the last lifetime bin (2^40 µs, 12.7 days) only allocations still
// alive at the end lie: the clustering puts them at 2^60 µs.
const LAST_US = binStartUs(BINS)

function escapeHtml (s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])
}

function formatUs (us) {
  if (us >= 864e8) return `${(us / 864e8).toFixed(1)} d`
  if (us >= 3.6e9) return `${(us / 3.6e9).toFixed(1)} h`
  if (us >= 6e7) return `${(us / 6e7).toFixed(1)} min`
  if (us >= 1e6) return `${(us / 1e6).toFixed(2)} s`
  if (us >= 1e3) return `${(us / 1e3).toFixed(1)} ms`
  return `${us.toFixed(0)} µs`
}

// A cluster's centre: a lifetime, or "still alive" for a cluster of the
// allocations that never died while profiled (censored).
function formatCentroid (us) { return us >= LAST_US ? 'still alive' : formatUs(us) }

// A boundary between clusters; past the last bin it separates the
// allocations that died from those still alive at the end.
function formatBoundary (us) { return us >= LAST_US ? 'end of profile' : formatUs(us) }

// 2^lg bytes: "64 B", "4 KiB", "1 MiB".
function pow2Bytes (lg) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB']
  const u = Math.floor(lg / 10)
  return `${2 ** (lg - 10 * u)} ${units[u]}`
}

// The sizes whose floor(log2) lies in lo..hi: from 2^lo up to, not
// including, 2^(hi + 1); the classes at either end are open-ended.
function sizeRange (lo, hi) {
  const from = lo > 0 ? pow2Bytes(lo) : null
  const to = hi < 63 ? pow2Bytes(hi + 1) : null
  if (from !== null && to !== null) return `${from}–${to}`
  if (to !== null) return `< ${to}`
  if (from !== null) return `≥ ${from}`
  return 'any size'
}

// A site's class per size range, as a phrase.
function sitesSizes (sizes) {
  if (sizes.length === 1 && sizeRange(sizes[0].log2Min, sizes[0].log2Max) === 'any size') return `${sizes[0].class} at every size`
  return `by size: ${sizes.map((r) => `${escapeHtml(sizeRange(r.log2Min, r.log2Max))} ${r.class}`).join(', ')}`
}

function bakeProfile (file) {
  const tool = bakeTool()
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'samm-report-'))
  try {
    const r = spawnSync(tool, ['--c', path.join(tmp, 't.c'), '--json', path.join(tmp, 't.json'), file], { stdio: ['ignore', 'inherit', 'inherit'] })
    if (r.status !== 0) throw new Error(`cannot bake ${file}`)
    return JSON.parse(fs.readFileSync(path.join(tmp, 't.json'), 'utf8'))
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

// The size class holding most of a site's allocations.
function mainSizeClass (table, site) {
  let best = null
  let most = -1
  for (const sc of table.sizeClasses) {
    let n = 0
    for (const [log2, allocs] of site.sizes) if (log2 >= sc.log2Min && log2 <= sc.log2Max) n += allocs
    if (n > most) { most = n; best = sc }
  }
  return best
}

// Rough width of a label in px at font size `size` (system-ui digits and
// lower case average about 0.6 em), for keeping labels apart.
function labelWidth (text, size) { return text.length * size * 0.62 }

const HIST_W = 640
const HIST_H = 160
const HIST_PAD = { left: 36, right: 20, top: 26, bottom: 34 }

function histogramSvg (site, sc, cls) {
  const W = HIST_W
  const H = HIST_H
  const P = HIST_PAD
  const plotW = W - P.left - P.right
  const plotH = H - P.top - P.bottom
  // The axis runs over lifetime bins 0..last (a quarter of a log2 µs each).
  const last = Math.max(40, ...site.bins.map((c, b) => c > 0 ? b + 4 : 0))
  const pos = (us) => 4 * Math.log2(Math.max(us, 1))
  const inRange = (us) => pos(us) <= last
  const x = (us) => P.left + plotW * Math.max(0, pos(us)) / last
  const max = Math.max(1, ...site.bins)
  const barW = plotW / last
  const base = H - P.bottom
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="lifetime histogram of ${escapeHtml(site.name)}">`
  svg += `<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`
  for (let b = 0; b < Math.min(BINS, last); b++) {
    if (site.bins[b] === 0) continue
    const h = plotH * site.bins[b] / max
    svg += `<rect x="${(P.left + b * barW).toFixed(1)}" y="${(base - h).toFixed(1)}" width="${Math.max(1, barW - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[cls] || '#555'}"><title>${formatUs(binStartUs(b))}–${formatUs(binStartUs(b + 1))}: ${site.bins[b]}</title></rect>`
  }
  svg += `<text class="axis-label" x="${P.left}" y="${P.top - 10}" font-size="11">allocations (highest bar ${max})</text>`
  if (site.censored > 0) {
    svg += `<text class="note" x="${W - P.right}" y="${P.top - 10}" text-anchor="end" font-size="11">${site.censored} still alive at the end</text>`
  }
  if (sc) {
    for (const b of sc.boundariesUs) {
      if (!inRange(b)) continue
      svg += `<line x1="${x(b).toFixed(1)}" x2="${x(b).toFixed(1)}" y1="${P.top}" y2="${base}" stroke="#333" stroke-dasharray="4 3"><title>boundary ${formatBoundary(b)}</title></line>`
    }
    sc.centroidsUs.forEach((c, i) => {
      if (!inRange(c)) return
      svg += `<circle cx="${x(c).toFixed(1)}" cy="${base}" r="4" fill="${COLORS[sc.classes[i]]}" stroke="#333"><title>centroid ${formatCentroid(c)} (${sc.classes[i]})</title></circle>`
    })
  }
  // The lifetime axis: a tick at each unit the range reaches, labelled
  // where the label keeps clear of the previous one and of the edges.
  svg += `<line x1="${P.left}" x2="${W - P.right}" y1="${base}" y2="${base}" stroke="#333"/>`
  let lastRight = -Infinity
  for (const us of [1, 1e3, 1e6, 6e7, 3.6e9, 864e8]) {
    if (!inRange(us)) continue
    const tx = x(us)
    svg += `<line x1="${tx.toFixed(1)}" x2="${tx.toFixed(1)}" y1="${base}" y2="${base + 4}" stroke="#333"/>`
    const text = `1 ${formatUs(us).split(' ')[1]}`
    const half = labelWidth(text, 10) / 2
    if (tx - half < lastRight + 6 || tx + half > W) continue
    svg += `<text class="axis-label" x="${tx.toFixed(1)}" y="${base + 16}" font-size="10" text-anchor="middle">${text}</text>`
    lastRight = tx + half
  }
  svg += `<text class="axis-label" x="${W - P.right}" y="${H - 3}" font-size="10" text-anchor="end">lifetime (log scale)</text>`
  return svg + '</svg>'
}

function unmanagedTables (profile) {
  let html = ''
  if (profile.unmanaged.length) {
    html += '<h2>Buffer allocations outside SAMM (candidates for named sites)</h2>'
    html += '<p>Sampled calls of <code>Buffer.alloc</code>, <code>allocUnsafe</code>, <code>allocUnsafeSlow</code>, <code>from</code> and <code>concat</code> (one in 16 on average, scaled up), at the first line of the service\'s own code on the stack. Every column comes from that sample; the last one counts the sampled buffers still reachable when the service exited.</p>'
    html += '<table><tr><th>where</th><th>allocations</th><th>bytes allocated</th><th>of which alive at exit</th></tr>'
    for (const u of profile.unmanaged.slice(0, 50)) {
      html += `<tr><td><code>${escapeHtml(u.where)}</code></td><td class="num">${u.allocs}</td><td class="num">${u.bytes}</td><td class="num">${u.survived}</td></tr>`
    }
    html += '</table>'
  }
  if (profile.retained.length) {
    html += '<h2>Other ArrayBuffer memory alive at exit</h2>'
    html += '<p>Seen by V8\'s sampling heap profiler only (typed arrays and ArrayBuffers made without the Buffer factories), at the first line of the allocating function. It samples V8 heap bytes, and a buffer\'s contents live outside that heap: the figure ranks these places, it does not measure them.</p>'
    html += '<table><tr><th>where</th><th>sampled heap bytes</th></tr>'
    for (const r of profile.retained.slice(0, 50)) html += `<tr><td><code>${escapeHtml(r.where)}</code></td><td class="num">${r.sampledBytes}</td></tr>`
    html += '</table>'
  }
  return html
}

const STYLE = 'body{font:14px system-ui,sans-serif;margin:2em;max-width:900px}table{border-collapse:collapse;max-width:100%}' +
  'td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}td.num{text-align:right;font-variant-numeric:tabular-nums}' +
  'td.size{white-space:nowrap}code{overflow-wrap:anywhere;word-break:break-all}section{margin:1.5em 0}svg{max-width:100%;height:auto}'

// Share of a site's decided allocations (not undecided) that died in their request.
function inRequestShare (s, digits) {
  const decided = s.allocs - (s.undecided || 0)
  return decided ? `${(100 * (1 - s.outlived / decided)).toFixed(digits)}%` : '-'
}

function renderHtml (title, table, profile) {
  const rule = table.shortMinInRequest === 1 ? 'every one of its decided allocations' : `at least ${(table.shortMinInRequest * 100).toFixed(1)}% of its decided allocations`
  let body = `<h1>SAMM report: ${escapeHtml(title)}</h1><p>table digest <code>${escapeHtml(table.digest)}</code>, a site is short when ${rule} died in their request` +
    `${table.minShortAllocs ? `, with at least ${table.minShortAllocs} of them decided` : ''} (docs/profiling.md, "How classes are chosen"). Size ranges include their lower end and stop short of the upper one.</p>`
  body += '<h2>Clusters per size class</h2><table><tr><th>sizes</th><th>samples</th><th>k</th><th>centroids</th><th>boundaries</th></tr>'
  for (const sc of table.sizeClasses) {
    body += `<tr><td class="size">${escapeHtml(sizeRange(sc.log2Min, sc.log2Max))}</td><td class="num">${sc.samples}</td><td class="num">${sc.k}</td><td>${sc.centroidsUs.map((c, i) => `${formatCentroid(c)} <b style="color:${COLORS[sc.classes[i]]}">${sc.classes[i]}</b>`).join(', ')}</td><td>${sc.boundariesUs.map(formatBoundary).join(', ')}</td></tr>`
  }
  body += '</table><h2>Sites</h2>'
  for (const s of table.sites) {
    const ps = profile && profile.sites.get(s.name)
    const undecided = s.undecided ? `, ${s.undecided} undecided` : ''
    body += `<section><h3>${escapeHtml(s.name)} <span style="color:${COLORS[s.class]}">${s.class}</span></h3><p>${s.allocs} allocations${undecided}, ${inRequestShare(s, 2)} of the decided died in their request, ${s.censored} still alive at the end${s.tooFew ? ' (too few decided allocations for a short verdict)' : ''}; ${sitesSizes(s.sizes)}</p>`
    if (ps) body += histogramSvg(ps, mainSizeClass(table, ps), s.class)
    if (ps && ps.retainers.length) {
      body += '<p>Still alive at the end, held by:</p><ul>' + ps.retainers.map((r) => `<li><code>${escapeHtml(r.path)}</code> (${r.count} buffer${r.count === 1 ? '' : 's'})</li>`).join('') + '</ul>'
    }
    body += '</section>'
  }
  if (profile) body += unmanagedTables(profile)
  return `<!doctype html><html><head><meta charset="utf-8"><title>SAMM report</title><style>${STYLE}</style></head><body>${body}</body></html>\n`
}

const usage = {
  synopsis: 'samm report [options] <profile|samm.table.json>',
  summary: 'Writes a self-contained HTML page about a profile (baked on the fly, nothing is rebuilt) or a table file: ' +
    'a lifetime histogram per site with its size class\'s clusters and the class it was given, and the unmanaged ' +
    'Buffer allocations worth naming as sites. Prints a short table too.',
  options: [
    { name: 'out', value: 'FILE.html', kind: 'string', text: 'Where the page goes (default samm-report.html).' }
  ],
  notes: ['Exits 0 with the page written; 1 when the file cannot be read or is neither a profile nor a table; 2 on a usage error.']
}

async function main (argv) {
  const { options, positionals } = parseArgs(argv, usage.options)
  if (positionals.length !== 1) throw new UsageError('takes one profile or table file')
  const file = path.resolve(positionals[0])
  let text
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw new Error(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`)
  }
  let table
  let profile = null
  if (text.startsWith('samm-profile')) {
    table = bakeProfile(file)
    profile = readProfile(text)
  } else {
    try {
      table = JSON.parse(text)
    } catch {
      throw new Error(`${file} is neither a profile nor a table file`)
    }
    if (table.version !== 1 || !Array.isArray(table.sites)) throw new Error(`${file} is not a SAMM table (version 1)`)
  }
  const out = path.resolve(options.out || 'samm-report.html')
  fs.writeFileSync(out, renderHtml(path.basename(file), table, profile))
  console.log('class   allocs      undecided   in-request  site')
  for (const s of table.sites) {
    console.log(`${s.class.padEnd(7)} ${String(s.allocs).padStart(10)}  ${String(s.undecided || 0).padStart(10)}  ${inRequestShare(s, 2).padStart(10)}  ${s.name}${s.tooFew ? '  (too few for short)' : ''}`)
    const ps = profile && profile.sites.get(s.name)
    if (ps) for (const r of ps.retainers) console.log(`        held by ${r.path} (${r.count})`)
  }
  if (profile && profile.unmanaged.length) {
    console.log('\nBuffer allocations outside SAMM (sampled), most alive at exit first:')
    for (const u of profile.unmanaged.slice(0, 5)) console.log(`  ${u.where}  ${u.bytes} bytes allocated, ${u.survived} of them alive at exit`)
  }
  if (profile && profile.retained.length) {
    console.log('\nother ArrayBuffer memory alive at exit (heap profiler; ranks, does not measure):')
    for (const r of profile.retained.slice(0, 5)) console.log(`  ${r.where}  ${r.sampledBytes} sampled heap bytes`)
  }
  console.log(`\nreport: ${out}`)
  return 0
}

module.exports = { main, usage, renderHtml, sizeRange, formatCentroid, formatBoundary }
