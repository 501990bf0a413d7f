'use strict'
// samm profile: runs a service with SAMM's trace mode (full, or sampled with
// --sample N) and the unmanaged-allocation sampler (profiler/preload.js),
// optionally drives it with autocannon (profiler/load.js), stops it with
// SIGTERM and leaves the profile in --out; the heap snapshot taken at the end
// for the retainers of what survived goes to --snapshot-dir (default: beside
// the profile). The profile is written to a temporary file beside --out
// and renamed into place only when the run succeeded: a service that would
// not start, exited on its own with an error, answered no request or
// recorded nothing leaves the previous profile as it was.
const fs = require('node:fs')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { parseArgs, UsageError } = require('./args')
const { loadTargets, runLoad, autocannon } = require('./load')
const { readProfile } = require('./profile-format')

const PRELOAD = path.join(__dirname, 'preload.js')

const usage = {
  synopsis: 'samm profile [options] -- <command...>',
  summary: 'Runs <command> (the service) with SAMM\'s trace mode, optionally under load, and writes the profile ' +
    'of its allocations: how long the buffers of each site lived, how many outlived their request, and what held ' +
    'those still alive at the end. The service is stopped with SIGTERM at the end; its own output passes through.',
  options: [
    { name: 'out', value: 'FILE', kind: 'string', text: 'Where the profile goes (default samm.profile). It is written beside FILE first and moved into place only when the run succeeds: a failed or empty run leaves FILE as it was.' },
    { name: 'duration', value: 'S', kind: 'number', text: 'Seconds of load with --load (default 30). Without --load, the service is stopped after S seconds; with neither, samm profile waits until the service exits or Ctrl-C.' },
    { name: 'load', value: 'URL', kind: 'string', repeat: true, text: 'Drive the service with autocannon at URL, an http:// URL on this machine (127.0.0.1, localhost or [::1], any port, any path). Give it several times to spread the load over routes: every connection takes them in turn, a URL given twice gets twice the share. All on one host and port.' },
    { name: 'load-file', value: 'FILE', kind: 'string', text: 'Load these paths too, one per line, on the host and port of the first --load (or full URLs); blank lines and lines starting with # are skipped, a line given twice gets twice the share.' },
    { name: 'connections', value: 'N', kind: 'count', text: 'Concurrent connections of the load (default 16).' },
    { name: 'sample', value: 'N', kind: 'count', text: 'Trace 1 allocation in N and force no collection, for live traffic (default: trace every allocation, with a full collection at the end of each loop turn that closes a request: staging only). See docs/profiling.md.' },
    { name: 'snapshot-dir', value: 'DIR', kind: 'string', text: 'Where the heap snapshot taken at the end goes (default: beside --out). One that cannot be written is a warning; the retainers are found anyway.' }
  ],
  notes: [
    'Exits 0 with the profile in place; 1 when the service failed to start or answer, exited on its own with an error, or nothing was recorded (the previous profile is untouched); 2 on a usage error.'
  ],
  examples: [
    'samm profile --duration 60 --load http://127.0.0.1:3000 -- node server.js',
    'samm profile --load http://127.0.0.1:3000/ --load http://127.0.0.1:3000/search?q=a -- node server.js',
    'samm profile --load http://127.0.0.1:3000 --load-file routes.txt -- npm start',
    'samm profile --sample 100 --duration 600 -- node server.js'
  ]
}

class RunError extends Error {}

async function waitForUrl (url, service, deadlineMs) {
  const end = Date.now() + deadlineMs
  while (Date.now() < end) {
    if (service.exited) {
      throw new RunError(service.stopping ? `stopped before the service answered ${url}` : `the service ${service.describeExit()} before it answered ${url}`)
    }
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) })
      return
    } catch {
      await Promise.race([service.exit, new Promise((resolve) => setTimeout(resolve, 200))])
    }
  }
  throw new RunError(`${url} did not answer within ${deadlineMs / 1000} s`)
}

// The service's process: exit tells when it ended, for whatever reason;
// stop() sends SIGTERM (SIGKILL after a grace period).
function startService (command, env) {
  const child = spawn(command[0], command.slice(1), { env, stdio: 'inherit' })
  const service = {
    exited: false,
    stopping: false,
    code: null,
    signal: null,
    spawnError: null,
    exit: null,
    describeExit () {
      if (this.spawnError) return `could not start (${this.spawnError.message})`
      return this.signal ? `was killed by ${this.signal}` : `exited with code ${this.code}`
    },
    // Whether it ended by itself with an error (not when asked to stop).
    failed () {
      return this.spawnError !== null || (this.exited && !this.stopping && (this.code !== 0 || this.signal !== null))
    },
    stop (graceMs = 10000) {
      this.stopping = true
      if (this.exited) return Promise.resolve()
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs)
      child.kill('SIGTERM')
      return this.exit.then(() => clearTimeout(kill))
    }
  }
  service.exit = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      Object.assign(service, { exited: true, code, signal })
      resolve()
    })
    child.once('error', (err) => {
      Object.assign(service, { exited: true, spawnError: err })
      resolve()
    })
  })
  return service
}

async function main (argv) {
  const { options, rest } = parseArgs(argv, usage.options)
  const targets = loadTargets(options.load, options['load-file'])
  if (targets !== null && targets.paths.length > 0) autocannon() // before the service starts
  if (rest.length === 0) throw new UsageError('needs the service\'s command after "--", e.g. samm profile -- node server.js')
  const out = path.resolve(options.out || 'samm.profile')
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}.tmp`)
  const duration = options.duration || (targets ? 30 : undefined)
  try {
    fs.writeFileSync(tmp, '')
  } catch (err) {
    throw new RunError(`cannot write beside ${out}: ${err.message}`)
  }
  try {
    const tracing = { sample: options.sample, snapshotDir: path.resolve(options['snapshot-dir'] || path.dirname(out)) }
    const ok = await profile(rest, targets, duration, options.connections || 16, tmp, out, tracing)
    if (!ok) {
      console.error(`samm profile: no profile written; ${fs.existsSync(out) ? `${out} is unchanged` : `${out} was not created`}`)
      return 1
    }
    fs.renameSync(tmp, out)
    console.error(`samm profile: profile -> ${out}`)
    return 0
  } catch (err) {
    if (!(err instanceof RunError)) throw err
    console.error(`samm profile: ${err.message}`)
    console.error(`samm profile: no profile written; ${fs.existsSync(out) ? `${out} is unchanged` : `${out} was not created`}`)
    return 1
  } finally {
    fs.rmSync(tmp, { force: true })
  }
}

// "1 path", "2 paths".
function plural (n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

// Runs the service and the load, then reads what was recorded. True when
// the run succeeded and recorded something; failures throw a RunError or
// return false after saying why.
async function profile (command, targets, duration, connections, tmp, out, tracing) {
  const env = {
    ...process.env,
    SAMM_TRACE: tmp,
    SAMM_SNAPSHOT_DIR: tracing.snapshotDir,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS || ''} --require ${JSON.stringify(PRELOAD)}`.trim()
  }
  if (tracing.sample !== undefined) env.SAMM_PROFILE_SAMPLE = String(tracing.sample)
  else delete env.SAMM_PROFILE_SAMPLE
  const how = tracing.sample !== undefined ? `sampled tracing, 1 allocation in ${tracing.sample}` : 'full tracing'
  const routes = targets ? ` with load on ${targets.origin} (${plural(new Set(targets.paths).size, 'path')})` : ''
  console.error(`samm profile: running ${command.join(' ')}${duration ? ` for ${duration} s` : ''}${routes} (${how}); profile -> ${out}`)
  const service = startService(command, env)
  let load = null
  let interrupted = false
  const onInterrupt = () => {
    interrupted = true
    console.error('samm profile: interrupted; stopping the service')
    if (load !== null) load.stop()
    service.stop()
  }
  process.once('SIGINT', onInterrupt)
  try {
    if (targets) {
      await waitForUrl(targets.origin + targets.paths[0], service, 30000)
      load = runLoad({ ...targets, seconds: duration, connections })
      const result = await load.done
      load = null
      console.error(`samm profile: ${result.requests.total} requests, ${result['2xx']} 2xx, ${result.non2xx} non-2xx, ${result.errors} errors`)
      if (service.failed()) throw new RunError(`the service ${service.describeExit()} during the load`)
      if (!interrupted && result['2xx'] === 0) throw new RunError(`no request succeeded (${result.non2xx} non-2xx, ${result.errors} errors): check the --load URLs`)
    } else if (duration) {
      await Promise.race([service.exit, new Promise((resolve) => setTimeout(resolve, duration * 1000))])
    } else {
      await service.exit
    }
    if (service.failed()) throw new RunError(`the service ${service.describeExit()}`)
  } finally {
    await service.stop()
    process.removeListener('SIGINT', onInterrupt)
  }
  let profile
  try {
    profile = readProfile(fs.readFileSync(tmp, 'utf8'))
  } catch (err) {
    throw new RunError(`the profile recorded is not readable: ${err.message}`)
  }
  const sites = [...profile.sites.values()]
  const allocs = sites.reduce((n, s) => n + s.allocs, 0)
  const undecided = sites.reduce((n, s) => n + s.undecided, 0)
  console.error(`samm profile: ${sites.length} sites, ${allocs} allocations traced` +
    `${undecided ? ` (${undecided} undecided: no collection of the service's own told whether they outlived their request)` : ''}, ` +
    `${plural(profile.unmanaged.length + profile.retained.length, 'place')} allocating outside SAMM`)
  for (const s of sites) {
    if (s.retainers.length) console.error(`  ${s.name}: still alive at the end, held by ${s.retainers[0].path}`)
  }
  for (const u of profile.unmanaged.slice(0, 5)) {
    console.error(`  Buffer calls at ${u.where}: ${u.bytes} bytes allocated (sampled), ${u.survived} of them alive at exit`)
  }
  for (const r of profile.retained.slice(0, 3)) {
    console.error(`  other ArrayBuffer memory alive at exit from ${r.where}: ${r.sampledBytes} sampled heap bytes`)
  }
  if (allocs === 0 && profile.unmanaged.length === 0 && profile.retained.length === 0) {
    console.error('samm profile: nothing was recorded: does the service load samm, and did it run under load?')
    return false
  }
  return true
}

module.exports = { main, usage }
