'use strict'
// require('samm/hono') with hono@4 on @hono/node-server over real sockets on 127.0.0.1.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Hono } = require('hono')
const { serve } = require('@hono/node-server')
const samm = require('../..')
const sammHono = require('samm/hono')
const sc = require('./helpers/scenarios')

const app = new Hono()
app.use(sammHono({ skip: (c) => c.req.path === '/skipped' }))
app.get('/pattern/:id', async (c) => {
  const id = Number(c.req.param('id'))
  const out = sc.build.pattern(id)
  if (id % 3 === 0) await new Promise((resolve) => setImmediate(resolve))
  return c.body(out)
})
app.get('/big/:id', (c) => c.body(sc.build.big(Number(c.req.param('id')))))
app.get('/slow', async (c) => { await sc.slowWork(); return c.text('late') })
app.get('/stream', (c) => {
  // The server pulls the stream after the handler returned: its parts are
  // built in the request's scope as it is read.
  const scope = c.get('samm')
  let i = 0
  return c.body(new ReadableStream({
    pull (controller) {
      if (i < 20) controller.enqueue(samm.enter(scope, () => sc.build.streamPart(i++)))
      else controller.close()
    }
  }))
})
app.get('/throw', () => { sc.build.pattern(1); throw new Error('handler failed') })
app.get('/plain', (c) => c.text('plain'))
app.post('/echo', async (c) => {
  const { n } = await c.req.json()
  return c.json({ scoped: samm.current() === c.get('samm') && c.get('samm') !== null, n })
})
app.get('/skipped', (c) => c.json({ samm: c.get('samm'), current: samm.current() === undefined }))
app.get('/current', (c) => c.json({ scoped: samm.current() !== undefined, samm: c.get('samm') }))
app.onError((err, c) => c.text(err.message, 500))

let server, port
before(async () => {
  await new Promise((resolve) => { server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, resolve) })
  port = server.address().port
})
after(() => server.close())

sc.scenarioTests(() => port)

test('handlers after reading the body still run in the request\'s scope', async () => {
  const r = await fetch(`http://127.0.0.1:${port}/echo`, { method: 'POST', body: JSON.stringify({ n: 5 }) })
  assert.deepEqual(await r.json(), { scoped: true, n: 5 })
})

test('skip(c) leaves a request without a scope', async () => {
  const r = await fetch(`http://127.0.0.1:${port}/skipped`)
  assert.deepEqual(await r.json(), { samm: null, current: true })
})

test('without @hono/node-server (app.request), requests pass through without a scope', async () => {
  const r = await app.request('/current')
  assert.deepEqual(await r.json(), { scoped: false, samm: null })
})

test('the middleware factory validates its options and is exported as default and named', () => {
  assert.throws(() => sammHono(null), { code: 'ERR_SAMM_INVALID_ARG' })
  assert.throws(() => sammHono({ skip: 1 }), { code: 'ERR_SAMM_INVALID_ARG' })
  assert.equal(sammHono.default, sammHono)
  assert.equal(sammHono.hono, sammHono)
})
