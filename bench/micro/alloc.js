'use strict'
// Micro-benchmark: ns per allocation of SAMM's short class (in a scope)
// against Buffer.allocUnsafe, Buffer.alloc and new Uint8Array, plus the cost
// of a scope open + 8 small allocations + close. Two floors are measured in
// the same run: a Buffer view over an existing ArrayBuffer (what every SAMM
// allocation returns) and one chunk's take and hand-back at a scope's close
// (the re-wrap that detaches it).
//
// SAMM allocates the way a busy service does: IN_FLIGHT scopes are open at
// once, each allocates four chunks' worth (at least 8 allocations), then
// all of them close. The three phases are timed apart, so the tables show
// what the allocation calls cost and what the scopes' open and close add
// per allocation (one re-wrap per chunk or span a scope used); their sum
// is the full cost.
//
// Each measurement runs in a fresh child process (warm-up, then the median
// of five timed batches), so that one case's garbage never lands in
// another's timing; the runs are interleaved (every case once, then again,
// REPS times) and the table shows medians and ratios.
//
//   node bench/micro/alloc.js [reps]      (default 7)
//   node bench/micro/alloc.js --site [reps]   only the site cases (escape watch on and off)

const { execFileSync } = require('node:child_process')
const { median } = require('../median')

const SIZES = [64, 1024, 16 * 1024, 256 * 1024]
const CASES = ['samm.allocUnsafe', 'samm.alloc', 'Buffer.allocUnsafe', 'Buffer.alloc', 'new Uint8Array', 'view']
const SAMM_CASES = ['samm.allocUnsafe', 'samm.alloc']
// A short-class site's allocation (scope.allocUnsafe(size, site)), with the
// escape watch at its defaults and with it off: what the watch costs.
const SITE_CASES = ['site.allocUnsafe, watch off', 'site.allocUnsafe, watch on']
const siteEnv = (name) => name.endsWith('watch off') ? { SAMM_ESCAPE_SAMPLE: '0' } : {}
const SITE_SIZES = [64, 1024, 16 * 1024]
const CYCLES = ['scope cycle', 'buffer cycle', 'chunk cycle']
const BYTES_CASES = ['samm.allocUnsafe', 'samm.alloc', 'view']
const BYTES_BATCH = 20000
// Chunk memory the phased garbage reading may hold at once (its scopes are
// all open together).
const BYTES_SCOPE_MEMORY = 256 * 1024 * 1024
const IN_FLIGHT = 4

// Allocations per timed batch: enough to take tens of ms at every size.
// The cases that copy or zero nothing take 10^6 at every size.
function batch (name, size) {
  if (name === 'view' || name === 'samm.allocUnsafe' || SITE_CASES.includes(name)) return 1000000
  return size <= 1024 ? 1000000 : size <= 16384 ? 200000 : 20000
}

// Allocations per SAMM scope: four chunks' worth, and at least eight.
function perScope (size) { return Math.max(8, Math.floor(256 * 1024 / size) * 4) }

// k allocations of size in scope s (alloc when zero, else allocUnsafe);
// returns the sum of their lengths.
function allocateIn (s, zero, size, k) {
  let sum = 0
  if (zero) for (let i = 0; i < k; i++) sum += s.alloc(size).length
  else for (let i = 0; i < k; i++) sum += s.allocUnsafe(size).length
  return sum
}

// What timing an empty phase reads, in ms: the clock's own cost, taken off
// every phase below (~40 ns here).
function clockCost (performance) {
  const reads = []
  for (let r = 0; r < 9; r++) {
    let spent = 0
    for (let i = 0; i < 10000; i++) {
      const t = performance.now()
      spent += performance.now() - t
    }
    reads.push(spent / 10000)
  }
  return median(reads)
}

// k allocations of size at a site in scope s; the sum of their lengths.
function allocateAtSite (s, site, size, k) {
  let sum = 0
  for (let i = 0; i < k; i++) sum += s.allocUnsafe(size, site).length
  return sum
}

// SAMM's cases: rounds of IN_FLIGHT scopes, each making perScope(size)
// allocations, with the phases timed apart. Runs at least n allocations and
// returns ns per allocation of the allocation calls (calls) and of the
// scopes' open and close (scopes). With a site, the allocations go through
// it (allocUnsafe only).
function makePhased (size, zero, site) {
  const samm = require('../..')
  const { performance } = require('node:perf_hooks')
  const k = perScope(size)
  const scopes = new Array(IN_FLIGHT)
  return (n) => {
    const clock = clockCost(performance)
    let calls = 0
    let edges = 0
    let sum = 0
    let done = 0
    while (done < n) {
      const t0 = performance.now()
      for (let j = 0; j < IN_FLIGHT; j++) scopes[j] = samm.scope()
      const t1 = performance.now()
      if (site === undefined) for (let j = 0; j < IN_FLIGHT; j++) sum += allocateIn(scopes[j], zero, size, k)
      else for (let j = 0; j < IN_FLIGHT; j++) sum += allocateAtSite(scopes[j], site, size, k)
      const t2 = performance.now()
      for (let j = 0; j < IN_FLIGHT; j++) scopes[j].close()
      const t3 = performance.now()
      calls += t2 - t1 - clock
      edges += (t1 - t0) + (t3 - t2) - 2 * clock
      done += IN_FLIGHT * k
    }
    return { calls: calls * 1e6 / done, scopes: edges * 1e6 / done, sink: sum > 0 }
  }
}

// The other cases at one size. Each runs n allocations and returns the sum
// of their lengths, kept in a local so that the loop allocates nothing else.
function makeCases (size) {
  const samm = require('../..')
  const { SammBuffer } = require('../../lib/scope')
  const { take, lastId, giveBack } = require('../../lib/chunks')
  const each = (make) => (n) => {
    let sum = 0
    for (let i = 0; i < n; i++) sum += make().length
    return sum
  }
  return {
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
    // What a scope pays per chunk it used: a chunk taken from the pool, and
    // at the close recycled (the old ArrayBuffer detached, a fresh one over
    // the same memory back into the pool: lib/chunks.js).
    'chunk cycle': (n) => {
      let sum = 0
      for (let i = 0; i < n; i++) {
        const ab = take(0)
        sum += ab.byteLength
        giveBack(lastId(), ab, false)
      }
      return sum
    }
  }
}

// ns per allocation (per iteration for the cycles); for SAMM's cases also
// the split into calls and scopes, each the median over the batches.
function child (name, size) {
  if (SAMM_CASES.includes(name) || SITE_CASES.includes(name)) {
    const site = SITE_CASES.includes(name) ? require('../..').site('bench.short', { class: 'short' }) : undefined
    const fn = makePhased(size, name === 'samm.alloc', site)
    const n = batch(name, size)
    for (let w = 0; w < 3; w++) fn(n) // warm-up: JIT, heap sizing, the chunk pool
    const runs = []
    for (let t = 0; t < 5; t++) runs.push(fn(n))
    process.stdout.write(JSON.stringify({
      value: median(runs.map((r) => r.calls + r.scopes)),
      calls: median(runs.map((r) => r.calls)),
      scopes: median(runs.map((r) => r.scopes))
    }))
    return
  }
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
// the used heap between readings with no collection in between (young
// generation sized to hold it all; retried if one ran), the least of five
// such readings: code the JIT compiles lands in the same heap, and a
// tier-up inside one reading adds up to ~15 B per allocation. SAMM's cases open
// all their scopes, allocate, then close them, with a reading between the
// phases; each reading leaves under 1 KiB of its own, under 1 B per
// allocation here. Resolves to { value, calls, scopes } (calls and scopes
// for SAMM's cases only).
async function childBytes (name, size) {
  const v8 = require('node:v8')
  const { PerformanceObserver } = require('node:perf_hooks')
  const used = () => v8.getHeapStatistics().used_heap_size
  let measure
  if (SAMM_CASES.includes(name)) {
    const samm = require('../..')
    const zero = name === 'samm.alloc'
    const k = Math.min(BYTES_BATCH, Math.floor(BYTES_SCOPE_MEMORY / size))
    const per = Math.min(perScope(size), k)
    const scopes = new Array(Math.ceil(k / per))
    measure = () => {
      const r0 = used()
      for (let j = 0; j < scopes.length; j++) scopes[j] = samm.scope()
      const r1 = used()
      let sum = 0
      for (let j = 0; j < scopes.length; j++) sum += allocateIn(scopes[j], zero, size, per)
      const r2 = used()
      for (let j = 0; j < scopes.length; j++) scopes[j].close()
      const r3 = used()
      const n = scopes.length * per
      return { value: (r3 - r0) / n, calls: (r2 - r1) / n, scopes: (r1 - r0 + r3 - r2) / n, sink: sum > 0 }
    }
  } else {
    const fn = makeCases(size)[name]
    measure = () => {
      const before = used()
      const sum = fn(BYTES_BATCH)
      return { value: (used() - before) / BYTES_BATCH, sink: sum > 0 }
    }
  }
  for (let w = 0; w < 3; w++) measure()
  let collections = 0
  new PerformanceObserver((list) => { collections += list.getEntries().length }).observe({ entryTypes: ['gc'] })
  const readings = []
  for (let attempt = 0; attempt < 20 && readings.length < 5; attempt++) {
    globalThis.gc()
    await new Promise((resolve) => setTimeout(resolve, 20))
    const seen = collections
    const result = measure()
    await new Promise((resolve) => setTimeout(resolve, 20))
    if (collections === seen) readings.push(result)
  }
  if (readings.length > 0) {
    process.stdout.write(JSON.stringify(readings.reduce((a, b) => b.value < a.value ? b : a)))
    return
  }
  throw new Error(`a collection ran during every attempt for ${name} at ${size} B`)
}

function measure (name, size) {
  const out = execFileSync(process.execPath, [__filename, '--child', name, String(size)], { encoding: 'utf8', env: { ...process.env, ...siteEnv(name) } })
  return JSON.parse(out)
}

const BYTES_FLAGS = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64']
function measureBytes (name, size) {
  const out = execFileSync(process.execPath, [...BYTES_FLAGS, __filename, '--child-bytes', name, String(size)], { encoding: 'utf8' })
  return JSON.parse(out)
}

function sizeLabel (size) { return size >= 1024 ? `${size / 1024} KiB` : `${size} B` }

function main () {
  const reps = Number(process.argv[2]) || 7
  const results = new Map()
  const add = (key, ns) => { if (!results.has(key)) results.set(key, []); results.get(key).push(ns) }
  const med = (key) => median(results.get(key))
  for (let r = 0; r < reps; r++) {
    process.stderr.write(`repetition ${r + 1}/${reps}\n`)
    for (const size of SIZES) {
      for (const name of CASES) {
        const m = measure(name, size)
        add(`${name}@${size}`, m.value)
        if (m.calls !== undefined) {
          add(`${name} calls@${size}`, m.calls)
          add(`${name} scopes@${size}`, m.scopes)
        }
      }
    }
    for (const name of CYCLES) add(name, measure(name, 64).value)
    for (const size of SITE_SIZES) for (const name of SITE_CASES) add(`${name}@${size}`, measure(name, size).value)
  }
  const fmt = (ns) => ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(1)} ns`
  console.log(`| size | ${CASES.join(' | ')} | allocUnsafe ratio | alloc ratio |`)
  console.log(`|---:|${CASES.map(() => '---:').join('|')}|---:|---:|`)
  for (const size of SIZES) {
    const at = (name) => med(`${name}@${size}`)
    console.log(`| ${sizeLabel(size)} | ${CASES.map((name) => fmt(at(name))).join(' | ')} | ` +
      `${(at('samm.allocUnsafe') / at('Buffer.allocUnsafe')).toFixed(2)} | ${(at('samm.alloc') / at('Buffer.alloc')).toFixed(2)} |`)
  }
  console.log(`\nSAMM's cost split (${IN_FLIGHT} scopes open at once): the allocation calls, and what the scopes' open and close add per allocation.\n`)
  console.log('| size | allocations per scope | allocUnsafe calls | + open and close | alloc calls | + open and close | allocUnsafe calls over view |')
  console.log('|---:|---:|---:|---:|---:|---:|---:|')
  for (const size of SIZES) {
    const at = (key) => med(`${key}@${size}`)
    console.log(`| ${sizeLabel(size)} | ${perScope(size)} | ${fmt(at('samm.allocUnsafe calls'))} | ${fmt(at('samm.allocUnsafe scopes'))} | ` +
      `${fmt(at('samm.alloc calls'))} | ${fmt(at('samm.alloc scopes'))} | ${fmt(at('samm.allocUnsafe calls') - at('view'))} |`)
  }
  console.log(`\nscope open + 8 × 64 B allocUnsafe + close: ` +
    `${fmt(med('scope cycle'))} (8 × Buffer.allocUnsafe(64): ${fmt(med('buffer cycle'))})`)
  console.log(`one chunk's take + hand-back at close (re-wrapped in a fresh ArrayBuffer): ${fmt(med('chunk cycle'))}`)
  console.log('\nThrough a short-class site (scope.allocUnsafe(size, site)), the escape watch off (SAMM_ESCAPE_SAMPLE=0) and at its defaults.\n')
  console.log('| size | watch off | watch on | difference |')
  console.log('|---:|---:|---:|---:|')
  for (const size of SITE_SIZES) {
    const off = med(`${SITE_CASES[0]}@${size}`)
    const on = med(`${SITE_CASES[1]}@${size}`)
    console.log(`| ${sizeLabel(size)} | ${fmt(off)} | ${fmt(on)} | ${fmt(on - off)} |`)
  }
  console.log(`medians of ${reps} interleaved repetitions, each measurement in a fresh process, node ${process.version}`)

  // Garbage per allocation: deterministic, measured once.
  const split = (m) => `${Math.round(m.value)} B (${Math.round(m.calls)} + ${Math.round(m.scopes)})`
  console.log('\n| size | V8 heap bytes per samm.allocUnsafe (calls + open and close) | per samm.alloc | per view | allocUnsafe calls over view |')
  console.log('|---:|---:|---:|---:|---:|')
  for (const size of SIZES) {
    const [unsafe, zeroed, view] = BYTES_CASES.map((name) => measureBytes(name, size))
    console.log(`| ${sizeLabel(size)} | ${split(unsafe)} | ${split(zeroed)} | ${Math.round(view.value)} B | ${Math.round(unsafe.calls - view.value)} B |`)
  }
  console.log(`\nV8 heap bytes per scope open + 8 × 64 B allocUnsafe + close: ${Math.round(measureBytes('scope cycle', 64).value)} B ` +
    `(8 × Buffer.allocUnsafe(64): ${Math.round(measureBytes('buffer cycle', 64).value)} B); ` +
    `used-heap growth with no collection in between, node ${BYTES_FLAGS.join(' ')}`)
}

if (process.argv[2] === '--child') child(process.argv[3], Number(process.argv[4]))
else if (process.argv[2] === '--child-bytes') childBytes(process.argv[3], Number(process.argv[4]))
else if (process.argv[2] === '--site') siteOnly(Number(process.argv[3]) || 7)
else main()

// The site cases alone: what the escape watch costs per allocation.
function siteOnly (reps) {
  const results = new Map()
  for (let r = 0; r < reps; r++) {
    process.stderr.write(`repetition ${r + 1}/${reps}\n`)
    for (const size of SITE_SIZES) {
      for (const name of SITE_CASES) {
        const key = `${name}@${size}`
        if (!results.has(key)) results.set(key, [])
        results.get(key).push(measure(name, size).value)
      }
    }
  }
  const fmt = (ns) => ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(1)} ns`
  // On a shared machine the least of the repetitions is the one least
  // disturbed: both are shown.
  console.log('| size | site.allocUnsafe, watch off (median / least) | watch on (median / least) | difference of the least |')
  console.log('|---:|---:|---:|---:|')
  for (const size of SITE_SIZES) {
    const off = results.get(`${SITE_CASES[0]}@${size}`)
    const on = results.get(`${SITE_CASES[1]}@${size}`)
    console.log(`| ${sizeLabel(size)} | ${fmt(median(off))} / ${fmt(Math.min(...off))} | ${fmt(median(on))} / ${fmt(Math.min(...on))} | ${fmt(Math.min(...on) - Math.min(...off))} |`)
  }
  console.log(`${reps} interleaved repetitions, each measurement in a fresh process (allocation calls plus the scopes' open and close), node ${process.version}`)
}
