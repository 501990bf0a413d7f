'use strict'
// End-to-end benchmark: the example services under each allocator
// configuration, driven on 127.0.0.1, same workload, same run.
//
//   node bench/run.js [--examples express,fastify,http]
//                     (also: koa, hono, nest; NEST_ADAPTER=fastify for nest)
//                     [--shapes heavy,small,burst,burst-small]
//                     [--reps 3] [--duration 10] [--warmup 3] [--connections 64]
//                     [--burst-connections 256] [--burst-max-bytes 256m]
//                     [--burst-load native|autocannon]
//                     [--no-profile] [--no-pin] [--record] [--quiet]
//
// Shapes (examples/workload.js): heavy and small, driven by --connections;
// burst (eight small scratch buffers, a 10 ms wait standing for a database,
// a 1-8 MiB log-uniform response body, a 16 MiB buffer every 8th request,
// all from the request's scope) and burst-small (the same bytes and wait in
// 4-64 KiB buffers only), driven by --burst-connections keep-alive
// connections.
// Load generators: autocannon (bench/autocannon.js) for heavy and small;
// for the burst shapes bench/native/loadgen.c, a C client that only counts
// body bytes: at 1-8 MiB per response autocannon took its whole core at
// about 1.3 GB/s while the service had CPU to spare, so every configuration
// measured autocannon (--burst-load autocannon shows that).
// Configurations: baseline (SAMM=0, glibc malloc), jemalloc and mimalloc
// preloaded (SAMM=0; skipped with a note when not installed), and SAMM with
// the table baked from a profile of that example under the heavy and small
// shapes (the burst shapes' sites are of class short by themselves). Every
// run gets the same 1 GB budget: --max-old-space-size=512 for V8 and (SAMM)
// maxBytes 384 MiB, or --burst-max-bytes for the burst shapes; the examples
// admit requests under it (examples/admit.js: 503 after 5 s of waiting).
// Whether the peak RSS stayed under 1 GiB is recorded. Runs are interleaved
// (A B C D A B C D ...), the warm-up is not measured, and the tables show
// medians and ratios to the baseline. Besides latency, throughput, RSS, GC
// and CPU, each run reports the service's minor page faults per request
// and, for SAMM, its resident surplus (bytes committed but not in use over
// bytes in use, sampled every 250 ms) and the largest non-SAMM memory seen
// (resident set minus SAMM's committed bytes).
// With two or more cores the service is pinned to CPU 0 and this process
// and its load generator to the others (taskset), so that the load
// generator does not take the service's CPU; --no-pin lets the scheduler
// place both.
// Output: a markdown table (appended to bench/RESULTS.md with --record),
// bench/results-chart.html (latency percentiles, throughput, RSS over time)
// and the raw numbers in bench/out/. --quiet (npm run demo) prints a few
// lines per phase and a short table instead, and leaves the profiler's and
// the bake's own output in bench/out/run.log and the full table in
// bench/out/results.md; node-gyp's output is in samm-build.log. Service
// CPU % (100 = one core) says whether the service was the bottleneck; CPU
// µs/req is its cost per request whatever the load generator managed.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const autocannon = require('./autocannon')
const { loadgen } = require('./loadgen')
const { renderChart } = require('./chart')
const { SHAPES } = require('../examples/workload')

const ROOT = path.join(__dirname, '..')
const METRICS = path.join(__dirname, 'service-metrics.js')
const SAMM_CLI = path.join(ROOT, 'bin', 'samm.js')
const OUT = path.join(__dirname, 'out')
const RUN_LOG = path.join(OUT, 'run.log')
const BUILD_LOG = path.join(ROOT, 'samm-build.log') // scripts/install.js writes it
const BUDGET = 1024 * 1024 * 1024
const EXAMPLES = fs.readdirSync(path.join(ROOT, 'examples'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)
const LIBS = {
  jemalloc: ['/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', 'libjemalloc2'],
  mimalloc: ['/usr/lib/x86_64-linux-gnu/libmimalloc.so.2', 'libmimalloc2.0']
}

function parseOptions (argv) {
  const o = { examples: ['express', 'fastify', 'http'], shapes: SHAPES.slice(), reps: 3, duration: 10, warmup: 3, connections: 64, burstConnections: 256, burstMaxBytes: '256m', burstLoad: 'native', profile: true, record: false, quiet: false, pin: os.cpus().length >= 2 }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => {
      if (argv[i + 1] === undefined) throw new Error(`${a} needs a value`)
      return argv[++i]
    }
    if (a === '--examples') o.examples = next().split(',')
    else if (a === '--shapes') o.shapes = next().split(',')
    else if (a === '--reps') o.reps = Number(next())
    else if (a === '--duration') o.duration = Number(next())
    else if (a === '--warmup') o.warmup = Number(next())
    else if (a === '--connections') o.connections = Number(next())
    else if (a === '--burst-connections') o.burstConnections = Number(next())
    else if (a === '--burst-max-bytes') o.burstMaxBytes = next()
    else if (a === '--burst-load') o.burstLoad = next()
    else if (a === '--no-profile') o.profile = false
    else if (a === '--no-pin') o.pin = false
    else if (a === '--record') o.record = true
    else if (a === '--quiet') o.quiet = true
    else throw new Error(`unknown option ${a}`)
  }
  for (const e of o.examples) if (!EXAMPLES.includes(e)) throw new Error(`unknown example ${e} (examples: ${EXAMPLES.join(', ')})`)
  for (const s of o.shapes) if (!SHAPES.includes(s)) throw new Error(`unknown shape ${s} (shapes: ${SHAPES.join(', ')})`)
  if (o.burstLoad !== 'native' && o.burstLoad !== 'autocannon') throw new Error(`--burst-load is native or autocannon, got ${o.burstLoad}`)
  return o
}

const isBurst = (shape) => shape.startsWith('burst')

function configurations (o) {
  const configs = [{ name: 'baseline', env: { SAMM: '0' } }]
  const missing = []
  for (const [name, [lib, pkg]] of Object.entries(LIBS)) {
    if (fs.existsSync(lib)) configs.push({ name, env: { SAMM: '0', LD_PRELOAD: lib } })
    else missing.push(`${name} (apt-get install ${pkg})`)
  }
  configs.push({ name: 'samm', env: { SAMM: '1', SAMM_MAX_BYTES: '384m' }, burstEnv: { SAMM_MAX_BYTES: o.burstMaxBytes } })
  return { configs, missing }
}

const port = () => 3400 + (process.pid % 1000)

async function waitUp (url, child) {
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`)
    try { await fetch(url); return } catch { await new Promise((resolve) => setTimeout(resolve, 100)) }
  }
  throw new Error(`${url} did not come up`)
}

function readRss (pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : null
  } catch { return null }
}

// Drives the service with one shape: warmup seconds, then onMeasure(),
// then duration seconds measured. Every request a new id, so that body
// sizes vary over the shape's whole range.
async function load (shape, o, onMeasure) {
  const connections = isBurst(shape) ? o.burstConnections : o.connections
  if (isBurst(shape) && o.burstLoad === 'native') {
    const openPath = '/?shape=small&pieces=1&id=0' // a body of a few hundred bytes
    return loadgen({ port: port(), connections, warmup: o.warmup, duration: o.duration, pathPrefix: `/?shape=${shape}&id=`, openPath, onMeasure })
  }
  const run = (duration) => {
    let id = 0
    return autocannon({
      url: `http://127.0.0.1:${port()}`,
      connections,
      duration,
      requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/?shape=${shape}&id=${id++}` }) }]
    })
  }
  await run(o.warmup)
  onMeasure()
  return run(o.duration)
}

async function runOnce (example, shape, config, o) {
  const metricsFile = path.join(os.tmpdir(), `samm-bench-${process.pid}.json`)
  fs.rmSync(metricsFile, { force: true })
  const env = {
    ...process.env,
    ...config.env,
    ...(isBurst(shape) ? config.burstEnv : {}),
    PORT: String(port()),
    BENCH_METRICS_OUT: metricsFile,
    NODE_OPTIONS: `--max-old-space-size=512 --require ${METRICS}`
  }
  const server = [process.execPath, path.join(ROOT, 'examples', example, 'server.js')]
  const child = o.pin ? spawn('taskset', ['-c', '0', ...server], { env, stdio: 'ignore' }) : spawn(server[0], server.slice(1), { env, stdio: 'ignore' })
  try {
    await waitUp(`http://127.0.0.1:${port()}/?id=1`, child)
    const rss = []
    let sampler = null
    const r = await load(shape, o, () => {
      child.kill('SIGUSR2')
      const t0 = Date.now()
      sampler = setInterval(() => rss.push([(Date.now() - t0) / 1000, readRss(child.pid)]), 250)
    }).finally(() => clearInterval(sampler))
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
    const m = JSON.parse(fs.readFileSync(metricsFile, 'utf8'))
    const total = r.requests.total
    return {
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      p999: r.latency.p99_9,
      errors: r.errors + r.non2xx,
      peakRss: m.peakRss,
      underBudget: m.peakRss < BUDGET,
      gcCount: m.gcCount,
      gcPauseMs: m.gcPauseMs,
      loopP99: m.loopDelayP99Ms,
      // Service CPU (all threads) over the measured window: how busy it was
      // (100 % = one core) and what one request cost it.
      cpuPct: m.cpuUs !== null ? 100 * m.cpuUs / m.wallUs : null,
      cpuUsPerReq: m.cpuUs !== null && total > 0 ? m.cpuUs / total : null,
      sysPct: m.sysUs !== null && m.cpuUs > 0 ? 100 * m.sysUs / m.cpuUs : null,
      faultsPerReq: m.minorFaults !== null && total > 0 ? m.minorFaults / total : null,
      surplus: m.samm ? m.samm.surplus : null,
      nonSammMiB: m.samm ? m.samm.nonSammMax / 1048576 : null,
      sammHighWaterMiB: m.samm ? m.samm.highWater / 1048576 : null,
      fallbacks: m.samm ? m.samm.limitFallbacks : null,
      timedOut: m.samm ? m.samm.admission.timedOut + m.samm.admission.rejected : null,
      large: m.samm && m.samm.large && total > 0 ? `large blocks per request: ${(m.samm.large.maps / total).toFixed(2)} mapped, ${(m.samm.large.movedBytes / total / 1024).toFixed(0)} KiB moved, ${(m.samm.large.freshBytes / total / 1024).toFixed(0)} KiB fresh` : '',
      rss
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    fs.rmSync(metricsFile, { force: true })
  }
}

// What the tools bench/run.js runs print: the terminal's, or with --quiet
// the run log's.
function toolOutput (o) {
  if (!o.quiet) return 'inherit'
  fs.mkdirSync(OUT, { recursive: true })
  return fs.openSync(RUN_LOG, 'a')
}

function bake (example, o, portNumber = port()) {
  const profile = path.join(OUT, `${example}.profile`)
  fs.rmSync(profile, { force: true })
  const out = toolOutput(o)
  try {
    const shapes = o.shapes.filter((s) => !isBurst(s))
    if (o.quiet) console.error(`profiling examples/${example} under load (${shapes.join(' and ')} shape${shapes.length > 1 ? 's' : ''}, 8 s each) and baking its table`)
    for (const shape of shapes) {
      const part = `${profile}.${shape}`
      if (!o.quiet) console.error(`# profiling the ${example} example (${shape})`)
      const r = spawnSync(process.execPath, [SAMM_CLI, 'profile', '--out', part, '--duration', '8', '--connections', '16',
        '--load', `http://127.0.0.1:${portNumber}/?shape=${shape}&id=7`, '--', process.execPath, path.join(ROOT, 'examples', example, 'server.js')],
      { env: { ...process.env, PORT: String(portNumber) }, stdio: ['ignore', 'ignore', out] })
      if (r.status !== 0) throw new Error(`profiling ${example} failed${o.quiet ? ` (see ${RUN_LOG})` : ''}`)
      fs.appendFileSync(profile, fs.readFileSync(part))
      fs.rmSync(part)
    }
    if (!o.quiet) console.error(`# baking ${profile}`)
    const b = spawnSync(process.execPath, [SAMM_CLI, 'bake', profile], { cwd: OUT, stdio: ['ignore', out, out] })
    if (b.status !== 0) throw new Error(`bake failed${o.quiet ? ` (see ${RUN_LOG})` : ''}`)
  } finally {
    if (typeof out === 'number') fs.closeSync(out)
  }
  if (o.quiet) {
    const table = JSON.parse(fs.readFileSync(path.join(OUT, 'samm.table.json'), 'utf8'))
    const byClass = {}
    for (const s of table.sites) (byClass[s.class] ||= []).push(s.name)
    console.error(`  table ${table.digest}: ${Object.entries(byClass).map(([cls, names]) => `${cls} ${names.join(', ')}`).join('; ')}`)
    console.error(`  profile ${path.relative(ROOT, profile)}, table ${path.relative(ROOT, path.join(OUT, 'samm.table.json'))}`)
  }
}

function restoreDefaultTable (o = {}) {
  if (!o.quiet) console.error('# rebuilding the addon with the default table')
  const env = { ...process.env }
  delete env.SAMM_PROFILE
  // The install script: node-gyp's output goes to its log; it prints the
  // compiler's errors and the log's path itself if the build fails.
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'install.js')], { cwd: ROOT, env: { ...env, INIT_CWD: ROOT }, stdio: ['ignore', 'inherit', 'inherit'] })
  if (r.status !== 0) console.error('bench: rebuilding the addon with the default table failed')
}

function median (v) {
  const s = v.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

function summarize (runs) {
  const keys = ['rps', 'p50', 'p99', 'p999', 'peakRss', 'gcCount', 'gcPauseMs', 'loopP99', 'cpuPct', 'cpuUsPerReq', 'errors',
    'sysPct', 'faultsPerReq', 'surplus', 'nonSammMiB', 'sammHighWaterMiB', 'fallbacks', 'timedOut']
  const out = {}
  for (const k of keys) out[k] = median(runs.map((r) => r[k]))
  out.underBudget = runs.every((r) => r.underBudget)
  return out
}

function table (results, configs) {
  const MiB = 1024 * 1024
  const lines = ['| example | shape | configuration | req/s | p50 ms | p99 ms | p99.9 ms | peak RSS MiB | under 1 GiB | GC count | GC pause ms | loop p99 ms | service CPU % | CPU µs/req | sys % of CPU | minor faults/req | errors | SAMM surplus | req/s × | p99 × | RSS × | GC pause × | CPU/req × | faults/req × |',
    '|---|---|---|---:|---:|---:|---:|---:|:---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
  const num = (v, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a')
  for (const [key, byConfig] of Object.entries(results)) {
    const [example, shape] = key.split('/')
    const base = byConfig.baseline
    for (const c of configs) {
      const s = byConfig[c.name]
      if (!s) continue
      const ratio = (a, b) => (b > 0 ? (a / b).toFixed(2) : 'n/a')
      lines.push(`| ${example} | ${shape} | ${c.name} | ${s.rps.toFixed(0)} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.p999.toFixed(1)} | ${(s.peakRss / MiB).toFixed(0)} | ${s.underBudget ? 'yes' : 'no'} | ${s.gcCount.toFixed(0)} | ${s.gcPauseMs.toFixed(0)} | ${s.loopP99.toFixed(1)} | ${s.cpuPct.toFixed(0)} | ${s.cpuUsPerReq.toFixed(0)} | ${num(s.sysPct)} | ${num(s.faultsPerReq, 1)} | ${s.errors.toFixed(0)} | ${num(s.surplus, 2)} | ${ratio(s.rps, base.rps)} | ${ratio(s.p99, base.p99)} | ${ratio(s.peakRss, base.peakRss)} | ${ratio(s.gcPauseMs, base.gcPauseMs)} | ${ratio(s.cpuUsPerReq, base.cpuUsPerReq)} | ${ratio(s.faultsPerReq, base.faultsPerReq)} |`)
    }
  }
  return lines.join('\n')
}

// The few columns --quiet prints: medians, and ratios to the baseline.
function shortTable (results, configs) {
  const rows = [['', 'req/s', 'p99 ms', 'peak RSS', 'req/s ×', 'p99 ×', 'RSS ×']]
  for (const [key, byConfig] of Object.entries(results)) {
    const base = byConfig.baseline
    for (const c of configs) {
      const s = byConfig[c.name]
      if (!s) continue
      const ratio = (a, b) => (b > 0 ? (a / b).toFixed(2) : 'n/a')
      rows.push([`${key} ${c.name}`, s.rps.toFixed(0), s.p99.toFixed(1), `${(s.peakRss / 1048576).toFixed(0)} MiB`,
        ratio(s.rps, base.rps), ratio(s.p99, base.p99), ratio(s.peakRss, base.peakRss)])
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  return rows.map((r) => r.map((cell, i) => i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])).join('  ')).join('\n')
}

// SAMM's side of the runs: what its budget held and what the rest of the
// process took beside it.
function sammTable (results, o) {
  const lines = ['| example | shape | SAMM maxBytes | SAMM high-water MiB | non-SAMM max MiB | peak RSS MiB | peak RSS ≤ maxBytes + non-SAMM | heap fallbacks | 503s |',
    '|---|---|---:|---:|---:|---:|:---:|---:|---:|']
  for (const [key, byConfig] of Object.entries(results)) {
    const [example, shape] = key.split('/')
    const s = byConfig.samm
    if (!s) continue
    const max = isBurst(shape) ? o.burstMaxBytes : '384m'
    const maxMiB = parseInt(max) * (max.endsWith('g') ? 1024 : 1)
    const peak = s.peakRss / 1048576
    lines.push(`| ${example} | ${shape} | ${max} | ${s.sammHighWaterMiB.toFixed(0)} | ${s.nonSammMiB.toFixed(0)} | ${peak.toFixed(0)} | ${peak <= maxMiB + s.nonSammMiB ? 'yes' : 'no'} | ${s.fallbacks.toFixed(0)} | ${s.timedOut.toFixed(0)} |`)
  }
  return lines.join('\n')
}

async function main () {
  const o = parseOptions(process.argv.slice(2))
  if (o.pin) {
    const others = `1-${os.cpus().length - 1}`
    if (spawnSync('taskset', ['-p', '-c', others, String(process.pid)], { stdio: 'ignore' }).status !== 0) o.pin = false
  }
  const { configs, missing } = configurations(o)
  if (missing.length) console.error(`${o.quiet ? '' : '# '}not installed, skipped: ${missing.join(', ')}`)
  fs.mkdirSync(OUT, { recursive: true })
  if (o.quiet) fs.writeFileSync(RUN_LOG, '')
  const results = {}
  const series = {}
  const started = new Date()
  const total = o.examples.length * o.shapes.length * o.reps * configs.length
  let done = 0
  try {
    for (const example of o.examples) {
      if (o.profile && o.shapes.some((shape) => !isBurst(shape))) bake(example, o)
      for (const shape of o.shapes) {
        if (o.quiet) {
          const minutes = (configs.length * o.reps * (o.duration + o.warmup + 2) / 60).toFixed(0)
          console.error(`benchmarking ${example}, ${shape} shape: ${configs.map((c) => c.name).join(', ')}, ${o.reps} × ${o.duration} s each (about ${minutes} min)`)
        }
        const runs = Object.fromEntries(configs.map((c) => [c.name, []]))
        for (let r = 0; r < o.reps; r++) {
          for (const c of configs) {
            const res = await runOnce(example, shape, c, o)
            runs[c.name].push(res)
            done++
            if (!o.quiet) console.error(`# [${done}/${total}] ${example} ${shape} ${c.name} rep ${r + 1}: ${res.rps.toFixed(0)} req/s, p99 ${res.p99} ms, peak RSS ${(res.peakRss / 1048576).toFixed(0)} MiB, ${res.faultsPerReq === null ? '?' : res.faultsPerReq.toFixed(0)} faults/req, ${res.errors} errors ${res.large}`)
          }
        }
        const key = `${example}/${shape}`
        results[key] = Object.fromEntries(Object.entries(runs).map(([name, list]) => [name, summarize(list)]))
        series[key] = Object.fromEntries(Object.entries(runs).map(([name, list]) => [name, list[list.length - 1].rss]))
      }
    }
  } finally {
    if (o.profile) restoreDefaultTable(o)
  }
  const command = `node bench/run.js ${process.argv.slice(2).join(' ')}`.trim()
  const cpu = (os.cpus()[0] || {}).model || 'unknown CPU'
  const header = `Command: \`${command}\`. Machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}. Date: ${started.toISOString().slice(0, 10)}. ${o.reps} interleaved repetitions of ${o.duration} s after ${o.warmup} s of warm-up, ${o.connections} connections (burst shapes: ${o.burstConnections}); SAMM's maxBytes 384 MiB (burst shapes: ${o.burstMaxBytes}), examples admitting requests under it (queue 1024, 503 after 5 s); ${o.pin ? 'service pinned to CPU 0, load generator to the rest' : 'service and load generator unpinned'}; medians; ratios to the baseline of the same run; ${autocannon.bodyKept ? 'autocannon kept response bodies as strings (its internals changed), so the load generator may be the bottleneck' : 'autocannon counting response bytes without keeping bodies (bench/autocannon.js)'}${o.shapes.some(isBurst) ? `; burst shapes driven by ${o.burstLoad === 'native' ? 'bench/native/loadgen.c' : 'autocannon'}` : ''}.${missing.length ? ` Not installed: ${missing.join(', ')}.` : ''}`
  const md = `${header}\n\n${table(results, configs)}\n\nSAMM's budget in the same runs (medians): its committed high-water mark, the most memory the rest of the process held beside it (resident set minus SAMM's committed bytes, sampled every 250 ms), requests whose allocations the budget refused and the V8 heap served, and requests answered 503 by admission.\n\n${sammTable(results, o)}\n`
  fs.writeFileSync(path.join(OUT, 'results.json'), JSON.stringify({ command, started, results, series }, null, 1))
  fs.writeFileSync(path.join(OUT, 'results.md'), md)
  const chart = path.join(__dirname, 'results-chart.html')
  fs.writeFileSync(chart, renderChart({ header, results, series, configs: configs.map((c) => c.name) }))
  if (o.record) fs.appendFileSync(path.join(__dirname, 'RESULTS.md'), `\n## End to end (\`bench/run.js\`), ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC\n\n${md}\nChart: [results-chart.html](results-chart.html).\n`)
  if (o.quiet) {
    console.log(shortTable(results, configs))
    console.log(`full table: ${path.join(OUT, 'results.md')} (raw: results.json)`)
    console.log(`chart: ${chart}`)
    console.log(`logs: ${RUN_LOG} (profiler and bake), ${BUILD_LOG} (node-gyp)`)
  } else {
    console.log(md)
    console.log(`chart: ${chart}`)
  }
}

module.exports = { bake, restoreDefaultTable, readRss, waitUp, median }

if (require.main === module) {
  main().catch((err) => {
    console.error(`bench: ${err.message}`)
    process.exitCode = 1
  })
}
