'use strict'
// samm.express() with express@5 over real sockets on 127.0.0.1.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const express = require('express')
const samm = require('../..')
const sc = require('./helpers/scenarios')

let server, port
before(async () => {
  const app = express()
  app.use(samm.express())
  app.use(express.json()) // resumes the chain from stream events
  app.get('/pattern/:id', async (req, res) => {
    const id = Number(req.params.id)
    const out = sc.build.pattern(id)
    if (id % 3 === 0) await new Promise((resolve) => setImmediate(resolve))
    res.end(out)
  })
  app.get('/big/:id', (req, res) => res.end(sc.build.big(Number(req.params.id))))
  app.get('/slow', async (req, res) => { await sc.slowWork(); res.end('late') })
  app.get('/stream', async (req, res) => {
    for (let i = 0; i < 20; i++) {
      if (!res.write(sc.build.streamPart(i))) await new Promise((resolve) => res.once('drain', resolve))
    }
    res.end()
  })
  app.get('/throw', async () => { sc.build.pattern(1); throw new Error('handler failed') })
  app.get('/plain', (req, res) => res.send('plain'))
  app.post('/echo', (req, res) => {
    // After the body parser: the request's scope is still current.
    assert.equal(samm.current(), req.samm)
    res.json({ scoped: samm.current() !== undefined, n: req.body.n })
  })
  app.use((err, req, res, next) => { res.status(500).end(err.message) })
  server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  port = server.address().port
})
after(() => server.close())

sc.scenarioTests(() => port)

test('handlers after a body parser still run in the request\'s scope', async () => {
  const r = await fetch(`http://127.0.0.1:${port}/echo`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: 5 })
  })
  assert.deepEqual(await r.json(), { scoped: true, n: 5 })
})

test('requests skip() turns away get req.samm null and no scope', async () => {
  const app = express()
  app.use(samm.express({ skip: (req) => req.path === '/health' }))
  app.get('/health', (req, res) => res.json({ samm: req.samm, current: samm.current() === undefined }))
  app.get('/', (req, res) => res.json({ scoped: req.samm !== null && samm.current() === req.samm }))
  const s = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => s.once('listening', resolve))
  try {
    const base = `http://127.0.0.1:${s.address().port}`
    assert.deepEqual(await (await fetch(`${base}/health`)).json(), { samm: null, current: true })
    assert.deepEqual(await (await fetch(`${base}/`)).json(), { scoped: true })
  } finally {
    s.close()
  }
})

test('express() validates its options', () => {
  assert.throws(() => samm.express(null), { code: 'ERR_SAMM_INVALID_ARG' })
  assert.throws(() => samm.express({ skip: 1 }), { code: 'ERR_SAMM_INVALID_ARG' })
})
