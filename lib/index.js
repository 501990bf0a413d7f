'use strict'
// SAMM's JavaScript API. See README.md for the contract and the lifetime rules.

const binding = require('./binding')
const { SammError, invalidArg, fromNative } = require('./errors')
const { counters, LONG_SCOPE_MS_MAX } = require('./counters')
const { allocate } = require('./allocate')
const { callThenSettle } = require('./settle')
const { Scope, SammBuffer } = require('./scope')
const { releaseChunks, pooled, detachKeys, moveOut } = require('./chunks')
const { startIdleTrim } = require('./idle')
const { site, bakedTable, sites, setDisabled, Site, CLASS_NAMES } = require('./site')
const { checkTable } = require('./table-check')
const escape = require('./escape')

const { http } = require('./http')
const admission = require('./admission')
const { express } = require('./express')
const { storage } = require('./storage')
// What an option accepts, in words: "from 1 MiB to 64 TiB" (range: from
// binding.optionRanges()).
function optionRule (key, { min, max, multiple }) {
  const bytes = key === 'maxBytes' || multiple > 1
  const show = (n) => {
    if (!bytes) return String(n)
    for (const [unit, size] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 1024]]) {
      if (n >= size && n % size === 0) return `${n / size} ${unit}`
    }
    return `${n} bytes`
  }
  return `from ${show(min)} to ${show(max)}${multiple > 1 ? `, a multiple of ${show(multiple)}` : ''}`
}

const moved = new WeakSet() // freed while its memory was moved away: counted once
// The buffer getter of typed arrays, as the realm had it at load.
const bufferOf = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), 'buffer').get

{
  const bad = binding.envError()
  if (bad !== null) {
    const [key, r] = Object.entries(binding.optionRanges()).find(([, r]) => r.env === bad) || [null, null]
    const accepted = r === null ? '' : ` (${key}: ${optionRule(key, r)}${bad === 'SAMM_MAX_BYTES' || r.multiple > 1 ? '; k, m or g suffixes' : ''})`
    process.emitWarning(`${bad}=${JSON.stringify(process.env[bad])} is not a valid value and was ignored${accepted}`, { code: 'SAMM_BAD_ENV' })
  }
  const config = binding.config()
  counters.chunkSize = config.chunkSize
  startIdleTrim(config.idleTrimMs)
  const off = process.env.SAMM_DISABLE
  if (off === '1' || off === 'true') switchOff(true)
  else if (off !== undefined && off !== '' && off !== '0' && off !== 'false') {
    process.emitWarning(`SAMM_DISABLE=${off} is not a valid value and was ignored (1 or 0)`, { code: 'SAMM_BAD_ENV' })
  }
  if (!counters.disabled) checkTable(binding, bakedTable())
}

// The kill switch: every site heap, every scope a pass-through.
function switchOff (off) {
  counters.disabled = off
  setDisabled(off)
}

/** A zero-filled Buffer of size bytes from the arena of site's class. */
function alloc (size, where) { return allocate(size, where, true, current()) }

/** A Buffer of size bytes that may hold old bytes of this process. */
function allocUnsafe (size, where) { return allocate(size, where, false, current()) }

/**
 * Releases a medium or long buffer early. Returns true if memory was
 * released, false for buffers SAMM does not release one by one (scope
 * memory, heap-class and fallback buffers) and for a buffer whose memory
 * someone else moved away (a BYOB read, transfer()): that memory comes back
 * once the view it moved to is garbage. Throws ERR_SAMM_DOUBLE_FREE on a
 * second free of the same buffer.
 */
function free (buf) {
  if (!Buffer.isBuffer(buf)) throw invalidArg('buffer', 'a Buffer', buf)
  if (buf instanceof SammBuffer) return false
  let released
  try {
    // Where a caller can set a detach key (lib/chunks.js), the memory is
    // moved with transfer() first, so that a key is found, not met inside
    // the binding's detach (which aborts): the block is then only marked
    // moved.
    if (!detachKeys) {
      released = binding.free(buf)
    } else if (binding.free(buf, false)) {
      const fresh = moveOut(bufferOf.call(buf))
      released = binding.free(buf, fresh === null ? true : fresh)
    } else {
      released = false
    }
  } catch (err) {
    const e = fromNative(err)
    if (e.code === 'ERR_SAMM_BAD_POINTER') return false
    throw e
  }
  if (!released) {
    if (!moved.has(buf)) counters.movedBlocks++
    moved.add(buf)
    return false
  }
  return true
}

/** Opens an explicit request scope; close() it when the request is done. */
function scope () { return new Scope() }

/**
 * Runs fn in a new request scope, which closes when fn returns or, if fn
 * returns a promise, when it settles. samm.alloc() anywhere in fn's async
 * chain uses the scope.
 */
function run (fn) {
  if (typeof fn !== 'function') throw invalidArg('fn', 'a function', fn)
  const s = new Scope()
  return callThenSettle(() => s.close(), enter, s, fn, s)
}

/** Runs fn with s as the current scope without closing it (integrations). */
function enter (s, fn, ...args) {
  return storage.run(s, fn, ...args)
}

/** The scope of the running request, or undefined. */
function current () {
  const s = storage.getStore()
  return s !== undefined && !s.closed ? s : undefined
}

const NUMERIC_OPTIONS = ['maxBytes', 'chunkSize', 'poolChunks', 'regionSegmentSize', 'idleTrimMs', 'decayMs', 'debug']
// Options the binding applies by building a new heap.
const STRUCTURAL_OPTIONS = NUMERIC_OPTIONS.filter((key) => key !== 'maxBytes' && key !== 'idleTrimMs' && key !== 'decayMs')
// Options JavaScript acts on itself.
const JS_OPTIONS = ['onLimit', 'longScopeMs', 'disabled', 'processLimit', 'onEscape', 'escapeFile']

/** Sets the budget and tuning; see README for each option. */
function configure (options) {
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options)
  for (const key of Object.keys(options)) {
    if (!JS_OPTIONS.includes(key) && !NUMERIC_OPTIONS.includes(key)) {
      throw invalidArg('options', `an object with keys among ${NUMERIC_OPTIONS.concat(JS_OPTIONS).join(', ')}`, key)
    }
  }
  const { processLimit } = options
  if (processLimit !== undefined && (typeof processLimit !== 'number' || !Number.isSafeInteger(processLimit) || processLimit < 0)) {
    throw invalidArg('options.processLimit', 'a non-negative integer (bytes)', processLimit)
  }
  if (options.onLimit !== undefined && options.onLimit !== 'throw' && options.onLimit !== 'heap') {
    throw invalidArg('options.onLimit', '"throw" or "heap"', options.onLimit)
  }
  if (options.disabled !== undefined && typeof options.disabled !== 'boolean') {
    throw invalidArg('options.disabled', 'a boolean', options.disabled)
  }
  const long = options.longScopeMs
  if (long !== undefined) {
    if (typeof long !== 'number' || !Number.isInteger(long) || long < 0) throw invalidArg('options.longScopeMs', 'a non-negative integer', long)
    if (long > LONG_SCOPE_MS_MAX) {
      const r = new RangeError(`options.longScopeMs must be at most ${LONG_SCOPE_MS_MAX}, got ${long}`)
      r.code = 'ERR_SAMM_INVALID_ARG'
      throw r
    }
  }
  if (options.onEscape !== undefined && !escape.ON_ESCAPE.includes(options.onEscape)) {
    throw invalidArg('options.onEscape', '"demote" or "warn"', options.onEscape)
  }
  if (options.escapeFile !== undefined && options.escapeFile !== null && (typeof options.escapeFile !== 'string' || options.escapeFile === '')) {
    throw invalidArg('options.escapeFile', 'a file name or null', options.escapeFile)
  }
  try {
    configureNumeric(options)
  } finally {
    // Whatever went through before a refusal holds.
    counters.chunkSize = binding.config().chunkSize
  }
  if (options.onLimit !== undefined) counters.onLimit = options.onLimit
  if (long !== undefined) counters.longScopeMs = long
  if (options.disabled !== undefined) switchOff(options.disabled)
  if (processLimit !== undefined) admission.setProcessLimit(processLimit)
  escape.setOptions(options)
  return config()
}

// configure()'s numeric options, one at a time through the binding.
function configureNumeric (options) {
  for (const key of NUMERIC_OPTIONS) {
    const v = options[key]
    if (v === undefined) continue
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw invalidArg(`options.${key}`, 'a non-negative integer', v)
    // A new chunk size or pool size builds a new heap: pooled chunks go back
    // first. So does a lower budget: pooled chunks would be taken again
    // without a charge.
    if (STRUCTURAL_OPTIONS.includes(key) || (key === 'maxBytes' && v < binding.config().maxBytes)) releaseChunks()
    try {
      binding.configure(key, v)
      if (key === 'idleTrimMs') startIdleTrim(v)
    } catch (err) {
      const e = fromNative(err)
      if (e.code === 'ERR_SAMM_INVALID_ARG') {
        const range = binding.optionRanges()[key]
        const fits = v >= range.min && v <= range.max && v % range.multiple === 0
        const r = new RangeError(fits
          ? `options.${key} cannot change while SAMM memory is in use (medium or long buffers live, scopes open): ${v}; set it at start-up (${range.env}) or before the first allocation`
          : `options.${key} must be ${optionRule(key, range)}, got ${v}`)
        r.code = 'ERR_SAMM_INVALID_ARG'
        throw r
      }
      throw e
    }
  }
}

/** The options in force. */
function config () {
  return { ...binding.config(), onLimit: counters.onLimit, longScopeMs: counters.longScopeMs, disabled: counters.disabled, processLimit: admission.processLimit(), ...escape.options() }
}

// The C core names its statistics in snake_case; JavaScript sees camelCase.
function camelCase (name) {
  return name.replace(/_([a-z])/g, (m, c) => c.toUpperCase())
}

function camelKeys (obj) {
  const out = {}
  for (const key of Object.keys(obj)) {
    const v = obj[key]
    out[camelCase(key)] = v !== null && typeof v === 'object' ? camelKeys(v) : v
  }
  return out
}

/** Arena and heap statistics, plus fallbacks and per-site counts. */
function stats () {
  const s = camelKeys(JSON.parse(binding.statsJson()))
  // Scopes live in JavaScript (the native ones serve only allocations larger
  // than a span), and chunks and spans waiting in JavaScript's pool are
  // cached, not in use.
  const js = pooled()
  s.scopesOpened = counters.scopesOpened
  s.scopesOpen = counters.scopesOpen
  s.scopesClosed = counters.scopesOpened - counters.scopesOpen
  s.poolChunks += js.chunks
  s.poolLargeBytes += js.spanBytes
  s.bump.inUse -= js.chunks * counters.chunkSize + js.spanBytes
  s.bump.allocs += counters.scopeAllocs
  s.bump.frees += counters.scopeAllocs
  s.outsideScope = counters.outsideScope
  s.externalRefused = counters.externalRefused
  s.limitFallbacks = counters.limitFallbacks
  s.collectedFallbacks = counters.collectedFallbacks
  s.movedBlocks = counters.movedBlocks
  s.disabled = counters.disabled
  s.admission = admission.stats()
  s.sites = {}
  for (const [name, st] of sites) {
    s.sites[name] = { class: st.class, allocs: st.allocs, bytes: st.bytes, heapFallbacks: st.heapFallbacks, escapes: st.escapes }
  }
  return s
}

/**
 * The baked table: { version, digest, shortMinInRequest, minShortAllocs, sizeClasses, sites }.
 * sizeClasses carries each size class's clustering (centroids, boundaries
 * and the class of each cluster); both lists are empty for the default table.
 */
function table () {
  const t = bakedTable()
  return {
    version: t.version,
    digest: t.digest,
    shortMinInRequest: t.shortMinInRequest ?? null,
    minShortAllocs: t.minShortAllocs ?? null,
    sizeClasses: t.sizeClasses ?? [],
    sites: t.sites
  }
}

/** Returns idle memory to the OS now (the idle timer does this on its own). */
function collect () {
  releaseChunks()
  binding.collect()
}

module.exports = {
  site,
  alloc,
  allocUnsafe,
  free,
  scope,
  run,
  current,
  configure,
  config,
  stats,
  table,
  collect,
  enter,
  http,
  express,
  Site,
  Scope,
  SammError,
  classes: CLASS_NAMES.slice()
}
// `import samm from 'samm'` compiled to CommonJS without esModuleInterop
// reads require('samm').default: the module itself, not enumerated.
Object.defineProperty(module.exports, 'default', { value: module.exports })
