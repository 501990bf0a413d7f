'use strict'
// Medium and long buffers dropped without free() are returned by their
// finaliser once the garbage collector has collected them.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const v8 = require('node:v8')
const vm = require('node:vm')
const samm = require('../..')

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')

async function collectGarbage () {
  for (let i = 0; i < 6; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

test('dropped medium and long buffers return to their arenas', async () => {
  const medium = samm.site('fin.medium', { class: 'medium' })
  const long = samm.site('fin.long', { class: 'long' })
  const base = samm.stats()
  ;(() => {
    for (let i = 0; i < 2000; i++) samm.allocUnsafe(1000, medium).fill(1)
    for (let i = 0; i < 200; i++) samm.allocUnsafe(50000, long).fill(2)
  })()
  const mid = samm.stats()
  assert.ok(mid.slab.inUse >= base.slab.inUse + 2000 * 1000)
  await collectGarbage()
  const after = samm.stats()
  assert.equal(after.slab.inUse, base.slab.inUse)
  assert.equal(after.region.inUse, base.region.inUse)
  assert.equal(after.slab.frees - base.slab.frees, 2000)
})

test('a freed buffer is not freed again by its finaliser', async () => {
  const medium = samm.site('fin.medium2', { class: 'medium' })
  ;(() => {
    for (let i = 0; i < 500; i++) samm.free(samm.alloc(64, medium))
  })()
  const before = samm.stats()
  // New blocks reuse the freed slots; the old finalisers must leave them alone.
  const live = []
  for (let i = 0; i < 500; i++) live.push(samm.alloc(64, medium).fill(i & 0xff))
  await collectGarbage()
  const after = samm.stats()
  assert.equal(after.invalidFrees, before.invalidFrees)
  assert.equal(after.slab.inUse, before.slab.inUse + 500 * 64)
  live.forEach((b, i) => assert.ok(b.every((x) => x === (i & 0xff))))
  for (const b of live) samm.free(b)
})

test('scopes dropped without close() give their memory back once collected', async () => {
  const chunk = samm.config().chunkSize
  const large = 4 * chunk + 4096 // larger than a span: a block of its own
  const short = samm.site('fin.short', { class: 'short' })
  const base = samm.stats().bump.inUse
  ;(() => {
    for (let i = 0; i < 20; i++) {
      const s = samm.scope() // never closed
      s.allocUnsafe(large).fill(1)
      s.allocUnsafe(100).fill(2)
    }
    // A run() whose promise never settles is a dropped scope too.
    for (let i = 0; i < 5; i++) samm.run(() => { samm.allocUnsafe(large, short).fill(3); return new Promise(() => {}) })
  })()
  assert.ok(samm.stats().bump.inUse >= base + 25 * large)
  await collectGarbage()
  assert.equal(samm.stats().bump.inUse, base, 'every block and chunk came back')
  samm.collect()
  assert.equal(samm.stats().chunksLent, 0)
  // Nothing is left that would pin the heap's structure.
  samm.configure({ chunkSize: 2 * chunk })
  samm.configure({ chunkSize: chunk })
})

test('the budget is not spent on medium and long buffers that are garbage', async () => {
  const { maxBytes } = samm.config()
  const long = samm.site('fin.long-churn', { class: 'long' })
  const medium = samm.site('fin.medium-churn', { class: 'medium' })
  samm.configure({ maxBytes: 256 * 1024 * 1024 })
  try {
    // 10 GiB of 1 MiB long buffers and 1.25 GiB of 128 KiB medium ones,
    // dropped at once, the loop turning now and then as a service's does.
    for (let i = 0; i < 10000; i++) {
      samm.allocUnsafe(1024 * 1024, long)[0] = 1
      if (i % 8 === 0) samm.allocUnsafe(128 * 1024, medium)[0] = 1
      if (i % 16 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    assert.ok(samm.stats().highWater <= 256 * 1024 * 1024)
  } finally {
    await collectGarbage()
    samm.configure({ maxBytes })
  }
})
