'use strict'
// Chunks kept across scopes: what a closed scope's memory looks like when
// the next scope reuses it, the ArrayBuffers it is reached through, the idle
// trim and the budget.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const samm = require('../..')

const chunkSize = () => samm.config().chunkSize
const settle = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// A scope of one small allocation; returns the bump memory it held.
function smallScope () {
  const s = samm.scope()
  s.allocUnsafe(64).fill(1)
  const held = samm.stats().bump.inUse
  s.close()
  return held
}

// Enough small scopes that, whatever ran before, recent scopes are small:
// the next scope starts in a chunk.
function leanSmall () {
  for (let i = 0; i < 17; i++) smallScope()
}

test('a closed scope\'s chunk serves the next scope: stale views are empty, alloc is zero-filled', () => {
  leanSmall()
  const s1 = samm.scope()
  const a = s1.allocUnsafe(4096).fill(0xab)
  const b = s1.allocUnsafe(100).fill(0xcd)
  s1.close()
  assert.equal(a.length, 0)
  assert.equal(b.length, 0)
  assert.equal(a.buffer.byteLength, 0, 'the old ArrayBuffer is detached')
  assert.ok(samm.stats().poolChunks >= 1)

  const s2 = samm.scope()
  const z = s2.alloc(4096)
  assert.ok(z.every((x) => x === 0), 'zero-filled over the old bytes')
  const u = s2.allocUnsafe(4096).fill(0x11)
  assert.equal(a.length, 0, 'a stale view never sees the new scope')
  assert.equal(u[4095], 0x11)
  assert.equal(samm.stats().bump.inUse, chunkSize(), 'one chunk in use')
  s2.close()
  assert.equal(u.length, 0)
  assert.equal(samm.stats().bump.inUse, 0)
  assert.equal(samm.stats().scopesOpen, 0)
})

test('concurrent scopes over reused chunks never overlap', () => {
  const rounds = 200
  const live = []
  let bad = 0
  for (let r = 0; r < rounds; r++) {
    const s = samm.scope()
    const bufs = []
    for (let k = 0; k < 20; k++) bufs.push(s.allocUnsafe(1 + ((r * 31 + k * 977) % 40000)).fill(r & 0xff))
    live.push({ s, bufs, r })
    if (live.length > 12) {
      const { s: old, bufs: ob, r: or } = live.splice((r * 7) % live.length, 1)[0]
      for (const b of ob) if (!b.every((x) => x === (or & 0xff))) bad++
      old.close()
      for (const b of ob) assert.equal(b.length, 0)
    }
  }
  for (const { s, bufs, r } of live) {
    for (const b of bufs) if (!b.every((x) => x === (r & 0xff))) bad++
    s.close()
  }
  assert.equal(bad, 0)
  assert.equal(samm.stats().bump.inUse, 0)
})

test('a scope that outgrows its first chunk goes on in spans, reused the same way', () => {
  const chunk = chunkSize()
  leanSmall()
  const s1 = samm.scope()
  const bufs = [s1.allocUnsafe(chunk - 1000).fill(1)] // the first chunk
  for (let i = 0; i < 6; i++) bufs.push(s1.allocUnsafe(100 * 1024).fill(2 + i)) // outgrown: a span
  bufs.push(s1.allocUnsafe(3 * chunk).fill(9)) // no room left in the span: another
  assert.equal(samm.stats().bump.inUse, chunk + 2 * 4 * chunk, 'one chunk and two spans of four chunks')
  bufs.forEach((b, i) => assert.ok(b.every((x) => x === [1, 2, 3, 4, 5, 6, 7, 9][i]), `pattern ${i} intact`))
  s1.close()
  assert.ok(bufs.every((b) => b.length === 0), 'stale views of spans are empty')
  assert.equal(samm.stats().bump.inUse, 0)
  assert.ok(samm.stats().poolLargeBytes >= 2 * 4 * chunk, 'spans kept for reuse')

  const s2 = samm.scope()
  s2.allocUnsafe(chunk)
  const z = s2.alloc(4 * chunk) // a whole span, over s1's bytes
  assert.ok(z.every((x) => x === 0), 'zero-filled over the old bytes')
  z.fill(0x5a)
  assert.ok(bufs.every((b) => b.length === 0), 'a stale view never sees the new scope')
  s2.close()
  samm.collect()
  assert.equal(samm.stats().chunksLent, 0, 'the idle trim hands spans back too')
  const st = samm.stats()
  assert.ok(st.poolLargeBytes <= st.largePeak - st.largeInUse, 'the heap caches what the decaying peak leaves room for')
})

test('scopes start in a span once most recent scopes outgrew a chunk, and in a chunk after small ones again', () => {
  const chunk = chunkSize()
  const large = () => {
    const s = samm.scope()
    s.allocUnsafe(chunk).fill(2)
    s.allocUnsafe(chunk).fill(3)
    s.close()
  }
  leanSmall()
  assert.equal(smallScope(), chunk, 'a small scope holds one chunk')
  for (let i = 0; i < 9; i++) large()
  assert.equal(smallScope(), 4 * chunk, 'after large scopes, a new scope starts in a span')
  for (let i = 0; i < 9; i++) smallScope()
  assert.equal(smallScope(), chunk, 'and in a chunk again once scopes are small')
  assert.equal(samm.stats().bump.inUse, 0)
})

test('a scope buffer\'s ArrayBuffer behaves as this realm\'s', () => {
  for (let i = 0; i < 3; i++) { // the first scope wraps a chunk, later ones reuse it
    const s = samm.scope()
    const buf = s.allocUnsafe(64).fill(7)
    const ab = buf.buffer
    assert.ok(ab instanceof ArrayBuffer)
    assert.equal(ab.constructor, ArrayBuffer)
    assert.ok(ab.slice(0, 8) instanceof ArrayBuffer)
    assert.equal(Object.prototype.toString.call(ab), '[object ArrayBuffer]')
    assert.ok(Buffer.isBuffer(buf))
    assert.equal(ab.byteLength, chunkSize())
    s.close()
    assert.equal(buf.length, 0)
  }
})

test('the idle trim hands pooled chunks back to the heap, and a trim never disturbs later calls', async () => {
  const before = samm.config().idleTrimMs
  samm.configure({ idleTrimMs: 20 })
  try {
    const scopes = Array.from({ length: 40 }, () => samm.scope())
    for (const s of scopes) s.allocUnsafe(chunkSize() - 8)
    for (const s of scopes) s.close()
    assert.equal(samm.stats().bump.inUse, 0)
    await settle(200)
    const st = samm.stats()
    assert.equal(st.chunksLent, 0, 'nothing kept in JavaScript after an idle trim')
    assert.ok(st.poolChunks <= samm.config().poolChunks)
    assert.ok(st.collects >= 1)
    // The next scope works (a fresh chunk is lent) and nothing is pending.
    samm.run(() => assert.equal(samm.allocUnsafe(10, samm.site('chunks.test', { class: 'short' })).length, 10))
  } finally {
    samm.configure({ idleTrimMs: before })
  }
})

test('samm.collect() hands pooled chunks back too', () => {
  samm.run(() => { samm.current().allocUnsafe(100) })
  samm.collect()
  assert.equal(samm.stats().chunksLent, 0)
})

test('a budget refusal elsewhere hands pooled chunks back first', () => {
  const { maxBytes, poolChunks } = samm.config()
  const long = samm.site('chunks.long', { class: 'long' })
  try {
    samm.configure({ poolChunks: 0 }) // the heap keeps no chunk of its own
    const base = samm.stats().committed
    samm.configure({ maxBytes: base + 8 * chunkSize() })
    // Eight chunks go through scopes and wait in the pool (or in the heap's).
    const scopes = Array.from({ length: 8 }, () => samm.scope())
    for (const s of scopes) s.allocUnsafe(chunkSize() - 8)
    for (const s of scopes) s.close()
    // Only room left if the pooled chunks give theirs back.
    const b = samm.alloc(4 * chunkSize(), long)
    assert.equal(b.length, 4 * chunkSize())
    samm.free(b)
  } finally {
    samm.configure({ maxBytes, poolChunks })
  }
})

test('chunkSize can change once scopes are closed, not while one holds a chunk', () => {
  const size = chunkSize()
  samm.run(() => samm.current().allocUnsafe(10)) // leaves a pooled chunk
  samm.configure({ chunkSize: 2 * size })
  try {
    const s = samm.scope()
    assert.equal(s.allocUnsafe(10).buffer.byteLength, 2 * size)
    assert.throws(() => samm.configure({ chunkSize: size }), { code: 'ERR_SAMM_INVALID_ARG' })
    s.close()
  } finally {
    samm.configure({ chunkSize: size })
  }
  samm.run(() => assert.equal(samm.current().allocUnsafe(10).buffer.byteLength, size))
})

test('chunks and spans whose views a scope\'s caller dropped are pooled at its close, not taken for moved', () => {
  // The caller keeps nothing of the first chunk or the spans; a full
  // collection runs before the close. The scope holds their ArrayBuffers,
  // so the close finds them intact and pools them at once (not through a
  // finaliser, as memory someone moved away).
  const { spawnSync } = require('node:child_process')
  const script = `
    const samm = require(${JSON.stringify(path.join(__dirname, '..', '..'))})
    const chunk = samm.config().chunkSize
    const before = samm.stats()
    let lent10 = 0
    for (let round = 0; round < 50; round++) {
      if (round === 10) lent10 = samm.stats().chunksLent
      const s = samm.scope()
      s.allocUnsafe(chunk).fill(1)           // the first chunk, dropped at once
      for (let i = 0; i < 8; i++) s.allocUnsafe(chunk).fill(2)   // two spans
      globalThis.gc()
      s.close()
    }
    const after = samm.stats()
    console.log(JSON.stringify({ moved: after.movedBlocks - before.movedBlocks, lent10, lent50: after.chunksLent }))
  `
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  assert.equal(out.moved, 0)
  assert.equal(out.lent50, out.lent10, 'the pools stay as they were: nothing is lent anew each round')
})

test('a lower maxBytes holds at once for the chunks and spans scopes left pooled', () => {
  const { maxBytes } = samm.config()
  const span = 4 * samm.config().chunkSize
  // 64 scopes that went on in spans, closed: their memory waits pooled.
  const scopes = []
  for (let i = 0; i < 64; i++) {
    const s = samm.scope()
    s.allocUnsafe(samm.config().chunkSize).fill(1)
    s.allocUnsafe(span - 4096).fill(2)
    scopes.push(s)
  }
  for (const s of scopes) s.close()
  try {
    samm.configure({ maxBytes: 8 * 1024 * 1024 })
    assert.ok(samm.stats().committed <= 8 * 1024 * 1024, `${samm.stats().committed} committed`)
    // New scopes are charged against the new budget: most of 64 are refused.
    let served = 0
    const open = []
    assert.throws(() => {
      for (let i = 0; i < 64; i++) {
        const s = samm.scope()
        open.push(s)
        s.allocUnsafe(span - 4096)
        served++
      }
    }, { code: 'ERR_SAMM_LIMIT' })
    assert.ok(served < 16, `${served} scopes served a span under an 8 MiB budget`)
    for (const s of open) s.close()
  } finally {
    samm.configure({ maxBytes })
  }
})

test('a configure() refused part way keeps what went through, and scopes go on in the new chunk size', () => {
  const size = chunkSize()
  samm.run(() => samm.current().allocUnsafe(5 * size)) // leaves pooled chunks, spans and a block
  try {
    // chunkSize goes through, then poolChunks is refused.
    assert.throws(() => samm.configure({ chunkSize: size / 2, poolChunks: 1e12 }), { code: 'ERR_SAMM_INVALID_ARG' })
    assert.equal(chunkSize(), size / 2)
    for (let i = 0; i < 20; i++) {
      samm.run(() => {
        const s = samm.current()
        for (const n of [100, size * 3 / 8, size * 5 / 8, size * 3]) assert.equal(s.allocUnsafe(n).fill(1).length, n)
      })
    }
  } finally {
    samm.configure({ chunkSize: size })
  }
})
