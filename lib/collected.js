'use strict'
// The V8 heap standing in for memory the collector has already taken. Node
// runs the finalisers of external ArrayBuffers only between turns of the
// event loop, so a loop that drops SAMM buffers and allocates without
// yielding meets a budget full of garbage; on a budget refusal
// (lib/counters.js, limitFallback) the heap may serve the allocation when
// such garbage covers it, and never for more.

const binding = require('./binding')
const { fullCollection } = require('./collections')

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

module.exports = { collectedCovers }
