'use strict'
// Trace mode, switched on by `samm profile` (or, for a service started by
// its own process manager, by the environment): SAMM_TRACE names the
// profile file (a folder, or a name with %p for the pid and %h for the host,
// gives each process a file of its own), SAMM_PROFILE_SAMPLE=N traces one
// allocation in N. A traced allocation comes from the V8 heap and its death
// is observed through a FinalizationRegistry (full tracing) or by looking
// it up through a weak reference (sampled); the others take their usual
// path (docs/profiling.md says what each mode sees).
//
// "Died in its request" means unreachable when its scope closed. It is
// judged at the end of the loop turn in which the scope closed (a
// setImmediate queued at the turn's first traced allocation or close, so
// it runs before the immediates the request's code queued after that):
//   - full tracing forces a full collection there (incremental marking is
//     off in this mode, so the collection is exact), then looks each of the
//     turn's closed allocations up through a weak reference: gone means it
//     died in its request, still there means it outlived it: a timer that
//     reads it 3 ms later, a zlib job still holding it. A full collection
//     every SAMM_TRACE_GC_MS (100 ms) resolves the lifetimes of what
//     outlives its request when no scope closes.
//   - sampled tracing forces no full collection as a rule. At the end of
//     a turn in which scopes with traced allocations closed, one of them of
//     a site (and size class) that still asks for judgments
//     (ENOUGH_IN_REQUEST), it may force a young-generation collection and
//     judge that turn's allocations: gone died in its request, still there
//     outlived it. It does so when the young generation is nearly as full
//     as it was before the service's own young-generation collections (the
//     forced one stands in for a collection the service was about to run),
//     and otherwise within a budget of FORCE_SHARE of the time, spent first
//     on the turns whose sites have the fewest judgments (forced at every
//     such turn, they raised the heavy shape's CPU per request by a
//     quarter). These judgments see both outcomes alike, so a site whose
//     buffers mostly outlive their request gets outlived verdicts.
//     In other turns an allocation counts as died in its request only if
//     one of the service's own collections, young-generation ones included,
//     had already collected it (the weak references of src/weak_ref.c: a
//     WeakRef's target outlives those on Node 20 to 24); one still there
//     counts as outliving its request if it is still there after a
//     collection (young-generation or major) whose marking began after that
//     point (lib/collections.js), or at the end; any other is undecided,
//     and undecided allocations never count as having died in their
//     request.
//     A young-generation collection judges only the allocations no
//     collection preceded since they were made: an earlier one may have
//     promoted a buffer (it was in use then), and a promoted buffer stays
//     until a major collection, dead or not. Counting it as outliving its
//     request would be the safe side, but at a minimum of 1,000 decided
//     allocations, all in their request, a busy site always had one.
//     Nor does still there after a young-generation collection prove a
//     buffer reachable: the scavenger keeps what old objects hold, garbage
//     or not (an array of a request's pieces that a collection during the
//     request promoted). So when a site has no outlived verdict yet, such a
//     verdict is confirmed first by a full collection (two: the first may
//     end an incremental marking), from the same budget: still there, it
//     outlived its request; gone, it died in its request if the judgment
//     was at the end of its closing turn, else it stays undecided. Without
//     budget a major collection of the service's decides instead.
// A finaliser alone could not judge: it may run several collections late.
// What is still alive when the profile is written is censored: counted as
// outliving its request, never as dying at the end.
//
// At exit (or on SIGTERM/SIGINT, see below) the aggregate is appended to the
// file in the profile format (docs/profiling.md, "Profile format"), so
// several processes can share one file, or keep one each and be
// concatenated.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const v8 = require('node:v8')
const { performance } = require('node:perf_hooks')
const { onCollection, fullCollection, youngCollection, collectionsSeen } = require('./collections')
const { weakRef, weakTarget } = require('./binding')

const BINS = 160
const VERSION = 2
const SAMPLE_MAX = 2 ** 30
const DEATH_POLL_MS = 100 // sampled: how often deaths are looked for
// Sampled: a site and size class asks for forced judgments (see the top of
// this file) until it has this many allocations judged died in their
// request (the bake's minimum for a short verdict: SAMM_MIN_SHORT_ALLOCS
// when the service has it, else the default), or one judged outlived
// (which keeps it off short already).
const ENOUGH_IN_REQUEST = /^[1-9][0-9]{0,8}$/.test(process.env.SAMM_MIN_SHORT_ALLOCS || '') ? Number(process.env.SAMM_MIN_SHORT_ALLOCS) : 1000
// Sampled: a forced young-generation collection stands in for one of the
// service's own when the young generation is at least this share as full as
// it was (at the end of a turn) before the service's own recent ones.
const STAND_IN = 0.8
// Sampled: other forced collections may take this share of the time at
// 1 allocation in 100 traced, less in proportion when fewer are (a budget
// that refills with time up to FORCE_CREDIT_MS, so that an idle spell does
// not buy a burst of them later). Their cost to throughput was about twice
// their pauses (bench/RESULTS.md).
const FORCE_SHARE = 0.01
const FORCE_CREDIT_MS = 50
const RECENT_MS = 1000 // sampled: records this young are looked at on every poll
const POLL_OLDER = 2000 // sampled: older records looked at per poll, in turn

// What is known of a traced allocation whose scope closed.
const UNJUDGED = 0
const IN_REQUEST = 1 // unreachable at the end of its scope's closing turn
const OUTLIVED = 2 // reachable after that point
const AFTER = 3 // sampled: still there at that point, not known to be reachable

function lifetimeBin (ms) {
  const us = ms * 1000
  if (!(us > 1)) return 0
  return Math.min(BINS - 1, Math.floor(4 * Math.log2(us)))
}

// Percent-encodes everything but printable ASCII other than '%' and space.
function encodeName (name) {
  let out = ''
  for (const byte of Buffer.from(name, 'utf8')) {
    out += byte > 0x20 && byte < 0x7f && byte !== 0x25 ? String.fromCharCode(byte) : '%' + byte.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

/**
 * The file SAMM_TRACE names for this process: a name with %p (pid) or %h
 * (host name) filled in; in a folder (an existing one, or a name ending in
 * a separator), samm-<host>-<pid>.profile; else the file itself.
 */
function profilePath (spec) {
  const host = os.hostname()
  if (/%[ph]/.test(spec)) return spec.replace(/%p/g, String(process.pid)).replace(/%h/g, host)
  let dir = spec.endsWith('/') || spec.endsWith(path.sep)
  if (!dir) {
    try {
      dir = fs.statSync(spec).isDirectory()
    } catch {}
  }
  return dir ? path.join(spec, `samm-${host}-${process.pid}.profile`) : spec
}

/**
 * SAMM_PROFILE_SAMPLE: 0 when unset (full tracing), a whole number from 1
 * to SAMPLE_MAX (sampled tracing, 1 allocation in that many), else null.
 */
function parseSample (text) {
  if (text === undefined || text === '') return 0
  if (!/^[1-9][0-9]*$/.test(text) || Number(text) > SAMPLE_MAX) return null
  return Number(text)
}

// How full the young generation is, from 0 to 1 (1 if the engine does not say).
function youngFullness () {
  for (const space of v8.getHeapSpaceStatistics()) {
    if (space.space_name === 'new_space') {
      const capacity = space.space_used_size + space.space_available_size
      return capacity > 0 ? space.space_used_size / capacity : 1
    }
  }
  return 1
}

function stampJudged (records) {
  const now = performance.now()
  for (const rec of records) rec.judgedAt = now
}

class Tracer {
  // sample: 0 for full tracing (forced collections), N >= 1 for sampled
  // tracing of 1 allocation in N (none forced).
  constructor ({ file, gcMs = 100, sample = 0 }) {
    this.file = file
    this.sample = sample
    this.full = sample === 0
    this.countdown = 1
    this.entries = new Map() // "name\0log2" -> counts
    this.live = new Set() // records of allocations not yet dead
    this.liveList = [] // sampled: the same and some dead ones, oldest first
    this.cursor = 0 // sampled: the next older record pollDeaths looks at
    this.scopes = new WeakMap() // Scope -> { closedAt, records }
    this.extraLines = [] // contributed by the profiler preload (unmanaged stacks)
    this.beforeWrite = [] // functions run once before the profile is written
    // Deaths: full tracing hears of them from a FinalizationRegistry after
    // its forced collections; sampled tracing looks its live records up every
    // DEATH_POLL_MS instead, since a registry's targets, like a WeakRef's,
    // outlive young-generation collections on Node 20 to 24.
    this.registry = this.full ? new FinalizationRegistry((rec) => this.died(rec, performance.now())) : null
    this.pending = [] // records of closed scopes, judged at the end of the turn
    this.after = new Set() // sampled: records still there when judged
    this.afterOld = new Set() // sampled: the same, that only a major collection can judge
    this.judgeQueued = false
    this.fullest = 0 // sampled: the young generation's fullest, at turn ends, since its last collection
    this.youngTrigger = Infinity // sampled: the same before the service's own young-generation collections, averaged (none seen yet: no stand-ins)
    this.forcedUnseen = 0 // sampled: forced young-generation collections not yet reported
    this.credit = FORCE_CREDIT_MS // sampled: ms of budgeted forced collections allowed now
    this.forceShare = FORCE_SHARE * Math.min(1, 100 / Math.max(1, sample))
    this.budgeted = false // sampled: whether the collection forceNow asked for is charged to the budget
    this.creditAt = performance.now()
    this.lastEnd = -Infinity // sampled: when the last collection reported ended
    this.judge = () => this.judgeTurn()
    this.written = false
    this.timer = null
    this.stopMajor = null
    if (this.full) {
      // An exact full collection at each judgment: with incremental marking
      // a collection could keep what an earlier marking step saw alive.
      v8.setFlagsFromString('--no-incremental-marking')
      this.timer = setInterval(() => fullCollection(), gcMs)
      this.timer.unref()
    } else {
      this.stopMajor = onCollection((markStart, end, major) => this.afterCollection(markStart, end, major))
      this.timer = setInterval(() => this.pollDeaths(), DEATH_POLL_MS)
      this.timer.unref()
    }
  }

  /** Whether to trace the next allocation: every one, or one in `sample` on average. */
  take () {
    if (this.sample <= 1) return true
    if (--this.countdown !== 0) return false
    // Random gaps with mean `sample`: a fixed period could alias with a
    // pattern in the service's own allocations.
    this.countdown = 1 + Math.floor(Math.random() * (2 * this.sample - 1))
    return true
  }

  entry (name, size) {
    const log2 = size > 0 ? 31 - Math.clz32(Math.min(size, 2 ** 31 - 1)) : 0
    const key = `${name}\0${log2}`
    let e = this.entries.get(key)
    if (e === undefined) {
      // judgedIn, judgedOut: verdicts so far (sampled: see ENOUGH_IN_REQUEST).
      e = { name, log2, allocs: 0, outlived: 0, censored: 0, undecided: 0, judgedIn: 0, judgedOut: 0, bins: new Float64Array(BINS) }
      this.entries.set(key, e)
    }
    return e
  }

  alloc (size, name, scope, zero) {
    const buf = zero ? Buffer.alloc(size) : Buffer.allocUnsafe(size)
    const e = this.entry(name, size)
    e.allocs++
    const scopeRec = scope === undefined ? null : this.scopeRecord(scope)
    // seen: collections seen by then (sampled: see judgePending).
    const rec = { e, t0: performance.now(), seen: this.full ? 0 : collectionsSeen(), scope: scopeRec, ref: weakRef(buf), verdict: UNJUDGED, judgedAt: Infinity, done: false }
    if (scopeRec !== null) {
      scopeRec.records.push(rec)
      this.queueJudge()
    }
    this.live.add(rec)
    if (this.registry !== null) this.registry.register(buf, rec, rec)
    else this.liveList.push(rec)
    return buf
  }

  scopeRecord (scope) {
    let r = this.scopes.get(scope)
    if (r === undefined) {
      r = { closedAt: -1, records: [] }
      this.scopes.set(scope, r)
    }
    return r
  }

  scopeClosed (scope) {
    const r = this.scopes.get(scope)
    if (r !== undefined) {
      r.closedAt = performance.now()
      for (const rec of r.records) if (!rec.done) this.pending.push(rec)
      r.records = null
      if (this.pending.length > 0) this.queueJudge()
    }
  }

  queueJudge () {
    if (this.judgeQueued) return
    this.judgeQueued = true
    setImmediate(this.judge)
  }

  // The end of a loop turn: which allocations of the scopes closed in it
  // are still reachable.
  judgeTurn () {
    this.judgeQueued = false
    if (this.pending.length === 0) return
    const now = performance.now()
    if (this.full) {
      fullCollection()
      this.judgePending(true)
    } else if (this.forceNow(now)) {
      const seen = collectionsSeen()
      const start = performance.now()
      youngCollection()
      if (this.budgeted) this.credit -= performance.now() - start
      this.forcedUnseen++
      this.fullest = 0
      this.judgePending(true, seen)
    } else {
      this.judgePending(false)
    }
  }

  // Sampled: whether to force a young-generation collection at the end of
  // this turn (see the top of this file); budgeted says whether it is
  // charged to the budget.
  forceNow (now) {
    const fullness = youngFullness()
    if (fullness > this.fullest) this.fullest = fullness
    this.refill(now)
    const fewest = this.fewestJudged(this.pending)
    if (fewest === Infinity) return false
    this.budgeted = fullness < STAND_IN * this.youngTrigger
    if (!this.budgeted) return true
    if (this.credit <= 0) return false
    // The budget goes first to the sites with the fewest judgments, unless
    // it is piling up unspent.
    return this.credit >= FORCE_CREDIT_MS || fewest <= 2 * this.fewestJudged(this.entries.values()) + 10
  }

  // Sampled: the budget for forced collections, refilled up to now.
  refill (now) {
    this.credit = Math.min(FORCE_CREDIT_MS, this.credit + this.forceShare * (now - this.creditAt))
    this.creditAt = now
  }

  // Sampled: the fewest allocations judged died in their request among the
  // sites (size classes) of these records, or these entries, that still ask
  // for judgments; Infinity if none does.
  fewestJudged (items) {
    let fewest = Infinity
    for (const item of items) {
      const e = item.e === undefined ? item : item.e
      if (item.done !== true && e.judgedOut === 0 && e.judgedIn < ENOUGH_IN_REQUEST && e.judgedIn < fewest) fewest = e.judgedIn
    }
    return fewest
  }

  // Judges the pending records: gone is died in its request; still there is
  // outlived when a collection just ran (exact), else undecided as yet.
  // youngSince: when the collection was a young-generation one, the
  // collections seen just before it; a record that one of those may have
  // promoted (any ran since it was made) is not judged by it: a promoted
  // buffer stays until a major collection, dead or not.
  judgePending (collected, youngSince) {
    const seen = []
    let suspects = null
    for (const rec of this.pending) {
      if (rec.done) continue
      const there = weakTarget(rec.ref) !== undefined
      if (!there) {
        this.inRequest(rec)
      } else if (collected && (youngSince === undefined || rec.seen === youngSince)) {
        if (youngSince === undefined || rec.e.judgedOut > 0) {
          this.outlived(rec)
        } else {
          rec.verdict = AFTER // until confirmed
          seen.push(rec)
          suspects ??= []
          suspects.push(rec)
        }
      } else {
        rec.verdict = AFTER
        seen.push(rec)
        this.after.add(rec)
      }
    }
    this.pending = []
    // Exact here, at the end of the closing turn: gone died in its request.
    if (suspects !== null) this.confirmOrWait(suspects, true)
    // Looking a record up holds its buffer while the look-up runs, so a
    // marking under way may find it reachable: only a collection whose
    // marking began after this job may say it is still reachable. So the
    // time the records count as looked at is taken in a later task.
    if (seen.length > 0) setImmediate(stampJudged, seen)
  }

  // Sampled: a collection whose marking began at markStart (and whose pause
  // ended at end). A record still there after it counts as outliving its
  // request; after a young-generation collection only if no collection ran
  // between its allocation and this one (else it may have been promoted,
  // and a promoted buffer stays until a major collection, dead or not), and
  // once confirmed (see the top of this file).
  afterCollection (markStart, end, major) {
    if (!major) {
      // One of the service's own: how full the young generation was before it.
      if (this.forcedUnseen > 0) this.forcedUnseen--
      else if (this.fullest > 0) this.youngTrigger = this.youngTrigger === Infinity ? this.fullest : 0.8 * this.youngTrigger + 0.2 * this.fullest
      this.fullest = 0
    }
    const before = this.lastEnd
    this.lastEnd = end
    let suspects = null
    for (const rec of this.after) {
      if (rec.judgedAt >= markStart) continue
      this.after.delete(rec)
      // Made before an earlier collection: from now on only a major one can
      // tell, so it waits apart (young-generation collections come often).
      if (!major && rec.t0 <= before) this.afterOld.add(rec)
      else if (weakTarget(rec.ref) === undefined) continue
      else if (major || rec.e.judgedOut > 0) this.outlived(rec)
      else (suspects ??= []).push(rec)
    }
    // Later than their closing turn: one gone died at some time since it
    // was judged, and stays undecided.
    if (suspects !== null) this.confirmOrWait(suspects, false)
    if (!major) return
    for (const rec of this.afterOld) {
      if (rec.judgedAt >= markStart) continue
      this.afterOld.delete(rec)
      if (weakTarget(rec.ref) !== undefined) this.outlived(rec)
    }
  }

  // Sampled: records (verdict AFTER) still there after a young-generation
  // collection, of sites with no outlived verdict yet (see the top of this
  // file). A full collection now, if the budget allows, tells whether they
  // are reachable: still there outlived its request; gone died in it when
  // atClose (the judgment is at the end of its closing turn), else stays
  // undecided. Two collections: the first may end an incremental marking
  // that saw them reachable. Without budget, a major collection of the
  // service's decides.
  confirmOrWait (suspects, atClose) {
    const start = performance.now()
    this.refill(start)
    if (this.credit <= 0) {
      for (const rec of suspects) this.afterOld.add(rec)
      return
    }
    fullCollection()
    fullCollection()
    this.credit -= performance.now() - start
    for (const rec of suspects) {
      if (weakTarget(rec.ref) !== undefined) this.outlived(rec)
      else if (atClose) this.inRequest(rec)
    }
  }

  inRequest (rec) {
    rec.verdict = IN_REQUEST
    rec.e.judgedIn++
  }

  outlived (rec) {
    rec.verdict = OUTLIVED
    rec.e.judgedOut++
  }

  // Sampled: the live records whose buffer a collection took die now. Each
  // poll looks at every record younger than RECENT_MS and at most
  // POLL_OLDER of the older ones, in turn: the cost stays bounded however
  // many traced buffers the service keeps, and an older buffer's death is
  // seen at worst a rotation late.
  pollDeaths () {
    const now = performance.now()
    const list = this.liveList
    let i = list.length - 1
    for (; i >= 0 && list[i].t0 > now - RECENT_MS; i--) this.diedIfGone(list[i], now)
    const older = i + 1
    for (let n = Math.min(POLL_OLDER, older); n > 0; n--) {
      if (this.cursor >= older) this.cursor = 0
      this.diedIfGone(list[this.cursor++], now)
    }
    // Records that died leave the list once they are half of it.
    if (list.length - this.live.size > list.length / 2) {
      this.liveList = list.filter((rec) => !rec.done)
      this.cursor = 0
    }
  }

  diedIfGone (rec, now) {
    if (!rec.done && weakTarget(rec.ref) === undefined) this.died(rec, now)
  }

  died (rec, end) {
    if (rec.done) return
    rec.done = true
    this.live.delete(rec)
    this.after.delete(rec)
    this.afterOld.delete(rec)
    const s = rec.scope
    const e = rec.e
    if (s === null) {
      e.outlived++ // no request to die in
    } else if (s.closedAt < 0) {
      // Collected while its scope was open.
    } else if (rec.verdict === UNJUDGED || rec.verdict === IN_REQUEST) {
      // Gone by the end of its scope's closing turn: its lifetime counts up
      // to the close.
      end = Math.min(end, s.closedAt)
    } else if (rec.verdict === OUTLIVED) {
      e.outlived++
    } else {
      e.undecided++
    }
    e.bins[lifetimeBin(end - rec.t0)]++
  }

  /**
   * The end of tracing: a full collection (two when marking may be under
   * way), the last judgments, then what is still there is censored.
   * Returns the survivors: [{ name, bufs }] with up to `keep` buffers per
   * site, for the retainer search.
   */
  final (keep = 3) {
    fullCollection()
    if (!this.full) fullCollection()
    const now = performance.now()
    this.judgePending(true)
    this.afterCollection(now, now, true)
    const survivors = new Map()
    for (const rec of this.live) {
      const buf = weakTarget(rec.ref)
      if (buf === undefined) {
        if (this.registry !== null) this.registry.unregister(rec)
        this.died(rec, now)
        continue
      }
      rec.e.censored++
      rec.e.outlived++
      let list = survivors.get(rec.e.name)
      if (list === undefined) survivors.set(rec.e.name, list = [])
      if (list.length < keep) list.push(buf)
    }
    this.live.clear()
    return [...survivors].map(([name, bufs]) => ({ name, bufs }))
  }

  text () {
    const how = this.full ? 'every allocation traced' : `sampled: 1 allocation in ${this.sample} traced`
    const args = process.argv.slice(1).join(' ').replace(/\n/g, ' ')
    let out = `samm-profile ${VERSION}\n# pid ${process.pid}${args ? `, ${args}` : ''}; ${how}\n`
    const keys = [...this.entries.keys()].sort()
    for (const key of keys) {
      const e = this.entries.get(key)
      const bins = []
      for (let b = 0; b < BINS; b++) if (e.bins[b] > 0) bins.push(`${b}:${e.bins[b]}`)
      out += `s ${encodeName(e.name)} ${e.log2} ${e.allocs} ${e.outlived} ${e.censored} ${e.undecided} ${bins.length ? bins.join(',') : '-'}\n`
    }
    for (const line of this.extraLines) out += line + '\n'
    return out
  }

  // r lines: each site's retainer paths, with how many of the buffers
  // looked at each one held.
  retainerText (paths) {
    let out = ''
    for (const name of [...paths.keys()].sort()) {
      const counts = new Map()
      for (const p of paths.get(name)) counts.set(p, (counts.get(p) || 0) + 1)
      for (const [p, n] of [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
        out += `r ${encodeName(name)} ${n} ${encodeName(p)}\n`
      }
    }
    return out
  }

  append (text) {
    try {
      fs.appendFileSync(this.file, text)
      return true
    } catch (err) {
      process.stderr.write(`samm: cannot write the profile to ${this.file}: ${err.message}\n`)
      return false
    }
  }

  // Appends this process's profile to the file, once.
  write () {
    if (this.written) return
    this.written = true
    if (this.timer !== null) clearInterval(this.timer)
    if (this.stopMajor !== null) this.stopMajor()
    let survivors = []
    try {
      survivors = this.final()
    } catch (err) {
      process.stderr.write(`samm: the final collection failed (${err.message}); what is still alive is censored\n`)
    }
    for (const fn of this.beforeWrite) fn()
    // The counts first: a snapshot of a large heap takes seconds, and a
    // process stopped during it keeps its profile. The retainers follow as
    // a profile of their own (concatenation merges them).
    if (!this.append(this.text()) || survivors.length === 0 || process.env.SAMM_RETAINERS === '0') return
    let text = ''
    try {
      text = this.retainerText(require('./retainers').retainerPaths(survivors, process.env.SAMM_SNAPSHOT_DIR))
    } catch (err) {
      process.stderr.write(`samm: warning: no retainers (${err.message})\n`)
    }
    survivors = null
    if (text !== '') this.append(`samm-profile ${VERSION}\n# pid ${process.pid}: what held the buffers still alive at the end\n${text}`)
  }
}

// The tracer the environment asks for, or null; a setting that does not
// parse, or a file that cannot be written, turns tracing off with a warning.
function fromEnv () {
  const spec = process.env.SAMM_TRACE
  if (!spec) return null
  const sample = parseSample(process.env.SAMM_PROFILE_SAMPLE)
  if (sample === null) {
    process.emitWarning(`SAMM_PROFILE_SAMPLE=${JSON.stringify(process.env.SAMM_PROFILE_SAMPLE)} is not a whole number from 1 to ${SAMPLE_MAX}: tracing is off`, { code: 'SAMM_BAD_ENV' })
    return null
  }
  const file = profilePath(spec)
  try {
    fs.appendFileSync(file, '')
  } catch (err) {
    process.emitWarning(`SAMM_TRACE: cannot write the profile to ${file} (${err.code || err.message}): tracing is off`, { code: 'SAMM_BAD_ENV' })
    return null
  }
  return new Tracer({ file, gcMs: Number(process.env.SAMM_TRACE_GC_MS) || 100, sample })
}

const tracer = fromEnv()
if (tracer !== null) {
  process.on('exit', () => tracer.write())
  // Stopped by a signal (samm profile sends SIGTERM): a moment for pending
  // finalisers, then the profile, then the default action unless the
  // service handles the signal itself.
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => {
      setTimeout(() => {
        tracer.write()
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
      }, 50)
    })
  }
}

module.exports = { tracer, encodeName, lifetimeBin, profilePath, parseSample, Tracer }
