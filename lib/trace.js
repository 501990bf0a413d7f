'use strict'
// Trace mode, switched on by `samm profile` through SAMM_TRACE=<file>. Every
// site then allocates on the V8 heap (classes are what is being learnt) and
// each allocation's death is observed through a FinalizationRegistry, with
// a full collection forced every SAMM_TRACE_GC_MS (100 ms), so lifetimes
// of buffers that outlive their request resolve to about that period.
//
// "Died in its request": unreachable when its scope closed. A full
// collection finds every object that was unreachable before it ran, so
// right after the first forced collection that follows a scope's close,
// each of the scope's allocations is looked up through a WeakRef: gone
// means it died in its request (its lifetime then counts up to the close),
// still there means it outlived it. (Finalisation callbacks alone would not
// do: they may run several collections late under load.) Anything still
// alive when the process ends is censored: counted as surviving, never as
// dying at the end.
//
// At exit (or on SIGTERM/SIGINT, see below) the aggregate is appended to the file in the profile format
// (README, "Profile format"), so several processes can share one file.

const fs = require('node:fs')
const v8 = require('node:v8')
const vm = require('node:vm')
const { performance } = require('node:perf_hooks')

const BINS = 160
const HEADER = 'samm-profile 1\n'

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

class Tracer {
  constructor (file, gcMs) {
    this.file = file
    this.entries = new Map() // "name\0log2" -> counts
    this.live = new Set() // records of allocations not yet dead
    this.scopes = new WeakMap() // Scope -> { closedAt, closeEpoch }
    this.extraLines = [] // contributed by the profiler preload (unmanaged stacks)
    this.beforeWrite = [] // functions run once before the profile is written
    this.registry = new FinalizationRegistry((rec) => this.died(rec))
    v8.setFlagsFromString('--expose-gc')
    this.gc = vm.runInNewContext('gc')
    this.pending = [] // records of closed scopes, to resolve after the next collection
    this.timer = setInterval(() => this.collect(), gcMs)
    this.timer.unref()
    this.written = false
  }

  // A full collection, then which allocations of scopes closed before it
  // survived their request.
  collect () {
    this.gc()
    for (const rec of this.pending) rec.inRequest = rec.ref.deref() === undefined
    this.pending = []
  }

  entry (name, size) {
    const log2 = size > 0 ? 31 - Math.clz32(Math.min(size, 2 ** 31 - 1)) : 0
    const key = `${name}\0${log2}`
    let e = this.entries.get(key)
    if (e === undefined) {
      e = { name, log2, allocs: 0, outlived: 0, censored: 0, bins: new Float64Array(BINS) }
      this.entries.set(key, e)
    }
    return e
  }

  alloc (size, name, scope, zero) {
    const buf = zero ? Buffer.alloc(size) : Buffer.allocUnsafe(size)
    const e = this.entry(name, size)
    e.allocs++
    const scopeRec = scope === undefined ? null : this.scopeRecord(scope)
    const rec = { e, t0: performance.now(), scope: scopeRec, ref: scopeRec === null ? null : new WeakRef(buf), inRequest: undefined }
    if (scopeRec !== null) scopeRec.records.push(rec)
    this.live.add(rec)
    this.registry.register(buf, rec)
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
      for (const rec of r.records) this.pending.push(rec)
      r.records = null
    }
  }

  died (rec) {
    this.live.delete(rec)
    let end = performance.now()
    const s = rec.scope
    let inRequest = false
    if (s !== null) {
      if (s.closedAt < 0) {
        inRequest = true // died while its scope was open
      } else if (rec.inRequest !== false) {
        // Gone at the first collection after the close (or collected even
        // before it ran).
        inRequest = true
        end = Math.min(end, s.closedAt)
      }
    }
    if (!inRequest) rec.e.outlived++
    rec.e.bins[lifetimeBin(end - rec.t0)]++
  }

  text () {
    for (const rec of this.live) {
      rec.e.censored++
      rec.e.outlived++
    }
    this.live.clear()
    let out = HEADER + `# pid ${process.pid}, ${process.argv.slice(1).join(' ')}\n`
    const keys = [...this.entries.keys()].sort()
    for (const key of keys) {
      const e = this.entries.get(key)
      const bins = []
      for (let b = 0; b < BINS; b++) if (e.bins[b] > 0) bins.push(`${b}:${e.bins[b]}`)
      out += `s ${encodeName(e.name)} ${e.log2} ${e.allocs} ${e.outlived} ${e.censored} ${bins.length ? bins.join(',') : '-'}\n`
    }
    for (const line of this.extraLines) out += line + '\n'
    return out
  }

  // Appends this process's profile to the file, once.
  write () {
    if (this.written) return
    this.written = true
    clearInterval(this.timer)
    for (const fn of this.beforeWrite) fn()
    fs.appendFileSync(this.file, this.text())
  }
}

let tracer = null
if (process.env.SAMM_TRACE) {
  tracer = new Tracer(process.env.SAMM_TRACE, Number(process.env.SAMM_TRACE_GC_MS) || 100)
  process.on('exit', () => tracer.write())
  // Stopped by a signal (samm profile sends SIGTERM): one more full
  // collection and a moment for its finalisers, so that the last requests'
  // allocations are resolved rather than censored; then the default action
  // unless the service handles the signal itself.
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => {
      tracer.collect()
      setTimeout(() => {
        tracer.write()
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
      }, 50)
    })
  }
}

module.exports = { tracer, encodeName, lifetimeBin, Tracer }
