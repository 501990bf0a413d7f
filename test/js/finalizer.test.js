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
