'use strict'
// The example Koa service. SAMM=0 runs it without SAMM. PORT (3000).
const Koa = require('koa')
const samm = require('../..')
const { render, enabled } = require('../workload')

const app = new Koa()
if (enabled) app.use(require('samm/koa')())
app.use((ctx) => {
  if (ctx.path === '/stats') {
    ctx.body = samm.stats()
    return
  }
  ctx.type = 'application/octet-stream'
  ctx.body = render(ctx.url)
})

const server = app.listen(Number(process.env.PORT) || 3000, '127.0.0.1', () => {
  console.log(`koa example on http://127.0.0.1:${server.address().port} (SAMM ${enabled ? 'on' : 'off'})`)
})
module.exports = server
