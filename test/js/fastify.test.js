'use strict'
// require('samm/fastify') with fastify@5 over real sockets on 127.0.0.1.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const Fastify = require('fastify')
const samm = require('../..')
const sammFastify = require('samm/fastify')
const sc = require('./helpers/scenarios')

let app, port
before(async () => {
  app = Fastify()
  await app.register(sammFastify)
  app.get('/pattern/:id', async (request, reply) => {
    const id = Number(request.params.id)
    const out = sc.build.pattern(id)
    if (id % 3 === 0) await new Promise((resolve) => setImmediate(resolve))
    return reply.send(out)
  })
  app.get('/big/:id', (request, reply) => { reply.send(sc.build.big(Number(request.params.id))) })
  app.get('/slow', async () => { await sc.slowWork(); return 'late' })
  app.get('/stream', (request, reply) => {
    const { Readable } = require('node:stream')
    let i = 0
    // Parts are built in the request's scope as the stream is read.
    const scope = request.samm
    reply.send(new Readable({
      read () { this.push(i < 20 ? samm.enter(scope, () => sc.build.streamPart(i++)) : null) }
    }))
  })
  app.get('/throw', async () => { sc.build.pattern(1); throw new Error('handler failed') })
  app.get('/plain', async () => 'plain')
  app.post('/echo', async (request) => ({ scoped: samm.current() === request.samm && request.samm !== null, n: request.body.n }))
  app.get('/opt-out', { config: { samm: false } }, async (request) => ({ samm: request.samm, current: samm.current() === undefined }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  port = app.server.address().port
})
after(() => app.close())

sc.scenarioTests(() => port)

test('handlers after body parsing run in the request\'s scope', async () => {
  const r = await app.inject({ method: 'POST', url: '/echo', payload: { n: 5 } })
  assert.deepEqual(r.json(), { scoped: true, n: 5 })
})

test('a route can opt out with config.samm = false', async () => {
  const r = await app.inject({ method: 'GET', url: '/opt-out' })
  assert.deepEqual(r.json(), { samm: null, current: true })
})

test('the plugin is exported as default and named, with its name and Fastify range', () => {
  assert.equal(sammFastify.default, sammFastify)
  assert.equal(sammFastify.samm, sammFastify)
  assert.equal(sammFastify[Symbol.for('fastify.display-name')], 'samm')
})
