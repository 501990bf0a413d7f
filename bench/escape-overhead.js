'use strict'
// What the escape watch costs: the examples with their sites classed as a
// bake of their profile classes them (render.body, parse.scratch,
// small.piece, small.body short; cache.fragment long), given through
// samm.site(name, { class }) before the example loads, with the watch at
// its default settings against the same with the watch off
// (SAMM_ESCAPE_SAMPLE=0). Interleaved runs, autocannon on 127.0.0.1,
// medians of the throughput and of the service's CPU time per request, and
// of each pair's ratios.
//
//   node bench/escape-overhead.js [reps=5] [seconds=6] [examples=express,fastify,http] [shapes=heavy,small]

const path = require('node:path')
const { spawn } = require('node:child_process')
const autocannon = require('./autocannon')
const { cpuSeconds } = require('./process-cpu')
const { median } = require('./median')

const ROOT = path.join(__dirname, '..')
const CLASSES = 'render.body:short,parse.scratch:short,small.piece:short,small.body:short,cache.fragment:long'

if (require.main !== module) {
  // Loaded with --require into the example: the classes a bake would give.
  const samm = require(ROOT)
  for (const pair of CLASSES.split(',')) {
    const [name, cls] = pair.split(':')
    samm.site(name, { class: cls })
  }
  return
}

const reps = Number(process.argv[2]) || 5
const seconds = Number(process.argv[3]) || 6
const examples = (process.argv[4] || 'express,fastify,http').split(',')
const shapes = (process.argv[5] || 'heavy,small').split(',')

function start (example, env) {
  const server = path.join(ROOT, 'examples', example, 'server.js')
  const child = spawn(process.execPath, ['--require', __filename, server], {
    env: { ...process.env, ...env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(out)
      if (m) resolve({ child, port: m[1] })
    })
    child.once('exit', (code) => reject(new Error(`${example} exited (${code}) before listening`)))
  })
}

async function once (example, shape, watch) {
  const env = watch ? {} : { SAMM_ESCAPE_SAMPLE: '0' }
  const { child, port } = await start(example, env)
  try {
    const url = `http://127.0.0.1:${port}/?id=7&shape=${shape}`
    await autocannon({ url, connections: 32, duration: 3 })
    const cpu0 = cpuSeconds(child.pid)
    const r = await autocannon({ url, connections: 32, duration: seconds })
    const stats = await (await fetch(`http://127.0.0.1:${port}/stats`)).json().catch(() => null)
    return { rps: r.requests.average, cpuUs: 1e6 * (cpuSeconds(child.pid) - cpu0) / r.requests.total, stats }
  } finally {
    child.kill('SIGTERM')
    await new Promise((resolve) => child.once('exit', resolve))
  }
}

async function main () {
  const rows = []
  for (const example of examples) {
    for (const shape of shapes) {
      const on = { rps: [], cpu: [] }
      const off = { rps: [], cpu: [] }
      const ratio = { rps: [], cpu: [] } // each pair's, watch on to off
      let escapes = 0
      let shortAllocs = 0
      for (let r = 0; r < reps; r++) {
        // Alternate which of the pair runs first.
        let a, b
        if (r % 2 === 0) {
          a = await once(example, shape, false)
          b = await once(example, shape, true)
        } else {
          b = await once(example, shape, true)
          a = await once(example, shape, false)
        }
        off.rps.push(a.rps)
        off.cpu.push(a.cpuUs)
        on.rps.push(b.rps)
        on.cpu.push(b.cpuUs)
        ratio.rps.push(b.rps / a.rps)
        ratio.cpu.push(b.cpuUs / a.cpuUs)
        if (b.stats && b.stats.sites) {
          for (const [name, s] of Object.entries(b.stats.sites)) {
            if (CLASSES.includes(`${name}:short`)) {
              escapes += s.escapes || 0
              shortAllocs += s.allocs
            }
          }
        }
        console.error(`${example} ${shape} ${r + 1}/${reps}: off ${a.rps.toFixed(0)} req/s ${a.cpuUs.toFixed(0)} us/req, watch ${b.rps.toFixed(0)} req/s ${b.cpuUs.toFixed(0)} us/req`)
      }
      rows.push(`| ${example} | ${shape} | ${median(off.rps).toFixed(0)} | ${median(on.rps).toFixed(0)} | ${median(ratio.rps).toFixed(3)} | ` +
        `${median(off.cpu).toFixed(0)} | ${median(on.cpu).toFixed(0)} | ${median(ratio.cpu).toFixed(3)} | ${shortAllocs} | ${escapes} |`)
    }
  }
  console.log('| example | shape | req/s, watch off | req/s, watch on | ratio | CPU µs/req, off | CPU µs/req, on | ratio | short allocations watched over | escapes |')
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const row of rows) console.log(row)
  console.log(`\n${reps} interleaved pairs of ${seconds} s after a 3 s warm-up, 32 connections, node ${process.version}; ` +
    'ratios: the median of the pairs\' ratios (the two runs of a pair are seconds apart, so a slow stretch of the machine moves both)')
}

main()
