'use strict'
// How long the escape watch takes to catch a site that keeps its short
// buffer in 1 request of 2,000: a node:http service (run as a child of this
// script) whose handler allocates a 2 KiB buffer at a site the table wrongly
// classes short and pushes every 2,000th into a process-wide list. The load
// (autocannon, 16 connections) stops when /state shows the escape; the
// table gives the requests served and the seconds taken until then, and
// whether the site was demoted, at the watch's default settings.
//
//   node bench/escape-detect.js [runs=5] [limit=300000]

const http = require('node:http')
const path = require('node:path')
const { spawn } = require('node:child_process')
const autocannon = require('./autocannon')

const ROOT = path.join(__dirname, '..')

if (process.argv[2] === '--service') {
  const samm = require(ROOT)
  const site = samm.site('kept.1in2000', { class: 'short' })
  const kept = []
  let n = 0
  let lost = 0
  const server = http.createServer(samm.http((req, res) => {
    if (req.url === '/state') {
      const s = samm.stats().sites['kept.1in2000']
      lost = kept.filter((b) => b.length === 0).length
      return res.end(JSON.stringify({ requests: n, escapes: s.escapes, class: s.class, kept: kept.length, lost }))
    }
    const buf = samm.allocUnsafe(2048, site).fill(n & 0xff)
    if (++n % 2000 === 0) kept.push(buf)
    res.end('ok')
  }))
  server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`))
  return
}

const runs = Number(process.argv[2]) || 5
const limit = Number(process.argv[3]) || 300000

async function once () {
  const child = spawn(process.execPath, [__filename, '--service'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  try {
    const port = await new Promise((resolve, reject) => {
      child.stdout.on('data', (d) => { const m = /port (\d+)/.exec(String(d)); if (m) resolve(m[1]) })
      child.once('exit', (code) => reject(new Error(`the service exited (${code})`)))
    })
    const state = async () => JSON.parse(await (await fetch(`http://127.0.0.1:${port}/state`)).text())
    const t0 = Date.now()
    const instance = autocannon({ url: `http://127.0.0.1:${port}/`, connections: 16, duration: 600, amount: limit })
    let s
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      s = await state()
      if (s.escapes > 0 || s.requests >= limit) break
    }
    instance.stop()
    return { ...s, seconds: (Date.now() - t0) / 1000, warned: /\[SAMM_ESCAPE\]/.test(stderr) }
  } finally {
    child.kill('SIGTERM')
    await new Promise((resolve) => child.once('exit', resolve))
  }
}

async function main () {
  console.log('| run | requests until the escape was reported | seconds | kept before it (lost) | class after | warned |')
  console.log('|---:|---:|---:|---:|---|---|')
  for (let r = 1; r <= runs; r++) {
    const s = await once()
    console.log(`| ${r} | ${s.escapes > 0 ? s.requests : `none in ${s.requests}`} | ${s.seconds.toFixed(1)} | ${s.kept} (${s.lost}) | ${s.class} | ${s.warned ? 'yes' : 'no'} |`)
  }
  console.log(`\n1 request in 2,000 keeps its short buffer; watch at its defaults (every site's first 64 short allocations, then about 1 request in 8; two full collections forced after 20,000 requests or 60 s without a major one, at most one pair per 5 s and 0.1 % of the time); autocannon 16 connections; node ${process.version}`)
}

main()
