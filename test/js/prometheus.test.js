'use strict'
// require('samm/prometheus'): a real prom-client registry scraped over HTTP.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const client = require('prom-client')
const samm = require('../..')
const sammPrometheus = require('samm/prometheus')

const ROOT = path.join(__dirname, '..', '..')
const body = samm.site('metrics.body', { class: 'short' })
const cache = samm.site('metrics.cache', { class: 'long' })

// Parses the text exposition format: Map("name{labels}" -> value).
function parse (text) {
  const out = new Map()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const i = line.lastIndexOf(' ')
    out.set(line.slice(0, i), Number(line.slice(i + 1)))
  }
  return out
}

async function serveMetrics (registry) {
  const server = http.createServer(async (req, res) => {
    if (req.url !== '/metrics') return res.writeHead(404).end()
    res.setHeader('content-type', registry.contentType)
    res.end(await registry.metrics())
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}

async function scrape (server) {
  const r = await fetch(`http://127.0.0.1:${server.address().port}/metrics`)
  assert.equal(r.status, 200)
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  return parse(await r.text())
}

let registry, metricsServer, app
before(async () => {
  registry = new client.Registry()
  sammPrometheus.register(registry)
  metricsServer = await serveMetrics(registry)
  // The service under load: each request builds its body in scope memory
  // and keeps one long-lived buffer for a while.
  const kept = []
  app = http.createServer(samm.http((req, res) => {
    kept.push(samm.allocUnsafe(8192, cache))
    if (kept.length > 20) samm.free(kept.shift())
    res.end(samm.alloc(4096, body).fill(1))
  }))
  await new Promise((resolve) => app.listen(0, '127.0.0.1', resolve))
})
after(() => { metricsServer.close(); app.close() })

async function load (n) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
  let i = 0
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (i++ < n) {
      await new Promise((resolve, reject) => http.get({ host: '127.0.0.1', port: app.address().port, path: '/', agent }, (res) => {
        res.resume()
        res.on('end', resolve)
      }).on('error', reject))
    }
  }))
  agent.destroy()
  while (samm.stats().scopesOpen > 0) await new Promise((resolve) => setTimeout(resolve, 5))
}

test('a scrape over HTTP carries every metric, with units in the names', async () => {
  const m = await scrape(metricsServer)
  for (const arena of ['bump', 'slab', 'region']) {
    for (const name of ['samm_arena_committed_bytes', 'samm_arena_in_use_bytes', 'samm_arena_high_water_bytes']) {
      assert.equal(typeof m.get(`${name}{arena="${arena}"}`), 'number', `${name} ${arena}`)
    }
  }
  for (const name of ['samm_committed_bytes', 'samm_high_water_bytes', 'samm_scopes_open', 'samm_scopes_opened_total',
    'samm_scope_allocations_total', 'samm_budget_refusals_total']) {
    assert.equal(typeof m.get(name), 'number', name)
  }
  assert.equal(m.get('samm_budget_bytes'), samm.config().maxBytes)
  for (const kind of ['limit', 'collected', 'externalRefused', 'outsideScope']) assert.equal(typeof m.get(`samm_fallbacks_total{kind="${kind}"}`), 'number')
  const text = await registry.metrics()
  assert.match(text, /# TYPE samm_scopes_opened_total counter/)
  assert.match(text, /# TYPE samm_arena_in_use_bytes gauge/)
})

test('values move with load: scopes, scope allocations, per-site counts, committed bytes', async () => {
  const a = await scrape(metricsServer)
  await load(300)
  const b = await scrape(metricsServer)
  assert.ok(b.get('samm_scopes_opened_total') >= a.get('samm_scopes_opened_total') + 300)
  assert.ok(b.get('samm_scope_allocations_total') >= a.get('samm_scope_allocations_total') + 300)
  const allocs = (m, site) => m.get(`samm_site_allocations_total{site="${site}"}`) || 0
  assert.equal(allocs(b, 'metrics.body') - allocs(a, 'metrics.body'), 300)
  assert.equal(allocs(b, 'metrics.cache') - allocs(a, 'metrics.cache'), 300)
  const bytes = (m, site) => m.get(`samm_site_allocated_bytes_total{site="${site}"}`) || 0
  assert.equal(bytes(b, 'metrics.body') - bytes(a, 'metrics.body'), 300 * 4096)
  assert.ok(b.get('samm_arena_committed_bytes{arena="bump"}') > 0)
  assert.ok(b.get('samm_arena_in_use_bytes{arena="region"}') >= 20 * 8192, 'the long-lived buffers are in use')
  assert.equal(b.get('samm_scopes_open'), 0)
  // Outside any scope, a short-class allocation is a fallback.
  samm.alloc(16, body)
  const c = await scrape(metricsServer)
  assert.equal(c.get('samm_fallbacks_total{kind="outsideScope"}'), b.get('samm_fallbacks_total{kind="outsideScope"}') + 1)
})

test('scopes open and in-use bytes show requests in flight', async () => {
  const held = []
  for (let i = 0; i < 5; i++) {
    const s = samm.scope()
    s.allocUnsafe(100)
    held.push(s)
  }
  const m = await scrape(metricsServer)
  assert.equal(m.get('samm_scopes_open'), 5)
  assert.ok(m.get('samm_arena_in_use_bytes{arena="bump"}') >= 5 * samm.config().chunkSize)
  for (const s of held) s.close()
  assert.equal((await scrape(metricsServer)).get('samm_scopes_open'), 0)
})

test('budget refusals and limit fallbacks are counted', async () => {
  const before = await scrape(metricsServer)
  samm.collect()
  samm.configure({ maxBytes: 2 * 1024 * 1024, onLimit: 'heap' })
  try {
    samm.allocUnsafe(8 * 1024 * 1024, cache)
  } finally {
    samm.configure({ maxBytes: 1024 * 1024 * 1024, onLimit: 'throw' })
  }
  const m = await scrape(metricsServer)
  assert.ok(m.get('samm_budget_refusals_total') > before.get('samm_budget_refusals_total'))
  assert.equal(m.get('samm_fallbacks_total{kind="limit"}'), before.get('samm_fallbacks_total{kind="limit"}') + 1)
})

test('site labels are bounded: explicit sites up to sitesLimit, then one "(other)" label that keeps counting', async () => {
  const r = new client.Registry()
  sammPrometheus.register(r, { sitesLimit: 3, prefix: 'svc_', labels: { service: 'api' } })
  samm.run(() => {
    for (let i = 0; i < 10; i++) samm.alloc(10, samm.site(`bounded.${i}`, { class: 'short' }))
    samm.alloc(10, 'bounded.unclassed') // heap class, not explicit: never its own label
  })
  const first = parse(await r.metrics())
  const siteLabels = [...first.keys()].filter((k) => k.startsWith('svc_samm_site_allocations_total')).map((k) => /site="([^"]*)"/.exec(k)[1])
  assert.equal(siteLabels.length, 4, siteLabels.join(', '))
  assert.ok(siteLabels.includes('(other)'))
  assert.ok(!siteLabels.includes('bounded.unclassed'))
  assert.ok(first.has('svc_samm_budget_bytes{service="api"}'))
  const other = first.get('svc_samm_site_allocations_total{service="api",site="(other)"}')
  samm.run(() => samm.alloc(10, 'bounded.9'))
  samm.run(() => samm.alloc(10, samm.site('bounded.new', { class: 'short' })))
  const second = parse(await r.metrics())
  assert.equal(second.get('svc_samm_site_allocations_total{service="api",site="(other)"}'), other + 2)
  assert.equal([...second.keys()].filter((k) => k.startsWith('svc_samm_site_allocations_total')).length, 4)
})

test('sites of the baked table get their labels before explicitly classed ones', () => {
  // A child whose addon reports a baked table of two sites.
  const src = `
    const real = require(${JSON.stringify(path.join(ROOT, 'lib', 'binding.js'))})
    const table = { version: 1, digest: 'x', sites: [{ name: 'baked.a', id: 1, class: 'short' }, { name: 'baked.b', id: 2, class: 'long' }] }
    require.cache[require.resolve(${JSON.stringify(path.join(ROOT, 'lib', 'binding.js'))})].exports =
      Object.create(real, { tableJson: { value: () => JSON.stringify(table) } })
    const client = require('prom-client')
    const samm = require(${JSON.stringify(ROOT)})
    const r = new client.Registry()
    require('samm/prometheus').register(r, { sitesLimit: 3 })
    samm.run(() => {
      for (let i = 0; i < 5; i++) samm.alloc(8, samm.site('explicit.' + i, { class: 'short' }))
      samm.alloc(8, 'baked.b')
    })
    r.getSingleMetric('samm_site_allocations_total').get().then((m) => console.log(JSON.stringify(m.values.map((v) => [v.labels.site, v.value]))))`
  const values = JSON.parse(execFileSync(process.execPath, ['-e', src], { cwd: ROOT, encoding: 'utf8' }))
  assert.deepEqual(Object.fromEntries(values), { 'explicit.0': 1, 'baked.b': 1, '(other)': 4 })
})

test('register() validates its arguments; a second registration on one registry throws', () => {
  assert.throws(() => sammPrometheus.register({}), { code: 'ERR_SAMM_INVALID_ARG' })
  assert.throws(() => sammPrometheus.register(new client.Registry(), null), { code: 'ERR_SAMM_INVALID_ARG' })
  assert.throws(() => sammPrometheus.register(new client.Registry(), { prefix: 1 }), { code: 'ERR_SAMM_INVALID_ARG' })
  assert.throws(() => sammPrometheus.register(new client.Registry(), { labels: 'x' }), { code: 'ERR_SAMM_INVALID_ARG' })
  assert.throws(() => sammPrometheus.register(new client.Registry(), { sitesLimit: -1 }), { code: 'ERR_SAMM_INVALID_ARG' })
  assert.throws(() => sammPrometheus.register(new client.Registry(), { sitesLimit: 2.5 }), { code: 'ERR_SAMM_INVALID_ARG' })
  assert.throws(() => sammPrometheus.register(registry), /already been registered/)
})

test('without a registry, the metrics go to prom-client\'s global one', async () => {
  sammPrometheus.register()
  try {
    assert.match(await client.register.metrics(), /samm_scopes_opened_total \d+/)
  } finally {
    client.register.clear()
  }
})

test('without prom-client installed, register() says what to install', () => {
  const src = `
    const Module = require('node:module')
    const resolve = Module._resolveFilename
    Module._resolveFilename = function (request, ...rest) {
      if (request === 'prom-client') { const e = new Error("Cannot find module 'prom-client'"); e.code = 'MODULE_NOT_FOUND'; throw e }
      return resolve.call(this, request, ...rest)
    }
    try { require('samm/prometheus').register() } catch (err) { console.log(err.code + ' ' + err.message) }`
  const out = execFileSync(process.execPath, ['-e', src], { cwd: ROOT, encoding: 'utf8' }).trim()
  assert.equal(out, 'ERR_SAMM_MISSING_PEER samm/prometheus needs prom-client: npm install prom-client')
})
