'use strict'
// The requests the example services serve, the same in each framework.
// With SAMM=0 every buffer comes from Buffer.allocUnsafe, as in a service
// without SAMM; otherwise from SAMM's sites, whose classes come from the
// baked table (all 'heap', i.e. unchanged, until the service is profiled
// and baked: npm run demo does both).
//
// Two shapes, chosen by the query string:
//   shape=heavy (default): a page of rows encoded into a response body of
//     16–256 KB (a binary row encoder: three numeric fields and a 64-byte
//     fragment per row, 80 bytes), eight scratch buffers of 1–4.5 KB for
//     parsing, and a small long-lived cache of the fragments (384 keys, all
//     cached once warm);
//   shape=small: many small buffers - `pieces` (default 150) pieces of
//     64 B–4 KB, each filled and copied into the response body.
// Other knobs: rows (200–3270; default drawn from id), id (any integer:
// makes sizes vary from request to request).

const samm = require('..')

const enabled = process.env.SAMM !== '0'
const ROW_BYTES = 80 // bytes of one encoded row
const SCRATCH = 8
const CACHE_ENTRIES = 512
const CACHE_KEYS = 384 // distinct fragments: the cache holds them all once warm

const sites = {
  body: samm.site('render.body'),
  scratch: samm.site('parse.scratch'),
  cache: samm.site('cache.fragment'),
  piece: samm.site('small.piece'),
  smallBody: samm.site('small.body')
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
  if (!Number.isInteger(rows) || rows < 200 || rows > 3270) rows = 200 + ((id * 2654435761) >>> 0) % 3071
  let pieces = Number(params.get('pieces'))
  if (!Number.isInteger(pieces) || pieces < 1 || pieces > 2000) pieces = 150
  return { id, rows, pieces, shape: params.get('shape') === 'small' ? 'small' : 'heavy' }
}

// Renders the response for url; returns the body (a view of exactly its bytes).
function render (url) {
  const request = parse(url)
  return request.shape === 'small' ? renderSmall(request) : renderHeavy(request)
}

function renderSmall ({ id, pieces }) {
  const parts = []
  let total = 0
  for (let i = 0; i < pieces; i++) {
    const size = 64 + ((id + i) * 2654435761 >>> 0) % 4033
    const piece = allocUnsafe(size, sites.piece)
    piece.fill(97 + (i % 26))
    parts.push(piece)
    total += size
  }
  const body = allocUnsafe(total, sites.smallBody)
  let n = 0
  for (const piece of parts) n += piece.copy(body, n)
  return body
}

function renderHeavy ({ id, rows }) {
  // Parse scratch: the kind of temporary buffers a decoder or validator uses.
  let checksum = 0
  for (let i = 0; i < SCRATCH; i++) {
    const tmp = allocUnsafe(1024 + i * 512, sites.scratch)
    tmp.fill(id + i)
    checksum = (checksum + tmp[tmp.length - 1]) & 0xffff
  }
  const body = allocUnsafe(rows * ROW_BYTES + 8, sites.body)
  let n = body.writeUInt32LE(rows, 0)
  n = body.writeUInt32LE(checksum, n)
  for (let r = 0; r < rows; r++) {
    n = body.writeUInt32LE(id >>> 0, n)
    n = body.writeUInt32LE(r, n)
    n = body.writeDoubleLE((id * 7 + r) % 100000, n)
    n += fragment((id + r * 31) % CACHE_KEYS).copy(body, n)
  }
  return body.subarray(0, n)
}

module.exports = { render, enabled }
