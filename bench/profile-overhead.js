'use strict'
// Profiling overhead: the Express example's throughput with `samm profile`'s
// instrumentation (trace mode + unmanaged-allocation sampler) against the
// same example without it (SAMM on, classes as the example declares them).
// REPS interleaved runs of each, autocannon on 127.0.0.1, medians.
//
//   node bench/profile-overhead.js [reps=3] [seconds=8]

const path = require('node:path')
const os = require('node:os')
const fs = require('node:fs')
const { spawn } = require('node:child_process')
const autocannon = require('./autocannon')

const ROOT = path.join(__dirname, '..')
const SERVER = path.join(ROOT, 'examples', 'express', 'server.js')
const PRELOAD = path.join(ROOT, 'profiler', 'preload.js')
const reps = Number(process.argv[2]) || 3
const seconds = Number(process.argv[3]) || 8
const PORT = 3300

async function waitUp (url) {
  for (let i = 0; i < 100; i++) {
    try { await fetch(url); return } catch { await new Promise((resolve) => setTimeout(resolve, 100)) }
  }
  throw new Error(`${url} did not come up`)
}

async function once (profiled) {
  const env = { ...process.env, PORT: String(PORT) }
  const tmp = path.join(os.tmpdir(), `samm-overhead-${process.pid}.profile`)
  if (profiled) Object.assign(env, { SAMM_TRACE: tmp, NODE_OPTIONS: `--require ${PRELOAD}` })
  const child = spawn(process.execPath, [SERVER], { env, stdio: 'ignore' })
  try {
    const url = `http://127.0.0.1:${PORT}/?id=1`
    await waitUp(url)
    await autocannon({ url, connections: 32, duration: 2 }) // warm-up
    const r = await autocannon({ url, connections: 32, duration: seconds })
    return r.requests.average
  } finally {
    child.kill('SIGTERM')
    await new Promise((resolve) => child.once('exit', resolve))
    fs.rmSync(tmp, { force: true })
  }
}

function median (v) {
  const s = [...v].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

async function main () {
  const off = []
  const on = []
  for (let r = 0; r < reps; r++) {
    off.push(await once(false))
    on.push(await once(true))
    console.error(`repetition ${r + 1}/${reps}: off ${off[r].toFixed(0)} req/s, profiling ${on[r].toFixed(0)} req/s`)
  }
  console.log('| configuration | requests/s (median) | ratio |')
  console.log('|---|---:|---:|')
  console.log(`| Express example, SAMM on | ${median(off).toFixed(0)} | 1.00 |`)
  console.log(`| the same under samm profile | ${median(on).toFixed(0)} | ${(median(on) / median(off)).toFixed(2)} |`)
  console.log(`\n${reps} interleaved repetitions of ${seconds} s, 32 connections, node ${process.version}`)
}

main()
