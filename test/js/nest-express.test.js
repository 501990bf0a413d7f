'use strict'
// NestJS on its Express adapter, with samm.express() applied through
// app.use() (docs/frameworks.md), over real sockets on 127.0.0.1.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const samm = require('../..')
const sc = require('./helpers/scenarios')
const { scenarioModule } = require('./helpers/nest')

let app, port
before(async () => {
  const { NestFactory } = await import('@nestjs/core')
  const { ExpressAdapter } = await import('@nestjs/platform-express')
  app = await NestFactory.create(await scenarioModule(), new ExpressAdapter(), { logger: false })
  app.use(samm.express())
  await app.listen(0, '127.0.0.1')
  port = app.getHttpServer().address().port
})
after(() => app.close())

sc.scenarioTests(() => port)

test('handlers after Nest\'s body parser still run in the request\'s scope', async () => {
  const r = await fetch(`http://127.0.0.1:${port}/echo`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: 5 })
  })
  assert.deepEqual(await r.json(), { scoped: true, n: 5 })
})
