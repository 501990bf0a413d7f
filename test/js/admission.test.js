'use strict'
// Admission under the budget (lib/admission.js), through node:http, Express
// and Fastify over real sockets: a small budget driven past its high-water
// mark by a bounded burst of concurrent clients.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { spawnSync } = require('node:child_process')
const express = require('express')
const Fastify = require('fastify')
const samm = require('../..')
const sammFastify = require('samm/fastify')

const MiB = 1024 * 1024
const BUDGET = 24 * MiB
const BODY = 2 * MiB
const body = samm.site('admission.body', { class: 'short' })

const pattern = (id, i) => (id * 131 + i * 7) & 0xff

// A request's work: a 2 MiB body built in scope memory, held for holdMs (a
// database, say), then sent. Every budget error a handler saw is counted.
const seen = { limitErrors: 0, running: 0, maxRunning: 0, order: [] }
// holdMs 0: hold until the test opens the barrier. With a start gate
// closed, every request waits for it before it allocates.
let barrier = { promise: Promise.resolve(), open () {} }
let startGate = null
function gate () {
  let open
  const promise = new Promise((resolve) => { open = resolve })
  return { promise, open }
}
function closeBarrier () {
  barrier = gate()
}
async function work (id, holdMs) {
  seen.order.push(id)
  seen.running++
  seen.maxRunning = Math.max(seen.maxRunning, seen.running)
  try {
    if (startGate !== null) await startGate.promise
    const out = samm.allocUnsafe(BODY, body)
    for (let i = 0; i < out.length; i += 4096) out.fill(pattern(id, i), i, i + 4096)
    await (holdMs > 0 ? settle(holdMs) : barrier.promise)
    return out
  } catch (err) {
    if (err.code === 'ERR_SAMM_LIMIT') seen.limitErrors++
    throw err
  } finally {
    seen.running--
  }
}

function intact (buf, id) {
  if (buf.length !== BODY) return false
  for (let i = 0; i < buf.length; i += 4096) {
    if (buf[i] !== pattern(id, i) || buf[i + 4095] !== pattern(id, i)) return false
  }
  return true
}

function get (port, path) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const parts = []
      res.on('data', (d) => parts.push(d))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }))
      res.on('error', reject)
    }).on('error', reject)
  })
}

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)))
const settle = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Services under test, by name: a node:http, an Express and a Fastify one,
// each with admission options of its own (queue, timeoutMs) per path prefix.
const services = {}
const closers = []

function httpService (admit) {
  return http.createServer(samm.http(async (req, res) => {
    const [, , id, hold] = req.url.split('/')
    try {
      res.end(await work(Number(id), Number(hold)))
    } catch (err) {
      res.statusCode = 500
      res.end(err.code)
    }
  }, { admit }))
}

before(async () => {
  samm.configure({ maxBytes: BUDGET })
  const patient = { queue: 1000, timeoutMs: 20000 }
  const hasty = { queue: 1000, timeoutMs: 30 }
  const short = { queue: 2, timeoutMs: 20000 }
  for (const [name, admit] of [['patient', patient], ['hasty', hasty], ['short', short]]) {
    const server = httpService(admit)
    services[`http-${name}`] = await listen(server)
    closers.push(() => server.close())
  }

  const app = express()
  app.use(samm.express({ admit: patient }))
  app.get('/x/:id/:hold', async (req, res) => res.end(await work(Number(req.params.id), Number(req.params.hold))))
  const appHasty = express()
  appHasty.use(samm.express({ admit: hasty }))
  appHasty.get('/x/:id/:hold', async (req, res) => res.end(await work(Number(req.params.id), Number(req.params.hold))))
  for (const [name, a] of [['express-patient', app], ['express-hasty', appHasty]]) {
    const server = http.createServer(a)
    services[name] = await listen(server)
    closers.push(() => server.close())
  }

  for (const [name, admit] of [['fastify-patient', patient], ['fastify-hasty', hasty]]) {
    const f = Fastify()
    await f.register(sammFastify, { admit })
    f.get('/x/:id/:hold', async (request, reply) => reply.send(await work(Number(request.params.id), Number(request.params.hold))))
    await f.listen({ port: 0, host: '127.0.0.1' })
    services[name] = f.server.address().port
    closers.push(() => f.close())
  }
})

after(() => {
  for (const close of closers) close()
})

// Polls until check() holds (at most 10 s).
async function until (check) {
  for (let i = 0; i < 500 && !check(); i++) await settle(20)
  assert.ok(check())
}

// A burst of n concurrent clients against a service; checks every answer
// and returns them.
async function burst (name, n, holdMs, first = 0) {
  const port = services[name]
  const path = (k) => `/x/${first + k}/${holdMs}`
  const results = await Promise.all(Array.from({ length: n }, (_, k) => get(port, path(k))))
  results.forEach((r, k) => {
    if (r.status === 200) {
      assert.ok(intact(r.body, first + k), `${name}: response ${k} intact`)
    } else {
      assert.equal(r.status, 503, `${name}: response ${k} is a 200 or a 503, got ${r.status} ${r.body}`)
      assert.equal(r.headers['retry-after'], '1', `${name}: a 503 says when to retry`)
    }
  })
  return results
}

// After the burst: nothing waits or runs, nothing is held.
async function drained () {
  for (let i = 0; i < 100 && (samm.stats().admission.waiting > 0 || samm.stats().admission.inFlight > 0); i++) await settle(20)
  const s = samm.stats()
  assert.equal(s.admission.waiting, 0, 'the queue is drained')
  assert.equal(s.admission.inFlight, 0)
  assert.equal(s.scopesOpen, 0)
  assert.ok(s.highWater <= BUDGET, `the budget was never exceeded: high-water ${s.highWater}`)
  assert.equal(seen.limitErrors, 0, 'no handler saw ERR_SAMM_LIMIT')
}

for (const name of ['http-patient', 'express-patient', 'fastify-patient']) {
  test(`${name}: a burst past the budget waits and every request is served intact`, async () => {
    const before = samm.stats().admission
    const fallbacks = samm.stats().limitFallbacks
    seen.maxRunning = 0
    // The first requests hold their memory until others had to wait.
    closeBarrier()
    const done = burst(name, 48, 0)
    await until(() => samm.stats().admission.waiting > 0)
    barrier.open()
    const results = await done
    assert.ok(results.every((r) => r.status === 200), 'no 503 with a long timeout')
    const s = samm.stats().admission
    assert.equal(s.admitted - before.admitted, 48)
    // 48 bodies of 2 MiB do not fit 24 MiB at once: requests had to wait,
    // and no more ran at once than the budget holds.
    assert.ok(seen.maxRunning * BODY <= BUDGET, `at most ${seen.maxRunning} ran at once`)
    assert.equal(samm.stats().limitFallbacks, fallbacks, 'the budget never had to refuse')
    await drained()
  })
}

for (const name of ['http-hasty', 'express-hasty', 'fastify-hasty']) {
  test(`${name}: requests that wait longer than timeoutMs get a 503 with Retry-After`, async () => {
    const before = samm.stats().admission
    closeBarrier()
    const done = burst(name, 40, 0)
    await until(() => samm.stats().admission.timedOut > before.timedOut)
    barrier.open()
    const results = await done
    const refused = results.filter((r) => r.status === 503).length
    assert.ok(refused > 0, 'some requests timed out')
    assert.ok(results.some((r) => r.status === 200), 'the others were served')
    const s = samm.stats().admission
    assert.equal(s.timedOut - before.timedOut, refused)
    assert.equal(s.rejected - before.rejected, 0)
    await drained()
  })
}

test('a full queue answers 503 at once', async () => {
  const before = samm.stats().admission
  closeBarrier()
  const done = burst('http-short', 40, 0)
  await until(() => samm.stats().admission.rejected > before.rejected)
  barrier.open()
  const results = await done
  const s = samm.stats().admission
  assert.ok(s.rejected - before.rejected > 0, 'some found the queue full')
  assert.equal(results.filter((r) => r.status === 503).length, s.rejected - before.rejected + s.timedOut - before.timedOut)
  await drained()
})

test('waiting requests are admitted in the order they arrived', async () => {
  const port = services['http-patient']
  // Fill the budget with long requests, then queue more behind them.
  const hold = Array.from({ length: 12 }, (_, k) => get(port, `/x/${1000 + k}/300`))
  await until(() => samm.stats().admission.waiting > 0)
  seen.order = []
  const queued = []
  for (let k = 0; k < 20; k++) {
    queued.push(get(port, `/x/${2000 + k}/1`))
    await settle(3) // one after the other
  }
  await Promise.all([...hold, ...queued])
  const later = seen.order.filter((id) => id >= 2000)
  assert.deepEqual(later, later.slice().sort((a, b) => a - b))
  await drained()
})

test('a client that goes away while waiting leaves the queue', async () => {
  const port = services['http-patient']
  const before = samm.stats().admission
  const hold = Array.from({ length: 12 }, (_, k) => get(port, `/x/${3000 + k}/300`))
  await until(() => samm.stats().admission.waiting > 0)
  const waiting = samm.stats().admission.waiting
  const req = http.get({ host: '127.0.0.1', port, path: '/x/3999/1', agent: false })
  req.on('error', () => {})
  await until(() => samm.stats().admission.waiting > waiting)
  req.destroy()
  await Promise.all(hold)
  await drained()
  assert.equal(samm.stats().admission.abandoned - before.abandoned, 1)
})

test('an admitted request that meets the budget anyway gets heap memory, not ERR_SAMM_LIMIT', async () => {
  // Many small requests teach the estimate that requests are small...
  const small = http.createServer(samm.http((req, res) => res.end(samm.allocUnsafe(100, body).fill(1)), { admit: true }))
  const port = await listen(small)
  for (let i = 0; i < 64; i++) await get(port, '/')
  small.close()
  // ...then a burst of 2 MiB ones, all admitted before any allocates (they
  // wait at a gate until all 20 run), overruns the budget.
  const fallbacks = samm.stats().limitFallbacks
  startGate = gate()
  const done = burst('http-patient', 20, 50, 5000)
  try {
    await until(() => seen.running === 20)
  } finally {
    startGate.open()
    startGate = null
  }
  const results = await done
  assert.ok(results.every((r) => r.status === 200))
  assert.ok(samm.stats().limitFallbacks > fallbacks, 'the overrun was served from the heap')
  await drained()
  // The estimate learned the larger requests again.
  await burst('http-patient', 20, 20, 6000)
  await drained()
})

// A response as node:http's request handler sees it, ended by the test:
// finish() as after the body went out, goAway() as a client that left.
class FakeResponse extends require('node:events') {
  closed = false
  destroyed = false
  headersSent = false
  finish () {
    this.closed = true
    this.emit('close')
  }

  goAway () {
    this.destroyed = true
    this.finish()
  }

  // What admission's 503 calls, should a test time out.
  setHeader () {}
  end () {}
}

// A samm.http handler whose requests each take a 2 MiB body and hold it
// until finishOne() ends the oldest running one (its handler settles, then
// its response closes). onStart(req) is called as a request starts.
function holdingService (admit, onStart = () => {}) {
  const running = [] // [release, res] of handlers holding their body
  const handler = samm.http(async (req, res) => {
    onStart(req)
    samm.allocUnsafe(BODY, body).fill(1)
    await new Promise((resolve) => running.push([resolve, res]))
  }, { admit })
  const finishOne = async () => {
    const [release, res] = running.shift()
    release()
    await settle(0)
    res.finish()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { handler, running, finishOne }
}

test('a request that leaves the queue after more than a thousand were admitted is never started', async () => {
  // Hundreds of requests through the queue make it compact itself; one
  // that leaves after that must still leave for good.
  const N = 1100
  const started = new Set()
  const { handler, running, finishOne } = holdingService({ queue: 2 * N, timeoutMs: 60000 }, (req) => started.add(req.id))
  const before = samm.stats().admission
  const responses = Array.from({ length: N }, () => new FakeResponse())
  responses.forEach((res, id) => handler({ id }, res))
  assert.ok(samm.stats().admission.waiting > N / 2, 'most requests wait')
  while (started.size < N - 60) await finishOne()
  const leaver = N - 30
  assert.ok(!started.has(leaver))
  responses[leaver].goAway()
  while (running.length > 0) await finishOne()
  assert.ok(!started.has(leaver), 'the request that left was not started')
  assert.equal(started.size, N - 1)
  const s = samm.stats().admission
  assert.equal(s.abandoned - before.abandoned, 1)
  assert.equal(s.admitted - before.admitted, N - 1)
  await drained()
})

test('requests that go away while the oldest waiting one does not fit are not kept', async () => {
  const { fullCollection } = require('../../lib/collections')
  const { handler, running, finishOne } = holdingService({ queue: 5000, timeoutMs: 60000 })
  const before = samm.stats().admission
  const first = Array.from({ length: 20 }, () => new FakeResponse())
  first.forEach((res, id) => handler({ id }, res))
  assert.ok(samm.stats().admission.waiting > 0, 'the budget is taken, the rest wait')
  // Clients that arrive behind them and leave at once, one way or another.
  const gone = []
  for (let k = 0; k < 3000; k++) {
    const res = new FakeResponse()
    handler({ id: 100 + k }, res)
    if (k % 2 === 0) {
      res.goAway()
    } else { // destroyed now, its 'close' emitted later
      res.destroyed = true
      setImmediate(() => res.finish())
    }
    gone.push(new WeakRef(res))
  }
  fullCollection()
  await settle(30) // the queue is polled every 10 ms
  fullCollection()
  const kept = gone.filter((ref) => ref.deref() !== undefined).length
  assert.ok(kept < 30, `${kept} of 3000 requests that left still referenced`)
  while (running.length > 0) await finishOne()
  assert.equal(samm.stats().admission.abandoned - before.abandoned, 3000)
  await drained()
})

test('the handler of a request whose client went away allocates from its scope until it settles', async () => {
  const outside = samm.stats().outsideScope
  let reached
  const atWork = new Promise((resolve) => { reached = resolve })
  let goOn
  const clientGone = new Promise((resolve) => { goOn = resolve })
  const seenByHandler = { kept: null, scopeOpen: false, lengthLater: -1 }
  const server = http.createServer(samm.http(async (req, res) => {
    res.once('close', goOn)
    reached()
    await clientGone
    const kept = samm.allocUnsafe(BODY, body).fill(7)
    seenByHandler.scopeOpen = samm.current() !== undefined
    await settle(20)
    seenByHandler.lengthLater = kept.length
    seenByHandler.kept = kept
    res.end(kept)
  }, { admit: true }))
  try {
    const port = await listen(server)
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false })
    req.on('error', () => {})
    await atWork
    req.destroy()
    await until(() => seenByHandler.kept !== null && samm.stats().scopesOpen === 0)
  } finally {
    server.close()
  }
  assert.ok(seenByHandler.scopeOpen, 'the request\'s scope is still current')
  assert.equal(seenByHandler.lengthLater, BODY, 'valid while the handler runs')
  assert.equal(seenByHandler.kept.length, 0, 'released once the handler settled')
  assert.equal(samm.stats().outsideScope, outside, 'nothing came from the V8 heap')
  await drained()
})

test('a process limit counts the rest of the process', async () => {
  try {
    samm.configure({ processLimit: 1 * MiB }) // already far above it
    assert.equal(samm.config().processLimit, MiB)
    const results = await burst('http-hasty', 3, 1)
    assert.ok(results.every((r) => r.status === 503), 'nothing fits under 1 MiB of process')
    samm.configure({ processLimit: 64 * 1024 * MiB })
    const ok = await burst('http-hasty', 3, 1, 100)
    assert.ok(ok.every((r) => r.status === 200))
  } finally {
    samm.configure({ processLimit: 0 })
  }
  await drained()
  assert.throws(() => samm.configure({ processLimit: -1 }), { code: 'ERR_SAMM_INVALID_ARG' })
  assert.throws(() => samm.configure({ processLimit: '1g' }), { code: 'ERR_SAMM_INVALID_ARG' })
})

test('SAMM_PROCESS_LIMIT sets the process limit; a bad value is a warning', () => {
  const run = (value) => spawnSync(process.execPath, ['-e', 'console.log(require(".").config().processLimit)'],
    { cwd: require('node:path').join(__dirname, '..', '..'), env: { ...process.env, SAMM_PROCESS_LIMIT: value }, encoding: 'utf8' })
  const ok = run('768m')
  assert.equal(ok.stdout.trim(), String(768 * MiB))
  const bad = run('lots')
  assert.equal(bad.stdout.trim(), '0')
  assert.match(bad.stderr, /SAMM_PROCESS_LIMIT/)
})

test('where requests vary, fewer run at once: the spread of their sum stays under the budget', async () => {
  // highWater 1: only the budget and the spread hold requests back.
  const admit = { queue: 1000, timeoutMs: 20000, highWater: 1 }
  const server = http.createServer(samm.http(async (req, res) => {
    const [, , size, id, hold] = req.url.split('/')
    if (hold === undefined) return res.end(samm.allocUnsafe(Number(size), body).fill(1))
    res.end(await work(Number(id), Number(hold)))
  }, { admit }))
  try {
    const port = await listen(server)
    // Requests of 2 MiB on average that vary: 64 KiB, 4 MiB, 64 KiB, ...
    for (let i = 0; i < 64; i++) await get(port, `/v/${i % 2 === 0 ? 64 * 1024 : 4 * MiB - 64 * 1024}`)
    const spread = samm.stats().admission.spreadBytes
    assert.ok(spread > MiB, `the spread learned: ${spread} bytes`)
    seen.maxRunning = 0
    const fallbacks = samm.stats().limitFallbacks
    closeBarrier()
    const done = Promise.all(Array.from({ length: 24 }, (_, k) => get(port, `/v/0/${9000 + k}/0`)))
    await until(() => samm.stats().admission.waiting > 0)
    barrier.open()
    const results = await done
    assert.ok(results.every((r, k) => r.status === 200 && intact(r.body, 9000 + k)))
    // Without the spread 11 ran at once (2 MiB bodies and their chunks in
    // 24 MiB); with it, 8.
    assert.ok(seen.maxRunning <= 9, `${seen.maxRunning} ran at once`)
    assert.equal(samm.stats().limitFallbacks, fallbacks)
  } finally {
    server.close()
  }
  await drained()
})

test('bad admit options are refused with ERR_SAMM_INVALID_ARG', async () => {
  const handler = () => {}
  for (const admit of [null, 7, 'yes', { queue: -1 }, { queue: 1.5 }, { timeoutMs: 'x' }, { highWater: 0 }, { highWater: 1.5 }, { highWater: NaN }, { nope: 1 }]) {
    assert.throws(() => samm.http(handler, { admit }), { code: 'ERR_SAMM_INVALID_ARG' }, JSON.stringify(admit))
    assert.throws(() => samm.express({ admit }), { code: 'ERR_SAMM_INVALID_ARG' })
  }
  assert.throws(() => samm.http(handler, { other: 1 }), { code: 'ERR_SAMM_INVALID_ARG' })
  assert.throws(() => samm.http(handler, null), { code: 'ERR_SAMM_INVALID_ARG' })
  for (const admit of [undefined, false, true, {}, { queue: 0, timeoutMs: 0, highWater: 1, retryAfter: 0 }]) {
    assert.equal(typeof samm.http(handler, { admit }), 'function')
  }
  const f = Fastify()
  await assert.rejects(f.register(sammFastify, { admit: { highWater: 2 } }).ready(), { code: 'ERR_SAMM_INVALID_ARG' })
})
