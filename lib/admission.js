'use strict'
// Admission under the budget. With `admit` options, the integrations start
// a request only while memory allows; otherwise it waits, in arrival order,
// until scopes close and bring memory under the high-water mark, or gets a
// 503 with Retry-After when it waited timeoutMs or found the queue full.
//
// What "memory allows" means: the bytes SAMM holds (committed minus what its
// caches keep for reuse: samm_heap_held, less the chunks and spans waiting in
// JavaScript's pool), plus what the requests admitted and still open are
// expected to take yet, plus one more request, stay under highWater x
// maxBytes. A request is expected to take `estimate` bytes at its peak: the
// running mean of what closed requests held, learned as scopes close
// (before any closed, maxBytes / 16); one that holds that much already is
// expected to take no more. The room between the high-water mark and the
// budget absorbs requests larger than the mean; where requests vary, the
// sum also stays SPREAD standard deviations of it (the spread of one
// request x the square root of their number) under the budget itself, so
// that a few large requests at once do not meet it. Under a process limit
// (configure({ processLimit })), the rest of the process counts too: the
// resident set sampled every SAMPLE_MS, less what SAMM had committed when
// it was read.
//
// The estimate can be exceeded: a request admitted that meets the budget
// anyway gets V8 heap memory instead of ERR_SAMM_LIMIT (counted in
// stats().limitFallbacks), so a handler never sees the budget error.
//
// One queue serves every integration: memory is shared, so arrival order is
// kept across them. Each gate applies its own queue length and timeout.

const { AsyncResource } = require('node:async_hooks')
const binding = require('./binding')
const { invalidArg } = require('./errors')
const { counters } = require('./counters')
const { pooled } = require('./chunks')
const { outsideScopes } = require('./storage')

const SAMPLE_MS = 50 // how often the process's resident set is read under a process limit
const POLL_MS = 10 // while requests wait: how often memory freed otherwise than by a scope is noticed
const LEARN = 1 / 16 // weight of each closed request in the running estimate
const SPREAD = 2 // standard deviations of the open requests' sum kept under the limit

const memory = new Float64Array(3) // binding.memory(): held, committed, maxBytes

const state = {
  queue: [], // waiting entries, oldest first; entries that left are null
  head: 0, // index of the oldest entry that may still wait
  base: 0, // arrivals dropped from the queue's front: an entry's place is its seq - base
  waiting: 0,
  queued: 0, // requests that had to wait
  admitted: 0,
  rejected: 0,
  timedOut: 0,
  abandoned: 0,
  open: new Set(), // scopes of admitted requests not yet released
  mean: 0, // bytes a request held at its peak, running mean
  variance: 0, // and the running variance about it
  learned: 0, // requests the estimate has seen
  poll: null,
  processLimit: 0,
  processRss: 0, // resident set at the last sample
  processSamm: 0, // SAMM's committed bytes at that sample
  sampler: null
}

/** Bytes SAMM holds for requests and blocks in use: its caches left out. */
function held () {
  binding.memory(memory)
  const js = pooled()
  return memory[0] - js.chunks * counters.chunkSize - js.spanBytes
}

function estimate () {
  return state.learned === 0 ? memory[2] / 16 : state.mean
}

// The bytes admitted requests are expected to take yet.
function reserved (est) {
  let sum = 0
  for (const scope of state.open) {
    const h = scope.heldBytes
    if (h < est) sum += est - h
  }
  return sum
}

// Whether need bytes of SAMM's, with other bytes of the rest of the
// process, fit each limit: under its high-water mark, and under the limit
// itself with margin to spare.
function within (need, other, margin, highWater) {
  const max = memory[2]
  if (need > highWater * max || need + margin > max) return false
  if (state.processLimit === 0) return true
  return other + need <= highWater * state.processLimit && other + need + margin <= state.processLimit
}

// Whether one more request fits under the high-water mark of each limit.
function fits (highWater) {
  const now = held()
  const est = estimate()
  const margin = SPREAD * Math.sqrt(state.variance * (state.open.size + 1))
  const other = state.processLimit > 0 ? Math.max(0, state.processRss - state.processSamm) : 0
  // A bound first (every open request yet to take all of est); the exact
  // sum visits every open request.
  if (within(now + state.open.size * est + est, other, margin, highWater)) return true
  return within(now + reserved(est) + est, other, margin, highWater)
}

// A closed request teaches the estimate what a request holds.
function learn (bytes) {
  if (state.learned === 0) {
    state.mean = bytes
  } else {
    const d = bytes - state.mean
    state.mean += LEARN * d
    state.variance = (1 - LEARN) * (state.variance + LEARN * d * d)
  }
  state.learned++
}

// What an admitted scope calls when its memory is released.
const tracker = {
  released (scope) {
    state.open.delete(scope)
    learn(scope.heldBytes)
    if (state.waiting > 0) pump()
  }
}

// Admits waiting requests from the oldest while memory allows.
function pump () {
  const q = state.queue
  while (state.head < q.length) {
    const entry = q[state.head]
    if (entry === null) {
      state.head++
      continue
    }
    if (entry.res.destroyed) { // gone, its 'close' not yet emitted
      leave(entry)
      state.abandoned++
      continue
    }
    if (!fits(entry.gate.highWater)) break
    leave(entry)
    try {
      entry.start()
    } catch (err) {
      // As if thrown where the request arrived: the others still go on.
      process.nextTick(() => { throw err })
    }
  }
  // (An empty queue was dropped whole by the last leave().)
  if (state.head > 1024 && state.head * 2 > q.length) dropFront(state.head)
  if (state.waiting === 0 && state.poll !== null) {
    clearInterval(state.poll)
    state.poll = null
  }
}

// Drops the queue's first n entries (all of them left).
function dropFront (n) {
  state.queue.splice(0, n)
  state.base += n
  state.head = Math.max(0, state.head - n)
}

// entry no longer waits (admitted, timed out or gone): its place in the
// queue is emptied, wherever compaction has moved it, and nothing there
// holds its request any more.
function leave (entry) {
  state.waiting--
  entry.gate.waiting--
  clearTimeout(entry.timer)
  entry.res.removeListener('close', entry.onClose)
  const at = entry.seq - state.base
  if (at >= 0 && state.queue[at] === entry) state.queue[at] = null
  if (state.waiting === 0) dropFront(state.queue.length)
}

const BUSY = 'Service Unavailable: memory is busy, retry later\n'

// The 503 on a node:http response (Express's too).
function refuseRaw (res) {
  return (retryAfter, body) => {
    if (res.headersSent || res.destroyed) return
    res.statusCode = 503
    res.setHeader('Retry-After', String(retryAfter))
    res.setHeader('Content-Type', 'text/plain; charset=utf-8')
    res.end(body)
  }
}

function sampleProcess () {
  state.processRss = process.memoryUsage.rss()
  binding.memory(memory)
  state.processSamm = memory[1]
}

/**
 * Sets the process limit (bytes; 0: none): admission then also counts the
 * rest of the process's resident memory.
 */
function setProcessLimit (bytes) {
  state.processLimit = bytes
  if (state.sampler !== null) clearInterval(state.sampler)
  state.sampler = null
  if (bytes > 0) {
    sampleProcess()
    state.sampler = outsideScopes(() => setInterval(sampleProcess, SAMPLE_MS))
    state.sampler.unref()
  }
}

function processLimit () { return state.processLimit }

// SAMM_PROCESS_LIMIT: bytes with an optional k, m or g suffix.
{
  const env = process.env.SAMM_PROCESS_LIMIT
  if (env !== undefined && env !== '') {
    const m = /^(\d+)([kmg]?)$/i.exec(env)
    const bytes = m ? Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase()) : NaN
    if (Number.isSafeInteger(bytes)) setProcessLimit(bytes)
    else process.emitWarning(`SAMM_PROCESS_LIMIT is not a valid value and was ignored: ${env}`, { code: 'SAMM_BAD_ENV' })
  }
}

const DEFAULTS = { queue: 1000, timeoutMs: 5000, highWater: 0.8, retryAfter: 1 }

function checkInteger (name, v, min) {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidArg(`admit.${name}`, 'an integer', v)
  if (v < min || v > 2 ** 31) {
    const err = new RangeError(`admit.${name} must be from ${min} to ${2 ** 31}, got ${v}`)
    err.code = 'ERR_SAMM_INVALID_ARG'
    throw err
  }
}

/**
 * A gate for one integration, from its `admit` option (undefined or false:
 * none; true: the defaults; or { queue, timeoutMs, highWater, retryAfter }).
 * gate.admit(res, start) calls start() now or once memory allows, or answers
 * 503 itself.
 */
function gate (admit) {
  if (admit === undefined || admit === false) return null
  if (admit === true) admit = {}
  if (admit === null || typeof admit !== 'object') throw invalidArg('admit', 'an object or a boolean', admit)
  for (const key of Object.keys(admit)) {
    if (!(key in DEFAULTS)) throw invalidArg('admit', `an object with keys among ${Object.keys(DEFAULTS).join(', ')}`, key)
  }
  const o = { ...DEFAULTS, ...admit }
  checkInteger('queue', o.queue, 0)
  checkInteger('timeoutMs', o.timeoutMs, 0)
  checkInteger('retryAfter', o.retryAfter, 0)
  if (typeof o.highWater !== 'number' || !(o.highWater > 0 && o.highWater <= 1)) {
    const err = new RangeError(`admit.highWater must be a share of the limit above 0 and at most 1, got ${o.highWater}`)
    err.code = 'ERR_SAMM_INVALID_ARG'
    throw err
  }
  return new Gate(o)
}

class Gate {
  constructor (o) {
    this.queue = o.queue
    this.timeoutMs = o.timeoutMs
    this.highWater = o.highWater
    this.retryAfter = o.retryAfter
    this.waiting = 0
  }

  /**
   * Runs start() when memory allows - now if nothing waits and it fits -
   * or refuse(retryAfter, body) when the request waited timeoutMs or the
   * queue is full (default: a 503 on res, the node:http response, whose
   * 'close' also tells a request that went away). start() must open the
   * request's scope and hand it to admitted().
   */
  admit (res, start, refuse = refuseRaw(res)) {
    if (state.waiting === 0 && fits(this.highWater)) return start()
    if (this.waiting >= this.queue) {
      state.rejected++
      return refuse(this.retryAfter, BUSY)
    }
    // Later, from another request's close: in this request's async context.
    const entry = { gate: this, res, start: AsyncResource.bind(start), timer: null, onClose: null, seq: state.base + state.queue.length }
    const refuseLater = AsyncResource.bind(refuse)
    entry.onClose = () => {
      leave(entry)
      state.abandoned++
    }
    entry.timer = setTimeout(() => {
      leave(entry)
      state.timedOut++
      refuseLater(this.retryAfter, BUSY)
    }, this.timeoutMs)
    res.once('close', entry.onClose)
    state.queue.push(entry)
    state.queued++
    state.waiting++
    this.waiting++
    if (state.poll === null) state.poll = outsideScopes(() => setInterval(pump, POLL_MS))
  }

  /** The scope opened for an admitted request: tracked until it is released. */
  admitted (scope) {
    state.open.add(scope)
    state.admitted++
    scope.admittedBy(tracker)
  }
}

/** The queue for stats(). */
function stats () {
  binding.memory(memory)
  return {
    waiting: state.waiting,
    queued: state.queued,
    admitted: state.admitted,
    rejected: state.rejected,
    timedOut: state.timedOut,
    abandoned: state.abandoned,
    inFlight: state.open.size,
    estimateBytes: Math.round(estimate()),
    spreadBytes: Math.round(Math.sqrt(state.variance))
  }
}

module.exports = { gate, stats, setProcessLimit, processLimit }
