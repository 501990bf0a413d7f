'use strict'
// Request-lifetime scenarios shared by the framework tests (node:http,
// Express, Fastify, Koa, Hono, NestJS on Express and on Fastify). Each
// serves these routes in its own idiom:
//   GET /pattern/:id  body of 1024 + (id % 8) * 512 bytes filled by pattern(buf, id),
//                     built in scope memory, with scratch churn beside it
//   GET /big/:id      body of (2 + id % 5) MiB filled by pattern(buf, id)
//   GET /slow         allocates a 4 KiB scope buffer, waits 20 ms, records in
//                     `slow` whether the buffer was still intact, answers 'late'
//   GET /stream       20 parts of 100,000 bytes, part i filled by pattern(part, i)
//   GET /throw        allocates, then throws: the framework answers 500
//   GET /plain        allocates nothing, answers 'plain'
// and, where the framework has hooks (Fastify), hooks.js's routes:
//   GET  /hooked/:id  a hook before the handler allocates after an await, the
//                     handler answers pattern(id)'s body, onSend copies it into
//                     a buffer it allocates, onResponse allocates, then awaits and
//                     checks (hooked.late) that its buffer is still intact
//   POST /hooked/:id  body {"n": N}: hooks after the body parser allocate, the
//                     handler answers {"id": id, "n": N}, preSerialization and
//                     onSend allocate as above
// Every buffer the hooks allocate goes through hooked.keep().
const assert = require('node:assert/strict')
const http = require('node:http')
const net = require('node:net')
const samm = require('../../..')

const body = samm.site('scenario.body', { class: 'short' })
const scratch = samm.site('scenario.scratch', { class: 'short' })

function pattern (buf, id) {
  for (let i = 0; i < buf.length; i++) buf[i] = (id * 131 + i * 7) & 0xff
  return buf
}

function mismatches (buf, id) {
  let bad = 0
  for (let i = 0; i < buf.length; i++) if (buf[i] !== ((id * 131 + i * 7) & 0xff)) bad++
  return bad
}

const patternSize = (id) => 1024 + (id % 8) * 512
const bigSize = (id) => (2 + (id % 5)) * 1024 * 1024

// The bodies the routes build, for the framework tests to send.
const build = {
  pattern (id) {
    samm.allocUnsafe(256, scratch).fill(0xee)
    return pattern(samm.allocUnsafe(patternSize(id), body), id)
  },
  big (id) { return pattern(samm.allocUnsafe(bigSize(id), body), id) },
  streamPart (i) { return pattern(samm.allocUnsafe(100000, body), i) }
}

// What /slow records.
const slow = { settled: 0, emptied: 0 }
async function slowWork () {
  const mine = pattern(samm.allocUnsafe(4096, scratch), 7)
  await new Promise((resolve) => setTimeout(resolve, 20))
  if (mine.length !== 4096 || mismatches(mine, 7) !== 0) slow.emptied++
  slow.settled++
}

// What the hooks of /hooked allocate, kept to check after the responses
// closed that the memory was the request's: detached, reading length 0.
const hooked = {
  buffers: [],
  emptied: 0,
  keep (buf) { hooked.buffers.push(buf); return buf },
  scratch () { return hooked.keep(pattern(samm.allocUnsafe(512, scratch), 3)) },
  // Allocates, then outlives the response's close: the scope must wait.
  async late () {
    const mine = hooked.scratch()
    await new Promise((resolve) => setTimeout(resolve, 5))
    if (mine.length !== 512 || mismatches(mine, 3) !== 0) hooked.emptied++
  },
  // A copy of an onSend payload (Buffer or string) in memory of its own.
  copy (payload) {
    const src = typeof payload === 'string' ? Buffer.from(payload) : payload
    const out = hooked.keep(samm.allocUnsafe(src.length, body))
    src.copy(out)
    return out
  }
}

function get (port, path, agent) {
  return request(port, 'GET', path, agent)
}

function request (port, method, path, agent, payload) {
  return new Promise((resolve, reject) => {
    const headers = payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      const parts = []
      res.on('data', (d) => parts.push(d))
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(payload)
  })
}

const quiet = () => new Promise((resolve) => setTimeout(resolve, 50))

// After a scenario: no scope left open, no request memory in use, and (when
// given the count from before) no allocation made outside a request's scope.
async function assertQuiet (outsideBefore) {
  await quiet()
  const s = samm.stats()
  assert.equal(s.scopesOpen, 0)
  assert.equal(s.bump.inUse, 0)
  if (outsideBefore !== undefined) assert.equal(s.outsideScope, outsideBefore, 'allocations outside the request\'s scope')
}

// SAMM_TEST_REQUESTS scales the integrity run down (sanitizer builds).
async function integrity (port, total = Number(process.env.SAMM_TEST_REQUESTS) || 100000, connections = 128) {
  const outside = samm.stats().outsideScope
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections })
  let next = 0
  let bad = 0
  let done = 0
  async function client () {
    while (next < total) {
      const id = next++
      const r = await get(port, `/pattern/${id}`, agent)
      if (r.status !== 200 || r.body.length !== patternSize(id)) bad++
      else bad += mismatches(r.body, id)
      done++
    }
  }
  await Promise.all(Array.from({ length: connections }, client))
  agent.destroy()
  assert.equal(done, total)
  assert.equal(bad, 0, 'mismatched bytes')
  await assertQuiet(outside)
}

function slowRead (port, path) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`))
    const parts = []
    sock.on('data', (d) => {
      parts.push(d)
      sock.pause()
      setTimeout(() => sock.resume(), 2)
    })
    sock.on('end', () => {
      const raw = Buffer.concat(parts)
      resolve(raw.subarray(raw.indexOf('\r\n\r\n') + 4))
    })
    sock.on('error', reject)
  })
}

async function largeSlowBodies (port) {
  const outside = samm.stats().outsideScope
  const churn = new http.Agent({ keepAlive: true, maxSockets: 8 })
  const reads = [1, 2, 3, 4].map((id) => slowRead(port, `/big/${id}`))
  const others = []
  for (let i = 10; i < 40; i++) others.push(get(port, `/pattern/${i}`, churn))
  const results = await Promise.all(reads)
  await Promise.all(others)
  churn.destroy()
  results.forEach((payload, k) => {
    const id = k + 1
    assert.equal(payload.length, bigSize(id))
    assert.equal(mismatches(payload, id), 0)
  })
  await assertQuiet(outside)
}

async function abortMidBody (port, n = 1000) {
  const outside = samm.stats().outsideScope
  // Clients that ask for a large body and go away before reading it.
  await Promise.all(Array.from({ length: n }, (_, i) => new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(`GET /big/${i} HTTP/1.1\r\nHost: x\r\n\r\n`))
    sock.once('data', () => { sock.destroy(); resolve() })
    sock.on('error', resolve)
    sock.on('close', resolve)
  })))
  await assertQuiet(outside)
}

async function abortMidHandler (port, n = 1000) {
  const outside = samm.stats().outsideScope
  const start = slow.settled
  slow.emptied = 0
  await Promise.all(Array.from({ length: n }, () => new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => {
      sock.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n')
      setTimeout(() => { sock.destroy(); resolve() }, 2)
    })
    sock.on('error', resolve)
  })))
  while (slow.settled - start < n) await quiet()
  assert.equal(slow.emptied, 0, 'handlers saw their buffers emptied')
  await assertQuiet(outside)
}

async function shapes (port) {
  const outside = samm.stats().outsideScope
  const stream = await get(port, '/stream')
  assert.equal(stream.status, 200)
  assert.equal(stream.body.length, 20 * 100000)
  for (let i = 0; i < 20; i++) assert.equal(mismatches(stream.body.subarray(i * 100000, (i + 1) * 100000), i), 0)
  const big = await get(port, '/big/5')
  assert.equal(mismatches(big.body, 5), 0)
  assert.equal((await get(port, '/plain')).body.toString(), 'plain')
  const thrown = await get(port, '/throw')
  assert.equal(thrown.status, 500)
  // The service goes on after a handler threw.
  assert.equal(mismatches((await get(port, '/pattern/3')).body, 3), 0)
  await assertQuiet(outside)
}

async function hooks (port, n = 300) {
  // The hooks' buffers are kept past their requests on purpose, to check
  // that they were emptied: escapes, which the escape watch catches at the
  // next major collection. Demoting their sites to the heap then would make
  // the later requests' buffers outlive them; warning is enough here.
  samm.configure({ onEscape: 'warn' })
  hooked.buffers.length = 0
  hooked.emptied = 0
  const outside = samm.stats().outsideScope
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 })
  await Promise.all(Array.from({ length: n }, async (_, id) => {
    if (id % 2 === 0) {
      const r = await get(port, `/hooked/${id}`, agent)
      assert.equal(r.status, 200)
      assert.equal(r.body.length, patternSize(id))
      assert.equal(mismatches(r.body, id), 0)
    } else {
      const r = await request(port, 'POST', `/hooked/${id}`, agent, JSON.stringify({ n: id * 3 }))
      assert.equal(r.status, 200)
      assert.deepEqual(JSON.parse(r.body), { id, n: id * 3 })
    }
  }))
  agent.destroy()
  await assertQuiet(outside)
  // GET: before the handler, onSend, onResponse; POST: two before the
  // handler, preSerialization, onSend, onResponse.
  assert.equal(hooked.buffers.length, (n / 2) * 3 + (n / 2) * 5)
  assert.equal(hooked.emptied, 0, 'onResponse saw its buffer emptied')
  assert.deepEqual(hooked.buffers.filter((b) => b.length !== 0), [], 'hook memory outlived its request')
  hooked.buffers.length = 0
}

// Declares the tests of the /hooked routes (frameworks with hooks).
function hookTests (port) {
  const { test } = require('node:test')
  test('hooks before and after the handler allocate from the request\'s scope, with and without a body', { timeout: 120000 }, () => hooks(port()))
}

// Declares the scenario tests against the server whose port port() returns.
function scenarioTests (port) {
  const { test } = require('node:test')
  const opts = { timeout: 120000 }
  test('100,000 requests at 128 keep-alive connections: every byte is the request\'s own', { timeout: 300000 }, () => integrity(port()))
  test('large bodies read slowly stay intact while other requests reuse memory', opts, () => largeSlowBodies(port()))
  test('1,000 clients that go away mid-body leave nothing behind', opts, () => abortMidBody(port()))
  test('1,000 clients that go away mid-handler never empty the handler\'s buffers', opts, () => abortMidHandler(port()))
  test('streams, larger-than-chunk bodies, handlers that allocate nothing or throw', opts, () => shapes(port()))
}

module.exports = { build, slow, slowWork, hooked, scenarioTests, hookTests, get, request, mismatches, patternSize }
