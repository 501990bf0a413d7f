'use strict'
// samm bake says what it does in a few lines of its own: node-gyp's output
// goes to samm-build.log (scripts/install.js), and a failed build shows the
// compiler's error and where that log is. Both run in a copy of the
// package, so the other test files keep the addon they loaded.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const ROOT = path.join(__dirname, '..', '..')
const PROFILE = path.join(ROOT, 'test', 'fixtures', 'report.profile')

let tmp, pkg
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'samm-quiet-'))
  pkg = path.join(tmp, 'pkg')
  for (const entry of ['binding.gyp', 'package.json', 'native', 'src', 'lib', 'scripts', 'profiler', 'bin', 'build/Release/samm_bake', 'build/Release/samm.node']) {
    fs.cpSync(path.join(ROOT, entry), path.join(pkg, entry), { recursive: true })
  }
})
after(() => fs.rmSync(tmp, { recursive: true, force: true }))

function bake (cwd) {
  return spawnSync(process.execPath, [path.join(pkg, 'bin', 'samm.js'), 'bake', PROFILE], { cwd, encoding: 'utf8' })
}

test('a failed rebuild shows the compiler\'s error and the log, and puts the previous addon back', { timeout: 240000 }, () => {
  const source = path.join(pkg, 'src', 'binding.c')
  const original = fs.readFileSync(source)
  const addon = fs.readFileSync(path.join(pkg, 'build', 'Release', 'samm.node'))
  fs.appendFileSync(source, '\n#error planted by the test\n')
  try {
    const r = bake(tmp)
    assert.equal(r.status, 1)
    const out = r.stdout + r.stderr
    assert.match(r.stderr, /binding\.c:\d+:\d+: error: #error planted by the test/)
    assert.match(r.stderr, /the previous addon is back in place/)
    assert.ok(r.stderr.includes(path.join(pkg, 'samm-build.log')), r.stderr)
    assert.doesNotMatch(out, /gyp info/)
    assert.ok(out.trim().split('\n').length <= 20, out)
    assert.match(fs.readFileSync(path.join(pkg, 'samm-build.log'), 'utf8'), /gyp info/)
    assert.deepEqual(fs.readFileSync(path.join(pkg, 'build', 'Release', 'samm.node')), addon)
  } finally {
    fs.writeFileSync(source, original)
  }
})

test('samm bake prints a few lines of its own; node-gyp\'s output is in samm-build.log', { timeout: 240000 }, () => {
  const r = bake(tmp)
  assert.equal(r.status, 0, r.stderr)
  const out = (r.stderr + r.stdout).trim().split('\n')
  assert.ok(out.length <= 14, out.join('\n'))
  assert.doesNotMatch(out.join('\n'), /gyp (info|http|WARN)|^make|CC\(target\)/m)
  assert.match(r.stderr, /samm bake: clustering .*report\.profile/)
  assert.match(r.stderr, /samm bake: rebuilding the addon with .*report\.profile, table [0-9a-f]{16}/)
  assert.match(r.stdout, /samm bake: table [0-9a-f]{16}, 6 sites from 1 profile -> .*samm\.table\.json/)
  assert.match(r.stdout, /short +render\.body/)
  assert.match(fs.readFileSync(path.join(pkg, 'samm-build.log'), 'utf8'), /gyp info ok/)
  assert.ok(fs.existsSync(path.join(tmp, 'samm.table.json')))
})
