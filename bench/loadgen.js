'use strict'
// The burst shapes' load generator (bench/native/loadgen.c), built with
// make on first use. It answers in autocannon's terms - requests.average and
// .total, latency.p50/p99/p99_9 in ms, errors, non2xx - so bench/run.js
// reads both alike.
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')

const ROOT = path.join(__dirname, '..')
const BIN = path.join(ROOT, 'build', 'bench-native', 'loadgen')

let built = false
function build () {
  if (built) return
  const r = spawnSync('make', ['-s', '-C', path.join(__dirname, 'native'), 'loadgen'], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`building the load generator failed (make -C bench/native loadgen): ${r.error ? r.error.message : r.stderr.trim()}`)
  built = true
}

/**
 * Drives 127.0.0.1:port with connections keep-alive connections: each asks
 * for openPath once (all of them accepted while the service is idle), then
 * request n for pathPrefix + n, warmup seconds, then onMeasure(), then
 * duration seconds measured on the same connections.
 */
function loadgen ({ port, connections, warmup, duration, pathPrefix, openPath, onMeasure = () => {} }) {
  build()
  return new Promise((resolve, reject) => {
    const args = [String(port), String(connections), String(warmup), String(duration), pathPrefix, openPath]
    const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d
      const nl = out.indexOf('\n')
      if (nl >= 0 && out.startsWith('measuring\n')) {
        out = out.slice(nl + 1)
        onMeasure()
      }
    })
    child.stderr.setEncoding('utf8').on('data', (d) => { err += d })
    child.once('error', reject)
    child.once('close', (code, signal) => {
      if (code !== 0) return reject(new Error(`the load generator ${signal ? `was killed by ${signal}` : `exited with ${code}`}: ${err.trim()}`))
      let r
      try {
        r = JSON.parse(out)
      } catch {
        return reject(new Error(`the load generator printed no result: ${JSON.stringify(out.slice(0, 200))}`))
      }
      resolve({
        requests: { average: r.rps, total: r.requests },
        latency: { p50: r.latency.p50, p99: r.latency.p99, p99_9: r.latency.p99_9 },
        errors: r.errors,
        timeouts: r.timeouts,
        non2xx: r.non2xx
      })
    })
  })
}

module.exports = { loadgen }
