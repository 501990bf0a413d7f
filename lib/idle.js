'use strict'
// The idle trim: a repeating, unref'd timer that, once a whole period
// (idleTrimMs) passed without allocation activity, hands JavaScript's chunk
// pool back and has the heap return idle memory to the OS. It is a
// JavaScript timer so that nothing native is left to run once the
// environment (a worker, say) tears down.

const binding = require('./binding')
const { counters } = require('./counters')
const { releaseChunks } = require('./chunks')
const { outsideScopes } = require('./storage')

let timer = null
let last = -1

function activity () {
  return binding.activity() + counters.chunkTakes + counters.scopesOpened
}

function tick () {
  const now = activity()
  if (now === last) {
    releaseChunks()
    binding.collect()
  }
  last = now
}

/** (Re)starts the timer with a period of ms; 0 stops it. */
function startIdleTrim (ms) {
  if (timer !== null) clearInterval(timer)
  timer = null
  if (ms > 0) {
    timer = outsideScopes(() => setInterval(tick, ms))
    timer.unref()
  }
}

module.exports = { startIdleTrim }
