'use strict'
// NestJS on its Fastify adapter, with samm/fastify registered before the
// application starts (docs/frameworks.md), over real sockets on 127.0.0.1.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const sammFastify = require('samm/fastify')
const sc = require('./helpers/scenarios')
const { scenarioModule } = require('./helpers/nest')

let app, port
before(async () => {
  const { NestFactory } = await import('@nestjs/core')
  const { FastifyAdapter } = await import('@nestjs/platform-fastify')
  app = await NestFactory.create(await scenarioModule(), new FastifyAdapter(), { logger: false })
  await app.register(sammFastify)
  await app.listen(0, '127.0.0.1')
  port = app.getHttpServer().address().port
})
after(() => app.close())

sc.scenarioTests(() => port)

test('handlers after body parsing run in the request\'s scope', async () => {
  const r = await fetch(`http://127.0.0.1:${port}/echo`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: 5 })
  })
  assert.deepEqual(await r.json(), { scoped: true, n: 5 })
})
