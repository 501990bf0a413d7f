'use strict'
// Events on node:diagnostics_channel: samm:limit, samm:fallback, samm:scope:long.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const dc = require('node:diagnostics_channel')
const http = require('node:http')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const samm = require('../..')

const short = samm.site('diag.short', { class: 'short' })
const long = samm.site('diag.long', { class: 'long' })
const ROOT = path.join(__dirname, '..', '..')

// Runs fn with a subscriber on channel; returns the messages it got.
async function collect (channel, fn) {
  const got = []
  const onMessage = (message) => got.push(message)
  dc.subscribe(channel, onMessage)
  try {
    await fn()
  } finally {
    dc.unsubscribe(channel, onMessage)
  }
  return got
}

async function withBudget (options, fn) {
  samm.collect()
  samm.configure({ maxBytes: 2 * 1024 * 1024, ...options })
  try {
    return await fn()
  } finally {
    samm.configure({ maxBytes: 1024 * 1024 * 1024, onLimit: 'throw' })
  }
}

test('samm:limit: a refused medium/long allocation names its size, class, site, budget and the error thrown', async () => {
  const kept = []
  const events = await withBudget({}, () => collect('samm:limit', () => {
    assert.throws(() => { for (;;) kept.push(samm.allocUnsafe(64 * 1024, long)) }, { code: 'ERR_SAMM_LIMIT' })
  }))
  for (const b of kept) samm.free(b)
  assert.equal(events.length, 1)
  const [e] = events
  assert.equal(e.size, 64 * 1024)
  assert.equal(e.class, 'long')
  assert.equal(e.site, 'diag.long')
  assert.equal(e.action, 'throw')
  assert.equal(e.maxBytes, 2 * 1024 * 1024)
  assert.ok(e.committed > 0 && e.committed <= e.maxBytes)
  assert.equal(e.error.code, 'ERR_SAMM_LIMIT')
})

test('samm:limit for scope memory: class short, no site', async () => {
  const events = await withBudget({}, () => collect('samm:limit', () => {
    assert.throws(() => samm.run(() => samm.allocUnsafe(4 * 1024 * 1024, short)), { code: 'ERR_SAMM_LIMIT' })
  }))
  assert.equal(events.length, 1)
  assert.equal(events[0].class, 'short')
  assert.equal(events[0].site, null)
  assert.equal(events[0].size, 4 * 1024 * 1024)
})

test('onLimit "heap": samm:limit says action "heap" and samm:fallback kind "limit" follows', async () => {
  const order = []
  const onLimit = (m) => order.push(['limit', m])
  const onFallback = (m) => order.push(['fallback', m])
  dc.subscribe('samm:limit', onLimit)
  dc.subscribe('samm:fallback', onFallback)
  try {
    await withBudget({ onLimit: 'heap' }, () => {
      const huge = samm.allocUnsafe(8 * 1024 * 1024, long)
      assert.equal(huge.length, 8 * 1024 * 1024)
    })
  } finally {
    dc.unsubscribe('samm:limit', onLimit)
    dc.unsubscribe('samm:fallback', onFallback)
  }
  assert.deepEqual(order.map(([name]) => name), ['limit', 'fallback'])
  assert.equal(order[0][1].action, 'heap')
  assert.deepEqual(order[1][1], { kind: 'limit', size: 8 * 1024 * 1024, class: 'long', site: 'diag.long' })
})

test('samm:fallback kind "outsideScope": a short-class allocation made outside any scope', async () => {
  const events = await collect('samm:fallback', () => {
    samm.alloc(100, short)
    samm.run(() => samm.alloc(100, short)) // inside a scope: no event
  })
  assert.deepEqual(events, [{ kind: 'outsideScope', size: 100, class: 'short', site: 'diag.short' }])
})

test('samm:fallback kind "externalRefused": the runtime forbids external buffers (simulated)', () => {
  // A child whose binding refuses external buffers the way the addon does
  // where the runtime forbids them: it returns undefined.
  const src = `
    const dc = require('node:diagnostics_channel')
    const real = require(${JSON.stringify(path.join(ROOT, 'lib', 'binding.js'))})
    const fake = Object.create(real, { alloc: { value: () => undefined }, take: { value: () => undefined } })
    require.cache[require.resolve(${JSON.stringify(path.join(ROOT, 'lib', 'binding.js'))})].exports = fake
    const samm = require(${JSON.stringify(ROOT)})
    const got = []
    dc.subscribe('samm:fallback', (m) => got.push(m))
    process.on('warning', () => {})
    samm.alloc(3000, samm.site('x.medium', { class: 'medium' }))
    samm.run(() => samm.alloc(500, samm.site('x.short', { class: 'short' })))
    console.log(JSON.stringify({ got, refused: samm.stats().externalRefused }))`
  const out = JSON.parse(execFileSync(process.execPath, ['-e', src], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))
  assert.deepEqual(out.got, [
    { kind: 'externalRefused', size: 3000, class: 'medium', site: 'x.medium' },
    { kind: 'externalRefused', size: 500, class: 'short', site: null }
  ])
  assert.equal(out.refused, 2)
})

test('samm:scope:long: a scope open longer than longScopeMs is reported when it releases its memory', async () => {
  samm.configure({ longScopeMs: 30 })
  try {
    let opened
    const events = await collect('samm:scope:long', () => samm.run(async (s) => {
      opened = s
      samm.alloc(10, short)
      await new Promise((resolve) => setTimeout(resolve, 60))
    }))
    assert.equal(events.length, 1)
    const [e] = events
    assert.equal(e.scope, opened)
    assert.equal(e.scope.closed, true)
    assert.equal(e.thresholdMs, 30)
    assert.ok(e.durationMs >= 30, `${e.durationMs} ms`)
    assert.equal(e.request, undefined)
    assert.equal(e.response, undefined)
  } finally {
    samm.configure({ longScopeMs: 1000 })
  }
})

test('samm:scope:long: nothing for scopes under the threshold', async () => {
  samm.configure({ longScopeMs: 60000 })
  try {
    const events = await collect('samm:scope:long', async () => {
      for (let i = 0; i < 100; i++) samm.run(() => samm.alloc(10, short))
      await samm.run(() => new Promise((resolve) => setTimeout(resolve, 5)))
    })
    assert.deepEqual(events, [])
  } finally {
    samm.configure({ longScopeMs: 1000 })
  }
})

test('samm:scope:long: a scope opened before anyone subscribed is not timed', async () => {
  samm.configure({ longScopeMs: 0 })
  try {
    const s = samm.scope()
    const events = await collect('samm:scope:long', () => s.close())
    assert.deepEqual(events, [])
    const timed = await collect('samm:scope:long', () => samm.scope().close())
    assert.equal(timed.length, 1, 'longScopeMs 0 reports every scope')
  } finally {
    samm.configure({ longScopeMs: 1000 })
  }
})

test('samm:scope:long: a request scope carries its request and response', async () => {
  samm.configure({ longScopeMs: 0 })
  const server = http.createServer(samm.http((req, res) => res.end(samm.alloc(64, short))))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const events = await collect('samm:scope:long', async () => {
      const r = await fetch(`http://127.0.0.1:${server.address().port}/long?x=1`)
      assert.equal((await r.arrayBuffer()).byteLength, 64)
      while (samm.stats().scopesOpen > 0) await new Promise((resolve) => setTimeout(resolve, 5))
    })
    assert.equal(events.length, 1)
    assert.equal(events[0].request.url, '/long?x=1')
    assert.equal(events[0].request.method, 'GET')
    assert.ok(events[0].response instanceof http.ServerResponse)
  } finally {
    server.close()
    samm.configure({ longScopeMs: 1000 })
  }
})

test('longScopeMs: configure() validates it, config() reports it, SAMM_LONG_SCOPE_MS sets it', () => {
  assert.equal(samm.config().longScopeMs, 1000)
  assert.equal(samm.configure({ longScopeMs: 250 }).longScopeMs, 250)
  samm.configure({ longScopeMs: 1000 })
  assert.throws(() => samm.configure({ longScopeMs: -1 }), (err) => err instanceof TypeError && err.code === 'ERR_SAMM_INVALID_ARG')
  assert.throws(() => samm.configure({ longScopeMs: '5' }), (err) => err instanceof TypeError && err.code === 'ERR_SAMM_INVALID_ARG')
  assert.throws(() => samm.configure({ longScopeMs: 1.5 }), (err) => err instanceof TypeError && err.code === 'ERR_SAMM_INVALID_ARG')
  assert.throws(() => samm.configure({ longScopeMs: 86400001 }), (err) => err instanceof RangeError && err.code === 'ERR_SAMM_INVALID_ARG')
  assert.equal(samm.config().longScopeMs, 1000)
  const read = (value) => execFileSync(process.execPath, ['-e', `process.on('warning', (w) => console.log(w.code)); console.log(require(${JSON.stringify(ROOT)}).config().longScopeMs)`],
    { env: { ...process.env, SAMM_LONG_SCOPE_MS: value }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n')
  assert.deepEqual(read('5000'), ['5000'])
  assert.deepEqual(read('soon'), ['1000', 'SAMM_BAD_ENV'])
  assert.deepEqual(read('-3'), ['1000', 'SAMM_BAD_ENV'])
})
