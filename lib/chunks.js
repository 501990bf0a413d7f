'use strict'
// Whole request chunks lent by the native heap, kept by JavaScript across
// scopes. A scope takes chunks from this pool and bumps views in them; at
// its close each chunk's memory moves to a fresh ArrayBuffer
// (ArrayBuffer.prototype.transfer), which detaches the old one - every view
// the scope handed out then reads as length 0 - and the fresh one goes back
// to the pool. Wrapping memory through Node-API costs about a microsecond a
// chunk; a transfer costs a fifth of that and no native call.
//
// A scope that outgrows its first chunk takes spans: blocks of SPAN_CHUNKS
// chunks, pooled the same way, so that a large scope pays one transfer per
// span instead of one per chunk. Where most recent scopes were that large,
// new scopes start in a span.
//
// Without a native transfer (or with SAMM_CHUNK_REUSE=0) a chunk goes back
// to the native heap at every close, detached there, and the next take
// wraps one again.

const v8 = require('node:v8')
const vm = require('node:vm')
const { markAsUntransferable } = require('node:worker_threads')
const binding = require('./binding')
const { counters } = require('./counters')

function isNative (fn) {
  return typeof fn === 'function' && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn))
}

// Node 21 and later have ArrayBuffer.prototype.transfer. Node 20's V8 has it
// behind --harmony-rab-gsab-transfer, a flag read when a context is created:
// it is set just long enough to create a private context and take the
// builtin from there. The ArrayBuffers that builtin makes have that
// context's prototype, which is emptied and chained to this one, so they
// behave as this realm's (instanceof ArrayBuffer, constructor, slice).
function findTransfer () {
  if (process.env.SAMM_CHUNK_REUSE === '0') return null
  const own = ArrayBuffer.prototype.transfer
  if (own !== undefined) return isNative(own) ? own : null
  let found
  try {
    v8.setFlagsFromString('--harmony-rab-gsab-transfer')
    try {
      found = vm.runInNewContext('[ArrayBuffer.prototype.transfer, ArrayBuffer.prototype]')
    } finally {
      v8.setFlagsFromString('--no-harmony-rab-gsab-transfer')
    }
  } catch {
    return null
  }
  const [transfer, proto] = found
  if (!isNative(transfer)) return null
  for (const key of Reflect.ownKeys(proto)) delete proto[key]
  Object.setPrototypeOf(proto, ArrayBuffer.prototype)
  // The memory must move, not be copied.
  const probe = new ArrayBuffer(8)
  new Uint8Array(probe)[0] = 1
  const moved = transfer.call(probe)
  if (probe.byteLength !== 0 || new Uint8Array(moved)[0] !== 1) return null
  return transfer
}

const transfer = findTransfer()
const SPAN_CHUNKS = 4
const pool = [] // ArrayBuffers over whole chunks, ready for a scope
const spans = [] // ArrayBuffers over spans

/** Bytes of a span: SPAN_CHUNKS chunks. */
function spanSize () { return SPAN_CHUNKS * counters.chunkSize }

/**
 * An ArrayBuffer over a whole chunk; undefined when this runtime forbids
 * external buffers. Throws the native error (budget, OS).
 */
function takeChunk () {
  counters.chunkTakes++
  const ab = pool.pop()
  return ab !== undefined ? ab : lend(undefined)
}

/** The same over a span (spanSize() bytes). */
function takeSpan () {
  counters.chunkTakes++
  const ab = spans.pop()
  return ab !== undefined ? ab : lend(spanSize())
}

function lend (size) {
  const lent = withRoom(() => binding.chunkLend(size))
  // Moved at once, so that scopes only ever see ArrayBuffers of one shape.
  return transfer === null || lent === undefined ? lent : rearm(lent)
}

// A fresh ArrayBuffer over ab's memory; ab is detached.
function rearm (ab) {
  const fresh = transfer.call(ab)
  // As Node marks every external buffer: postMessage copies it instead of
  // moving this heap's memory to another thread.
  markAsUntransferable(fresh)
  return fresh
}

/**
 * Detaches ab (a chunk or span takeChunk or takeSpan gave) and keeps its
 * memory for reuse.
 */
function giveChunk (ab) {
  const len = ab.byteLength
  // Detached by its user (a transfer of their own): the memory comes back
  // through its finaliser once it has no ArrayBuffer left.
  if (len === 0) return
  const to = len === counters.chunkSize ? pool : len === spanSize() ? spans : null
  // Without a transfer, or of a size configure() has since changed.
  if (transfer === null || to === null) {
    binding.chunkRelease(ab)
    return
  }
  to.push(rearm(ab))
}

/** Hands every pooled chunk and span back to the native heap. Returns how many. */
function releaseChunks () {
  const n = pool.length + spans.length
  while (pool.length > 0) binding.chunkRelease(pool.pop())
  while (spans.length > 0) binding.chunkRelease(spans.pop())
  return n
}

// How scopes ran lately: up by one for each that used more than a chunk,
// down by one for each that did not, within -LARGE_MEMORY..LARGE_MEMORY.
const LARGE_MEMORY = 8
let largeScopes = -LARGE_MEMORY

/** True when most recent scopes used more than a chunk. */
function scopesRunLarge () { return largeScopes > 0 }

/** Counts a closing scope: large when it used more than a chunk. */
function noteScopeSize (large) {
  if (large) {
    if (largeScopes < LARGE_MEMORY) largeScopes++
  } else if (largeScopes > -LARGE_MEMORY) {
    largeScopes--
  }
}

/** Chunks and spans waiting in the pool: { chunks, spanBytes }. */
function pooled () {
  return { chunks: pool.length, spanBytes: spans.length * spanSize() }
}

// The native idle timer asks for JavaScript's activity, and when the loop
// has been idle, has the pool handed back before it trims the heap.
binding.setIdleHook((release) => {
  try {
    if (release) releaseChunks()
  } catch {}
  return counters.chunkTakes + counters.scopesOpened
})

/**
 * Runs fn; when the budget refuses it while chunks wait in the pool, hands
 * them back and runs fn once more.
 */
function withRoom (fn) {
  try {
    return fn()
  } catch (err) {
    if (err.code !== 'ERR_SAMM_LIMIT' || releaseChunks() === 0) throw err
    return fn()
  }
}

module.exports = {
  takeChunk,
  takeSpan,
  spanSize,
  giveChunk,
  releaseChunks,
  pooled,
  withRoom,
  scopesRunLarge,
  noteScopeSize,
  reusesChunks: transfer !== null
}
