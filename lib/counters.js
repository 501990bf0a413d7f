'use strict'
// Counters kept in JavaScript, reported by stats() beside the native ones,
// and the options JavaScript itself acts on.

const counters = {
  scopesOpen: 0,
  outsideScope: 0, // short-class allocations made outside any scope (heap)
  externalRefused: 0, // heap fallbacks where external buffers are forbidden
  limitFallbacks: 0, // budget refusals served from the heap (onLimit: 'heap')
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

module.exports = counters
