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

function get (port, path, agent) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      const parts = []
      res.on('data', (d) => parts.push(d))
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts) }))
      res.on('error', reject)
    }).on('error', reject)
  })
}

const quiet = () => new Promise((resolve) => setTimeout(resolve, 50))

async function assertQuiet () {
  await quiet()
  const s = samm.stats()
  assert.equal(s.scopesOpen, 0)
  assert.equal(s.bump.inUse, 0)
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
  assert.equal(samm.stats().outsideScope, outside, 'every allocation was made in its request\'s scope')
  await assertQuiet()
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
  await assertQuiet()
}

async function abortMidBody (port, n = 1000) {
  // Clients that ask for a large body and go away before reading it.
  await Promise.all(Array.from({ length: n }, (_, i) => new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(`GET /big/${i} HTTP/1.1\r\nHost: x\r\n\r\n`))
    sock.once('data', () => { sock.destroy(); resolve() })
    sock.on('error', resolve)
    sock.on('close', resolve)
  })))
  await assertQuiet()
}

async function abortMidHandler (port, n = 1000) {
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
  await assertQuiet()
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
  assert.equal(samm.stats().outsideScope, outside, 'every allocation was made in its request\'s scope')
  await assertQuiet()
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

module.exports = { build, slow, slowWork, scenarioTests, get, mismatches, patternSize }
