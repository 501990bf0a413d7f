'use strict'
// The example node:http service. SAMM=0 runs it without SAMM. PORT (3000).
const http = require('node:http')
const samm = require('../..')
const { render, enabled } = require('../workload')

function handler (req, res) {
  if (req.url === '/stats') {
    res.setHeader('content-type', 'application/json')
    return res.end(JSON.stringify(samm.stats()))
  }
  res.setHeader('content-type', 'application/octet-stream')
  res.end(render(req.url))
}

const server = http.createServer(enabled ? samm.http(handler) : handler)
server.listen(Number(process.env.PORT) || 3000, '127.0.0.1', () => {
  console.log(`http example on http://127.0.0.1:${server.address().port} (SAMM ${enabled ? 'on' : 'off'})`)
})
module.exports = server
