'use strict'
// Soak: the Express example with SAMM (table baked from its profile) under
// steady load for MINUTES (10), both workload shapes interleaved request by
// request (so chunks, large blocks and the long-lived cache all churn), RSS
// sampled every second. Reports the RSS slope after the warm-up (least
// squares over the rest; flat within noise means no growth), errors, and
// writes bench/soak-chart.html.
//
//   node bench/soak.js [minutes=10] [--record]
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const autocannon = require('./autocannon')
const { bake, restoreDefaultTable, readRss, waitUp } = require('./run')

const ROOT = path.join(__dirname, '..')
const PORT = 3700
const minutes = Number(process.argv[2]) || 10
const record = process.argv.includes('--record')

function slope (points) {
  const n = points.length
  const mx = points.reduce((a, [x]) => a + x, 0) / n
  const my = points.reduce((a, [, y]) => a + y, 0) / n
  let num = 0
  let den = 0
  for (const [x, y] of points) { num += (x - mx) * (y - my); den += (x - mx) ** 2 }
  const b = num / den
  const resid = Math.sqrt(points.reduce((a, [x, y]) => a + (y - my - b * (x - mx)) ** 2, 0) / (n - 2))
  const se = resid / Math.sqrt(den)
  return { perMinute: b * 60, sePerMinute: se * 60, mean: my }
}

async function main () {
  fs.mkdirSync(path.join(__dirname, 'out'), { recursive: true })
  bake('express', { shapes: ['heavy', 'small'] }, PORT)
  const started = new Date()
  const child = spawn(process.execPath, [path.join(ROOT, 'examples', 'express', 'server.js')],
    { env: { ...process.env, PORT: String(PORT), SAMM_MAX_BYTES: '384m', NODE_OPTIONS: '--max-old-space-size=512' }, stdio: 'ignore' })
  const rss = []
  try {
    await waitUp(`http://127.0.0.1:${PORT}/?id=1`, child)
    const t0 = Date.now()
    const sampler = setInterval(() => {
      rss.push([(Date.now() - t0) / 1000, readRss(child.pid)])
      if (rss.length % 60 === 0) console.error(`soak: ${rss.length / 60} min / ${minutes} min, RSS ${(rss[rss.length - 1][1] / 1048576).toFixed(0)} MiB`)
    }, 1000)
    let id = 0
    const result = await autocannon({
      url: `http://127.0.0.1:${PORT}`, connections: 32, duration: minutes * 60,
      requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/?shape=${id % 2 ? 'small' : 'heavy'}&id=${id++}` }) }]
    })
    clearInterval(sampler)
    const warm = rss.filter(([t]) => t >= Math.min(120, minutes * 12)).map(([t, r]) => [t, r / 1048576])
    const s = slope(warm)
    const errors = result.errors + result.non2xx + result.timeouts
    const summary = `Command: \`node bench/soak.js ${process.argv.slice(2).join(' ')}\`. Machine: ${os.cpus().length} × ${(os.cpus()[0] || {}).model}, Node ${process.version}. Date: ${started.toISOString().slice(0, 10)}.\n\n` +
      '| minutes | requests | errors | mean RSS after warm-up | RSS slope after warm-up |\n|---:|---:|---:|---:|---:|\n' +
      `| ${minutes} | ${result.requests.total} | ${errors} | ${s.mean.toFixed(0)} MiB | ${s.perMinute.toFixed(2)} ± ${(2 * s.sePerMinute).toFixed(2)} MiB/min |\n`
    console.log(summary)
    const W = 720; const H = 240; const P = 40
    const maxT = rss[rss.length - 1][0]
    const maxR = Math.max(...rss.map(([, r]) => r))
    const pts = rss.map(([t, r]) => `${(P + (W - 2 * P) * t / maxT).toFixed(1)},${(H - P - (H - 2 * P) * r / maxR).toFixed(1)}`).join(' ')
    fs.writeFileSync(path.join(__dirname, 'soak-chart.html'), `<!doctype html><html><head><meta charset="utf-8"><title>SAMM soak</title></head><body style="font:14px system-ui,sans-serif;margin:2em"><h1>Soak: RSS over time</h1><p>${summary.split('\n')[0].replace(/`/g, '')}</p><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="${W}" height="${H}" fill="#fff"/><polyline fill="none" stroke="#2a9d8f" stroke-width="2" points="${pts}"/><text x="${P}" y="${P - 10}" font-size="11">RSS (peak ${(maxR / 1048576).toFixed(0)} MiB)</text><text x="${W - P}" y="${H - 10}" font-size="11" text-anchor="end">${(maxT / 60).toFixed(1)} min</text></svg></body></html>\n`)
    if (record) fs.appendFileSync(path.join(__dirname, 'RESULTS.md'), `\n## Soak (\`bench/soak.js\`)\n\n${summary}\nChart: [soak-chart.html](soak-chart.html).\n`)
  } finally {
    child.kill('SIGTERM')
    restoreDefaultTable()
  }
}

main().catch((err) => { console.error(`soak: ${err.message}`); process.exitCode = 1 })
