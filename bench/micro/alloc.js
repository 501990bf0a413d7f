'use strict'
// Micro-benchmark: ns per allocation of SAMM's short class (in a scope)
// against Buffer.allocUnsafe, Buffer.alloc and new Uint8Array, plus the cost
// of a scope open + 8 small allocations + close.
//
// Each measurement runs in a fresh child process (warm-up, then one timed
// batch), so that one case's garbage never lands in another's timing; the
// runs are interleaved (every case once, then again, REPS times) and the
// table shows medians and ratios.
//
//   node bench/micro/alloc.js [reps]      (default 7)

const { execFileSync } = require('node:child_process')

const SIZES = [64, 1024, 16 * 1024, 256 * 1024]
const CASES = ['samm.allocUnsafe', 'samm.alloc', 'Buffer.allocUnsafe', 'Buffer.alloc', 'new Uint8Array']

// Allocations per timed batch: enough to take several ms at every size.
function batch (size) { return size <= 1024 ? 1000000 : size <= 16384 ? 200000 : 20000 }

function child (name, size) {
  const samm = require('../..')
  let sink = 0
  // SAMM allocates inside scopes that take about four chunks' worth each,
  // the way a request would, so chunk takes and closes are in the cost.
  const perScope = Math.max(8, Math.floor(256 * 1024 / Math.max(size, 1)) * 4)
  const scoped = (zero) => (n) => {
    for (let done = 0; done < n;) {
      const s = samm.scope()
      const k = Math.min(perScope, n - done)
      if (zero) for (let i = 0; i < k; i++) sink += s.alloc(size).length
      else for (let i = 0; i < k; i++) sink += s.allocUnsafe(size).length
      s.close()
      done += k
    }
  }
  const fns = {
    'samm.allocUnsafe': scoped(false),
    'samm.alloc': scoped(true),
    'Buffer.allocUnsafe': (n) => { for (let i = 0; i < n; i++) sink += Buffer.allocUnsafe(size).length },
    'Buffer.alloc': (n) => { for (let i = 0; i < n; i++) sink += Buffer.alloc(size).length },
    'new Uint8Array': (n) => { for (let i = 0; i < n; i++) sink += new Uint8Array(size).length },
    'scope cycle': (n) => {
      for (let i = 0; i < n; i++) {
        const s = samm.scope()
        for (let k = 0; k < 8; k++) sink += s.allocUnsafe(64).length
        s.close()
      }
    },
    'buffer cycle': (n) => { for (let i = 0; i < n; i++) for (let k = 0; k < 8; k++) sink += Buffer.allocUnsafe(64).length }
  }
  const fn = fns[name]
  const n = name.endsWith('cycle') ? 100000 : batch(size)
  for (let w = 0; w < 3; w++) fn(n) // warm-up: JIT and heap sizing
  const t0 = process.hrtime.bigint()
  fn(n)
  const ns = Number(process.hrtime.bigint() - t0) / n
  process.stdout.write(JSON.stringify({ ns, sink: sink > 0 }))
}

function measure (name, size) {
  const out = execFileSync(process.execPath, [__filename, '--child', name, String(size)], { encoding: 'utf8' })
  return JSON.parse(out).ns
}

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
    add('scope cycle', measure('scope cycle', 64))
    add('buffer cycle', measure('buffer cycle', 64))
  }
  const fmt = (ns) => ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(1)} ns`
  console.log(`| size | ${CASES.join(' | ')} | allocUnsafe ratio | alloc ratio |`)
  console.log(`|---:|${CASES.map(() => '---:').join('|')}|---:|---:|`)
  for (const size of SIZES) {
    const med = Object.fromEntries(CASES.map((name) => [name, median(results.get(`${name}@${size}`))]))
    const label = size >= 1024 ? `${size / 1024} KiB` : `${size} B`
    console.log(`| ${label} | ${CASES.map((name) => fmt(med[name])).join(' | ')} | ` +
      `${(med['samm.allocUnsafe'] / med['Buffer.allocUnsafe']).toFixed(2)} | ${(med['samm.alloc'] / med['Buffer.alloc']).toFixed(2)} |`)
  }
  console.log(`\nscope open + 8 × 64 B allocUnsafe + close: ${fmt(median(results.get('scope cycle')))} ` +
    `(8 × Buffer.allocUnsafe(64): ${fmt(median(results.get('buffer cycle')))})`)
  console.log(`medians of ${reps} interleaved repetitions, each measurement in a fresh process, node ${process.version}`)
}

if (process.argv[2] === '--child') child(process.argv[3], Number(process.argv[4]))
else main()
