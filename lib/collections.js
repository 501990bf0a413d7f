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
// Looking up an object that is garbage but not yet collected, through a
// weak reference (a WeakRef's deref(), the binding's weakTarget), makes it
// reachable again for as long as the caller holds it (a WeakRef's deref():
// until the end of the current job, marking it if marking is under way), so
// a caller that looked at an object at time t may conclude only from a
// collection whose marking began after t.

const v8 = require('node:v8')
const vm = require('node:vm')
const { PerformanceObserver, constants } = require('node:perf_hooks')
const { weakRef, weakTarget } = require('./binding')

const MAJOR = constants.NODE_PERFORMANCE_GC_MAJOR
const MINOR = constants.NODE_PERFORMANCE_GC_MINOR
const INCREMENTAL = constants.NODE_PERFORMANCE_GC_INCREMENTAL

const subscribers = new Set() // of major collections
const everyCollection = new Set() // of young-generation and major collections
let observer = null
let marking = null // start of the incremental marking seen since the last major collection
let seenSince = false // a major collection or a marking start was seen since connecting

function onEntries (list) {
  for (const entry of list.getEntries()) {
    const kind = entry.detail ? entry.detail.kind : entry.kind
    if (kind === MINOR) {
      // A young-generation collection is one pause: it marks from its start.
      const end = entry.startTime + entry.duration
      for (const fn of everyCollection) fn(entry.startTime, end, false)
    } else if (kind === INCREMENTAL) {
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
      for (const fn of everyCollection) fn(markStart, end, true)
    }
  }
}

/**
 * Calls fn(markStart, end) after each major collection, until the returned
 * function is called.
 */
function onMajor (fn) {
  return subscribe(subscribers, fn)
}

/**
 * Calls fn(markStart, end, major) after each collection, young-generation
 * ones included (their markStart is their start, major false), until the
 * returned function is called. What a young-generation collection leaves
 * is not proven reachable: it keeps what old objects, garbage or not, point
 * at, and never looks at objects already promoted.
 */
function onCollection (fn) {
  return subscribe(everyCollection, fn)
}

function subscribe (set, fn) {
  set.add(fn)
  if (observer === null) {
    observer = new PerformanceObserver(onEntries)
    marking = null
    seenSince = false
    observer.observe({ entryTypes: ['gc'] })
  }
  return () => {
    set.delete(fn)
    if (subscribers.size === 0 && everyCollection.size === 0 && observer !== null) {
      observer.disconnect()
      observer = null
    }
  }
}

// Collections seen: a weak reference to an object nothing else holds, which
// any collection empties, young-generation ones included; when it is found
// empty, the count goes up and a new one is made.
let canary = null
let seen = 0

/**
 * How many collections have run, as far as can be told now: at least one
 * ran between two calls that return different counts, and none between
 * two that return the same, unless no call came between two of them (the
 * count then goes up by one for several).
 */
function collectionsSeen () {
  if (canary === null) {
    canary = weakRef({})
  } else if (weakTarget(canary) === undefined) {
    seen++
    canary = weakRef({})
  }
  return seen
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

/** Runs a young-generation collection now. */
function youngCollection () {
  if (gc === null) gc = engineGc()
  gc({ type: 'minor' })
}

module.exports = { onMajor, onCollection, fullCollection, youngCollection, collectionsSeen }
