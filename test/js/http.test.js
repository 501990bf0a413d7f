'use strict'
// samm.http over real sockets on 127.0.0.1.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const net = require('node:net')
const samm = require('../..')

const body = samm.site('http.body', { class: 'short' })
const scratch = samm.site('http.scratch', { class: 'short' })

function pattern (buf, id) {
  for (let i = 0; i < buf.length; i++) buf[i] = (id * 131 + i * 7) & 0xff
  return buf
}

function mismatches (buf, id) {
  let bad = 0
  for (let i = 0; i < buf.length; i++) if (buf[i] !== ((id * 131 + i * 7) & 0xff)) bad++
  return bad
}

async function listen (handler) {
  const server = http.createServer(samm.http(handler))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}

function get (port, path, agent) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      const parts = []
      res.on('data', (d) => parts.push(d))
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts) }))
      res.on('error', reject)
    }).on('error', reject)
  })
}

const quiet = () => new Promise((resolve) => setTimeout(resolve, 50))

test('100,000 requests at 128 keep-alive connections: every byte is the request\'s own', { timeout: 60000 }, async () => {
  const server = await listen(async (req, res) => {
    const id = Number(req.url.slice(1))
    const out = samm.allocUnsafe(1024 + (id % 8) * 512, body)
    samm.allocUnsafe(256, scratch).fill(0xee) // churn beside the body
    pattern(out, id)
    if (id % 3 === 0) await new Promise((resolve) => setImmediate(resolve))
    res.end(out)
  })
  const { port } = server.address()
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 })
  const TOTAL = 100000
  let next = 0
  let bad = 0
  let done = 0
  async function client () {
    while (next < TOTAL) {
      const id = next++
      const r = await get(port, `/${id}`, agent)
      if (r.status !== 200 || r.body.length !== 1024 + (id % 8) * 512) bad++
      else bad += mismatches(r.body, id)
      done++
    }
  }
  await Promise.all(Array.from({ length: 128 }, client))
  agent.destroy()
  server.close()
  assert.equal(done, TOTAL)
  assert.equal(bad, 0)
  await quiet()
  assert.equal(samm.stats().scopes_open, 0)
})

test('large bodies read slowly stay intact while other requests reuse memory', { timeout: 60000 }, async () => {
  const server = await listen((req, res) => {
    const id = Number(req.url.slice(1))
    const size = (2 + (id % 5)) * 1024 * 1024
    res.end(pattern(samm.allocUnsafe(size, body), id))
  })
  const { port } = server.address()
  const churn = new http.Agent({ keepAlive: true, maxSockets: 8 })
  const slow = (id) => new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(`GET /${id} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`))
    const parts = []
    sock.on('data', (d) => {
      parts.push(d)
      sock.pause()
      setTimeout(() => sock.resume(), 2) // a slow reader
    })
    sock.on('end', () => resolve(Buffer.concat(parts)))
    sock.on('error', reject)
  })
  const reads = [slow(1), slow(2), slow(3), slow(4)]
  // Meanwhile other requests open and close scopes, reusing chunks.
  const others = []
  for (let i = 10; i < 40; i++) others.push(get(port, `/${i}`, churn))
  const results = await Promise.all(reads)
  await Promise.all(others)
  churn.destroy()
  server.close()
  results.forEach((raw, k) => {
    const id = k + 1
    const head = raw.indexOf('\r\n\r\n')
    const payload = raw.subarray(head + 4)
    assert.equal(payload.length, (2 + (id % 5)) * 1024 * 1024)
    assert.equal(mismatches(payload, id), 0)
  })
  await quiet()
  assert.equal(samm.stats().scopes_open, 0)
})

test('clients that go away mid-handler never see the handler\'s buffers emptied', { timeout: 60000 }, async () => {
  let emptied = 0
  let settled = 0
  const server = await listen(async (req, res) => {
    const mine = pattern(samm.allocUnsafe(4096, scratch), 7)
    await new Promise((resolve) => setTimeout(resolve, 20))
    if (mine.length !== 4096 || mismatches(mine, 7) !== 0) emptied++
    settled++
    res.end('late')
  })
  const { port } = server.address()
  const N = 1000
  await Promise.all(Array.from({ length: N }, () => new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => {
      sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
      setTimeout(() => { sock.destroy(); resolve() }, 2)
    })
    sock.on('error', resolve)
  })))
  while (settled < N) await quiet()
  server.close()
  assert.equal(emptied, 0)
  await quiet()
  const s = samm.stats()
  assert.equal(s.scopes_open, 0)
  assert.equal(s.bump.in_use, 0)
})

test('streamed responses, responses larger than a chunk and handlers that never allocate', { timeout: 60000 }, async () => {
  const server = await listen(async (req, res) => {
    if (req.url === '/stream') {
      for (let i = 0; i < 20; i++) {
        const part = pattern(samm.allocUnsafe(100000, body), i)
        if (!res.write(part)) await new Promise((resolve) => res.once('drain', resolve))
      }
      res.end()
    } else if (req.url === '/big') {
      res.end(pattern(samm.allocUnsafe(1024 * 1024 + 3, body), 5))
    } else {
      res.end('plain')
    }
  })
  const { port } = server.address()
  const stream = await get(port, '/stream')
  assert.equal(stream.body.length, 20 * 100000)
  for (let i = 0; i < 20; i++) assert.equal(mismatches(stream.body.subarray(i * 100000, (i + 1) * 100000), i), 0)
  const big = await get(port, '/big')
  assert.equal(mismatches(big.body, 5), 0)
  assert.equal((await get(port, '/none')).body.toString(), 'plain')
  server.close()
  await quiet()
  assert.equal(samm.stats().scopes_open, 0)
})
