'use strict'
// samm.http over real sockets on 127.0.0.1.
const { test, before, after } = require('node:test')
const http = require('node:http')
const samm = require('../..')
const sc = require('./helpers/scenarios')

async function route (req, res) {
  const [, name, arg] = req.url.split('/')
  const id = Number(arg)
  switch (name) {
    case 'pattern': {
      const out = sc.build.pattern(id)
      if (id % 3 === 0) await new Promise((resolve) => setImmediate(resolve))
      return res.end(out)
    }
    case 'big': return res.end(sc.build.big(id))
    case 'slow': await sc.slowWork(); return res.end('late')
    case 'stream':
      for (let i = 0; i < 20; i++) {
        if (!res.write(sc.build.streamPart(i))) await new Promise((resolve) => res.once('drain', resolve))
      }
      return res.end()
    case 'throw': sc.build.pattern(1); throw new Error('handler failed')
    default: return res.end('plain')
  }
}

let server, port
before(async () => {
  // A plain node:http service catches its own errors.
  server = http.createServer(samm.http(async (req, res) => {
    try {
      await route(req, res)
    } catch {
      res.statusCode = 500
      res.end()
    }
  }))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = server.address().port
})
after(() => server.close())

sc.scenarioTests(() => port)
