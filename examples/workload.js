'use strict'
// The request the example services serve, the same in each framework:
// a page of rows rendered into a response body of 16–256 KB, eight scratch
// buffers for parsing, and a small long-lived cache of rendered fragments.
// With SAMM=0 every buffer comes from Buffer.allocUnsafe, as in a service
// without SAMM; otherwise from SAMM's sites.
//
// Knobs (query string): rows (80–1500, default drawn from the request id),
// id (request id, any integer).

const samm = require('..')

const enabled = process.env.SAMM !== '0'
const ROW_BYTES = 172 // bytes of one rendered row, at most
const SCRATCH = 8
const CACHE_ENTRIES = 512
const CACHE_KEYS = 384 // distinct fragments: the cache holds them all once warm

// Explicit classes until the service is profiled and baked.
const sites = {
  body: samm.site('render.body', { class: 'short' }),
  scratch: samm.site('parse.scratch', { class: 'short' }),
  cache: samm.site('cache.fragment', { class: 'long' })
}

const allocUnsafe = enabled
  ? (size, site) => samm.allocUnsafe(size, site)
  : (size) => Buffer.allocUnsafe(size)
const release = enabled ? (buf) => samm.free(buf) : () => {}

const cache = new Map() // key -> Buffer, oldest first

function fragment (key) {
  let frag = cache.get(key)
  if (frag !== undefined) {
    cache.delete(key) // refresh its place
    cache.set(key, frag)
    return frag
  }
  frag = allocUnsafe(64, sites.cache)
  frag.write(`"group":"g${key}","tags":["t${key % 7}","t${key % 11}"]`.padEnd(64, ' '), 'latin1')
  cache.set(key, frag)
  if (cache.size > CACHE_ENTRIES) {
    const [oldest, buf] = cache.entries().next().value
    cache.delete(oldest)
    release(buf)
  }
  return frag
}

function parse (url) {
  const q = url.indexOf('?')
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1))
  const id = Number(params.get('id')) || 0
  let rows = Number(params.get('rows'))
  if (!Number.isInteger(rows) || rows < 80 || rows > 1500) rows = 80 + ((id * 2654435761) >>> 0) % 1421
  return { id, rows }
}

// Renders the page for url; returns the body (a view of exactly its bytes).
function render (url) {
  const { id, rows } = parse(url)
  // Parse scratch: the kind of temporary buffers a decoder or validator uses.
  let checksum = 0
  for (let i = 0; i < SCRATCH; i++) {
    const tmp = allocUnsafe(1024 + i * 512, sites.scratch)
    tmp.fill(id + i)
    checksum = (checksum + tmp[tmp.length - 1]) & 0xffff
  }
  const body = allocUnsafe(rows * ROW_BYTES + 64, sites.body)
  let n = body.write('[', 0, 'latin1')
  for (let r = 0; r < rows; r++) {
    const key = (id + r * 31) % CACHE_KEYS
    n += body.write(`${r ? ',' : ''}{"id":${id},"row":${r},"value":${(id * 7 + r) % 100000},`, n, 'latin1')
    n += fragment(key).copy(body, n)
    n += body.write(`,"sum":${checksum}}\n`, n, 'latin1')
  }
  n += body.write(']', n, 'latin1')
  return body.subarray(0, n)
}

module.exports = { render, enabled }
