'use strict'
// What sampled tracing costs per request, without HTTP around it: the
// examples' request (examples/workload.js, a shape of the query string)
// rendered in a loop of requests (samm.run), the loop turning every 32
// requests, with the example's table (its sites as the baked table says).
// Each configuration runs in a process of its own (tracing is set up from
// the environment at load); configurations interleaved, several
// repetitions; reported: the median CPU time per request of each
// configuration's last round (the first two warm up), the median of its
// ratio to the untraced run of the same repetition, and the ratio's range.
//
//   node --initial-old-space-size=64 bench/micro/sampled-trace.js [reps=7] [requests per round=20000] [shape=heavy] [samples=0,100,1000]
//
// A configuration is a sample N (SAMM_PROFILE_SAMPLE; 0: not traced).
// Run it with --initial-old-space-size=64: without it, V8 settles some runs
// into a small old generation that it collects every few milliseconds,
// which moves the CPU per request by a third from run to run, traced or
// not. The engine's flags given to this script go to the runs.

const path = require('node:path')
const os = require('node:os')
const fs = require('node:fs')
const { spawnSync } = require('node:child_process')
const { median } = require('../median')
const { cpuPerRequest } = require('./request-loop')

const ROOT = path.join(__dirname, '..', '..')

if (process.argv[2] === '--child') {
  const samm = require(ROOT)
  const { render } = require(path.join(ROOT, 'examples', 'workload'))
  const url = `/?id=7&shape=${process.argv[4]}`
  cpuPerRequest(samm, Number(process.argv[3]), () => render(url).length).then((us) => process.stdout.write(`${us}\n`))
  return
}

const reps = Number(process.argv[2]) || 7
const requests = Number(process.argv[3]) || 20000
const shape = process.argv[4] || 'heavy'
const configs = (process.argv[5] || '0,100,1000').split(',')

function once (sample) {
  const file = path.join(os.tmpdir(), `samm-sampled-trace-${process.pid}.profile`)
  const env = { ...process.env, SAMM_RETAINERS: '0' }
  delete env.SAMM_TRACE
  delete env.SAMM_PROFILE_SAMPLE
  if (sample !== '0') Object.assign(env, { SAMM_TRACE: file, SAMM_PROFILE_SAMPLE: sample })
  const c = spawnSync(process.execPath, [...process.execArgv, __filename, '--child', String(requests), shape], {
    env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']
  })
  fs.rmSync(file, { force: true })
  if (c.status !== 0) throw new Error(`the run at sample ${sample} failed`)
  return Number(c.stdout)
}

const results = new Map(configs.map((c) => [c, { us: [], ratio: [] }]))
for (let r = 0; r < reps; r++) {
  const order = configs.map((c, i) => configs[(i + r) % configs.length])
  const us = new Map()
  for (const config of order) us.set(config, once(config))
  for (const config of configs) {
    results.get(config).us.push(us.get(config))
    results.get(config).ratio.push(us.get(config) / us.get(configs[0]))
  }
  console.error(`rep ${r + 1}/${reps}: ${configs.map((c) => `${c} ${us.get(c).toFixed(2)}`).join(', ')} µs/request`)
}
console.log(`| sample | CPU µs per request (median) | × ${configs[0]} (median of the repetitions' ratios) | range |`)
console.log('|---|---:|---:|---|')
for (const [config, { us, ratio }] of results) {
  console.log(`| ${config} | ${median(us).toFixed(2)} | ${median(ratio).toFixed(3)} | ${Math.min(...ratio).toFixed(3)}–${Math.max(...ratio).toFixed(3)} |`)
}
console.log(`\n${reps} interleaved repetitions, ${requests} requests per round, last of 3 rounds, shape ${shape}; node ${process.version}`)
