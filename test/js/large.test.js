'use strict'
// Scope allocations larger than a span: blocks of their own, reused from
// the large-block cache. Stale views of a closed scope read as length 0,
// alloc() reads zero over reused memory, and a block the cache can serve
// maps nothing new.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const samm = require('../..')

const MiB = 1024 * 1024
const short = samm.site('large.test', { class: 'short' })

// Every 4 KiB page's first and last byte, and the last byte.
function allEqual (buf, value) {
  for (let i = 0; i < buf.length; i += 4096) {
    if (buf[i] !== value || buf[Math.min(i + 4095, buf.length - 1)] !== value) return false
  }
  return true
}

test('sizes from a span to 64 MiB: stale views are empty, alloc is zero over reused blocks, and reuse maps nothing', () => {
  for (const size of [4 * MiB + 1, 5 * MiB, 16 * MiB, 64 * MiB]) {
    let old
    samm.run(() => { old = samm.allocUnsafe(size, short).fill(0xab) })
    assert.equal(old.length, 0, `${size}: a stale view reads as length 0`)
    const maps = samm.stats().largeMaps
    samm.run(() => {
      const again = samm.alloc(size, short)
      assert.equal(again.length, size)
      assert.ok(allEqual(again, 0), `${size}: zero-filled over the old bytes`)
      assert.equal(samm.stats().largeMaps, maps, `${size}: the cached block was reused`)
      again.fill(0xcd)
      assert.equal(old.length, 0)
    })
  }
})

test('alloc over a fresh block clears nothing, over a reused one only what was written', () => {
  const { decayMs } = samm.config()
  samm.configure({ decayMs: 0 }) // nothing cached: the next block is fresh
  try {
    const zeroed = samm.stats().zeroedBytes
    samm.run(() => {
      const fresh = samm.alloc(6 * MiB, short)
      assert.ok(allEqual(fresh, 0))
      assert.equal(samm.stats().zeroedBytes, zeroed, 'fresh pages are zero already')
    })
  } finally {
    samm.configure({ decayMs })
  }
  samm.run(() => { samm.allocUnsafe(6 * MiB, short).fill(7) })
  const before = samm.stats().zeroedBytes
  samm.run(() => {
    assert.ok(allEqual(samm.alloc(6 * MiB, short), 0))
    assert.ok(samm.stats().zeroedBytes - before >= 6 * MiB, 'the written bytes were cleared')
  })
})

test('a block assembled from cached pieces reads zero through alloc, and old views stay empty', () => {
  // Three neighbouring blocks; the outer two go back, the middle one stays:
  // the cache then holds two pieces that are not side by side.
  const s = samm.scope()
  const a = s.allocUnsafe(3 * MiB).fill(1)
  const t = samm.scope()
  const b = t.allocUnsafe(3 * MiB).fill(2)
  const c = s.allocUnsafe(3 * MiB).fill(3)
  s.close()
  assert.equal(a.length, 0)
  assert.equal(c.length, 0)
  samm.run(() => {
    const big = samm.alloc(6 * MiB, short)
    assert.ok(allEqual(big, 0), 'zero-filled, whatever pages it was made of')
    big.fill(9)
  })
  assert.ok(allEqual(b, 2), 'the block still in use is untouched')
  t.close()
  assert.equal(b.length, 0)
})

test('the cache follows demand: after the load, decayMs 0 gives every cached block back', () => {
  const scopes = Array.from({ length: 8 }, () => samm.scope())
  scopes.forEach((s, i) => s.allocUnsafe((2 + i) * MiB).fill(i))
  for (const s of scopes) s.close()
  const st = samm.stats()
  assert.ok(st.poolLargeBytes > 0, 'kept for reuse')
  assert.ok(st.poolLargeBytes + st.largeInUse <= st.largePeak, 'no more than the peak of demand')
  const { decayMs } = samm.config()
  try {
    samm.configure({ decayMs: 0 })
    assert.equal(samm.stats().poolLargeBytes, 0)
  } finally {
    samm.configure({ decayMs })
  }
  assert.throws(() => samm.configure({ decayMs: -1 }), { code: 'ERR_SAMM_INVALID_ARG' })
  assert.throws(() => samm.configure({ decayMs: 3600001 }), { code: 'ERR_SAMM_INVALID_ARG' })
})

test("a block whose views were dropped and collected before its scope's close never takes another scope's block with it", async () => {
  const v8 = require('node:v8')
  const vm = require('node:vm')
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc')
  v8.setFlagsFromString('--no-expose-gc')
  const turn = () => new Promise((resolve) => setImmediate(resolve))
  const size = 6 * MiB
  // Scope a makes a large block and drops every view of it (as a response
  // body handed to the socket and written is dropped), then stays open.
  const a = samm.scope()
  a.allocUnsafe(size).fill(1)
  for (let i = 0; i < 4; i++) {
    gc()
    await turn()
  }
  // Scope b's block may take the same memory and the same loan record.
  const b = samm.scope()
  const mine = b.allocUnsafe(size).fill(2)
  a.close()
  assert.equal(mine.length, size, "closing a does not detach b's block")
  assert.ok(allEqual(mine, 2))
  // Nothing else gets b's memory while b is open.
  const c = samm.scope()
  const other = c.allocUnsafe(size).fill(3)
  assert.ok(allEqual(mine, 2), "b's bytes stay b's")
  assert.ok(allEqual(other, 3))
  c.close()
  b.close()
  assert.equal(mine.length, 0)
})
