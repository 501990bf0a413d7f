'use strict'
// Whole request chunks lent by the native heap, kept across scopes. A scope
// takes a chunk and bumps views in it; at its close the chunk is recycled
// (binding.recycle): the ArrayBuffer the scope used is detached - every view
// it handed out then reads as length 0 - and a fresh one over the same
// memory waits in the binding's pool for the next scope.
//
// A scope that outgrows its first chunk takes spans: blocks of SPAN_CHUNKS
// chunks, pooled the same way, so that a large scope pays one re-wrap per
// span instead of one per chunk. Where most recent scopes were that large,
// new scopes start in a span. An allocation larger than a span is a block
// of its own, lent for that scope only and given back at its close.
//
// Each of these is a loan, which the binding names by a token (left in
// binding.mailbox by take()): its id and its wrap's generation, so that the
// token of a loan that ended early never names a later loan of the record.
// A loan whose ArrayBuffer someone else detached (a BYOB read,
// ab.transfer()) is not reused: its memory comes back through its finaliser
// once the moved view is gone (src/binding.c).
//
// Why a re-wrap through Node-API and not ArrayBuffer.prototype.transfer: the
// ArrayBuffer transfer() makes is not marked untransferable, so postMessage
// could move scope memory to another thread, and from Node 24 on marking it
// (worker_threads.markAsUntransferable) sets a detach key that nothing but
// Node itself can detach with. The ArrayBuffers Node-API wraps are marked
// by Node, and SAMM can detach them on every Node line.

const binding = require('./binding')
const { counters } = require('./counters')

const SPAN_CHUNKS = 4 // src/binding.c agrees
const mailbox = binding.mailbox // [take()'s loan id, pooled chunks, pooled span bytes]

/** Bytes of a span: SPAN_CHUNKS chunks. */
function spanSize () { return SPAN_CHUNKS * counters.chunkSize }

/**
 * An ArrayBuffer over a whole chunk (size 0), a span (spanSize()) or a
 * block of its own (larger; zero: reading as zeros); its loan id is
 * lastId() until the next take. undefined when this runtime forbids
 * external buffers. Throws the native error (budget, OS).
 */
function take (size, zero = false) {
  counters.chunkTakes++
  return withRoom(() => binding.take(size, zero))
}

/** The loan id of the ArrayBuffer the last take() returned. */
function lastId () { return mailbox[0] }

/**
 * Gives a loan back at its scope's close: a chunk or span goes back to the
 * pool behind a fresh ArrayBuffer, a block back to the heap. Never throws.
 */
function giveBack (id, large) {
  try {
    if (!(large ? binding.release(id) : binding.recycle(id))) counters.movedBlocks++
  } catch {
    // Nothing throws from a close: a loan the binding could not take back
    // (the environment shutting down) comes back through its finaliser.
  }
}

/** Hands every pooled chunk and span back to the native heap. Returns how many. */
function releaseChunks () {
  return binding.releasePool()
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
  return { chunks: mailbox[1], spanBytes: mailbox[2] }
}

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
  take,
  lastId,
  spanSize,
  giveBack,
  releaseChunks,
  pooled,
  withRoom,
  scopesRunLarge,
  noteScopeSize
}
