'use strict'
// Loaded into the profiled service with --require (samm profile sets it up).
// Besides SAMM's own trace of named sites (lib/trace.js, switched on by
// SAMM_TRACE), it looks for Buffer memory allocated outside SAMM - the
// candidates to turn into named sites - from two sources:
//   - a wrapper around Buffer.alloc / allocUnsafe / allocUnsafeSlow / from /
//     concat that records the calling file:line of one call in SAMPLE_EVERY
//     (on average):
//     how many bytes each place allocates, and (through a
//     FinalizationRegistry on the sampled buffers) how many of them are
//     still alive at exit;
//   - the inspector's sampling heap profiler, left running without the
//     "include collected objects" flags, so that at exit its samples are the
//     ArrayBuffer and typed-array allocations still alive, wherever they
//     were made (new Uint8Array, new ArrayBuffer...), at the line where the
//     allocating function starts (the profiler names functions, not
//     statements). It samples V8 heap
//     bytes, and a Buffer's bytes live outside that heap, so its figures
//     rank stacks rather than measure them; a stack it resolves that the
//     wrapper did not see gets a line of its own with no allocations and
//     its sampled bytes in the last field (readers keep the two apart:
//     profiler/profile-format.js).
// Frames inside node's internals, inside SAMM and inside node_modules are
// skipped: a candidate is the first frame of the service's own code.
// At exit both are added to the profile as `u` lines.

const path = require('node:path')
const inspector = require('node:inspector')
const { tracer, encodeName } = require('../lib/trace')

if (tracer === null) {
  throw new Error('profiler/preload.js runs under `samm profile` (SAMM_TRACE is not set)')
}

// Under sampled tracing (--sample N, for live traffic) both samplers thin
// out N times: the wrapper from 1 call in 16 to 1 in 16 × N, the heap
// sampler from a sample every 8 KiB to one every N × 8 KiB. Each sample
// walks the stack, and live traffic runs long enough to rank places from
// few: at N = 100, the Express example ran at 0.94× its throughput with
// 1 call in 100 and a heap sample every 48 KiB, 0.93× with 1 call in 100
// and one every 800 KiB.
const TRACE_SAMPLE = Number(process.env.SAMM_PROFILE_SAMPLE) || 0
const SAMPLE_EVERY = 16 * Math.max(1, TRACE_SAMPLE)
const HEAP_SAMPLING_BYTES = 8192 * Math.max(1, TRACE_SAMPLE)
// SAMM's own code: its allocations are traced as sites, not candidates.
const sammDirs = ['lib', 'profiler'].map((d) => path.resolve(__dirname, '..', d) + path.sep)
const isSamm = (file) => sammDirs.some((dir) => file.startsWith(dir))
const candidates = new Map() // "file:line" -> { allocs, bytes, survived }

function ownFrame (file) {
  return file !== '' && !file.startsWith('node:') && !isSamm(file) &&
    !file.includes(`${path.sep}node_modules${path.sep}`) && !file.startsWith('internal/')
}

function candidate (where) {
  let c = candidates.get(where)
  if (c === undefined) {
    c = { allocs: 0, bytes: 0, survived: 0 }
    candidates.set(where, c)
  }
  return c
}

// file:line of the nearest own frame of the current stack, or null when
// SAMM itself made the call (its allocations are traced as sites).
function callerOf () {
  const saved = Error.stackTraceLimit
  Error.stackTraceLimit = 30
  const stack = new Error().stack.split('\n')
  Error.stackTraceLimit = saved
  for (let i = 1; i < stack.length; i++) {
    const m = /\(?((?:file:\/\/)?[^()\s]+):(\d+):\d+\)?$/.exec(stack[i])
    if (m === null) continue
    const file = m[1].startsWith('file://') ? new URL(m[1]).pathname : m[1]
    if (file === __filename) continue
    if (isSamm(file)) return null // SAMM allocated it: traced as a site
    if (ownFrame(file)) return `${file}:${m[2]}`
  }
  return null
}

const alive = new Set() // sampled buffers' records, until collected
const registry = new FinalizationRegistry((rec) => alive.delete(rec))

// Calls until the next sample: random, so that a fixed pattern of calls
// cannot hide a place (a fixed period would alias with it).
let countdown = 1
function nextCountdown () { return 1 + Math.floor(Math.random() * (2 * SAMPLE_EVERY - 1)) }

function wrap (name, sizeOf) {
  const original = Buffer[name]
  Buffer[name] = function (...args) {
    const buf = original.apply(this, args)
    if (--countdown === 0) {
      countdown = nextCountdown()
      const where = callerOf()
      if (where !== null) {
        const c = candidate(where)
        const bytes = SAMPLE_EVERY * sizeOf(buf)
        c.allocs += SAMPLE_EVERY
        c.bytes += bytes
        const rec = { c, bytes }
        alive.add(rec)
        registry.register(buf, rec)
      }
    }
    return buf
  }
  Object.defineProperty(Buffer[name], 'name', { value: name })
}
for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow', 'from', 'concat']) wrap(name, (buf) => buf.length)

const session = new inspector.Session()
session.connect()
session.post('HeapProfiler.enable')
// Each sample walks the stack: a short interval costs the service most of
// its throughput; the Buffer factories are covered by the wrapper above.
session.post('HeapProfiler.startSampling', { samplingInterval: HEAP_SAMPLING_BYTES })

// In-process inspector calls answer synchronously, so this works at exit.
function survivors () {
  let profile = null
  session.post('HeapProfiler.stopSampling', (err, res) => { if (!err) profile = res.profile })
  if (profile === null) return
  const inspected = new Map()
  const bufferFrame = (f) => f.url === 'node:buffer' || f.url === 'node:internal/buffer' ||
    f.functionName === 'ArrayBuffer' || f.functionName === 'Uint8Array'
  // `own`: the nearest own frame above, or null when SAMM's code is nearer.
  ;(function walk (node, own, inBuffer) {
    const f = node.callFrame
    const file = f.url.startsWith('file://') ? new URL(f.url).pathname : f.url
    let here = own
    if (isSamm(file) && file !== __filename) here = null
    else if (ownFrame(file)) here = `${file}:${f.lineNumber + 1}`
    const buffer = inBuffer || bufferFrame(f)
    if (buffer && here !== null && node.selfSize > 0 && !candidates.has(here)) inspected.set(here, (inspected.get(here) || 0) + node.selfSize)
    for (const child of node.children) walk(child, here, buffer)
  })(profile.head, null, false)
  for (const [where, bytes] of inspected) candidate(where).survived += bytes
}

tracer.beforeWrite.push(() => {
  for (const rec of alive) rec.c.survived += rec.bytes
  survivors()
  const ranked = [...candidates].sort((a, b) => (b[1].survived - a[1].survived) || (b[1].bytes - a[1].bytes))
  for (const [where, c] of ranked.slice(0, 200)) {
    tracer.extraLines.push(`u ${encodeName(where)} ${c.allocs} ${c.bytes} ${Math.round(c.survived)}`)
  }
})
