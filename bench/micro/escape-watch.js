'use strict'
// What the escape watch costs per request, without HTTP around it: a loop
// of requests (samm.run), each making the small shape's 150 short pieces of
// 64 B-4 KiB and a body they are copied into, the loop turning every 32
// requests. Each configuration runs in a process of its own (the watch
// reads SAMM_ESCAPE_SAMPLE at load), configurations interleaved, several
// repetitions; reported: the median CPU time per request of each
// configuration's last round (the first two warm up), and its ratio to the
// watch off.
//
//   node bench/micro/escape-watch.js [reps=7] [requests per round=15000] [samples=0,4,8,16]

const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { median } = require('../median')
const { cpuPerRequest } = require('./request-loop')

const ROOT = path.join(__dirname, '..', '..')

if (process.argv[2] === '--child') {
  const samm = require(ROOT)
  const piece = samm.site('small.piece', { class: 'short' })
  const body = samm.site('small.body', { class: 'short' })
  const request = (id) => {
    const parts = []
    let total = 0
    for (let i = 0; i < 150; i++) {
      const size = 64 + ((id + i) * 2654435761 >>> 0) % 4033
      const p = samm.allocUnsafe(size, piece)
      p.fill(97)
      parts.push(p)
      total += size
    }
    const b = samm.allocUnsafe(total, body)
    let n = 0
    for (const p of parts) n += p.copy(b, n)
    return n
  }
  cpuPerRequest(samm, Number(process.argv[3]), request).then((us) => process.stdout.write(`${us}\n`))
  return
}

const reps = Number(process.argv[2]) || 7
const requests = Number(process.argv[3]) || 15000
const samples = (process.argv[4] || '0,4,8,16').split(',')

const results = new Map(samples.map((s) => [s, []]))
for (let r = 0; r < reps; r++) {
  const order = r % 2 ? [...samples].reverse() : samples
  for (const sample of order) {
    const c = spawnSync(process.execPath, [__filename, '--child', String(requests)], {
      env: { ...process.env, SAMM_ESCAPE_SAMPLE: sample }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']
    })
    if (c.status !== 0) throw new Error(`the run with SAMM_ESCAPE_SAMPLE=${sample} failed`)
    results.get(sample).push(Number(c.stdout))
    console.error(`rep ${r + 1}/${reps} SAMM_ESCAPE_SAMPLE=${sample}: ${Number(c.stdout).toFixed(2)} µs/request`)
  }
}
const off = median(results.get('0') || [NaN])
console.log('| watch | CPU µs per request (median) | × watch off | all runs |')
console.log('|---|---:|---:|---|')
for (const [sample, v] of results) {
  const label = sample === '0' ? 'off' : `1 request in ${sample}`
  console.log(`| ${label} | ${median(v).toFixed(2)} | ${(median(v) / off).toFixed(3)} | ${v.map((x) => x.toFixed(1)).join(', ')} |`)
}
console.log(`\n${reps} interleaved runs per configuration, ${requests} requests per round, last of 3 rounds; node ${process.version}`)
