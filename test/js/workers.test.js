'use strict'
// Each worker thread has its own heap; terminating a worker while it allocates
// releases all of it.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { Worker } = require('node:worker_threads')
const samm = require('../..')

const workerSource = `
const { parentPort } = require('node:worker_threads')
const samm = require(${JSON.stringify(path.join(__dirname, '..', '..'))})
const short = samm.site('w.short', { class: 'short' })
const medium = samm.site('w.medium', { class: 'medium' })
const long = samm.site('w.long', { class: 'long' })
const kept = []
let rounds = 0
function spin () {
  for (let i = 0; i < 20; i++) {
    samm.run(() => { for (let k = 0; k < 50; k++) samm.allocUnsafe(2048, short).fill(k) })
    kept.push(samm.allocUnsafe(4096, medium), samm.allocUnsafe(100000, long))
    if (kept.length > 200) samm.free(kept.shift())
  }
  if (++rounds === 2) parentPort.postMessage(samm.stats().sites['w.short'].allocs)
  setImmediate(spin)
}
spin()
`

// Runs a worker on source until its first message, which check() sees
// before the worker is terminated; returns the message.
async function runWorker (source = workerSource, check = () => {}) {
  const w = new Worker(source, { eval: true })
  const message = await new Promise((resolve, reject) => {
    w.once('message', resolve)
    w.once('error', reject)
  })
  check(message)
  await w.terminate()
  return message
}

function rss () { return process.memoryUsage.rss() }

// How much the resident set grew over 40 workers on source, after 5 to
// warm up.
async function rssGrowthOverWorkers (source, check) {
  for (let i = 0; i < 5; i++) await runWorker(source, check)
  global.gc?.()
  const before = rss()
  for (let i = 0; i < 40; i++) await runWorker(source, check)
  return rss() - before
}

test('60 workers started and terminated while allocating leave no memory behind', async (t) => {
  for (let i = 0; i < 10; i++) assert.ok(await runWorker() >= 2000) // warm-up
  global.gc?.()
  const before = rss()
  for (let i = 0; i < 50; i++) assert.ok(await runWorker() >= 2000)
  const growth = rss() - before
  console.log(`# RSS growth over 50 workers: ${(growth / 1048576).toFixed(1)} MiB`)
  // Each worker held ~20 MB of SAMM memory; leaking it would add ~1 GB.
  // Under AddressSanitizer freed memory sits in its quarantine: RSS says
  // nothing there, the sanitizer watches the memory itself.
  if (process.env.SAMM_SANITIZED) t.diagnostic('RSS not checked under AddressSanitizer (quarantine)')
  else assert.ok(growth < 64 * 1024 * 1024, `RSS grew by ${(growth / 1048576).toFixed(1)} MiB`)
  assert.equal(samm.stats().scopesOpen, 0)
})

test('workers terminated while a scope holds a span leave it behind neither', async (t) => {
  const source = `
    const { parentPort } = require('node:worker_threads')
    const samm = require(${JSON.stringify(path.join(__dirname, '..', '..'))})
    for (let i = 0; i < 20; i++) samm.run(() => samm.current().allocUnsafe(900000).fill(i))
    const open = samm.scope()
    open.allocUnsafe(900000).fill(1)
    parentPort.postMessage('holding')
    setInterval(() => open.allocUnsafe(8), 1000)
  `
  const growth = await rssGrowthOverWorkers(source)
  console.log(`# RSS growth over 40 workers stopped with a scope open: ${(growth / 1048576).toFixed(1)} MiB`)
  // Each worker's open scope held a span of 1 MiB, written; kept mapped
  // they would add ~40 MiB.
  if (process.env.SAMM_SANITIZED) t.diagnostic('RSS not checked under AddressSanitizer (quarantine)')
  else assert.ok(growth < 20 * 1024 * 1024, `RSS grew by ${(growth / 1048576).toFixed(1)} MiB`)
})

test('workers whose scope buffers were marked untransferable leave that memory behind neither', async (t) => {
  // From Node 24 on the mark is a detach key: the close cannot detach the
  // chunk, which then waits for its finaliser (or the worker's exit). Node
  // aborts at an environment's exit while such an ArrayBuffer is alive
  // (docs/memory-safety.md), so the worker lets them be collected first.
  const source = `
    const { parentPort, markAsUntransferable } = require('node:worker_threads')
    const samm = require(${JSON.stringify(path.join(__dirname, '..', '..'))})
    const { fullCollection } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'lib', 'collections'))})
    let collected = 0
    const registry = new FinalizationRegistry(() => collected++)
    function closeMarked () {
      for (let i = 0; i < 4; i++) {
        const s = samm.scope()
        const buf = s.allocUnsafe(900000).fill(i)
        markAsUntransferable(buf.buffer)
        registry.register(buf.buffer, i)
        s.close()
      }
    }
    closeMarked()
    let tries = 0
    ;(function wait () {
      fullCollection()
      if (collected === 4 || ++tries === 200) parentPort.postMessage(collected)
      else setTimeout(wait, 5)
    })()
    setInterval(() => {}, 1000)
  `
  const growth = await rssGrowthOverWorkers(source, (collected) => {
    assert.equal(collected, 4, 'the marked ArrayBuffers were collected inside the worker')
  })
  console.log(`# RSS growth over 40 workers with marked scope buffers: ${(growth / 1048576).toFixed(1)} MiB`)
  // Four written 1 MiB spans per worker: kept mapped they would add ~160 MiB.
  if (process.env.SAMM_SANITIZED) t.diagnostic('RSS not checked under AddressSanitizer (quarantine)')
  else assert.ok(growth < 40 * 1024 * 1024, `RSS grew by ${(growth / 1048576).toFixed(1)} MiB`)
})
