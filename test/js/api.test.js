'use strict'
const { test } = require('node:test')
const assert = require('node:assert/strict')
const samm = require('../..')

const short = samm.site('test.short', { class: 'short' })
const medium = samm.site('test.medium', { class: 'medium' })
const long = samm.site('test.long', { class: 'long' })

test('site() gives name, id and class, and the default table classes unknown sites as heap', () => {
  const s = samm.site('render.body')
  assert.equal(s.name, 'render.body')
  assert.equal(s.class, 'heap')
  assert.ok(Number.isInteger(s.id) && s.id >= 0 && s.id < 2 ** 32)
  assert.equal(samm.site('render.body'), s)
  assert.equal(samm.site('a').id, 0xe40c292c) // FNV-1a, as in C
  assert.equal(short.class, 'short')
  assert.equal(samm.table().digest, '')
  assert.deepEqual(samm.table().sites, [])
  assert.deepEqual(samm.table().sizeClasses, [])
})

test('heap-class sites return ordinary Buffers', () => {
  const b = samm.alloc(10, 'render.body')
  assert.ok(Buffer.isBuffer(b))
  assert.deepEqual([...b], new Array(10).fill(0))
  assert.equal(samm.free(b), false)
})

test('scope memory is a Buffer, readable and writable, until the scope closes', () => {
  let kept
  samm.run(() => {
    const b = samm.alloc(100, short)
    assert.ok(Buffer.isBuffer(b))
    assert.ok(b instanceof Buffer)
    b.write('hello')
    assert.equal(b.toString('utf8', 0, 5), 'hello')
    assert.equal(b.readUInt8(0), 104)
    assert.equal(b.subarray(1, 3).toString(), 'el')
    kept = b
  })
  assert.equal(kept.length, 0, 'stale views read as length 0')
  assert.equal(kept.buffer.byteLength, 0)
})

test('alloc is zero-filled even over reused memory; allocUnsafe is not required to be', () => {
  for (let round = 0; round < 3; round++) {
    samm.run(() => {
      for (let i = 0; i < 200; i++) {
        const b = samm.alloc(1000, short)
        assert.ok(b.every((x) => x === 0), 'zero-filled')
        b.fill(0xee)
        samm.allocUnsafe(500, short).fill(0xaa)
      }
    })
  }
})

test('alloc and allocUnsafe interleaved over dirty memory: every alloc is zero, nothing handed out is overwritten', () => {
  // A seeded mix of sizes around the zero-ahead window, in scopes that reuse
  // the chunks earlier scopes filled with 0xff.
  let seed = 12345
  const next = (n) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n }
  const sizes = [0, 1, 7, 8, 63, 64, 100, 1000, 4095, 4096, 4097, 9000, 70000]
  for (let round = 0; round < 40; round++) {
    const s = samm.scope()
    const held = []
    for (let i = 0; i < 300; i++) {
      const size = sizes[next(sizes.length)]
      const zero = next(2) === 0
      const b = zero ? s.alloc(size) : s.allocUnsafe(size)
      assert.equal(b.length, size)
      if (zero) assert.ok(b.every((x) => x === 0), `alloc(${size}) zero-filled (round ${round}, ${i})`)
      const mark = held.length % 250 + 1
      b.fill(mark)
      held.push([b, mark])
    }
    for (const [b, mark] of held) assert.ok(b.every((x) => x === mark), 'no later allocation overwrote it')
    for (const [b] of held) b.fill(0xff)
    s.close()
  }
})

test('run() returns fn\'s value and closes after an async fn settles', async () => {
  let s
  const v = await samm.run(async (scope) => {
    s = scope
    await new Promise((resolve) => setTimeout(resolve, 5))
    assert.equal(samm.current(), scope)
    return 42
  })
  assert.equal(v, 42)
  assert.equal(s.closed, true)
  assert.equal(samm.current(), undefined)
  assert.equal(samm.run(() => 'sync'), 'sync')
})

test('run() closes the scope when fn throws or rejects', async () => {
  let s
  assert.throws(() => samm.run((scope) => { s = scope; throw new Error('boom') }), /boom/)
  assert.equal(s.closed, true)
  await assert.rejects(samm.run(async (scope) => { s = scope; throw new Error('later') }), /later/)
  assert.equal(s.closed, true)
})

test('samm.alloc finds the request scope anywhere in its async chain', async () => {
  const seen = []
  await samm.run(async () => {
    await Promise.resolve()
    await new Promise((resolve) => setImmediate(resolve))
    const b = samm.allocUnsafe(64, short)
    seen.push(b)
    setTimeout(() => {}, 0)
  })
  assert.equal(seen[0].length, 0)
  assert.equal(samm.stats().scopesOpen, 0)
})

test('short allocations outside a scope come from the heap and are counted', () => {
  const before = samm.stats().outsideScope
  const b = samm.alloc(32, short)
  assert.equal(b.length, 32)
  assert.equal(samm.stats().outsideScope, before + 1)
})

test('concurrent scopes never overlap', async () => {
  const N = 32
  const work = []
  for (let r = 0; r < N; r++) {
    work.push(samm.run(async () => {
      const bufs = []
      for (let i = 0; i < 300; i++) {
        const n = 1 + ((r * 7919 + i * 104729) % 5000)
        const b = samm.allocUnsafe(n, short)
        b.fill((r * 31 + i) & 0xff)
        bufs.push(b)
        if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve))
      }
      for (let i = 0; i < bufs.length; i++) {
        const want = (r * 31 + i) & 0xff
        assert.ok(bufs[i].every((x) => x === want), `scope ${r} buffer ${i} intact`)
      }
    }))
  }
  await Promise.all(work)
})

test('allocations larger than a chunk work and are released with the scope', () => {
  let big
  samm.run(() => {
    big = samm.alloc(3 * 1024 * 1024 + 5, short)
    assert.equal(big.length, 3 * 1024 * 1024 + 5)
    big.fill(1)
    const small = samm.alloc(10, short)
    small.fill(2)
    assert.equal(big[big.length - 1], 1)
  })
  assert.equal(big.length, 0)
  assert.equal(samm.stats().bump.inUse, 0)
})

test('a closed scope\'s large block serves later scopes: stale views stay empty, alloc stays zero-filled', () => {
  const size = 1536 * 1024 // larger than a span of four chunks: a block of its own
  let first
  samm.run(() => { first = samm.allocUnsafe(size, short).fill(0xab) })
  assert.equal(first.length, 0)
  const cached = samm.stats().poolLargeBytes
  assert.ok(cached >= size, 'kept for reuse, not unmapped')
  samm.run(() => {
    const again = samm.alloc(size - 1000, short)
    assert.ok(samm.stats().poolLargeBytes <= cached - size, 'the cached block was taken')
    assert.ok(again.every((x) => x === 0), 'zero-filled over the old bytes')
    again.fill(0xcd)
    assert.equal(first.length, 0)
  })
  samm.collect()
  const st = samm.stats()
  // In use and cached, large blocks keep at most the decaying peak of
  // demand and a quarter more (docs/large-allocations.md).
  const allowance = st.largePeak + Math.floor(st.largePeak / 4)
  assert.ok(st.poolLargeBytes <= allowance - st.largeInUse, 'the cache keeps what the decaying peak of demand leaves room for')
  const { decayMs } = samm.config()
  try {
    samm.configure({ decayMs: 0 }) // no memory of past demand: nothing stays cached
    assert.equal(samm.stats().poolLargeBytes, 0)
  } finally {
    samm.configure({ decayMs })
  }
})

test('medium and long buffers live until free() and read as length 0 after', () => {
  for (const site of [medium, long]) {
    const b = samm.alloc(5000, site)
    assert.ok(Buffer.isBuffer(b))
    assert.ok(b.every((x) => x === 0))
    b.fill(7)
    assert.equal(samm.free(b), true)
    assert.equal(b.length, 0)
    assert.throws(() => samm.free(b), { code: 'ERR_SAMM_DOUBLE_FREE' })
  }
  assert.equal(samm.stats().slab.inUse + samm.stats().region.inUse, 0)
})

test('free() of scope memory and of foreign Buffers is a no-op that says false', () => {
  samm.run(() => {
    const b = samm.alloc(10, short)
    assert.equal(samm.free(b), false)
    assert.equal(b.length, 10)
  })
  assert.equal(samm.free(Buffer.alloc(10)), false)
  const m = samm.alloc(10, medium)
  assert.equal(samm.free(m.subarray(0, 5)), false)
  assert.equal(samm.free(m), true)
})

test('explicit scopes: alloc, waitFor keeps the scope open until the work settles', async () => {
  const s = samm.scope()
  const b = s.alloc(100)
  b.fill(9)
  let release
  const work = new Promise((resolve) => { release = resolve })
  assert.equal(s.waitFor(work), work)
  s.close()
  assert.equal(s.closed, true)
  assert.equal(b.length, 100, 'still open while the work runs')
  assert.throws(() => s.alloc(1), { code: 'ERR_SAMM_SCOPE_CLOSED' })
  release()
  await work
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(b.length, 0, 'released once the work settled')
  s.close() // closing twice is harmless
  assert.throws(() => s.waitFor(Promise.resolve()), { code: 'ERR_SAMM_SCOPE_CLOSED' })
})

test('closeWhenSettled: the scope serves allocations until its last hold is released, then closes', async () => {
  const s = samm.scope()
  const release = s.hold()
  let finish
  s.waitFor(new Promise((resolve) => { finish = resolve }))
  const before = s.alloc(64, short).fill(1)
  s.closeWhenSettled()
  assert.equal(s.closed, false, 'open while held')
  const during = s.allocUnsafe(70000) // a block of its own, too
  assert.equal(during.length, 70000)
  release()
  assert.equal(s.alloc(16).length, 16, 'one hold left')
  finish()
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(s.closed, true)
  assert.equal(before.length, 0)
  assert.equal(during.length, 0, 'released with the scope')
  assert.throws(() => s.alloc(1), { code: 'ERR_SAMM_SCOPE_CLOSED' })
  s.closeWhenSettled() // harmless once closed
  const idle = samm.scope()
  idle.closeWhenSettled()
  assert.equal(idle.closed, true, 'without holds it closes at once')
})

test('waitFor returns a Promise, also for a thenable or a plain value', async () => {
  const s = samm.scope()
  const thenable = { then (resolve) { setImmediate(() => resolve(7)) } }
  const fromThenable = s.waitFor(thenable)
  const fromValue = s.waitFor(8)
  const rejected = s.waitFor(Promise.reject(new Error('no')))
  for (const p of [fromThenable, fromValue, rejected]) assert.ok(p instanceof Promise)
  s.close()
  assert.equal(await fromThenable, 7)
  assert.equal(await fromValue, 8)
  await assert.rejects(rejected, /no/)
  await new Promise((resolve) => setImmediate(resolve))
  assert.throws(() => s.alloc(1), { code: 'ERR_SAMM_SCOPE_CLOSED' })
  assert.equal(samm.stats().scopesOpen, 0)
})

test('a scope\'s alloc with a site follows the site\'s class, in that scope even when another is current', () => {
  const s = samm.scope()
  const before = samm.stats()
  samm.run(() => {
    const own = s.alloc(64, short) // s, not the running request's scope
    own.fill(3)
    const unsafe = s.allocUnsafe(32, 'test.short')
    const m = s.alloc(300, medium)
    const l = s.allocUnsafe(70000, long)
    const h = s.alloc(10, 'scope.heap.site')
    assert.ok([own, unsafe, m, l, h].every((b) => Buffer.isBuffer(b)))
    assert.deepEqual([own.length, unsafe.length, m.length, l.length, h.length], [64, 32, 300, 70000, 10])
    assert.ok(m.every((x) => x === 0) && h.every((x) => x === 0))
    s.close()
    assert.equal(own.length, 0, 'short memory went with its scope')
    assert.equal(unsafe.length, 0)
    assert.equal(m.length, 300, 'medium memory lives until free()')
    assert.equal(l.length, 70000, 'long memory lives until free()')
    assert.equal(h.length, 10)
    assert.equal(samm.free(m), true)
    assert.equal(samm.free(l), true)
  })
  const after = samm.stats()
  assert.equal(after.sites['test.short'].allocs - (before.sites['test.short']?.allocs ?? 0), 2)
  assert.equal(after.sites['test.medium'].allocs - before.sites['test.medium'].allocs, 1)
  assert.equal(after.sites['scope.heap.site'].class, 'heap')
  assert.equal(after.outsideScope, before.outsideScope)
  assert.throws(() => s.alloc(1, medium), { code: 'ERR_SAMM_SCOPE_CLOSED' })
  assert.throws(() => s.allocUnsafe(1, short), { code: 'ERR_SAMM_SCOPE_CLOSED' })
  const open = samm.scope()
  assert.throws(() => open.alloc(1, 42), { code: 'ERR_SAMM_INVALID_SITE' })
  assert.throws(() => open.alloc(-1, short), { code: 'ERR_SAMM_INVALID_SIZE' })
  assert.equal(open.alloc(1, short).length, 1, 'a refused call leaves the scope usable')
  open.close()
})

test('waitFor keeps deflate input intact until zlib has read it', async () => {
  const zlib = require('node:zlib')
  const { promisify } = require('node:util')
  const deflate = promisify(zlib.deflate)
  const results = []
  for (let i = 0; i < 50; i++) {
    let input
    samm.run((scope) => {
      input = scope.allocUnsafe(64 * 1024)
      input.fill(i & 0xff)
      results.push(scope.waitFor(deflate(input)).then((out) => ({ i, out })))
    })
    // The scope closed synchronously, but waitFor holds it until deflate is done.
    samm.run((scope) => scope.allocUnsafe(64 * 1024).fill(0xff - (i & 0xff)))
  }
  for (const { i, out } of await Promise.all(results)) {
    const back = zlib.inflateSync(out)
    assert.equal(back.length, 64 * 1024)
    assert.ok(back.every((x) => x === (i & 0xff)))
  }
})

test('the budget refuses cleanly and the heap recovers', () => {
  samm.collect() // freed memory of earlier tests stays committed until a trim
  samm.configure({ maxBytes: 2 * 1024 * 1024 })
  try {
    const kept = []
    assert.throws(() => { for (;;) kept.push(samm.allocUnsafe(64 * 1024, long)) }, (err) => {
      assert.equal(err.code, 'ERR_SAMM_LIMIT')
      assert.ok(err instanceof samm.SammError)
      return true
    })
    assert.ok(kept.length >= 20)
    assert.ok(samm.stats().limitRefusals >= 1)
    assert.throws(() => samm.run(() => samm.allocUnsafe(4 * 1024 * 1024, short)), { code: 'ERR_SAMM_LIMIT' })
    for (const b of kept) samm.free(b)
    const again = samm.allocUnsafe(64 * 1024, long)
    assert.equal(again.length, 64 * 1024)
    samm.free(again)
    samm.configure({ onLimit: 'heap' })
    const before = samm.stats().limitFallbacks
    const huge = samm.allocUnsafe(8 * 1024 * 1024, long)
    assert.equal(huge.length, 8 * 1024 * 1024)
    assert.equal(samm.stats().limitFallbacks, before + 1)
  } finally {
    samm.configure({ maxBytes: 1024 * 1024 * 1024, onLimit: 'throw' })
  }
})

test('a budget error carries the sizes and says which knob to turn', () => {
  samm.collect()
  samm.configure({ maxBytes: 2 * 1024 * 1024 })
  const kept = []
  try {
    let err
    try {
      for (;;) kept.push(samm.allocUnsafe(64 * 1024, long))
    } catch (e) {
      err = e
    }
    assert.equal(err.code, 'ERR_SAMM_LIMIT')
    assert.equal(err.requested, 64 * 1024)
    assert.equal(err.maxBytes, 2 * 1024 * 1024)
    assert.ok(Number.isInteger(err.committed) && err.committed > 0 && err.committed <= err.maxBytes, `committed ${err.committed}`)
    assert.ok(err.committed + err.requested > err.maxBytes)
    assert.match(err.message, new RegExp(`allocating 65536 bytes .*${err.committed} bytes committed, maxBytes 2097152`))
    assert.match(err.message, /raise maxBytes \(SAMM_MAX_BYTES\) or set onLimit: 'heap'/)
    assert.doesNotMatch(err.message, /chunkSize/)
  } finally {
    for (const b of kept) samm.free(b)
    samm.collect()
    samm.configure({ maxBytes: 1024 * 1024 * 1024 })
  }
})

test('a budget error of a request scope says that each open scope holds a chunk', () => {
  samm.collect()
  samm.configure({ maxBytes: 2 * 1024 * 1024 })
  const open = []
  try {
    let err
    try {
      // Scopes that each allocate a little: every one holds a whole chunk.
      for (;;) {
        const s = samm.scope()
        open.push(s)
        s.allocUnsafe(16)
      }
    } catch (e) {
      err = e
    }
    assert.equal(err.code, 'ERR_SAMM_LIMIT')
    assert.equal(err.requested, 16)
    assert.equal(err.maxBytes, 2 * 1024 * 1024)
    // The last scope opened is the one refused.
    assert.ok(open.length - 1 <= 8, `${open.length - 1} scopes allocated`)
    assert.match(err.message, /allocating 16 bytes in a request scope/)
    assert.match(err.message, /each open scope that allocates holds at least chunkSize \(262144 bytes\), so about 8 scopes/)
    assert.match(err.message, /raise maxBytes \(SAMM_MAX_BYTES\), lower chunkSize \(SAMM_CHUNK_SIZE\) or set onLimit: 'heap'/)
  } finally {
    for (const s of open) s.close()
    samm.collect()
    samm.configure({ maxBytes: 1024 * 1024 * 1024 })
  }
})

test('stats() reports arenas, scopes and per-site counts', () => {
  samm.run(() => { samm.alloc(10, short) })
  const s = samm.stats()
  for (const arena of ['bump', 'slab', 'region']) {
    for (const k of ['reserved', 'committed', 'inUse', 'highWater', 'allocs', 'frees']) {
      assert.equal(typeof s[arena][k], 'number', `${arena}.${k}`)
    }
  }
  assert.ok(s.bump.allocs >= 1)
  assert.ok(s.scopesOpened >= 1)
  assert.equal(s.scopesOpened, s.scopesClosed)
  assert.ok(s.sites['test.short'].allocs >= 1)
  assert.equal(s.sites['test.short'].class, 'short')
})

test('configure() validates and reports the options in force', () => {
  const c = samm.configure({ idleTrimMs: 200 })
  assert.equal(c.idleTrimMs, 200)
  assert.equal(samm.config().chunkSize, 256 * 1024)
  samm.configure({ idleTrimMs: 1000 })
})

test('collect() returns free memory to the OS', () => {
  const bufs = []
  for (let i = 0; i < 50; i++) bufs.push(samm.allocUnsafe(100000, long))
  for (const b of bufs) samm.free(b)
  const before = samm.stats().region.committed
  samm.collect()
  assert.ok(samm.stats().region.committed < before)
})
