'use strict'
// Counters kept in JavaScript, reported by stats() beside the native ones,
// and the options JavaScript itself acts on.

const binding = require('./binding')
const { limitError } = require('./errors')
const { channels, publishLimit, publishFallback } = require('./diagnostics')
const { collectedCovers } = require('./collected')

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
