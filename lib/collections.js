'use strict'
// The service's own major (mark-compact) collections, as node:perf_hooks
// reports them, and a way to run one now. Shared by the escape watch
// (lib/escape.js) and the sampled profiler (lib/trace.js).
//
// What a major collection proves: an object still there after it was
// reachable when the collection's marking began. Marking is incremental
// (V8 marks in steps over tens of milliseconds before the final pause), and
// an object marked in an early step stays for that cycle even if it became
// garbage afterwards, so "still there after a major collection" only says
// something about the moment its marking began. perf_hooks reports the
// start of incremental marking as a 'gc' entry of kind INCREMENTAL before
// the MAJOR one; without it, marking began at the pause. Subscribers get
// (markStart, end) in performance.now() milliseconds.
//
// WeakRef.prototype.deref() of an object that is garbage but not yet
// collected makes it reachable again until the end of the current job (and
// marks it if marking is under way), so a caller that looked at an object
// at time t may conclude only from a collection whose marking began after t.

const v8 = require('node:v8')
const vm = require('node:vm')
const { PerformanceObserver, constants } = require('node:perf_hooks')

const MAJOR = constants.NODE_PERFORMANCE_GC_MAJOR
const INCREMENTAL = constants.NODE_PERFORMANCE_GC_INCREMENTAL

const subscribers = new Set()
let observer = null
let marking = null // start of the incremental marking seen since the last major collection
let seenSince = false // a major collection or a marking start was seen since connecting

function onEntries (list) {
  for (const entry of list.getEntries()) {
    const kind = entry.detail ? entry.detail.kind : entry.kind
    if (kind === INCREMENTAL) {
      if (marking === null) marking = entry.startTime
      seenSince = true
    } else if (kind === MAJOR) {
      // The first major collection after connecting may have begun marking
      // before anyone watched: it proves nothing.
      const markStart = marking !== null ? marking : seenSince ? entry.startTime : -Infinity
      marking = null
      seenSince = true
      const end = entry.startTime + entry.duration
      for (const fn of subscribers) fn(markStart, end)
    }
  }
}

/**
 * Calls fn(markStart, end) after each major collection, until the returned
 * function is called.
 */
function onMajor (fn) {
  subscribers.add(fn)
  if (observer === null) {
    observer = new PerformanceObserver(onEntries)
    marking = null
    seenSince = false
    observer.observe({ entryTypes: ['gc'] })
  }
  return () => {
    subscribers.delete(fn)
    if (subscribers.size === 0 && observer !== null) {
      observer.disconnect()
      observer = null
    }
  }
}

let gc = null

// The engine's gc(), taken from a private context created while
// --expose-gc is set (the service's own contexts do not get it), unless
// the service runs with --expose-gc already.
function engineGc () {
  if (typeof globalThis.gc === 'function') return globalThis.gc
  v8.setFlagsFromString('--expose-gc')
  try {
    return vm.runInNewContext('gc')
  } finally {
    v8.setFlagsFromString('--no-expose-gc')
  }
}

/** Runs a full collection now. */
function fullCollection () {
  if (gc === null) gc = engineGc()
  gc()
}

module.exports = { onMajor, fullCollection }
