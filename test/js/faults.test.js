'use strict'
// Faults under load: the budget running out, workers coming and going, and
// SIGTERM in the middle of it all. Bounded: a few seconds each.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { Worker } = require('node:worker_threads')
const samm = require('../..')

const big = samm.site('fault.big', { class: 'short' })

function get (port, agent) {
  return new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      const parts = []
      res.on('data', (d) => parts.push(d))
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts) }))
    }).on('error', () => resolve({ status: 0 }))
  })
}

async function load (port, requests, connections) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections })
  const counts = {}
  let bad = 0
  let next = 0
  await Promise.all(Array.from({ length: connections }, async () => {
    while (next++ < requests) {
      const r = await get(port, agent)
      counts[r.status] = (counts[r.status] || 0) + 1
      if (r.status === 200 && !r.body.every((x) => x === 9)) bad++
    }
  }))
  agent.destroy()
  return { counts, bad }
}

async function serve (handler) {
  const server = http.createServer(samm.http(handler))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}

test('budget exhaustion under load: refused requests get a clean 503, the rest succeed, and it recovers', async () => {
  samm.configure({ maxBytes: 4 * 1024 * 1024 })
  try {
    const server = await serve(async (req, res) => {
      let out
      try {
        out = samm.allocUnsafe(200 * 1024, big).fill(9)
      } catch (err) {
        res.statusCode = err.code === 'ERR_SAMM_LIMIT' ? 503 : 500
        return res.end()
      }
      await new Promise((resolve) => setTimeout(resolve, 5)) // hold the memory a while
      res.end(out)
    })
    const { port } = server.address()
    const heavy = await load(port, 600, 64)
    assert.ok(heavy.counts[503] > 0, `some requests were refused: ${JSON.stringify(heavy.counts)}`)
    assert.ok(heavy.counts[200] > 0, 'and others served')
    assert.equal(heavy.counts[500], undefined)
    assert.equal(heavy.bad, 0)
    // Load drops: everything succeeds again.
    const light = await load(port, 100, 4)
    assert.deepEqual(light.counts, { 200: 100 })
    assert.equal(light.bad, 0)
    server.close()
  } finally {
    samm.configure({ maxBytes: 1024 * 1024 * 1024 })
  }
})

test('with onLimit: "heap" the same load is served entirely, from the V8 heap past the budget', async () => {
  samm.configure({ maxBytes: 4 * 1024 * 1024, onLimit: 'heap' })
  try {
    const before = samm.stats().limitFallbacks
    const server = await serve(async (req, res) => {
      const out = samm.allocUnsafe(200 * 1024, big).fill(9)
      await new Promise((resolve) => setTimeout(resolve, 5))
      res.end(out)
    })
    const r = await load(server.address().port, 600, 64)
    server.close()
    assert.deepEqual(r.counts, { 200: 600 })
    assert.equal(r.bad, 0)
    assert.ok(samm.stats().limitFallbacks > before)
  } finally {
    samm.configure({ maxBytes: 1024 * 1024 * 1024, onLimit: 'throw' })
  }
})

test('worker threads started and terminated while the service is under load', async () => {
  const server = await serve((req, res) => res.end(samm.allocUnsafe(32 * 1024, big).fill(9)))
  const port = server.address().port
  const src = `
    const samm = require(${JSON.stringify(path.join(__dirname, '..', '..'))})
    const s = samm.site('w.fault', { class: 'short' })
    const m = samm.site('w.fault.m', { class: 'medium' })
    const kept = []
    ;(function spin () {
      samm.run(() => { for (let i = 0; i < 20; i++) samm.allocUnsafe(4096, s).fill(i) })
      kept.push(samm.allocUnsafe(2048, m)); if (kept.length > 50) samm.free(kept.shift())
      setImmediate(spin)
    })()`
  let churned = 0
  let stop = false
  const churn = (async () => {
    while (!stop) {
      const w = new Worker(src, { eval: true })
      await new Promise((resolve) => setTimeout(resolve, 20))
      await w.terminate()
      churned++
    }
  })()
  const r = await load(port, 3000, 32)
  stop = true
  await churn
  server.close()
  assert.deepEqual(r.counts, { 200: 3000 })
  assert.equal(r.bad, 0)
  assert.ok(churned >= 10, `${churned} workers`)
})

test('SIGTERM during load ends the service cleanly', { timeout: 30000 }, async () => {
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'fixtures', 'graceful-service.js')], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))))
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 })
  let ok = 0
  let running = true
  const clients = Array.from({ length: 32 }, async () => {
    while (running) {
      const r = await get(port, agent)
      if (r.status === 200) ok++
      else break
    }
  })
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  child.kill('SIGTERM')
  const { code, signal } = await exited
  running = false
  await Promise.all(clients)
  agent.destroy()
  assert.equal(signal, null)
  assert.equal(code, 0)
  assert.equal(stderr, '')
  assert.ok(ok > 50, `${ok} requests served before the signal`)
})
