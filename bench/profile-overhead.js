'use strict'
// Profiling overhead: the Express example's throughput under `samm profile`'s
// instrumentation against the same example without it (SAMM on, classes as
// the table says: all heap with the default table). Configurations:
//   - full:      full tracing (a forced exact full collection at the end of
//                each loop turn in which scopes closed, and every 100 ms) plus
//                the unmanaged-allocation sampler and the inspector's
//                sampling heap profiler (profiler/preload.js);
//   - sampled N: samm profile --sample N: one allocation in N traced, no
//                full collection forced (young-generation ones, standing
//                in for the service's own or within a budget of the time,
//                while sites still need judgments: docs/profiling.md),
//                plus the same preload;
//   - env N:     SAMM_TRACE + SAMM_PROFILE_SAMPLE=N alone (a service started
//                by its own process manager: no preload).
// REPS interleaved runs of each (in an order that rotates), autocannon on 127.0.0.1, medians of the
// throughput and of the service's CPU time per request (from /proc: on a
// shared machine it moves less than the throughput does), and the medians
// of each repetition's ratios to its run of the first configuration.
//
//   node bench/profile-overhead.js [reps=3] [seconds=8] [configs=off,full,sampled:100,sampled:1000,env:100,env:1000]

const path = require('node:path')
const os = require('node:os')
const fs = require('node:fs')
const { spawn } = require('node:child_process')
const autocannon = require('./autocannon')
const { cpuSeconds } = require('./process-cpu')
const { median } = require('./median')

const ROOT = path.join(__dirname, '..')
const SERVER = path.join(ROOT, 'examples', 'express', 'server.js')
const PRELOAD = path.join(ROOT, 'profiler', 'preload.js')
const reps = Number(process.argv[2]) || 3
const seconds = Number(process.argv[3]) || 8
const configs = (process.argv[4] || 'off,full,sampled:100,sampled:1000,env:100,env:1000').split(',')

const LABELS = {
  off: 'Express example, SAMM on, not profiled',
  full: 'samm profile (full tracing)',
  sampled: (n) => `samm profile --sample ${n}`,
  env: (n) => `SAMM_PROFILE_SAMPLE=${n}, no preload`
}

function label (config) {
  const [kind, n] = config.split(':')
  return typeof LABELS[kind] === 'function' ? LABELS[kind](n) : LABELS[kind]
}

// Starts the example on a port of its choosing (PORT=0) and resolves its URL.
function start (env) {
  const child = spawn(process.execPath, [SERVER], { env: { ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(out)
      if (m) resolve({ child, url: `http://127.0.0.1:${m[1]}/?id=1` })
    })
    child.once('exit', (code) => reject(new Error(`the example exited (${code}) before listening`)))
  })
}

async function once (config) {
  const [kind, n] = config.split(':')
  const env = { ...process.env }
  delete env.SAMM_PROFILE_SAMPLE
  const tmp = path.join(os.tmpdir(), `samm-overhead-${process.pid}.profile`)
  if (kind !== 'off') {
    Object.assign(env, { SAMM_TRACE: tmp, SAMM_RETAINERS: '0' })
    if (kind !== 'env') env.NODE_OPTIONS = `--require ${PRELOAD}`
    if (n !== undefined) env.SAMM_PROFILE_SAMPLE = n
  }
  const { child, url } = await start(env)
  try {
    await autocannon({ url, connections: 32, duration: 2 }) // warm-up
    const cpu0 = cpuSeconds(child.pid)
    const r = await autocannon({ url, connections: 32, duration: seconds })
    const cpu = cpuSeconds(child.pid) - cpu0
    return { rps: r.requests.average, cpuUs: 1e6 * cpu / r.requests.total }
  } finally {
    child.kill('SIGTERM')
    await new Promise((resolve) => child.once('exit', resolve))
    fs.rmSync(tmp, { force: true })
  }
}

async function main () {
  const results = new Map(configs.map((c) => [c, { rps: [], cpu: [], rpsRatio: [], cpuRatio: [] }]))
  for (let r = 0; r < reps; r++) {
    const line = []
    const runs = new Map()
    // Each repetition starts at another configuration, so that none always
    // runs first (or right after the heaviest).
    const order = configs.map((c, i) => configs[(i + r) % configs.length])
    for (const c of order) {
      const m = await once(c)
      runs.set(c, m)
      line.push(`${c} ${m.rps.toFixed(0)} req/s ${m.cpuUs.toFixed(0)} us/req`)
    }
    // Ratios within the repetition: its runs are minutes apart at most, so
    // a slow stretch of the machine moves them together.
    const base = runs.get(configs[0])
    for (const [c, m] of runs) {
      const res = results.get(c)
      res.rps.push(m.rps)
      res.cpu.push(m.cpuUs)
      res.rpsRatio.push(m.rps / base.rps)
      res.cpuRatio.push(m.cpuUs / base.cpuUs)
    }
    console.error(`repetition ${r + 1}/${reps}: ${line.join(', ')}`)
  }
  console.log('| configuration | requests/s (median) | ratio | service CPU µs per request (median) | ratio |')
  console.log('|---|---:|---:|---:|---:|')
  for (const c of configs) {
    const { rps, cpu, rpsRatio, cpuRatio } = results.get(c)
    console.log(`| ${label(c)} | ${median(rps).toFixed(0)} | ${median(rpsRatio).toFixed(2)} | ${median(cpu).toFixed(0)} | ${median(cpuRatio).toFixed(2)} |`)
  }
  console.log(`\n${reps} interleaved repetitions of ${seconds} s after a 2 s warm-up, 32 connections, node ${process.version}; ` +
    'ratios: the median over the repetitions of each one\'s ratio to its run of the first line')
}

main()
