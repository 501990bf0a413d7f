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

const COLORS = { short: '#2a9d8f', medium: '#e9c46a', long: '#e76f51', heap: '#8d99ae' }

function escapeHtml (s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])
}

function formatUs (us) {
  if (us >= 3.6e9) return `${(us / 3.6e9).toFixed(1)} h`
  if (us >= 6e7) return `${(us / 6e7).toFixed(1)} min`
  if (us >= 1e6) return `${(us / 1e6).toFixed(2)} s`
  if (us >= 1e3) return `${(us / 1e3).toFixed(1)} ms`
  return `${us.toFixed(0)} µs`
}

function bakeProfile (file) {
  const tool = path.join(__dirname, '..', 'build', 'Release', 'samm_bake')
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

function histogramSvg (site, sc, cls) {
  const W = 640
  const H = 140
  const PAD = 28
  const last = Math.max(40, ...site.bins.map((c, b) => c > 0 ? b + 4 : 0))
  const x = (us) => PAD + (W - 2 * PAD) * Math.min(1, Math.max(0, (4 * Math.log2(Math.max(us, 1))) / last))
  const max = Math.max(1, ...site.bins)
  const barW = (W - 2 * PAD) / last
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="lifetime histogram of ${escapeHtml(site.name)}">`
  svg += `<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`
  for (let b = 0; b < Math.min(BINS, last); b++) {
    if (site.bins[b] === 0) continue
    const h = (H - 2 * PAD) * site.bins[b] / max
    svg += `<rect x="${(PAD + b * barW).toFixed(1)}" y="${(H - PAD - h).toFixed(1)}" width="${Math.max(1, barW - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[cls] || '#555'}"><title>${formatUs(binStartUs(b))}: ${site.bins[b]}</title></rect>`
  }
  if (site.censored > 0) {
    svg += `<text x="${W - PAD}" y="${PAD - 8}" text-anchor="end" font-size="11">${site.censored} still alive at the end (censored)</text>`
  }
  if (sc) {
    for (const b of sc.boundariesUs) svg += `<line x1="${x(b).toFixed(1)}" x2="${x(b).toFixed(1)}" y1="${PAD - 4}" y2="${H - PAD}" stroke="#333" stroke-dasharray="4 3"><title>boundary ${formatUs(b)}</title></line>`
    sc.centroidsUs.forEach((c, i) => {
      if (x(c) >= W - PAD) return
      svg += `<circle cx="${x(c).toFixed(1)}" cy="${H - PAD + 6}" r="4" fill="${COLORS[sc.classes[i]]}" stroke="#333"><title>centroid ${formatUs(c)} (${sc.classes[i]})</title></circle>`
    })
  }
  for (const us of [1, 1e3, 1e6, 6e7, 3.6e9]) {
    if (x(us) >= W - PAD + 1) continue
    svg += `<text x="${x(us).toFixed(1)}" y="${H - 4}" font-size="10" text-anchor="middle">${formatUs(us)}</text>`
  }
  return svg + '</svg>'
}

// Share of a site's decided allocations (not undecided) that died in their request.
function inRequestShare (s, digits) {
  const decided = s.allocs - (s.undecided || 0)
  return decided ? `${(100 * (1 - s.outlived / decided)).toFixed(digits)}%` : '-'
}

function renderHtml (title, table, profile) {
  const rule = table.shortMinInRequest === 1 ? 'every one of its decided allocations' : `at least ${(table.shortMinInRequest * 100).toFixed(1)}% of its decided allocations`
  let body = `<h1>SAMM report: ${escapeHtml(title)}</h1><p>table digest <code>${escapeHtml(table.digest)}</code>, a site is short when ${rule} died in their request` +
    `${table.minShortAllocs ? `, with at least ${table.minShortAllocs} of them decided` : ''} (docs/profiling.md, "How classes are chosen").</p>`
  body += '<h2>Clusters per size class</h2><table><tr><th>sizes</th><th>samples</th><th>k</th><th>centroids</th><th>boundaries</th></tr>'
  for (const sc of table.sizeClasses) {
    body += `<tr><td>2^${sc.log2Min}–2^${sc.log2Max} B</td><td>${sc.samples}</td><td>${sc.k}</td><td>${sc.centroidsUs.map((c, i) => `${formatUs(c)} <b style="color:${COLORS[sc.classes[i]]}">${sc.classes[i]}</b>`).join(', ')}</td><td>${sc.boundariesUs.map(formatUs).join(', ')}</td></tr>`
  }
  body += '</table><h2>Sites</h2>'
  for (const s of table.sites) {
    const ps = profile && profile.sites.get(s.name)
    const undecided = s.undecided ? `, ${s.undecided} undecided` : ''
    body += `<section><h3>${escapeHtml(s.name)} <span style="color:${COLORS[s.class]}">${s.class}</span></h3><p>${s.allocs} allocations${undecided}, ${inRequestShare(s, 2)} of the decided died in their request, ${s.censored} censored${s.tooFew ? ' (too few decided allocations for a short verdict)' : ''}; sizes: ${s.sizes.map((r) => `2^${r.log2Min}–2^${r.log2Max} B ${r.class}`).join(', ')}</p>`
    if (ps) body += histogramSvg(ps, mainSizeClass(table, ps), s.class)
    if (ps && ps.retainers.length) {
      body += '<p>Still alive at the end, held by:</p><ul>' + ps.retainers.map((r) => `<li><code>${escapeHtml(r.path)}</code> (${r.count} buffer${r.count === 1 ? '' : 's'})</li>`).join('') + '</ul>'
    }
    body += '</section>'
  }
  if (profile && profile.unmanaged.length) {
    body += '<h2>Unmanaged Buffer allocations (candidates for named sites)</h2><table><tr><th>where</th><th>allocations</th><th>bytes</th><th>survived bytes</th></tr>'
    for (const u of profile.unmanaged.slice(0, 50)) body += `<tr><td><code>${escapeHtml(u.where)}</code></td><td>${u.allocs}</td><td>${u.bytes}</td><td>${u.survived}</td></tr>`
    body += '</table>'
  }
  return `<!doctype html><html><head><meta charset="utf-8"><title>SAMM report</title><style>body{font:14px system-ui,sans-serif;margin:2em;max-width:900px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}section{margin:1.5em 0}</style></head><body>${body}</body></html>\n`
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
    console.log('\nunmanaged Buffer allocations, most surviving first:')
    for (const u of profile.unmanaged.slice(0, 5)) console.log(`  ${u.where}  ${u.bytes} bytes, ${u.survived} survived`)
  }
  console.log(`\nreport: ${out}`)
  return 0
}

module.exports = { main, usage, renderHtml }
