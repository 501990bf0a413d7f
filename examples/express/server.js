'use strict'
// The example Express service. SAMM=0 runs it without SAMM. PORT (3000).
// SAMM_ADMIT=0 turns admission off (examples/admit.js).
const express = require('express')
const samm = require('../..')
const { render, send, enabled } = require('../workload')
const { admit } = require('../admit')

const app = express()
if (enabled) app.use(samm.express({ admit }))
app.get('/', (req, res) => {
  res.type('application/octet-stream')
  const out = render(req.url)
  if (typeof out.then !== 'function') return send(res, out)
  return out.then((body) => send(res, body))
})
app.get('/stats', (req, res) => res.json(samm.stats()))

const server = app.listen(Number(process.env.PORT) || 3000, '127.0.0.1', () => {
  console.log(`express example on http://127.0.0.1:${server.address().port} (SAMM ${enabled ? 'on' : 'off'})`)
})
module.exports = server
