'use strict'
// The example Hono service on @hono/node-server. SAMM=0 runs it without
// SAMM. PORT (3000).
const { Hono } = require('hono')
const { serve } = require('@hono/node-server')
const samm = require('../..')
const { render, enabled } = require('../workload')

const app = new Hono()
if (enabled) app.use(require('samm/hono')())
app.get('/stats', (c) => c.json(samm.stats()))
app.get('/', (c) => c.body(render(c.req.url), 200, { 'content-type': 'application/octet-stream' }))

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT) || 3000, hostname: '127.0.0.1' }, (info) => {
  console.log(`hono example on http://127.0.0.1:${info.port} (SAMM ${enabled ? 'on' : 'off'})`)
})
module.exports = server
