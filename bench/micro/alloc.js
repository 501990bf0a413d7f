'use strict'
// Micro-benchmark: ns per allocation of SAMM's short class (in a scope)
// against Buffer.allocUnsafe, Buffer.alloc and new Uint8Array, plus the cost
// of a scope open + 8 small allocations + close. Two floors are measured in
// the same run: a Buffer view over an existing ArrayBuffer (what every SAMM
// allocation returns) and one chunk's hand-back at a scope's close (the
// transfer that detaches it).
//
// Each measurement runs in a fresh child process (warm-up, then the median
// of five timed batches), so that one case's garbage never lands in
// another's timing; the runs are interleaved (every case once, then again,
// REPS times) and the table shows medians and ratios.
//
//   node bench/micro/alloc.js [reps]      (default 7)

const { execFileSync } = require('node:child_process')

const SIZES = [64, 1024, 16 * 1024, 256 * 1024]
const CASES = ['samm.allocUnsafe', 'samm.alloc', 'Buffer.allocUnsafe', 'Buffer.alloc', 'new Uint8Array', 'view']
const CYCLES = ['scope cycle', 'buffer cycle', 'chunk cycle']
const BYTES_CASES = ['samm.allocUnsafe', 'samm.alloc', 'view']
const BYTES_BATCH = 20000

// Allocations per timed batch: enough to take tens of ms at every size.
// The cases that copy or zero nothing take 10^6 at every size.
function batch (name, size) {
  if (name === 'view' || name === 'samm.allocUnsafe') return 1000000
  return size <= 1024 ? 1000000 : size <= 16384 ? 200000 : 20000
}

// The cases at one size. Each runs n allocations and returns the sum of
// their lengths, kept in a local so that the loop allocates nothing else.
function makeCases (size) {
  const samm = require('../..')
  const { SammBuffer } = require('../../lib/scope')
  const { takeChunk, giveChunk } = require('../../lib/chunks')
  // SAMM allocates inside scopes that take about four chunks' worth each,
  // the way a request would, so chunk takes and closes are in the cost.
  const perScope = Math.max(8, Math.floor(256 * 1024 / Math.max(size, 1)) * 4)
  const scoped = (zero) => (n) => {
    let sum = 0
    for (let done = 0; done < n;) {
      const s = samm.scope()
      const k = Math.min(perScope, n - done)
      if (zero) for (let i = 0; i < k; i++) sum += s.alloc(size).length
      else for (let i = 0; i < k; i++) sum += s.allocUnsafe(size).length
      s.close()
      done += k
    }
    return sum
  }
  const each = (make) => (n) => {
    let sum = 0
    for (let i = 0; i < n; i++) sum += make().length
    return sum
  }
  return {
    'samm.allocUnsafe': scoped(false),
    'samm.alloc': scoped(true),
    'Buffer.allocUnsafe': each(() => Buffer.allocUnsafe(size)),
    'Buffer.alloc': each(() => Buffer.alloc(size)),
    'new Uint8Array': each(() => new Uint8Array(size)),
    // The floor of any allocation here: one Buffer view over an ArrayBuffer
    // that already exists, bumped through it as a scope does.
    view: (n) => {
      const ab = new ArrayBuffer(256 * 1024)
      const end = ab.byteLength
      const step = (size + 7) & ~7
      let sum = 0
      for (let i = 0, off = 0; i < n; i++) {
        if (size > end - off) off = 0
        sum += new SammBuffer(ab, off, size).length
        off += step
      }
      return sum
    },
    'scope cycle': (n) => {
      let sum = 0
      for (let i = 0; i < n; i++) {
        const s = samm.scope()
        for (let k = 0; k < 8; k++) sum += s.allocUnsafe(64).length
        s.close()
      }
      return sum
    },
    'buffer cycle': (n) => {
      let sum = 0
      for (let i = 0; i < n; i++) for (let k = 0; k < 8; k++) sum += Buffer.allocUnsafe(64).length
      return sum
    },
    // What a scope's close pays per chunk it used: the chunk moves to a fresh
    // ArrayBuffer (the old one detached) and back into the pool.
    'chunk cycle': (n) => {
      let sum = 0
      for (let i = 0; i < n; i++) {
        const ab = takeChunk()
        sum += ab.byteLength
        giveChunk(ab)
      }
      return sum
    }
  }
}

// ns per allocation (per iteration for the cycles).
function child (name, size) {
  const fn = makeCases(size)[name]
  const n = name.endsWith('cycle') ? 100000 : batch(name, size)
  let sink = 0
  for (let w = 0; w < 3; w++) sink += fn(n) // warm-up: JIT and heap sizing
  const times = []
  for (let t = 0; t < 5; t++) {
    const t0 = process.hrtime.bigint()
    sink += fn(n)
    times.push(Number(process.hrtime.bigint() - t0) / n)
  }
  process.stdout.write(JSON.stringify({ value: median(times), sink: sink > 0 }))
}

// V8 heap bytes per allocation (per iteration for the cycles): the growth of
// the used heap over k allocations between two readings with no collection
// in between (young generation sized to hold them; retried if one ran).
async function childBytes (name, size) {
  const v8 = require('node:v8')
  const { PerformanceObserver } = require('node:perf_hooks')
  const fn = makeCases(size)[name]
  const k = BYTES_BATCH
  let sink = 0
  for (let w = 0; w < 3; w++) sink += fn(k)
  let collections = 0
  new PerformanceObserver((list) => { collections += list.getEntries().length }).observe({ entryTypes: ['gc'] })
  for (let attempt = 0; attempt < 10; attempt++) {
    globalThis.gc()
    await new Promise((resolve) => setTimeout(resolve, 20))
    const seen = collections
    const before = v8.getHeapStatistics().used_heap_size
    sink += fn(k)
    const after = v8.getHeapStatistics().used_heap_size
    await new Promise((resolve) => setTimeout(resolve, 20))
    if (collections === seen) {
      process.stdout.write(JSON.stringify({ value: (after - before) / k, sink: sink > 0 }))
      return
    }
  }
  throw new Error(`a collection ran during every attempt for ${name} at ${size} B`)
}

function measure (name, size) {
  const out = execFileSync(process.execPath, [__filename, '--child', name, String(size)], { encoding: 'utf8' })
  return JSON.parse(out).value
}

const BYTES_FLAGS = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64']
function measureBytes (name, size) {
  const out = execFileSync(process.execPath, [...BYTES_FLAGS, __filename, '--child-bytes', name, String(size)], { encoding: 'utf8' })
  return JSON.parse(out).value
}

function sizeLabel (size) { return size >= 1024 ? `${size / 1024} KiB` : `${size} B` }

function median (v) {
  const s = [...v].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

function main () {
  const reps = Number(process.argv[2]) || 7
  const results = new Map()
  const add = (key, ns) => { if (!results.has(key)) results.set(key, []); results.get(key).push(ns) }
  for (let r = 0; r < reps; r++) {
    process.stderr.write(`repetition ${r + 1}/${reps}\n`)
    for (const size of SIZES) for (const name of CASES) add(`${name}@${size}`, measure(name, size))
    for (const name of CYCLES) add(name, measure(name, 64))
  }
  const fmt = (ns) => ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(1)} ns`
  console.log(`| size | ${CASES.join(' | ')} | allocUnsafe ratio | alloc ratio | allocUnsafe over view |`)
  console.log(`|---:|${CASES.map(() => '---:').join('|')}|---:|---:|---:|`)
  for (const size of SIZES) {
    const med = Object.fromEntries(CASES.map((name) => [name, median(results.get(`${name}@${size}`))]))
    console.log(`| ${sizeLabel(size)} | ${CASES.map((name) => fmt(med[name])).join(' | ')} | ` +
      `${(med['samm.allocUnsafe'] / med['Buffer.allocUnsafe']).toFixed(2)} | ${(med['samm.alloc'] / med['Buffer.alloc']).toFixed(2)} | ` +
      `${fmt(med['samm.allocUnsafe'] - med.view)} |`)
  }
  console.log(`\nscope open + 8 × 64 B allocUnsafe + close: ${fmt(median(results.get('scope cycle')))} ` +
    `(8 × Buffer.allocUnsafe(64): ${fmt(median(results.get('buffer cycle')))})`)
  console.log(`one chunk's take + hand-back at close (transfer to a fresh ArrayBuffer): ${fmt(median(results.get('chunk cycle')))}`)
  console.log(`medians of ${reps} interleaved repetitions, each measurement in a fresh process, node ${process.version}`)

  // Garbage per allocation: deterministic, measured once.
  const bytes = (name, size) => Math.round(measureBytes(name, size))
  console.log('\n| size | V8 heap bytes per samm.allocUnsafe | per samm.alloc | per view | allocUnsafe over view |')
  console.log('|---:|---:|---:|---:|---:|')
  for (const size of SIZES) {
    const [unsafe, zeroed, view] = BYTES_CASES.map((name) => bytes(name, size))
    console.log(`| ${sizeLabel(size)} | ${unsafe} B | ${zeroed} B | ${view} B | ${unsafe - view} B |`)
  }
  console.log(`\nV8 heap bytes per scope open + 8 × 64 B allocUnsafe + close: ${bytes('scope cycle', 64)} B ` +
    `(8 × Buffer.allocUnsafe(64): ${bytes('buffer cycle', 64)} B); ` +
    `used-heap growth over ${BYTES_BATCH} iterations with no collection in between, node ${BYTES_FLAGS.join(' ')}`)
}

if (process.argv[2] === '--child') child(process.argv[3], Number(process.argv[4]))
else if (process.argv[2] === '--child-bytes') childBytes(process.argv[3], Number(process.argv[4]))
else main()
