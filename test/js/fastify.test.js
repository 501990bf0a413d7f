'use strict'
// require('samm/fastify') with fastify@5 over real sockets on 127.0.0.1.
// The routes are declared in three orders: on the instance before the
// plugin, in a sibling plugin registered before it (as @fastify/autoload
// registers a routes directory), and after it.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const Fastify = require('fastify')
const samm = require('../..')
const sammFastify = require('samm/fastify')
const sc = require('./helpers/scenarios')

const tick = () => new Promise((resolve) => setImmediate(resolve))

// A routes directory as @fastify/autoload loads it: an encapsulated plugin
// with its own hooks.
async function routes (f) {
  f.addHook('preHandler', async () => { await tick(); sc.hooked.scratch() })
  f.addHook('preSerialization', async (request, reply, payload) => { sc.hooked.scratch(); return payload })
  f.addHook('onSend', async (request, reply, payload) => sc.hooked.copy(payload))
  f.addHook('onResponse', () => sc.hooked.late())
  f.get('/hooked/:id', async (request) => sc.build.pattern(Number(request.params.id)))
  f.post('/hooked/:id', { preValidation: async () => { sc.hooked.scratch() } },
    async (request) => ({ id: Number(request.params.id), n: request.body.n }))
}

async function scenarioRoutes (f) {
  f.get('/big/:id', (request, reply) => { reply.send(sc.build.big(Number(request.params.id))) })
  f.get('/slow', async () => { await sc.slowWork(); return 'late' })
  f.get('/stream', (request, reply) => {
    const { Readable } = require('node:stream')
    let i = 0
    // Parts are built in the request's scope as the stream is read.
    const scope = request.samm
    reply.send(new Readable({
      read () { this.push(i < 20 ? samm.enter(scope, () => sc.build.streamPart(i++)) : null) }
    }))
  })
}

let app, port
before(async () => {
  app = Fastify()
  app.get('/pattern/:id', async (request, reply) => {
    const id = Number(request.params.id)
    const out = sc.build.pattern(id)
    if (id % 3 === 0) await tick()
    return reply.send(out)
  })
  app.register(routes)
  app.register(scenarioRoutes)
  await app.register(sammFastify)
  app.get('/throw', async () => { sc.build.pattern(1); throw new Error('handler failed') })
  app.get('/plain', async () => 'plain')
  app.post('/echo', async (request) => ({ scoped: samm.current() === request.samm && request.samm !== null, n: request.body.n }))
  app.get('/opt-out', { config: { samm: false } }, async (request) => ({ samm: request.samm, current: samm.current() === undefined }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  port = app.server.address().port
})
after(() => app.close())

sc.scenarioTests(() => port)
sc.hookTests(() => port)

test('handlers after body parsing run in the request\'s scope', async () => {
  const r = await app.inject({ method: 'POST', url: '/echo', payload: { n: 5 } })
  assert.deepEqual(r.json(), { scoped: true, n: 5 })
})

test('a route can opt out with config.samm = false', async () => {
  const r = await app.inject({ method: 'GET', url: '/opt-out' })
  assert.deepEqual(r.json(), { samm: null, current: true })
})

test('an onRequest hook added before the plugin runs in the scope from a route\'s second request on', async () => {
  const f = Fastify()
  const seen = []
  f.addHook('onRequest', async (request) => { seen.push(samm.current() !== undefined) })
  f.register(async (child) => {
    child.get('/', async (request) => ({ scoped: samm.current() === request.samm && request.samm !== null }))
  })
  await f.register(sammFastify)
  for (let i = 0; i < 3; i++) assert.deepEqual((await f.inject('/')).json(), { scoped: true })
  assert.deepEqual(seen, [false, true, true])
  await f.close()
})

test('a plugin registered in a child covers that child\'s routes only', async () => {
  const f = Fastify()
  f.get('/outside', async () => ({ scoped: samm.current() !== undefined }))
  f.register(async (child) => {
    child.get('/inside', async (request) => ({ scoped: samm.current() === request.samm && request.samm !== null }))
    await child.register(sammFastify)
  })
  assert.deepEqual((await f.inject('/inside')).json(), { scoped: true })
  assert.deepEqual((await f.inject('/outside')).json(), { scoped: false })
  await f.close()
})

test('where Fastify\'s route context cannot be found, requests still get a scope and a warning says so once', async () => {
  // A fresh copy of the plugin, given a request without Fastify's context.
  const file = require.resolve('../../lib/fastify.js')
  const cached = require.cache[file]
  delete require.cache[file]
  const fresh = require(file)
  require.cache[file] = cached
  let hook
  await fresh({ decorateRequest () {}, addHook (name, fn) { if (name === 'onRequest') hook = fn } }, {})
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  try {
    const requests = []
    for (let i = 0; i < 2; i++) {
      const request = { routeOptions: { config: {} } }
      const raw = new (require('node:events').EventEmitter)()
      await new Promise((resolve) => hook(request, { raw }, resolve))
      assert.ok(request.samm instanceof samm.Scope)
      raw.emit('close')
      requests.push(request)
    }
    const optedOut = { routeOptions: { config: { samm: false } } }
    await new Promise((resolve) => hook(optedOut, { raw: null }, resolve))
    assert.equal(optedOut.samm, undefined)
    await new Promise((resolve) => setImmediate(resolve))
    assert.ok(requests.every((r) => r.samm.closed))
    assert.deepEqual(warnings.map((w) => w.code), ['SAMM_FASTIFY_UNCOVERED'])
  } finally {
    process.off('warning', onWarning)
  }
})

test('the plugin is exported as default and named, with its name and Fastify range', () => {
  assert.equal(sammFastify.default, sammFastify)
  assert.equal(sammFastify.samm, sammFastify)
  assert.equal(sammFastify[Symbol.for('fastify.display-name')], 'samm')
})
