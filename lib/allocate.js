'use strict'
// One allocation at a site: the site's class for this size picks the arena.
// samm.alloc() passes the running request's scope, if any; a scope's own
// alloc(size, site) passes that scope.

const binding = require('./binding')
const { fromNative } = require('./errors')
const { checkSize } = require('./validate')
const { counters, heapBuffer, limitFallback } = require('./counters')
const { withRoom } = require('./chunks')
const { resolveSite, HEAP, SHORT, CLASS_NAMES } = require('./site')
const { tracer } = require('./trace')
const { channels, publishFallback } = require('./diagnostics')
const { watch } = require('./escape')

/**
 * A Buffer of size bytes for the site where names, zero-filled if zero.
 * scope: an open Scope for short-class memory, or undefined (the V8 heap
 * then serves short-class allocations, counted as outside any scope).
 */
function allocate (size, where, zero, scope) {
  checkSize('size', size)
  const s = resolveSite(where)
  const cls = s.classOf(size)
  s.allocs++
  s.bytes += size
  if (tracer !== null && tracer.take()) return tracer.alloc(size, s.name, scope, zero)
  if (cls === SHORT) {
    if (scope !== undefined) {
      const buf = zero ? scope.alloc(size) : scope.allocUnsafe(size)
      // The escape watch's countdown: most short allocations pay this only.
      if (--s._watchIn === 0) watch(s, buf)
      return buf
    }
    counters.outsideScope++
    s.heapFallbacks++
    if (channels.fallback.hasSubscribers) publishFallback('outsideScope', size, 'short', s.name)
  } else if (cls !== HEAP) {
    let buf
    try {
      buf = withRoom(() => binding.alloc(cls, size, zero))
    } catch (err) {
      const fallback = limitFallback(fromNative(err), size, zero, false, CLASS_NAMES[cls], s.name, scope !== undefined && scope.admitted)
      s.heapFallbacks++
      return fallback
    }
    if (buf !== undefined) return buf
    counters.noteExternalRefused(size, CLASS_NAMES[cls], s.name)
    s.heapFallbacks++
  }
  return heapBuffer(size, zero)
}

module.exports = { allocate }
