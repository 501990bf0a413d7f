'use strict'
// The escape watch: a short-class buffer still reachable after its scope
// closed and a major collection is an escape; the site is counted, warned
// about once, published on samm:escape, written to the escape file and, by
// default, demoted to the heap for the rest of the process.
process.env.SAMM_ESCAPE_FORCE_MS = '300' // the watch forces a collection after 300 ms instead of 60 s

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const dc = require('node:diagnostics_channel')
const { spawn, spawnSync } = require('node:child_process')
const samm = require('../..')

const ROOT = path.join(__dirname, '..', '..')
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'lifetimes-service.js')
const BAKE = path.join(ROOT, 'build', 'Release', 'samm_bake')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Runs n request scopes, each allocating at site; keep(i, buf) may keep it.
function requests (n, site, keep) {
  for (let i = 0; i < n; i++) {
    samm.run(() => {
      const buf = samm.allocUnsafe(256, site).fill(7)
      if (keep) keep(i, buf)
    })
  }
}

// Waits until cond() holds, running requests meanwhile; false on timeout.
async function until (cond, step, ms = 30000) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (cond()) return true
    step()
    await sleep(20)
  }
  return cond()
}

test('a kept short buffer is an escape: counted, warned once, published, and its site demoted', async () => {
  const site = samm.site('esc.kept', { class: 'short' })
  const warnings = []
  const onWarning = (w) => { if (w.code === 'SAMM_ESCAPE') warnings.push(w) }
  process.on('warning', onWarning)
  const events = []
  const onEvent = (m) => events.push(m)
  dc.subscribe('samm:escape', onEvent)
  try {
    const kept = []
    const found = await until(() => samm.stats().sites['esc.kept'].escapes > 0, () => requests(50, site, (i, b) => { if (i % 10 === 0) kept.push(b) }))
    assert.ok(found, 'no escape reported')
    await sleep(10) // the warning is emitted on the next tick
    assert.equal(warnings.length, 1)
    assert.match(warnings[0].message, /site 'esc\.kept'/)
    assert.match(warnings[0].message, /samm profile/)
    assert.ok(events.length >= 1)
    assert.deepEqual(Object.keys(events[0]).sort(), ['demoted', 'escapes', 'site', 'size'])
    assert.equal(events[0].site, 'esc.kept')
    assert.equal(events[0].size, 256)
    assert.equal(events[0].demoted, true)
    // Demoted: later buffers come from the heap and survive their request.
    assert.equal(site.class, 'heap')
    assert.equal(samm.stats().sites['esc.kept'].class, 'heap')
    assert.equal(samm.site('esc.kept').class, 'heap')
    const after = []
    requests(20, site, (i, b) => after.push(b))
    assert.ok(after.every((b) => b.length === 256 && b[0] === 7))
    // More escapes still count, and still warn only once.
    const before = samm.stats().sites['esc.kept'].escapes
    assert.ok(before >= 1)
    assert.equal(warnings.length, 1)
  } finally {
    process.removeListener('warning', onWarning)
    dc.unsubscribe('samm:escape', onEvent)
  }
})

test('buffers that die in their request are never escapes', async () => {
  const site = samm.site('esc.clean', { class: 'short' })
  let n = 0
  await until(() => n >= 3000, () => { requests(100, site); n += 100 })
  // Sweeps and forced collections have had their time.
  await sleep(1500)
  requests(1, site)
  await sleep(1500)
  assert.equal(samm.stats().sites['esc.clean'].escapes, 0)
  assert.equal(site.class, 'short')
})

test("onEscape: 'warn' counts and warns but keeps the site short", async () => {
  assert.equal(samm.configure({ onEscape: 'warn' }).onEscape, 'warn')
  try {
    const site = samm.site('esc.warned', { class: 'short' })
    const kept = []
    const found = await until(() => samm.stats().sites['esc.warned'].escapes > 0, () => requests(50, site, (i, b) => kept.push(b)))
    assert.ok(found)
    assert.equal(site.class, 'short')
    assert.equal(samm.stats().sites['esc.warned'].class, 'short')
  } finally {
    samm.configure({ onEscape: 'demote' })
  }
})

test('configure() checks onEscape and escapeFile', () => {
  const bad = (options) => assert.throws(() => samm.configure(options), (err) => err instanceof TypeError && err.code === 'ERR_SAMM_INVALID_ARG')
  bad({ onEscape: 'ignore' })
  bad({ onEscape: true })
  bad({ escapeFile: 3 })
  bad({ escapeFile: '' })
  const file = path.join(os.tmpdir(), `samm-escapes-${process.pid}.profile`)
  assert.equal(samm.configure({ escapeFile: file }).escapeFile, file)
  assert.equal(samm.configure({ escapeFile: null }).escapeFile, null)
})

test('a bad SAMM_ON_ESCAPE or SAMM_ESCAPE_SAMPLE is a warning and the default stays', () => {
  const r = spawnSync(process.execPath, ['-e', "console.log(require(process.argv[1]).config().onEscape)", ROOT],
    { env: { ...process.env, SAMM_ON_ESCAPE: 'explode', SAMM_ESCAPE_SAMPLE: '-3' }, encoding: 'utf8' })
  assert.equal(r.stdout.trim(), 'demote')
  assert.match(r.stderr, /SAMM_BAD_ENV.*SAMM_ON_ESCAPE/)
  assert.match(r.stderr, /SAMM_BAD_ENV.*SAMM_ESCAPE_SAMPLE/)
})

test('a service whose override wrongly says short: the escape is reported, the site demoted, later kept buffers intact, the escape file bakes', { timeout: 120000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'samm-escape-'))
  const escapes = path.join(tmp, 'escapes.profile')
  const child = spawn(process.execPath, [FIXTURE], {
    env: { ...process.env, PORT: '0', GT_CLASS: 'gt.forever:short', SAMM_ESCAPE_FILE: escapes },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  try {
    const port = await new Promise((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (d) => {
        out += d
        const m = /lifetimes service on (\d+)/.exec(out)
        if (m) resolve(Number(m[1]))
      })
      child.once('exit', (code) => reject(new Error(`the service exited (${code})`)))
    })
    const base = `http://127.0.0.1:${port}`
    const state = async () => (await fetch(`${base}/state`)).json()
    let s = await state()
    assert.equal(s.classes['gt.forever'], 'short')
    const end = Date.now() + 90000
    let sent = 0
    while (Date.now() < end) {
      for (let i = 0; i < 20; i++, sent++) await (await fetch(`${base}/`)).text()
      s = await state()
      if (s.stats.sites['gt.forever'].escapes > 0) break
    }
    assert.ok(s.stats.sites['gt.forever'].escapes > 0, `no escape after ${sent} requests`)
    assert.equal(s.stats.sites['gt.forever'].class, 'heap')
    assert.equal(s.classes['gt.forever'], 'heap')
    assert.equal(s.classes['gt.request'], 'heap') // the table's, untouched
    // The buffers kept before the demotion were released with their requests.
    assert.ok(s.lost > 0)
    const lost = s.lost
    for (let i = 0; i < 10; i++) await (await fetch(`${base}/`)).text()
    s = await state()
    assert.deepEqual(s.forever, [2048, 2048, 2048, 2048, 2048])
    assert.equal(s.lost, lost) // nothing lost since the demotion
    assert.match(stderr, /\[SAMM_ESCAPE\] Warning: site 'gt\.forever'/)
    assert.equal(stderr.match(/SAMM_ESCAPE\]/g).length, 1)
    // The escape file is a profile: the next bake learns the site outlives its requests.
    const text = fs.readFileSync(escapes, 'utf8')
    assert.match(text, /^samm-profile 2\n/)
    assert.match(text, /\ns gt\.forever 11 1 1 1 0 -\n/)
    const json = path.join(tmp, 't.json')
    const r = spawnSync(BAKE, ['--c', path.join(tmp, 't.c'), '--json', json, escapes], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    const site = JSON.parse(fs.readFileSync(json, 'utf8')).sites.find((x) => x.name === 'gt.forever')
    assert.ok(site.outlived >= 1 && site.class !== 'short')
  } finally {
    child.kill('SIGKILL')
    fs.rmSync(tmp, { recursive: true, force: true })
  }
})

test('a quiet process (no collection of its own, no gc exposed) still finds the escape: the watch forces one', { timeout: 60000 }, () => {
  const script = `
    const samm = require(${JSON.stringify(ROOT)})
    const site = samm.site('quiet.kept', { class: 'short' })
    const kept = []
    let warned = 0
    process.on('warning', (w) => { if (w.code === 'SAMM_ESCAPE') warned++ })
    ;(async () => {
      for (let i = 0; i < 20; i++) await samm.run(async () => { kept.push(samm.allocUnsafe(2048, site).fill(1)) })
      const end = Date.now() + 20000
      const t = setInterval(() => {
        const s = samm.stats().sites['quiet.kept']
        if (s.escapes > 0 || Date.now() > end) {
          clearInterval(t)
          console.log(JSON.stringify({ escapes: s.escapes, cls: s.class, warned, gc: typeof globalThis.gc }))
        }
      }, 100)
    })()
  `
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, SAMM_ESCAPE_FORCE_MS: '1000' } })
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  assert.equal(out.gc, 'undefined')
  assert.ok(out.escapes > 0, r.stdout)
  assert.equal(out.cls, 'heap')
  assert.equal(out.warned, 1)
})
