'use strict'
// The kill switch: SAMM_DISABLE=1, or configure({ disabled: true }), makes
// every site heap and every scope a pass-through; the integrations keep
// working and stats() says SAMM is off.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { spawnSync } = require('node:child_process')
const path = require('node:path')
const samm = require('../..')

const ROOT = path.join(__dirname, '..', '..')

function runWith (env, script) {
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, ...env }, encoding: 'utf8', cwd: ROOT })
  return { status: r.status, out: r.stdout, err: r.stderr }
}

test('SAMM_DISABLE=1: every site is heap, scopes and integrations pass memory through from the V8 heap', () => {
  const r = runWith({ SAMM_DISABLE: '1' }, `
    const samm = require('.')
    const http = require('node:http')
    const short = samm.site('kill.short', { class: 'short' })
    const long = samm.site('kill.long', { class: 'long' })
    const out = { classes: [short.class, long.class, samm.site('kill.other').class] }
    const s = samm.scope()
    const a = s.allocUnsafe(100).fill(1)
    const big = s.alloc(3 << 20)
    s.close()
    out.scopeKept = [a.length, big.length]
    out.longFree = samm.free(samm.allocUnsafe(5000, long))
    const server = http.createServer(samm.http((req, res) => res.end(samm.alloc(1000, short).fill(65))))
    server.listen(0, '127.0.0.1', () => {
      http.get({ port: server.address().port, host: '127.0.0.1' }, (res) => {
        let n = 0
        res.on('data', (d) => { n += d.length })
        res.on('end', () => {
          const st = samm.stats()
          out.body = n
          out.stats = { disabled: st.disabled, inUse: st.bump.inUse + st.slab.inUse + st.region.inUse, lent: st.chunksLent, config: samm.config().disabled }
          console.log(JSON.stringify(out))
          server.close()
        })
      })
    })
  `)
  assert.equal(r.status, 0, r.err)
  const out = JSON.parse(r.out)
  assert.deepEqual(out.classes, ['heap', 'heap', 'heap'])
  assert.deepEqual(out.scopeKept, [100, 3 << 20], 'scope memory is the V8 heap\'s: nothing is detached at close')
  assert.equal(out.longFree, false, 'a heap Buffer: free() releases nothing')
  assert.equal(out.body, 1000)
  assert.deepEqual(out.stats, { disabled: true, inUse: 0, lent: 0, config: true })
})

test('a SAMM_DISABLE value that is not 1 or 0 is a warning, and SAMM stays on', () => {
  const r = runWith({ SAMM_DISABLE: 'yes please' }, 'console.log(require(".").stats().disabled)')
  assert.equal(r.status, 0)
  assert.equal(r.out.trim(), 'false')
  assert.match(r.err, /SAMM_BAD_ENV/)
  assert.match(r.err, /SAMM_DISABLE/)
})

test('configure({ disabled }) switches SAMM off and on again; open scopes finish as they started', () => {
  const site = samm.site('kill.toggle', { class: 'short' })
  const before = samm.scope()
  const kept = before.allocUnsafe(64).fill(3)
  samm.configure({ disabled: true })
  try {
    assert.equal(samm.stats().disabled, true)
    assert.equal(site.class, 'heap')
    assert.equal(samm.site('kill.new', { class: 'medium' }).class, 'heap')
    const s = samm.scope()
    const b = s.allocUnsafe(64)
    s.close()
    assert.equal(b.length, 64, 'a pass-through scope detaches nothing')
    before.allocUnsafe(10) // a scope opened while on keeps its memory
  } finally {
    samm.configure({ disabled: false })
  }
  assert.equal(site.class, 'short')
  assert.equal(samm.site('kill.new').class, 'medium')
  before.close()
  assert.equal(kept.length, 0)
  assert.throws(() => samm.configure({ disabled: 'yes' }), { code: 'ERR_SAMM_INVALID_ARG' })
})

test('the integrations answer while SAMM is off', async () => {
  samm.configure({ disabled: true })
  const server = http.createServer(samm.http((req, res) => res.end(samm.allocUnsafe(2048, samm.site('kill.body', { class: 'short' })).fill(66))))
  try {
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    const body = await new Promise((resolve, reject) => {
      http.get({ port: server.address().port, host: '127.0.0.1' }, (res) => {
        const parts = []
        res.on('data', (d) => parts.push(d))
        res.on('end', () => resolve(Buffer.concat(parts)))
      }).on('error', reject)
    })
    assert.equal(body.length, 2048)
    assert.ok(body.every((x) => x === 66))
  } finally {
    server.close()
    samm.configure({ disabled: false })
  }
})
