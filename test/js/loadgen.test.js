'use strict'
// The burst shapes' load generator (bench/native/loadgen.c through
// bench/loadgen.js) against a server on 127.0.0.1 whose answers it must
// count exactly: bodies framed by Content-Length, chunked (split across
// writes), a Connection: close answer, non-2xx statuses, a slow answer
// still out when the window ends.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { loadgen } = require('../../bench/loadgen')

// Request n gets mode n % 5; its body is bodySize(n) bytes (404s: 4).
const bodySize = (n) => 1000 + (n % 7) * 50000
function serve (log) {
  return http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x')
    if (url.pathname === '/open') return res.end('ok')
    const n = Number(url.searchParams.get('id'))
    const body = Buffer.alloc(bodySize(n), 97)
    log.push({ n, at: Date.now() })
    switch (n % 5) {
      case 0: return res.end(body)
      case 1: // chunked, in two writes
        res.write(body.subarray(0, 500))
        return setImmediate(() => { res.write(body.subarray(500)); res.end() })
      case 2:
        res.statusCode = 404
        return res.end('nope')
      case 3:
        res.setHeader('Connection', 'close')
        return res.end(body)
      default: return setTimeout(() => res.end(body), 20)
    }
  })
}

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)))

test('the load generator counts every answer of its window, of every framing', async () => {
  const log = []
  const server = serve(log)
  const port = await listen(server)
  let measureAt = 0
  try {
    const r = await loadgen({ port, connections: 8, warmup: 0.3, duration: 1, pathPrefix: '/r?id=', openPath: '/open', onMeasure: () => { measureAt = Date.now() } })
    assert.ok(measureAt > 0, 'onMeasure was called')
    assert.equal(r.errors, 0)
    assert.equal(r.timeouts, 0)
    assert.ok(r.requests.total > 50, `${r.requests.total} requests in 1 s`)
    // Every mode took part, and every 404 was counted as one.
    const modes = new Set(log.map(({ n }) => n % 5))
    assert.equal(modes.size, 5)
    const served404 = log.filter(({ n, at }) => n % 5 === 2 && at >= measureAt).length
    assert.ok(Math.abs(r.non2xx - served404) <= 8, `non-2xx ${r.non2xx}, 404s served in the window ${served404}`)
    assert.ok(Math.abs(r.requests.total - log.filter(({ at }) => at >= measureAt).length) <= 8 + 8)
    assert.ok(r.latency.p50 > 0 && r.latency.p50 <= r.latency.p99 && r.latency.p99 <= r.latency.p99_9)
    assert.ok(Number.isFinite(r.requests.average) && r.requests.average > 0)
  } finally {
    server.close()
  }
})

test('a request still out at the window\'s end is waited for and counted in the latencies', async () => {
  const server = http.createServer((req, res) => {
    if (req.url === '/open') return res.end('ok')
    setTimeout(() => res.end('x'), req.url.endsWith('=0') ? 100 : 1500)
  })
  const port = await listen(server)
  try {
    // One connection, a 1 s window: the first request takes 100 ms, the
    // second 1.5 s and ends after the window. Both are latencies; only the
    // first was answered in the window.
    const r = await loadgen({ port, connections: 1, warmup: 0, duration: 1, pathPrefix: '/r?id=', openPath: '/open' })
    assert.equal(r.requests.total, 1)
    assert.ok(r.latency.p50 >= 90 && r.latency.p50 < 1000, `p50 ${r.latency.p50} ms`)
    assert.ok(r.latency.p99 >= 1400, `p99 ${r.latency.p99} ms: the second request's`)
  } finally {
    server.close()
  }
})

test('the load generator refuses a path too long for its request', async () => {
  await assert.rejects(
    loadgen({ port: 1, connections: 1, warmup: 0, duration: 0.1, pathPrefix: '/', openPath: '/' + 'a'.repeat(600) }),
    /request path too long/)
})
