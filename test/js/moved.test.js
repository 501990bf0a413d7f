'use strict'
// Memory a caller moves out of SAMM's ArrayBuffer itself - a web-stream BYOB
// read, ArrayBuffer.prototype.transfer(), a postMessage of the moved
// ArrayBuffer to another thread - is never reused while the moved view can
// still read it, never moved by SAMM to another thread, and never unmapped
// under another thread when a worker exits.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { MessageChannel, receiveMessageOnPort, Worker, markAsUntransferable } = require('node:worker_threads')
const samm = require('../..')

const ROOT = path.join(__dirname, '..', '..')
const medium = samm.site('moved.medium', { class: 'medium' })
const long = samm.site('moved.long', { class: 'long' })

// Reads one byte into view through a BYOB reader: the stream moves view's
// memory into a new ArrayBuffer (view.buffer is detached) and hands back a
// view over it.
async function byobRead (view) {
  const stream = new ReadableStream({
    type: 'bytes',
    pull (controller) {
      const req = controller.byobRequest
      req.view[0] = 0x5a
      req.respond(1)
    }
  })
  const { value } = await stream.getReader({ mode: 'byob' }).read(view)
  return value
}

// The byte length of a view over the whole memory that view's memory moved to.
function whole (moved) { return new Uint8Array(moved.buffer) }

test('a scope block larger than a span, moved by a BYOB read, is not reused while the moved view lives', async () => {
  const size = 4 * samm.config().chunkSize + 4096
  const s1 = samm.scope()
  const buf = s1.allocUnsafe(size).fill(0x11)
  const kept = whole(await byobRead(buf))
  assert.equal(buf.length, 0, 'the read moved the memory')
  assert.equal(kept.length, buf.buffer.byteLength + kept.length, 'the moved view covers the block')
  s1.close()
  const movedBefore = samm.stats().movedBlocks
  for (let i = 0; i < 4; i++) {
    const s2 = samm.scope()
    const other = s2.allocUnsafe(size).fill(0x42)
    assert.equal(kept[1], 0x11, 'the kept view still reads its own bytes')
    kept[2] = 0x99
    assert.equal(other[2], 0x42, 'a write through the kept view reaches no other scope')
    s2.close()
  }
  assert.ok(samm.stats().movedBlocks >= movedBefore)
})

test('a chunk moved out of a scope buffer is not pooled again', async () => {
  const s1 = samm.scope()
  const buf = s1.allocUnsafe(1024).fill(0x21)
  const kept = whole(await byobRead(buf))
  const moved = samm.stats().movedBlocks
  s1.close()
  assert.equal(samm.stats().movedBlocks, moved + 1)
  const scopes = []
  for (let i = 0; i < 40; i++) {
    const s = samm.scope()
    s.allocUnsafe(samm.config().chunkSize - 64).fill(0x43)
    scopes.push(s)
  }
  assert.equal(kept[1], 0x21, 'no later scope got the moved chunk')
  for (const s of scopes) s.close()
})

test('a medium buffer moved by a BYOB read: free() returns false and the slot is not reused', async () => {
  const buf = samm.allocUnsafe(8192, medium).fill(0x31)
  const kept = whole(await byobRead(buf))
  assert.equal(samm.free(buf), false, 'nothing was released: the memory lives on in the moved view')
  assert.equal(samm.free(buf), false, 'and again')
  const others = []
  for (let i = 0; i < 64; i++) others.push(samm.allocUnsafe(8192, medium).fill(0x43))
  assert.equal(kept[1], 0x31)
  kept[3] = 0x77
  assert.ok(others.every((o) => o[3] === 0x43))
  for (const o of others) samm.free(o)
})

test('a long buffer moved with transfer() is not released by free()', { skip: typeof ArrayBuffer.prototype.transfer !== 'function' && 'no ArrayBuffer.prototype.transfer on this line' }, () => {
  const buf = samm.allocUnsafe(100000, long).fill(0x61)
  const moved = new Uint8Array(buf.buffer.transfer())
  assert.equal(samm.free(buf), false)
  const other = samm.allocUnsafe(100000, long).fill(0x62)
  assert.equal(moved[99999], 0x61)
  samm.free(other)
})

// Whether this line lets worker_threads.markAsUntransferable mark an
// ArrayBuffer that transfer() can still move (lib/chunks.js).
function markKeepsTransfer () {
  const probe = new ArrayBuffer(8)
  markAsUntransferable(probe)
  try {
    probe.transfer()
    return true
  } catch {
    return false
  }
}

test('postMessage copies or refuses a scope buffer\'s ArrayBuffer where Node lets SAMM mark it', { skip: typeof ArrayBuffer.prototype.transfer === 'function' && !markKeepsTransfer() && 'Node 24 and later: the next test' }, () => {
  for (let i = 0; i < 3; i++) { // the first scope wraps a chunk, later ones reuse it
    const s = samm.scope()
    const buf = s.allocUnsafe(64).fill(7)
    const ab = buf.buffer
    const { port1, port2 } = new MessageChannel()
    try {
      port1.postMessage(ab, [ab]) // Node 20 copies, later lines refuse
      assert.equal(new Uint8Array(receiveMessageOnPort(port2).message)[0], 7, 'copied')
    } catch (err) {
      assert.equal(err.name, 'DataCloneError')
    }
    port1.close()
    assert.equal(buf.length, 64, 'still here')
    assert.equal(buf[0], 7)
    s.close()
    assert.equal(buf.length, 0)
  }
})

test('postMessage that moves a scope buffer\'s ArrayBuffer (Node 24 and later) empties the scope\'s views, and later scopes never share the moved memory', { skip: (typeof ArrayBuffer.prototype.transfer !== 'function' || markKeepsTransfer()) && 'this line copies or refuses: the test before' }, () => {
  samm.collect() // the first scope takes a chunk lent afresh
  const held = []
  for (let i = 0; i < 3; i++) { // a chunk lent afresh, then recycled ones
    const s = samm.scope()
    const buf = s.allocUnsafe(64).fill(7 + i)
    const sibling = s.allocUnsafe(32).fill(1)
    const large = s.allocUnsafe(2 * 1024 * 1024 + i).fill(9) // a block of its own
    for (const [view, v] of [[buf, 7 + i], [large, 9]]) {
      const at = view.byteOffset
      const ab = view.buffer
      const { port1, port2 } = new MessageChannel()
      port1.postMessage(ab, [ab])
      const moved = new Uint8Array(receiveMessageOnPort(port2).message)
      port1.close()
      assert.equal(view.length, 0, 'moved away')
      assert.equal(moved[at], v)
      held.push([moved, at, v])
    }
    assert.equal(sibling.length, 0, 'the whole chunk moved')
    s.close()
  }
  // Later scopes write everywhere they get; no moved byte changes.
  for (let i = 0; i < 20; i++) samm.run(() => samm.current().allocUnsafe(3 * 1024 * 1024).fill(0xee))
  for (const [moved, at, v] of held) assert.equal(moved[at], v)
})

test('a scope ArrayBuffer a caller marked untransferable closes without a crash and is never reused while its views live', () => {
  samm.collect()
  const kept = []
  for (let i = 0; i < 3; i++) {
    const s = samm.scope()
    const buf = s.allocUnsafe(64).fill(20 + i)
    const large = s.allocUnsafe(2 * 1024 * 1024).fill(30 + i)
    markAsUntransferable(buf.buffer)
    markAsUntransferable(large.buffer)
    s.close()
    // Node 20 and 22 mark without a detach key: the close detaches as usual.
    // From 24 on the mark is a key only Node can detach with: the views stay.
    kept.push([buf, 20 + i], [large, 30 + i])
  }
  for (let i = 0; i < 20; i++) samm.run(() => samm.current().allocUnsafe(3 * 1024 * 1024).fill(0xee))
  for (const [view, v] of kept) {
    if (view.length > 0) assert.equal(view[view.length - 1], v)
  }
})

// Runs script in a fresh node whose main thread never loads SAMM; returns
// its exit status and output.
function runIsolated (script, flags = []) {
  const r = spawnSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8', timeout: 60000, env: { ...process.env, SAMM_ROOT: ROOT } })
  return { status: r.status, signal: r.signal, out: r.stdout + r.stderr }
}

test('a worker that loads SAMM exits cleanly when the main thread never loaded it', () => {
  const r = runIsolated(`
    const { Worker } = require('node:worker_threads')
    let n = 0
    function next () {
      const w = new Worker("const samm = require(process.env.SAMM_ROOT); samm.run(() => samm.allocUnsafe(100, samm.site('w', { class: 'short' })).fill(1)); samm.alloc(5000, samm.site('m', { class: 'medium' }))", { eval: true })
      w.on('exit', (code) => { if (code !== 0) process.exit(3); if (++n < 5) next(); else console.log('done') })
    }
    next()
  `)
  assert.equal(r.signal, null, r.out)
  assert.equal(r.status, 0, r.out)
  assert.match(r.out, /done/)
})

// A worker moves SAMM memory out of its ArrayBuffer, posts the moved
// ArrayBuffer to the main thread and exits; the main thread then reads it.
function movedToMain (what) {
  return runIsolated(`
    const { Worker } = require('node:worker_threads')
    const w = new Worker(\`
      const { parentPort } = require('node:worker_threads')
      const samm = require(process.env.SAMM_ROOT)
      const short = samm.site('w.short', { class: 'short' })
      const medium = samm.site('w.medium', { class: 'medium' })
      async function byob (view) {
        const stream = new ReadableStream({ type: 'bytes', pull (c) { c.byobRequest.view[0] = 0x5a; c.byobRequest.respond(1) } })
        return (await stream.getReader({ mode: 'byob' }).read(view)).value.buffer
      }
      ;(async () => {
        let ab
        if ('${what}' === 'closed-scope') {
          const s = samm.scope(); const b = s.allocUnsafe(100000).fill(0x33); ab = await byob(b); s.close()
        } else if ('${what}' === 'open-scope') {
          const s = samm.scope(); const b = s.allocUnsafe(100000).fill(0x33); ab = await byob(b)
        } else {
          const b = samm.allocUnsafe(100000, medium).fill(0x33); ab = await byob(b)
        }
        parentPort.postMessage(ab, [ab])
        // Churn so that the worker's heap would reuse or trim what it could.
        for (let i = 0; i < 50; i++) samm.run(() => samm.allocUnsafe(200000, short).fill(0x44))
        samm.collect()
      })()
    \`, { eval: true })
    let ab
    w.on('message', (m) => { ab = m })
    w.on('exit', async () => {
      // Give the worker's teardown time to finish, then read every byte.
      await new Promise((r) => setTimeout(r, 100))
      const v = new Uint8Array(ab)
      let sum = 0
      for (let i = 1; i < 100000; i++) sum += v[i] === 0x33 ? 0 : 1
      v.fill(0x55)
      console.log('read', v.length, 'bytes,', sum, 'changed')
    })
  `)
}

for (const what of ['closed-scope', 'open-scope', 'medium']) {
  test(`memory a worker moved to the main thread (${what}) stays mapped after the worker exits`, () => {
    const r = movedToMain(what)
    assert.equal(r.signal, null, r.out)
    assert.equal(r.status, 0, r.out)
    assert.match(r.out, /read \d+ bytes, 0 changed/)
  })
}

test("memory moved out of an open scope and collected there never lets its close take another scope's memory", async () => {
  const v8 = require('node:v8')
  const vm = require('node:vm')
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc')
  v8.setFlagsFromString('--no-expose-gc')
  const turn = () => new Promise((resolve) => setImmediate(resolve))
  for (const size of [1000, 4 * samm.config().chunkSize + 4096]) {
    // Scope a's memory is moved away by a BYOB read, and the moved view is
    // dropped and collected while a stays open: its loan ends then.
    const a = samm.scope()
    await byobRead(a.allocUnsafe(size).fill(1))
    for (let i = 0; i < 4; i++) {
      gc()
      await turn()
    }
    // Other scopes take memory, and the loan records, meanwhile.
    const open = []
    for (let i = 0; i < 8; i++) {
      const s = samm.scope()
      open.push([s, s.allocUnsafe(size).fill(2 + i)])
    }
    a.close()
    for (const [, buf] of open) assert.equal(buf.length, size, `${size}: closing a left the other scopes' memory alone`)
    open.forEach(([, buf], i) => assert.ok(buf.every((x) => x === 2 + i), `${size}: scope ${i} reads its own bytes`))
    for (const [s] of open) s.close()
  }
})

test('free() of a medium or long buffer a caller marked untransferable never crashes, and its memory is not reused while it lives', () => {
  const r = runIsolated(`
    const samm = require(process.env.SAMM_ROOT)
    const { markAsUntransferable } = require('node:worker_threads')
    const out = []
    for (const cls of ['medium', 'long']) {
      const site = samm.site('marked.' + cls, { class: cls })
      let b = samm.allocUnsafe(5000, site).fill(65)
      markAsUntransferable(b.buffer)
      const freed = samm.free(b)
      const others = []
      for (let i = 0; i < 50; i++) others.push(samm.allocUnsafe(5000, site).fill(66))
      // Node 20 and 22: the mark sets no detach key, the free detaches.
      // 24 and later: the buffer stays readable and its memory is not reused.
      out.push(freed ? (b.length === 0 ? 'freed' : 'bad: freed but readable') : (b[4999] === 65 ? 'kept' : 'bad: reused'))
      for (const o of others) samm.free(o)
      b = null
    }
    globalThis.gc() // the marked buffers go before the exit: Node's own cleanup cannot detach them
    console.log(out.join(' '), samm.stats().movedBlocks)
  `, ['--expose-gc'])
  assert.equal(r.status, 0, r.out)
  const [medium, long, moved] = r.out.trim().split(' ')
  assert.ok(['freed', 'kept'].includes(medium) && medium === long, r.out)
  assert.equal(Number(moved), medium === 'kept' ? 2 : 0)
})

test('a scope goes on in a new chunk after its chunk was moved away mid-request, alloc still zero-filled', async () => {
  samm.run(() => samm.current().allocUnsafe(64).fill(0x77)) // a used chunk waits in the pool
  const s = samm.scope()
  const first = s.allocUnsafe(64).fill(1)
  const sibling = s.allocUnsafe(64).fill(1)
  const at = sibling.byteOffset
  const moved = whole(await byobRead(first))
  assert.equal(sibling.length, 0, 'the chunk moved')
  const a = s.allocUnsafe(100).fill(2)
  const z = s.alloc(100)
  const big = s.allocUnsafe(300000).fill(3)
  assert.equal(a.length, 100)
  assert.ok(z.every((x) => x === 0))
  assert.equal(big.length, 300000)
  s.close()
  assert.equal(a.length, 0)
  for (let i = 0; i < 10; i++) samm.run(() => samm.current().allocUnsafe(200000).fill(0xee))
  assert.equal(moved[at], 1, 'the moved chunk was not reused')
})

test('free() of an empty medium or long buffer releases it on every line', () => {
  for (const site of [medium, long]) {
    const empty = samm.alloc(0, site)
    assert.equal(samm.free(empty), true)
    assert.throws(() => samm.free(empty), { code: 'ERR_SAMM_DOUBLE_FREE' })
  }
})
