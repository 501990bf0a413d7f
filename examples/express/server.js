'use strict'
// The example Express service. SAMM=0 runs it without SAMM. PORT (3000).
const express = require('express')
const samm = require('../..')
const { render, enabled } = require('../workload')

const app = express()
if (enabled) app.use(samm.express())
app.get('/', (req, res) => {
  res.type('application/octet-stream')
  res.end(render(req.url))
})
app.get('/stats', (req, res) => res.json(samm.stats()))

const server = app.listen(Number(process.env.PORT) || 3000, '127.0.0.1', () => {
  console.log(`express example on http://127.0.0.1:${server.address().port} (SAMM ${enabled ? 'on' : 'off'})`)
})
module.exports = server
