'use strict'
// Counters kept in JavaScript, reported by stats() beside the native ones,
// and the options JavaScript itself acts on.

const binding = require('./binding')
const { limitError } = require('./errors')

const counters = {
  scopesOpen: 0,
  scopesOpened: 0,
  scopeAllocs: 0, // allocations of closed scopes
  chunkTakes: 0,
  outsideScope: 0, // short-class allocations made outside any scope (heap)
  externalRefused: 0, // heap fallbacks where external buffers are forbidden
  limitFallbacks: 0, // budget refusals served from the heap (onLimit: 'heap')
  movedBlocks: 0, // blocks whose ArrayBuffer someone else detached: back when that view is garbage
  onLimit: 'throw',
  chunkSize: 256 * 1024,
  warned: false,
  noteExternalRefused () {
    counters.externalRefused++
    if (!counters.warned) {
      counters.warned = true
      process.emitWarning('this runtime forbids external ArrayBuffers; SAMM serves every allocation from the V8 heap',
        { code: 'SAMM_NO_EXTERNAL_BUFFERS' })
    }
  }
}

// A V8 heap Buffer, for allocations SAMM does not serve itself.
function heapBuffer (size, zero) {
  return zero ? Buffer.alloc(size) : Buffer.allocUnsafe(size)
}

// After a native refusal: a heap Buffer when the budget refused and
// onLimit is 'heap', else the error is thrown; a budget refusal as one that
// says how much was asked and committed, and what to change (read from the
// heap's stats: this is the cold path). inScope: the memory was for a
// request scope (a chunk, a span, or a block of its own).
function limitFallback (err, size, zero, inScope = false) {
  if (err.code !== 'ERR_SAMM_LIMIT') throw err
  if (counters.onLimit !== 'heap') {
    const { committed, max_bytes: maxBytes } = JSON.parse(binding.statsJson())
    throw limitError(size, committed, maxBytes, inScope ? counters.chunkSize : undefined)
  }
  counters.limitFallbacks++
  return heapBuffer(size, zero)
}

module.exports = { counters, heapBuffer, limitFallback }
