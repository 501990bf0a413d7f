'use strict'
// require('samm/koa') with koa@3 over real sockets on 127.0.0.1.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Readable } = require('node:stream')
const Koa = require('koa')
const samm = require('../..')
const sammKoa = require('samm/koa')
const sc = require('./helpers/scenarios')

async function readJson (req) {
  const parts = []
  for await (const part of req) parts.push(part)
  return JSON.parse(Buffer.concat(parts).toString())
}

let server, port
before(async () => {
  const app = new Koa()
  app.silent = true // /throw is expected: Koa answers 500 without logging it
  app.use(sammKoa({ skip: (ctx) => ctx.path === '/skipped' }))
  app.use(async (ctx) => {
    const [, name, arg] = ctx.path.split('/')
    const id = Number(arg)
    switch (name) {
      case 'pattern': {
        const out = sc.build.pattern(id)
        if (id % 3 === 0) await new Promise((resolve) => setImmediate(resolve))
        ctx.body = out
        return
      }
      case 'big': ctx.body = sc.build.big(id); return
      case 'slow': await sc.slowWork(); ctx.body = 'late'; return
      case 'stream': {
        // Koa reads a stream body after the middleware chain: its parts are
        // built in the request's scope as it is read.
        let i = 0
        const scope = ctx.samm
        ctx.body = new Readable({ read () { this.push(i < 20 ? samm.enter(scope, () => sc.build.streamPart(i++)) : null) } })
        return
      }
      case 'throw': sc.build.pattern(1); throw new Error('handler failed')
      case 'echo': {
        // After reading the body from stream events: the scope is still current.
        const { n } = await readJson(ctx.req)
        ctx.body = { scoped: samm.current() === ctx.samm && ctx.samm !== null, n }
        return
      }
      case 'skipped': ctx.body = { samm: ctx.samm, current: samm.current() === undefined }; return
      default: ctx.body = 'plain'
    }
  })
  server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  port = server.address().port
})
after(() => server.close())

sc.scenarioTests(() => port)

test('handlers after reading the body still run in the request\'s scope', async () => {
  const r = await fetch(`http://127.0.0.1:${port}/echo`, { method: 'POST', body: JSON.stringify({ n: 5 }) })
  assert.deepEqual(await r.json(), { scoped: true, n: 5 })
})

test('skip(ctx) leaves a request without a scope', async () => {
  const r = await fetch(`http://127.0.0.1:${port}/skipped`)
  assert.deepEqual(await r.json(), { samm: null, current: true })
})

test('the middleware factory validates its options and is exported as default and named', () => {
  assert.throws(() => sammKoa(null), { code: 'ERR_SAMM_INVALID_ARG' })
  assert.throws(() => sammKoa({ skip: 'no' }), { code: 'ERR_SAMM_INVALID_ARG' })
  assert.equal(sammKoa.default, sammKoa)
  assert.equal(sammKoa.koa, sammKoa)
})
