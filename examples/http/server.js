'use strict'
// The example node:http service. SAMM=0 runs it without SAMM. PORT (3000).
// SAMM_ADMIT=0 turns admission off (examples/admit.js).
const http = require('node:http')
const samm = require('../..')
const { render, send, enabled } = require('../workload')
const { admit } = require('../admit')

function handler (req, res) {
  if (req.url === '/stats') {
    res.setHeader('content-type', 'application/json')
    return res.end(JSON.stringify(samm.stats()))
  }
  res.setHeader('content-type', 'application/octet-stream')
  const out = render(req.url)
  if (typeof out.then !== 'function') return send(res, out)
  return out.then((body) => send(res, body), (err) => {
    res.statusCode = 500
    res.end(String(err))
  })
}

const server = http.createServer(enabled ? samm.http(handler, { admit }) : handler)
server.listen(Number(process.env.PORT) || 3000, '127.0.0.1', () => {
  console.log(`http example on http://127.0.0.1:${server.address().port} (SAMM ${enabled ? 'on' : 'off'})`)
})
module.exports = server
