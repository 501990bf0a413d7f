'use strict'
// The example Fastify service. SAMM=0 runs it without SAMM. PORT (3000).
const Fastify = require('fastify')
const samm = require('../..')
const { render, enabled } = require('../workload')

const app = Fastify()
if (enabled) app.register(require('samm/fastify'))
app.after(() => {
  app.get('/', (request, reply) => {
    reply.type('application/octet-stream').send(render(request.url))
  })
  app.get('/stats', async () => samm.stats())
})

app.listen({ port: Number(process.env.PORT) || 3000, host: '127.0.0.1' }).then(() => {
  console.log(`fastify example on http://127.0.0.1:${app.server.address().port} (SAMM ${enabled ? 'on' : 'off'})`)
})
module.exports = app
