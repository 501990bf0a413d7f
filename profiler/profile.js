'use strict'
// samm profile: runs a service with SAMM's trace mode (full, or sampled with
// --sample N) and the unmanaged-allocation sampler (profiler/preload.js),
// optionally drives it with autocannon, stops it with SIGTERM and leaves the
// profile in --out; the heap snapshot taken at the end for the retainers of
// what survived goes to --snapshot-dir (default: beside the profile).
const fs = require('node:fs')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { parseArgs } = require('./args')
const { readProfile } = require('./profile-format')

const PRELOAD = path.join(__dirname, 'preload.js')

async function waitForUrl (url, child, deadlineMs) {
  const end = Date.now() + deadlineMs
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`the service exited (code ${child.exitCode}) before it answered ${url}`)
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) })
      return
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
  throw new Error(`${url} did not answer within ${deadlineMs / 1000} s`)
}

function load (url, seconds, connections) {
  const autocannon = require('autocannon')
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, duration: seconds, connections }, (err, result) => err ? reject(err) : resolve(result))
    let ticks = 0
    let requests = 0
    instance.on('response', () => { requests++ })
    const timer = setInterval(() => {
      ticks++
      process.stderr.write(`samm profile: ${ticks} s / ${seconds} s, ${requests} requests\n`)
    }, 1000)
    instance.on('done', () => clearInterval(timer))
  })
}

function stop (child, graceMs = 10000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs)
    child.once('exit', () => { clearTimeout(kill); resolve() })
    child.kill('SIGTERM')
  })
}

async function main (argv) {
  const { options, rest } = parseArgs(argv, {
    out: 'string', duration: 'number', load: 'string', connections: 'number', sample: 'integer', 'snapshot-dir': 'string'
  })
  if (rest.length === 0) throw new Error('samm profile needs a command after "--", e.g. samm profile -- node server.js')
  if (options.load !== undefined && !/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(options.load)) {
    throw new Error('--load takes an http://127.0.0.1:PORT/... URL')
  }
  const out = path.resolve(options.out || 'samm.profile')
  const duration = options.duration || (options.load ? 30 : undefined)
  try {
    fs.writeFileSync(out, '')
  } catch (err) {
    throw new Error(`cannot write the profile to ${out}: ${err.code === 'ENOENT' ? 'no such folder' : err.code || err.message}`)
  }
  const snapshotDir = path.resolve(options['snapshot-dir'] || path.dirname(out))
  const env = {
    ...process.env,
    SAMM_TRACE: out,
    SAMM_SNAPSHOT_DIR: snapshotDir,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS || ''} --require ${JSON.stringify(PRELOAD)}`.trim()
  }
  if (options.sample !== undefined) env.SAMM_PROFILE_SAMPLE = String(options.sample)
  else delete env.SAMM_PROFILE_SAMPLE
  const how = options.sample !== undefined ? `sampled tracing, 1 allocation in ${options.sample}` : 'full tracing'
  console.error(`samm profile: running ${rest.join(' ')}${duration ? ` for ${duration} s` : ''} (${how}); profile -> ${out}`)
  const child = spawn(rest[0], rest.slice(1), { env, stdio: 'inherit' })
  const exited = new Promise((resolve, reject) => { child.once('exit', resolve); child.once('error', reject) })
  const forward = () => stop(child)
  process.once('SIGINT', forward)
  try {
    if (options.load) {
      await waitForUrl(options.load, child, 30000)
      const result = await load(options.load, duration, options.connections || 16)
      console.error(`samm profile: ${result.requests.total} requests, ${result.errors} errors, ${result.non2xx} non-2xx`)
    } else if (duration) {
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, duration * 1000))])
    } else {
      await exited
    }
  } finally {
    await stop(child)
    process.removeListener('SIGINT', forward)
  }
  const profile = readProfile(fs.readFileSync(out, 'utf8'))
  const sites = [...profile.sites.values()]
  const allocs = sites.reduce((n, s) => n + s.allocs, 0)
  const undecided = sites.reduce((n, s) => n + s.undecided, 0)
  console.error(`samm profile: ${sites.length} sites, ${allocs} allocations traced` +
    `${undecided ? ` (${undecided} undecided: no collection of the service's own told whether they outlived their request)` : ''}, ` +
    `${profile.unmanaged.length} unmanaged stacks`)
  for (const s of sites) {
    if (s.retainers.length) console.error(`  ${s.name}: still alive at the end, held by ${s.retainers[0].path}`)
  }
  for (const u of profile.unmanaged.slice(0, 5)) {
    console.error(`  unmanaged ${u.where}: ${u.bytes} bytes allocated, ${u.survived} survived`)
  }
  if (allocs === 0 && profile.unmanaged.length === 0) {
    console.error('samm profile: nothing was recorded: does the service load samm, and did it run under load?')
    return 1
  }
  return 0
}

module.exports = { main }
