'use strict'
// require('samm/otel'): observable instruments read by an OpenTelemetry SDK
// MeterProvider through a pull reader.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { MeterProvider, MetricReader, DataPointType } = require('@opentelemetry/sdk-metrics')
const samm = require('../..')
const { registerSammMetrics } = require('samm/otel')

const body = samm.site('otel.body', { class: 'short' })

// Collects on demand, as a Prometheus exporter does when it is scraped.
class PullReader extends MetricReader {
  async onForceFlush () {}
  async onShutdown () {}
}

let reader, provider, app
before(async () => {
  reader = new PullReader()
  provider = new MeterProvider({ readers: [reader] })
  registerSammMetrics(provider.getMeter('samm-test'))
  app = http.createServer(samm.http((req, res) => res.end(samm.alloc(2048, body).fill(7))))
  await new Promise((resolve) => app.listen(0, '127.0.0.1', resolve))
})
after(async () => {
  app.close()
  await provider.shutdown()
})

// Map("name{k=v,...}" -> { value, type, unit }) of one collection.
async function observe () {
  const { resourceMetrics, errors } = await reader.collect()
  assert.deepEqual(errors, [])
  const out = new Map()
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      for (const point of metric.dataPoints) {
        const attrs = Object.entries(point.attributes).map(([k, v]) => `${k}=${v}`).join(',')
        out.set(attrs ? `${metric.descriptor.name}{${attrs}}` : metric.descriptor.name,
          { value: point.value, type: metric.dataPointType, unit: metric.descriptor.unit, monotonic: metric.isMonotonic })
      }
    }
  }
  return out
}

async function load (n) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })
  for (let i = 0; i < n; i++) {
    await new Promise((resolve, reject) => http.get({ host: '127.0.0.1', port: app.address().port, agent }, (res) => {
      res.resume()
      res.on('end', resolve)
    }).on('error', reject))
  }
  agent.destroy()
  while (samm.stats().scopesOpen > 0) await new Promise((resolve) => setTimeout(resolve, 5))
}

test('every instrument is observed, with its unit and kind', async () => {
  const m = await observe()
  for (const arena of ['bump', 'slab', 'region']) {
    assert.equal(m.get(`samm.arena.committed{arena=${arena}}`).unit, 'By')
    assert.equal(m.get(`samm.arena.in_use{arena=${arena}}`).monotonic, false)
    assert.equal(m.get(`samm.arena.high_water{arena=${arena}}`).type, DataPointType.GAUGE)
  }
  assert.equal(m.get('samm.budget').value, samm.config().maxBytes)
  assert.equal(m.get('samm.scopes.opened').monotonic, true)
  assert.equal(m.get('samm.scopes.open').monotonic, false)
  for (const name of ['samm.committed', 'samm.high_water', 'samm.scope.allocations', 'samm.budget.refusals']) assert.ok(m.has(name), name)
  for (const kind of ['limit', 'collected', 'externalRefused', 'outsideScope']) assert.ok(m.has(`samm.fallbacks{kind=${kind}}`), kind)
  assert.ok(m.has('samm.site.allocations{site=(other)}'))
})

test('observations move with load', async () => {
  const a = await observe()
  await load(200)
  const b = await observe()
  const value = (m, key) => m.has(key) ? m.get(key).value : 0
  assert.ok(value(b, 'samm.scopes.opened') >= value(a, 'samm.scopes.opened') + 200)
  assert.ok(value(b, 'samm.scope.allocations') >= value(a, 'samm.scope.allocations') + 200)
  assert.equal(value(b, 'samm.site.allocations{site=otel.body}') - value(a, 'samm.site.allocations{site=otel.body}'), 200)
  assert.equal(value(b, 'samm.site.allocated{site=otel.body}') - value(a, 'samm.site.allocated{site=otel.body}'), 200 * 2048)
  assert.ok(value(b, 'samm.arena.committed{arena=bump}') > 0)
  const s = samm.scope()
  s.alloc(10)
  const c = await observe()
  assert.equal(value(c, 'samm.scopes.open'), 1)
  assert.ok(value(c, 'samm.arena.in_use{arena=bump}') >= samm.config().chunkSize)
  s.close()
  samm.alloc(10, body) // outside a scope
  const d = await observe()
  assert.equal(value(d, 'samm.scopes.open'), 0)
  assert.equal(value(d, 'samm.fallbacks{kind=outsideScope}'), value(c, 'samm.fallbacks{kind=outsideScope}') + 1)
})

test('site attributes are bounded by sitesLimit', async () => {
  const r = new PullReader()
  const p = new MeterProvider({ readers: [r] })
  registerSammMetrics(p.getMeter('bounded'), { sitesLimit: 2 })
  samm.run(() => { for (let i = 0; i < 6; i++) samm.alloc(4, samm.site(`otel.bounded.${i}`, { class: 'short' })) })
  const { resourceMetrics } = await r.collect()
  const sites = resourceMetrics.scopeMetrics[0].metrics.find((x) => x.descriptor.name === 'samm.site.allocations')
  assert.equal(sites.dataPoints.length, 3) // two sites and (other)
  await p.shutdown()
})

test('registerSammMetrics() validates its arguments', () => {
  assert.throws(() => registerSammMetrics(), { code: 'ERR_SAMM_INVALID_ARG' })
  assert.throws(() => registerSammMetrics({ createObservableGauge () {} }), { code: 'ERR_SAMM_INVALID_ARG' })
  assert.throws(() => registerSammMetrics(provider.getMeter('x'), { sitesLimit: 'all' }), { code: 'ERR_SAMM_INVALID_ARG' })
})
