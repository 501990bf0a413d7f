'use strict'
// Counters kept in JavaScript, reported by stats() beside the native ones,
// and the options JavaScript itself acts on.

const binding = require('./binding')
const { limitError } = require('./errors')
const { channels, publishLimit, publishFallback } = require('./diagnostics')
const { fullCollection } = require('./collections')

// A scope open at least this long is reported on samm:scope:long.
const LONG_SCOPE_MS = 1000
const LONG_SCOPE_MS_MAX = 86400000

const counters = {
  scopesOpen: 0,
  scopesOpened: 0,
  scopeAllocs: 0, // allocations of closed scopes
  chunkTakes: 0,
  outsideScope: 0, // short-class allocations made outside any scope (heap)
  externalRefused: 0, // heap fallbacks where external buffers are forbidden
  limitFallbacks: 0, // budget refusals served from the heap (onLimit: 'heap')
  collectedFallbacks: 0, // budget refusals served from the heap while collected buffers held the budget
  movedBlocks: 0, // blocks whose ArrayBuffer someone else detached: back when that view is garbage
  onLimit: 'throw',
  longScopeMs: longScopeFromEnv(),
  disabled: false, // the kill switch: SAMM_DISABLE=1 or configure({ disabled: true })
  chunkSize: 256 * 1024,
  warned: false,
  // An allocation of size bytes (class cls, at site: a name or null) served
  // by the V8 heap because this runtime forbids external buffers.
  noteExternalRefused (size, cls = 'short', site = null) {
    counters.externalRefused++
    if (!counters.warned) {
      counters.warned = true
      process.emitWarning('this runtime forbids external ArrayBuffers; SAMM serves every allocation from the V8 heap',
        { code: 'SAMM_NO_EXTERNAL_BUFFERS' })
    }
    if (channels.fallback.hasSubscribers) publishFallback('externalRefused', size, cls, site)
  }
}

function longScopeFromEnv () {
  const v = process.env.SAMM_LONG_SCOPE_MS
  if (v === undefined || v === '') return LONG_SCOPE_MS
  if (/^[0-9]+$/.test(v) && Number(v) <= LONG_SCOPE_MS_MAX) return Number(v)
  process.emitWarning('SAMM_LONG_SCOPE_MS is not a valid value and was ignored', { code: 'SAMM_BAD_ENV' })
  return LONG_SCOPE_MS
}

// A V8 heap Buffer, for allocations SAMM does not serve itself.
function heapBuffer (size, zero) {
  return zero ? Buffer.alloc(size) : Buffer.allocUnsafe(size)
}

// Forced collections for refusals: at most one per this many milliseconds,
// so that a budget full of live memory costs a refusal, not a collection
// each time; and walks of the loans, at most one per WALK_SPACING_MS while
// the last one found too little.
const COLLECT_SPACING_MS = 1000
const WALK_SPACING_MS = 50
let lastCollection = -Infinity
let lastShortWalk = -Infinity
let servedSinceCollection = 0 // bytes the heap served for collected memory since the last forced collection
// Node's ArrayBuffer memory (process.memoryUsage().arrayBuffers) when the
// heap first stood in for the collected memory counted now (servedFor
// bytes), or null: what it has grown by since is what the heap still holds
// of it. Once finalisers have run (fewer bytes collected), it starts again.
let servedBase = null
let servedFor = 0

function arrayBufferBytes () { return process.memoryUsage().arrayBuffers }

// True when buffers the collector has already taken hold the room for size
// more bytes: their finalisers give the memory back on a later turn of the
// event loop (Node runs them between turns), so a loop that drops buffers
// and allocates without yielding would otherwise meet a budget full of
// garbage. The heap may stand in for that garbage, never for more: what it
// served for it and still holds (Node's ArrayBuffer memory grown
// since, which the collector brings down as those buffers die too) plus
// size must fit in the collected bytes. Runs a full collection first when
// that is not enough.
function collectedCovers (size) {
  const now = performance.now()
  const fits = () => {
    const collected = binding.collectedBytes(size)
    if (collected < servedFor) servedBase = null
    servedFor = collected
    if (collected < size) return false
    const held = servedBase === null ? 0 : Math.max(0, arrayBufferBytes() - servedBase)
    return held + size <= collected
  }
  if (now - lastShortWalk >= WALK_SPACING_MS && fits()) return served(size)
  // A collection also brings down what the heap served and dropped since:
  // in a loop that never yields, one per half of the collected bytes served.
  if (now - lastCollection >= COLLECT_SPACING_MS || (servedSinceCollection > 0 && 2 * servedSinceCollection >= servedFor)) {
    lastCollection = now
    servedSinceCollection = 0
    // Two: V8 may sweep the ArrayBuffers a collection found dead in the
    // background, after it returns; the next collection finishes that first.
    fullCollection()
    fullCollection()
    if (fits()) return served(size)
  }
  lastShortWalk = now
  return false
}

// Notes that the heap serves size bytes for collected memory.
function served (size) {
  servedSinceCollection += size
  if (servedBase === null) servedBase = arrayBufferBytes()
  return true
}

// After a native refusal: a heap Buffer when the budget refused and
// onLimit is 'heap' (or spill: the allocation is for a request admission
// let in, lib/admission.js) or when garbage the collector found holds the
// room asked for (collectedCovers), else the error is thrown; a budget
// refusal as one that says how much was asked and committed, and what to
// change (read from the heap's stats: this is the cold path). inScope: the
// memory was for a request scope (a chunk, a span, or a block of its own).
// cls and site (a name, or null) describe the allocation for samm:limit and
// samm:fallback.
function limitFallback (err, size, zero, inScope = false, cls = 'short', site = null, spill = false) {
  if (err.code !== 'ERR_SAMM_LIMIT') throw err
  const kind = counters.onLimit === 'heap' || spill ? 'limit' : collectedCovers(size) ? 'collected' : null
  let thrown = null
  if (kind === null || channels.limit.hasSubscribers) {
    const { committed, max_bytes: maxBytes } = JSON.parse(binding.statsJson())
    if (kind === null) thrown = limitError(size, committed, maxBytes, inScope ? counters.chunkSize : undefined)
    if (channels.limit.hasSubscribers) publishLimit(thrown || err, size, cls, site, kind === null ? 'throw' : 'heap', { maxBytes, committed })
  }
  if (thrown !== null) throw thrown
  if (kind === 'limit') counters.limitFallbacks++
  else counters.collectedFallbacks++
  if (channels.fallback.hasSubscribers) publishFallback(kind, size, cls, site)
  return heapBuffer(size, zero)
}

module.exports = { counters, heapBuffer, limitFallback, LONG_SCOPE_MS_MAX }
