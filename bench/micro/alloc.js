'use strict'
// Micro-benchmark: ns per allocation of SAMM's short class (in a scope)
// against Buffer.allocUnsafe, Buffer.alloc and new Uint8Array, plus the cost
// of a scope open + 8 small allocations + close. Every case runs REPS times,
// interleaved; the table shows medians and ratios.
//
//   node --expose-gc bench/micro/alloc.js [reps]      (default 7)

const samm = require('../..')

const REPS = Number(process.argv[2]) || 7
const SIZES = [64, 1024, 16 * 1024, 256 * 1024]
const short = samm.site('bench.short', { class: 'short' })
let sink = 0

// Allocations per timed batch: enough to take a few ms at every size.
function batch (size) { return size <= 1024 ? 200000 : size <= 16384 ? 20000 : 2000 }

// Each case allocates n buffers of size bytes and returns ns per allocation.
// Scope cases allocate inside scopes of `perScope` allocations, the way a
// request would, so chunk takes and closes are part of the cost.
function timeIt (n, fn) {
  const t0 = process.hrtime.bigint()
  fn(n)
  return Number(process.hrtime.bigint() - t0) / n
}

function scoped (size, n, zero) {
  const perScope = Math.max(8, Math.floor(256 * 1024 / size) * 4)
  for (let done = 0; done < n;) {
    const s = samm.scope()
    const k = Math.min(perScope, n - done)
    if (zero) for (let i = 0; i < k; i++) sink += s.alloc(size).length
    else for (let i = 0; i < k; i++) sink += s.allocUnsafe(size).length
    s.close()
    done += k
  }
}

const cases = {
  'samm.allocUnsafe': (size) => (n) => scoped(size, n, false),
  'samm.alloc': (size) => (n) => scoped(size, n, true),
  'Buffer.allocUnsafe': (size) => (n) => { for (let i = 0; i < n; i++) sink += Buffer.allocUnsafe(size).length },
  'Buffer.alloc': (size) => (n) => { for (let i = 0; i < n; i++) sink += Buffer.alloc(size).length },
  'new Uint8Array': (size) => (n) => { for (let i = 0; i < n; i++) sink += new Uint8Array(size).length }
}

function scopeCycle (n) {
  for (let i = 0; i < n; i++) {
    const s = samm.scope()
    for (let k = 0; k < 8; k++) sink += s.allocUnsafe(64).length
    s.close()
  }
}

function bufferCycle (n) {
  for (let i = 0; i < n; i++) for (let k = 0; k < 8; k++) sink += Buffer.allocUnsafe(64).length
}

function median (v) {
  const s = [...v].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

const results = {}
const names = Object.keys(cases)
for (const size of SIZES) for (const name of names) results[`${name}@${size}`] = []
results.scopeCycle = []
results.bufferCycle = []

// Warm-up (JIT), not recorded.
for (const size of SIZES) for (const name of names) timeIt(batch(size) / 10, cases[name](size))

for (let r = 0; r < REPS; r++) {
  for (const size of SIZES) {
    for (const name of names) {
      global.gc?.()
      results[`${name}@${size}`].push(timeIt(batch(size), cases[name](size)))
    }
  }
  global.gc?.()
  results.scopeCycle.push(timeIt(100000, scopeCycle))
  results.bufferCycle.push(timeIt(100000, bufferCycle))
}

const fmt = (ns) => ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(1)} ns`
console.log(`| size | ${names.join(' | ')} | allocUnsafe ratio | alloc ratio |`)
console.log(`|---:|${names.map(() => '---:').join('|')}|---:|---:|`)
for (const size of SIZES) {
  const med = Object.fromEntries(names.map((name) => [name, median(results[`${name}@${size}`])]))
  const label = size >= 1024 ? `${size / 1024} KiB` : `${size} B`
  console.log(`| ${label} | ${names.map((name) => fmt(med[name])).join(' | ')} | ` +
    `${(med['samm.allocUnsafe'] / med['Buffer.allocUnsafe']).toFixed(2)} | ${(med['samm.alloc'] / med['Buffer.alloc']).toFixed(2)} |`)
}
const cyc = median(results.scopeCycle)
const buf = median(results.bufferCycle)
console.log(`\nscope open + 8 × 64 B allocUnsafe + close: ${fmt(cyc)} (8 × Buffer.allocUnsafe(64): ${fmt(buf)})`)
console.log(`medians of ${REPS} interleaved repetitions, node ${process.version}` + (global.gc ? ', gc() between cases' : ''))
if (sink === 0) console.log('unreachable')
