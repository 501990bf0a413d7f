'use strict'
// The load samm profile puts on a service: autocannon against one or more
// URLs of this machine, all on one host and port, taken in turn by every
// connection (a URL listed twice gets twice the share), with a line of
// progress a second. The only place the CLI drives load.
const fs = require('node:fs')
const { UsageError } = require('./args')

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])

// A URL of this machine, as a URL object; base resolves bare paths.
function parseTarget (text, what, base) {
  let url
  try {
    url = base === undefined ? new URL(text) : new URL(text, base)
  } catch {
    throw new UsageError(`${what} must be a URL such as http://127.0.0.1:3000/path, got ${JSON.stringify(text)}`)
  }
  if (url.protocol !== 'http:') throw new UsageError(`${what} must be an http:// URL, got ${JSON.stringify(text)}`)
  if (!LOOPBACK.has(url.hostname)) {
    throw new UsageError(`${what} must be on this machine (127.0.0.1, localhost or [::1]): samm profile loads only local services, got ${JSON.stringify(text)}`)
  }
  if (url.username || url.password) throw new UsageError(`${what} must not carry a user name or password, got ${JSON.stringify(text)}`)
  url.hash = ''
  return url
}

/**
 * The targets of --load URLs and a --load-file: { origin, paths }, paths in
 * the order given (with repeats). Lines of the file are paths on the first
 * URL's host and port, or URLs; blank lines and lines starting with # are
 * skipped. Throws a UsageError naming what is wrong.
 */
function loadTargets (urls = [], file) {
  const targets = urls.map((u) => parseTarget(u, '--load'))
  if (file !== undefined) {
    let text
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch (err) {
      throw new UsageError(`--load-file ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`)
    }
    const base = targets.length ? targets[0].origin : undefined
    let n = 0
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim()
      if (line === '' || line.startsWith('#')) return
      n++
      const where = `${file}:${i + 1}`
      if (base === undefined && !/^[a-z][a-z0-9+.-]*:/i.test(line)) {
        throw new UsageError(`${where}: ${JSON.stringify(line)} is a path; give --load URL for its host and port, or write full URLs`)
      }
      if (base !== undefined && !line.startsWith('/') && !/^[a-z][a-z0-9+.-]*:/i.test(line)) {
        throw new UsageError(`${where}: ${JSON.stringify(line)} is neither a path starting with / nor a URL`)
      }
      targets.push(parseTarget(line, where, base))
    })
    if (n === 0) throw new UsageError(`--load-file ${file} holds no path`)
  }
  if (targets.length === 0) return null
  const origin = targets[0].origin
  for (const t of targets) {
    if (t.origin !== origin) {
      throw new UsageError(`every load URL must be on the same host and port: ${t.origin} differs from ${origin}`)
    }
  }
  return { origin, paths: targets.map((t) => t.pathname + t.search) }
}

/**
 * Drives origin with autocannon for seconds, connections at a time, taking
 * paths in turn; progress goes to stderr once a second. Resolves with
 * autocannon's result; stop() ends the run early.
 */
function runLoad ({ origin, paths, seconds, connections }) {
  const autocannon = require('autocannon')
  let instance
  const done = new Promise((resolve, reject) => {
    const requests = paths.map((path) => ({ method: 'GET', path }))
    instance = autocannon({ url: origin + paths[0], requests, duration: seconds, connections },
      (err, result) => err ? reject(err) : resolve(result))
    let ticks = 0
    let responses = 0
    instance.on('response', () => { responses++ })
    const timer = setInterval(() => {
      ticks++
      process.stderr.write(`samm profile: ${ticks} s / ${seconds} s, ${responses} requests\n`)
    }, 1000)
    instance.on('done', () => clearInterval(timer))
  })
  return { done, stop: () => instance.stop() }
}

module.exports = { loadTargets, runLoad }
