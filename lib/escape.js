'use strict'
// The escape watch. A short-class buffer kept past its request reads as
// length 0 from its scope's close on: the profile said the site's buffers
// die in their request, and it was wrong. So a sample of the short-class
// allocations made through sites is watched: every site's first FIRST
// allocations, then about one request in EVERY: the gap between watched
// allocations is drawn at random with a mean of EVERY times the site's
// allocations per request (per scope opened since the site was made).
// The allocation path only decrements a countdown on the Site; a watched
// allocation costs a weak reference and a record, so the sample is counted
// in requests, not in allocations: a site making 150 short allocations per
// request pays as little as one making one.
//
// A watched buffer is held through a weak reference that every collection
// empties, young-generation ones included (src/weak_ref.c: a WeakRef would
// keep it, and its record, until a major collection). Twice a second
// (SWEEP_MS) a sweep drops the ones collected and notes the ones whose
// memory was released (the scope detached them: byteLength 0) while they
// are still there: suspects. A suspect still there after a major
// collection whose marking began after the last sweep looked at it
// (lib/collections.js says why that moment, and not the close, is what
// counts) was reachable after its scope closed: an escape. It is counted on the site, warned about once
// per site (SAMM_ESCAPE), published on the samm:escape channel, written to
// the escape file if one is set (a profile that the next bake reads), and,
// unless onEscape is 'warn', the site is demoted: its later allocations
// come from the V8 heap, for the rest of the process.
//
// A service whose short buffers live in SAMM's arenas may run no major
// collection for minutes. When a suspect has waited 20,000 requests
// (FORCE_AFTER_SCOPES) or 60 s (FORCE_AFTER_MS) without one, the watch runs
// a full collection itself, in a task of its own (so that the sweep's look
// at the suspects does not keep them alive through it). A suspect that
// became garbage after it was promoted lasts until a major collection, so in
// a busy service without major collections of its own this is what
// resolves it.
// A forced collection costs the service far more than its pause (on the
// node:http example's small-buffer workload, one every 2 s raised the CPU
// per request by about half), hence at most one per 5 s and pauses at most
// 0.1 % of the time: a 15 ms collection at most every 15 s.
//
// Buffers kept only for a moment after their request (a timer a few ms
// later) are missed unless a major collection falls in that moment: the
// watch catches buffers kept for longer than the collections take to come.

const fs = require('node:fs')
const { performance } = require('node:perf_hooks')
const { onMajor, fullCollection } = require('./collections')
const { channels } = require('./diagnostics')
const { encodeName } = require('./trace')
const { counters } = require('./counters')
const { outsideScopes } = require('./storage')
const { weakRef, weakTarget } = require('./binding')

const FIRST = 64
const SWEEP_MS = 500
// When a released watched buffer has waited this long, or this many
// requests (scopes opened), without a major collection, the watch runs one.
const FORCE_AFTER_MS = Number(process.env.SAMM_ESCAPE_FORCE_MS) > 0 ? Number(process.env.SAMM_ESCAPE_FORCE_MS) : 60000
const FORCE_AFTER_SCOPES = 20000
// Forced collections: at most one per FORCE_SPACING_MS, and their pauses
// at most FORCE_SHARE of the time (what they cost the service afterwards is
// about ten times their pause).
const FORCE_SPACING_MS = Math.min(5000, FORCE_AFTER_MS)
const FORCE_SHARE = 0.001
const ON_ESCAPE = ['demote', 'warn']

const settings = {
  onEscape: 'demote',
  escapeFile: null,
  every: 8 // mean gap, in requests, between watched allocations after a site's first FIRST; 0: off
}

{
  const bad = []
  const env = process.env
  if (env.SAMM_ON_ESCAPE !== undefined) {
    if (ON_ESCAPE.includes(env.SAMM_ON_ESCAPE)) settings.onEscape = env.SAMM_ON_ESCAPE
    else bad.push('SAMM_ON_ESCAPE')
  }
  if (env.SAMM_ESCAPE_FILE) settings.escapeFile = env.SAMM_ESCAPE_FILE
  if (env.SAMM_ESCAPE_SAMPLE !== undefined) {
    if (/^[0-9]{1,9}$/.test(env.SAMM_ESCAPE_SAMPLE)) settings.every = Number(env.SAMM_ESCAPE_SAMPLE)
    else bad.push('SAMM_ESCAPE_SAMPLE')
  }
  for (const name of bad) {
    process.emitWarning(`${name}=${JSON.stringify(env[name])} is not a valid value and was ignored`, { code: 'SAMM_BAD_ENV' })
  }
}

// { ref, site, size, touched: when last looked at, released, since: when
// first seen released, sinceScopes: scopes opened by then }
let records = []
let suspects = 0 // records released and still there
let sweeper = null
let stopMajor = null
let nextForce = -Infinity // no forced collection before this time
let forceQueued = false
let fileWarned = false

// The countdown of a site whose allocations are not watched: a small
// integer, as every countdown is, so that the field keeps one representation.
const NEVER = 0x3fffffff

/** The countdown a new site starts with: watch its first allocation, or never. */
function firstCountdown () {
  return settings.every === 0 ? NEVER : 1
}

/**
 * Watches buf, a short-class allocation of site; called when the site's
 * countdown reached 0, and sets the next one.
 */
function watch (site, buf) {
  const n = ++site._watched
  if (settings.every === 0) {
    site._watchIn = NEVER
    return
  } else if (n < FIRST) {
    site._watchIn = 1
  } else {
    // The site's allocations per scope opened since it was made.
    const perScope = Math.max(1, site.allocs / Math.max(1, counters.scopesOpened - site._scopesAtStart))
    const mean = settings.every * perScope
    site._watchIn = Math.min(NEVER, 1 + Math.floor(Math.random() * (2 * mean - 1))) | 0
  }
  // An empty buffer loses nothing, and could not be told from a released one.
  if (buf.byteLength === 0) return
  // touched: Infinity until a sweep has looked at it and its job has ended.
  records.push({ ref: weakRef(buf), site, size: buf.length, touched: Infinity, released: false, since: 0, sinceScopes: 0 })
  if (sweeper === null) {
    sweeper = outsideScopes(() => setInterval(sweep, SWEEP_MS))
    sweeper.unref()
  }
}

function sweep () {
  const now = performance.now()
  let kept = 0
  let oldest = Infinity
  let oldestScopes = Infinity
  for (const rec of records) {
    const buf = weakTarget(rec.ref)
    if (buf === undefined) {
      if (rec.released) suspects--
      continue
    }
    // Looked at now: held while the sweep runs, so a marking under way may
    // find it reachable; the time it counts as looked at is taken in a
    // later task (stamp).
    rec.touched = Infinity
    if (!rec.released && buf.byteLength === 0) {
      rec.released = true
      rec.since = now
      rec.sinceScopes = counters.scopesOpened
      suspects++
    }
    if (rec.released && rec.since < oldest) {
      oldest = rec.since
      oldestScopes = rec.sinceScopes
    }
    records[kept++] = rec
  }
  records.length = kept
  if (kept > 0) setImmediate(stamp, records.slice()).unref()
  if (suspects > 0 && stopMajor === null) stopMajor = onMajor(major)
  if (suspects === 0 && stopMajor !== null) {
    stopMajor()
    stopMajor = null
  }
  if (kept === 0) {
    clearInterval(sweeper)
    sweeper = null
  } else if ((now - oldest >= FORCE_AFTER_MS || counters.scopesOpened - oldestScopes >= FORCE_AFTER_SCOPES) &&
    now >= nextForce && !forceQueued) {
    forceQueued = true
    setImmediate(force).unref()
  }
}

function stamp (looked) {
  const now = performance.now()
  for (const rec of looked) if (rec.touched === Infinity) rec.touched = now
}

// Two collections: the first finishes any incremental marking begun before
// the suspects were last looked at, the second marks from its own start,
// so what it leaves was reachable then: the suspects resolve now, without
// waiting for perf_hooks (which cannot tell when a first observed
// collection began marking).
function force () {
  forceQueued = false
  const t0 = performance.now()
  fullCollection()
  const markStart = performance.now()
  fullCollection()
  const t1 = performance.now()
  nextForce = t1 + Math.max(FORCE_SPACING_MS, (t1 - t0) / FORCE_SHARE)
  major(markStart)
}

// A major collection whose marking began at markStart: the suspects noted
// before it are resolved, as escapes if they are still there.
function major (markStart) {
  let kept = 0
  for (const rec of records) {
    if (rec.released && rec.touched < markStart) {
      suspects--
      if (weakTarget(rec.ref) !== undefined) escaped(rec)
      continue
    }
    records[kept++] = rec
  }
  records.length = kept
  if (suspects === 0 && stopMajor !== null) {
    stopMajor()
    stopMajor = null
  }
}

function escaped (rec) {
  const site = rec.site
  site.escapes++
  const demote = settings.onEscape === 'demote'
  if (demote) site._demote()
  if (!site._warned) {
    site._warned = true
    const what = demote
      ? 'The site now allocates from the V8 heap for the rest of the process.'
      : "The site stays short (onEscape: 'warn'): later kept buffers read as length 0 too."
    process.emitWarning(`site '${site.name}': a short-class buffer was still reachable after its request ended, ` +
      'so it reads as length 0 from then on (its memory went back with the request). ' + what +
      ` Profile the service again and bake (samm profile, samm bake), or give the site a class: samm.site(${JSON.stringify(site.name)}, { class: 'medium' }).`,
    { code: 'SAMM_ESCAPE' })
  }
  if (channels.escape.hasSubscribers) {
    channels.escape.publish({ site: site.name, size: rec.size, escapes: site.escapes, demoted: demote })
  }
  if (settings.escapeFile !== null) writeEscape(site.name, rec.size)
}

// Appends the escape to the escape file as a profile: one allocation that
// outlived its request and was still alive (censored).
function writeEscape (name, size) {
  const log2 = size > 0 ? 31 - Math.clz32(Math.min(size, 2 ** 31 - 1)) : 0
  const text = `samm-profile 2\n# escape at ${new Date().toISOString()}, pid ${process.pid}\ns ${encodeName(name)} ${log2} 1 1 1 0 -\n`
  try {
    fs.appendFileSync(settings.escapeFile, text)
  } catch (err) {
    if (!fileWarned) {
      fileWarned = true
      process.emitWarning(`cannot write escapes to ${settings.escapeFile}: ${err.message}`, { code: 'SAMM_ESCAPE_FILE' })
    }
  }
}

/** Sets onEscape and escapeFile (checked by configure). */
function setOptions ({ onEscape, escapeFile }) {
  if (onEscape !== undefined) settings.onEscape = onEscape
  if (escapeFile !== undefined) settings.escapeFile = escapeFile
}

/** { onEscape, escapeFile } in force. */
function options () {
  return { onEscape: settings.onEscape, escapeFile: settings.escapeFile }
}

module.exports = { watch, firstCountdown, setOptions, options, ON_ESCAPE }
