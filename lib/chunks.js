'use strict'
// Whole request chunks lent by the native heap, kept across scopes. A scope
// takes a chunk and bumps views in it; at its close the chunk is recycled
// (below): the ArrayBuffer the scope used is detached - every view it
// handed out then reads as length 0 - and a fresh one over the same memory
// waits in a pool for the next scope.
//
// A scope that outgrows its first chunk takes spans: blocks of SPAN_CHUNKS
// chunks, pooled the same way, so that a large scope pays one recycle per
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
// How a chunk or span is recycled: ArrayBuffer.prototype.transfer (on Node
// 20 too: findTransfer) moves the memory to a fresh ArrayBuffer, which
// detaches the scope's. In the main thread the binding then parks the loan
// (binding.park) and the fresh ArrayBuffer waits in this file's pool until
// a scope takes it (binding.unpark). A new external ArrayBuffer per close
// made through Node-API (binding.recycle, which pools it in the binding)
// cost the heavy shape of bench/run.js about a tenth of its throughput,
// most of it in the collector's work, and so did a Node-API reference per
// close to the fresh ArrayBuffer. Workers pay that still (see `parks`).
//
// Node marks the external ArrayBuffers Node-API makes untransferable, so
// postMessage copies or refuses them. The fresh ones are marked too where
// the mark still lets transfer() detach them (Node 20-23); from Node 24 on
// the mark sets a detach key that nothing but Node can use, so they stay
// unmarked (and the main thread shows every scope ArrayBuffer through one
// transfer() made: moveAtTake): a caller that posts a scope view's
// ArrayBuffer in a transfer list moves it, as a BYOB read does, and every
// view over it then reads as length 0. The memory is safe either way: a
// loan found detached by someone else is never reused.

const v8 = require('node:v8')
const vm = require('node:vm')
const { isMainThread, markAsUntransferable } = require('node:worker_threads')
const binding = require('./binding')
const { counters } = require('./counters')

function isNative (fn) {
  return typeof fn === 'function' && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn))
}

// ArrayBuffer.prototype.transfer, taken at load so that a later patch of the
// prototype changes nothing here; null when there is no native one. Node 20's
// V8 has it behind --harmony-rab-gsab-transfer, a flag read when a context is
// created: it is set just long enough to create a private context and take
// the builtin from there. The ArrayBuffers that builtin makes have that
// context's prototype, which is emptied and chained to this one, so they
// behave as this realm's (instanceof ArrayBuffer, constructor, slice).
function findTransfer () {
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
  const [builtin, proto] = found
  if (!isNative(builtin)) return null
  for (const key of Reflect.ownKeys(proto)) delete proto[key]
  Object.setPrototypeOf(proto, ArrayBuffer.prototype)
  // The memory must move, not be copied.
  const probe = new ArrayBuffer(8)
  new Uint8Array(probe)[0] = 1
  const moved = builtin.call(probe)
  if (probe.byteLength !== 0 || new Uint8Array(moved)[0] !== 1) return null
  return builtin
}

// The main thread takes the builtin on Node 20 too; a worker only a native
// one (V8 flags are process-wide, and a worker leaves them alone).
const transfer = isMainThread ? findTransfer() : isNative(ArrayBuffer.prototype.transfer) ? ArrayBuffer.prototype.transfer : null

// Whether closes park loans here. Only in the main thread: a worker's
// environment can end while its process goes on, and then the binding must
// see which shown loans are intact to unmap them (src/binding.c, teardown),
// so a worker's closes hand transfer()'s ArrayBuffer to binding.recycle,
// which detaches it and pools a new wrap.
const parks = isMainThread && transfer !== null

// Whether a marked ArrayBuffer can still be moved by transfer().
const markKeepsTransfer = transfer !== null && (() => {
  const probe = new ArrayBuffer(8)
  markAsUntransferable(probe)
  try {
    transfer.call(probe)
    return true
  } catch {
    return false
  }
})()

// Where the mark would stop transfer() (Node 24 on), the main thread shows
// every scope ArrayBuffer through one transfer() made, its first included,
// so that a postMessage treats them all alike.
const moveAtTake = parks && !markKeepsTransfer

// Whether a caller can give an ArrayBuffer a detach key on this line (the
// mark does from Node 24 on): nothing else detaches it then, and Node-API's
// detach aborts the process on it. Where it can, SAMM moves memory with
// transfer() before it detaches anything, and finds the key that way.
const detachKeys = transfer !== null && !markKeepsTransfer

const byteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get

const SPAN_CHUNKS = 4 // src/binding.c agrees
const mailbox = binding.mailbox // [take()'s loan id, pooled chunks, pooled span bytes]

// Parked chunks and spans (transfer() only), as [loan id, ArrayBuffer, ...];
// the most recently used is taken first.
const parkedChunks = []
const parkedSpans = []
let lastToken = -1

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
  const parked = !parks ? null : size <= counters.chunkSize ? parkedChunks : size === spanSize() ? parkedSpans : null
  if (parked !== null && parked.length > 0) {
    const ab = parked.pop()
    lastToken = parked.pop()
    binding.unpark(lastToken)
    return ab
  }
  const ab = withRoom(() => binding.take(size, zero))
  lastToken = mailbox[0]
  if (!moveAtTake || ab === undefined) return ab
  const moved = transfer.call(ab)
  binding.disown(lastToken, moved)
  return moved
}

/** The loan id of the ArrayBuffer the last take() returned. */
function lastId () { return lastToken }

/**
 * Gives a loan back at its scope's close, ab being the ArrayBuffer take()
 * returned for it: a chunk or span goes back to the pool behind a fresh
 * ArrayBuffer, a block back to the heap. Never throws.
 */
function giveBack (id, ab, large) {
  try {
    if (!(large ? release(id, ab) : recycle(id, ab))) counters.movedBlocks++
  } catch {
    // Nothing throws from a close: a loan the binding could not take back
    // (the environment shutting down) comes back through its finaliser.
  }
}

// ab's memory moved to a fresh ArrayBuffer, ab detached; null when ab could
// not be: detached by someone else already, or given a detach key by a
// caller's markAsUntransferable (Node 24 on), which nothing but Node can
// detach with. The binding marks the first moved; the second is left to its
// finaliser (abandon()): its views stay readable, and its memory is not
// reused until they are gone.
function moveOut (ab) {
  try {
    return transfer.call(ab)
  } catch {
    return null
  }
}

// ab could not be moved out (moveOut): handed to plain, which marks the
// loan moved, when someone moved it already; abandoned when it has a key.
function unmovable (id, ab, plain) {
  return byteLength.call(ab) === 0 ? plain(id) : binding.abandon(id)
}

function recycle (id, ab) {
  if (!parks && !detachKeys) return binding.recycle(id)
  const fresh = moveOut(ab)
  if (fresh === null) return unmovable(id, ab, binding.recycle)
  if (!parks) return binding.recycle(id, fresh)
  const kind = binding.park(id, fresh)
  if (kind !== 0) {
    if (markKeepsTransfer) markAsUntransferable(fresh)
    if (kind === 1) parkedChunks.push(id, fresh)
    else parkedSpans.push(id, fresh)
  }
  return true
}

function release (id, ab) {
  if (!detachKeys) return binding.release(id)
  const fresh = moveOut(ab)
  if (fresh === null) return unmovable(id, ab, binding.release)
  return binding.release(id, fresh)
}

/** Hands every pooled chunk and span back to the native heap. Returns how many. */
function releaseChunks () {
  let n = binding.releasePool()
  for (const parked of [parkedChunks, parkedSpans]) {
    while (parked.length > 0) {
      const ab = parked.pop()
      binding.drop(parked.pop(), ab)
      n++
    }
  }
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
  return {
    chunks: mailbox[1] + parkedChunks.length / 2,
    spanBytes: mailbox[2] + parkedSpans.length / 2 * spanSize()
  }
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
  byteLength,
  detachKeys,
  moveOut,
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
