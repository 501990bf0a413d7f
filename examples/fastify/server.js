'use strict'
// The example Fastify service. SAMM=0 runs it without SAMM. PORT (3000).
// SAMM_ADMIT=0 turns admission off (examples/admit.js).
const Fastify = require('fastify')
const samm = require('../..')
const { render, send, enabled } = require('../workload')
const { admit } = require('../admit')

// A body, or parts written to the raw response (Fastify sends one payload).
function reply (res, out) {
  if (!Array.isArray(out)) {
    res.type('application/octet-stream').send(out)
    return
  }
  res.hijack()
  res.raw.setHeader('content-type', 'application/octet-stream')
  send(res.raw, out)
}

const app = Fastify()
if (enabled) app.register(require('samm/fastify'), { admit })
app.after(() => {
  app.get('/', (request, res) => {
    const out = render(request.url)
    if (typeof out.then !== 'function') return reply(res, out)
    return out.then((body) => reply(res, body)) // sent: resolves to undefined
  })
  app.get('/stats', async () => samm.stats())
})

app.listen({ port: Number(process.env.PORT) || 3000, host: '127.0.0.1' }).then(() => {
  console.log(`fastify example on http://127.0.0.1:${app.server.address().port} (SAMM ${enabled ? 'on' : 'off'})`)
})
module.exports = app
