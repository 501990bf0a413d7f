'use strict'
// What a medium or long block's alloc and free() cost on the running Node
// line: samm.free as it is - the binding checks the block, transfer() moves
// its memory, the binding detaches the fresh ArrayBuffer, so that a detach
// key a caller set is found rather than aborting (lib/index.js) - against
// the binding detaching the Buffer's own ArrayBuffer in one call, and
// against Buffer.allocUnsafe left to the collector. Each case runs in rounds
// interleaved with the others; medians.
//
//   node bench/micro/free.js [rounds]        (default 9)

const samm = require('../..')
const binding = require('../../lib/binding')

const ROUNDS = Number(process.argv[2]) || 9
const N = 20000
const SIZE = 4096

function median (xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]
}

const medium = samm.site('bench.medium', { class: 'medium' })
const cases = {
  'samm.allocUnsafe + samm.free' () {
    for (let i = 0; i < N; i++) samm.free(samm.allocUnsafe(SIZE, medium))
  },
  'samm.allocUnsafe + one binding detach' () {
    for (let i = 0; i < N; i++) binding.free(samm.allocUnsafe(SIZE, medium))
  },
  'Buffer.allocUnsafe (collected)' () {
    for (let i = 0; i < N; i++) Buffer.allocUnsafe(SIZE)
  }
}

const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, fn] of Object.entries(cases)) {
    const t0 = process.hrtime.bigint()
    fn()
    times[name].push(Number(process.hrtime.bigint() - t0) / N)
  }
}
console.log(`| Node ${process.version} | ns per ${SIZE} B block, alloc and free (median of ${ROUNDS}) |`)
console.log('|---|---|')
for (const [name, xs] of Object.entries(times)) console.log(`| ${name} | ${median(xs).toFixed(0)} |`)
