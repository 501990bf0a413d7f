'use strict'
// The requests the example services serve, the same in each framework.
// With SAMM=0 every buffer comes from Buffer.allocUnsafe, as in a service
// without SAMM; otherwise from SAMM's sites, whose classes come from the
// baked table (all 'heap', i.e. unchanged, until the service is profiled
// and baked: npm run demo does both).
//
// Four shapes, chosen by the query string:
//   shape=heavy (default): a page of rows encoded into a response body of
//     16–256 KB (a binary row encoder: three numeric fields and a 64-byte
//     fragment per row, 80 bytes), eight scratch buffers of 1–4.5 KB for
//     parsing, and a small long-lived cache of the fragments (384 keys, all
//     cached once warm);
//   shape=small: many small buffers - `pieces` (default 150) pieces of
//     64 B–4 KB, each filled and copied into the response body;
//   shape=burst: requests that hold megabytes - eight scratch buffers of
//     1–4.5 KB, a wait of 10 ms standing for a database, then a response
//     body of 1–8 MiB (log-uniform over id) written in full, and for every
//     8th id a 16 MiB staging buffer too (filled; its checksum goes into the
//     body). Its sites are of class short whatever the table says: all of
//     it comes from the request's scope. render() returns a promise;
//   shape=burst-small: the same bytes per request and the same wait, in
//     buffers of 4–64 KiB only: the body goes out as its parts (an array),
//     the staging bytes are parts that are filled and checksummed.
// Other knobs: rows (200–3270; default drawn from id), id (any integer:
// makes sizes vary from request to request).

const { setTimeout: sleep } = require('node:timers/promises')
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
  smallBody: samm.site('small.body'),
  burstScratch: samm.site('burst.scratch', { class: 'short' }),
  burstBody: samm.site('burst.body', { class: 'short' }),
  burstStaging: samm.site('burst.staging', { class: 'short' }),
  burstPart: samm.site('burst.part', { class: 'short' })
}

const MiB = 1024 * 1024
const DB_WAIT_MS = 10
const STAGING = 16 * MiB
const PART_MIN = 4096 // burst-small parts: 4–64 KiB, log-uniform
const PART_SPREAD = 4 // log2(64 KiB / 4 KiB)

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
  const shape = params.get('shape')
  return { id, rows, pieces, shape: SHAPES.includes(shape) ? shape : 'heavy' }
}

const SHAPES = ['heavy', 'small', 'burst', 'burst-small']

// Renders the response for url: the body (a view of exactly its bytes), or
// for the burst shapes a promise of it (burst-small: of its parts, in order).
function render (url) {
  const request = parse(url)
  switch (request.shape) {
    case 'small': return renderSmall(request)
    case 'burst': return renderBurst(request)
    case 'burst-small': return renderBurstSmall(request)
    default: return renderHeavy(request)
  }
}

// A number in [0, 1) drawn from n.
function unit (n) { return ((n * 2654435761) >>> 0) / 4294967296 }

// The body size of a burst request: 1–8 MiB, log-uniform over ids.
function burstBodySize (id) { return Math.floor(MiB * 2 ** (3 * unit(id))) }

function scratchChecksum (id, site) {
  let checksum = 0
  for (let i = 0; i < SCRATCH; i++) {
    const tmp = allocUnsafe(1024 + i * 512, site)
    tmp.fill(id + i)
    checksum = (checksum + tmp[tmp.length - 1]) & 0xffff
  }
  return checksum
}

async function renderBurst ({ id }) {
  let checksum = scratchChecksum(id, sites.burstScratch)
  await sleep(DB_WAIT_MS)
  if (id % 8 === 0) {
    const staging = allocUnsafe(STAGING, sites.burstStaging)
    staging.fill(id & 0xff)
    for (let i = 0; i < STAGING; i += 65536) checksum = (checksum + staging[i]) & 0xffff
  }
  const body = allocUnsafe(burstBodySize(id), sites.burstBody)
  body.fill(97 + (id % 26))
  body.writeUInt32LE(id >>> 0, 0)
  body.writeUInt32LE(checksum, 4)
  return body
}

// size bytes in parts of 4–64 KiB, each filled with byte and pushed on out
// (unless null). Returns the sum of their first bytes.
function parts (size, site, id, byte, out) {
  let left = size
  let checksum = 0
  for (let i = 0; left > 0; i++) {
    const want = Math.floor(PART_MIN * 2 ** (PART_SPREAD * unit(id + i)))
    const part = allocUnsafe(Math.min(want, left), site)
    part.fill(byte)
    checksum = (checksum + part[0]) & 0xffff
    left -= part.length
    if (out !== null) out.push(part)
  }
  return checksum
}

async function renderBurstSmall ({ id }) {
  let checksum = scratchChecksum(id, sites.burstScratch)
  await sleep(DB_WAIT_MS)
  if (id % 8 === 0) checksum = (checksum + parts(STAGING, sites.burstPart, id, id & 0xff, null)) & 0xffff
  const out = []
  parts(burstBodySize(id), sites.burstPart, id * 7, 97 + (id % 26), out)
  out[0].writeUInt32LE(id >>> 0, 0)
  out[0].writeUInt32LE(checksum, 4)
  return out
}

/**
 * Sends what render() produced on a node:http response (Express's too): a
 * Buffer, or an array of parts written in one go.
 */
function send (res, out) {
  if (!Array.isArray(out)) return res.end(out)
  let length = 0
  for (const part of out) length += part.length
  res.setHeader('content-length', length)
  res.cork()
  for (const part of out) res.write(part)
  res.end()
  res.uncork()
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

module.exports = { render, send, enabled, SHAPES }
