'use strict'
// samm profile -> samm bake -> rebuilt addon, end to end (the CLI's usage
// and failures: cli.test.js). The rebuild happens in a copy of the package,
// so the other test files keep the addon they loaded.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { listenablePort } = require('./helpers/ports')

const ROOT = path.join(__dirname, '..', '..')
const SAMM = path.join(ROOT, 'bin', 'samm.js')
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'lifetimes-service.js')

function samm (args, opts = {}) {
  return spawnSync(process.execPath, [SAMM, ...args], { encoding: 'utf8', ...opts })
}

function copyPackage (dest) {
  for (const entry of ['binding.gyp', 'package.json', 'native', 'src', 'lib', 'scripts', 'profiler', 'bin']) {
    fs.cpSync(path.join(ROOT, entry), path.join(dest, entry), { recursive: true })
  }
}

test('profiled under load, baked and rebuilt, the sites come out short, medium and long', { timeout: 240000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'samm-e2e-'))
  try {
    const profile = path.join(tmp, 'samm.profile')
    const port = await listenablePort()
    const run = samm(['profile', '--out', profile, '--duration', '6', '--connections', '8',
      '--load', `http://127.0.0.1:${port}/`, '--', process.execPath, FIXTURE], { env: { ...process.env, PORT: String(port) } })
    assert.equal(run.status, 0, run.stderr)
    assert.match(run.stderr, /samm profile: \d+ s \/ 6 s/) // progress
    assert.match(run.stdout, /lifetimes service on/) // the service's own output passes through

    const text = fs.readFileSync(profile, 'utf8')
    assert.match(text, /^samm-profile 1\n/)
    // The planted unmanaged allocations are found where they are made and
    // survive: the Buffer by the sampler at its line, the typed array by the
    // inspector at its function's line.
    const source = fs.readFileSync(FIXTURE, 'utf8').split('\n')
    for (const mark of ['// planted: unmanaged', '// planted: a typed array']) {
      const line = source.findIndex((l) => l.includes(mark)) + 1
      const planted = text.split('\n').find((l) => l.startsWith(`u ${FIXTURE}:${line} `))
      assert.ok(planted, `no candidate for ${FIXTURE}:${line} in\n${text}`)
      assert.ok(Number(planted.split(' ')[4]) > 0, `${mark} survived`)
    }

    // Bake into a copy of the package and ask the rebuilt addon.
    const pkg = path.join(tmp, 'pkg')
    copyPackage(pkg)
    const build = spawnSync('npm', ['run', 'install'], { cwd: pkg, encoding: 'utf8', env: { ...process.env, SAMM_PROFILE: profile } })
    assert.equal(build.status, 0, build.stderr)
    const classes = spawnSync(process.execPath, ['-e', `
      const samm = require(${JSON.stringify(pkg)})
      console.log(JSON.stringify([samm.site('gt.request').class, samm.site('gt.two').class, samm.site('gt.forever').class, samm.table()]))
    `], { encoding: 'utf8' })
    const [req, two, forever, baked] = JSON.parse(classes.stdout)
    assert.deepEqual([req, two, forever], ['short', 'medium', 'long'])
    const digest = baked.digest
    assert.match(digest, /^[0-9a-f]{16,}$/)
    // The clustering is there to read: centroids ascending, one class each.
    const clustered = baked.sizeClasses.filter((c) => c.k > 0)
    assert.ok(clustered.length > 0)
    for (const c of clustered) {
      assert.equal(c.centroidsUs.length, c.k)
      assert.equal(c.classes.length, c.k)
      assert.equal(c.boundariesUs.length, c.k - 1)
      assert.ok(c.centroidsUs.every((v, i) => i === 0 || v > c.centroidsUs[i - 1]))
    }
    assert.equal(baked.sites.find((s) => s.name === 'gt.forever').class, 'long')

    // A service that configures its profile gets the same table on npm ci.
    const service = path.join(tmp, 'service')
    fs.mkdirSync(service)
    fs.copyFileSync(profile, path.join(service, 'samm.profile'))
    fs.writeFileSync(path.join(service, 'package.json'), JSON.stringify({ name: 'svc', samm: { profile: 'samm.profile' } }))
    const again = path.join(tmp, 'again.c')
    const env = { ...process.env, INIT_CWD: service }
    delete env.SAMM_PROFILE
    const rebake = spawnSync(process.execPath, [path.join(pkg, 'scripts', 'bake-table.js'), path.join(pkg, 'build', 'Release', 'samm_bake'), again], { env, encoding: 'utf8' })
    assert.equal(rebake.status, 0, rebake.stderr)
    assert.deepEqual(fs.readFileSync(again), fs.readFileSync(path.join(pkg, 'build', 'Release', 'obj', 'gen', 'samm_table.c')))
    assert.match(fs.readFileSync(again, 'utf8'), new RegExp(digest))

    // samm report renders the profile.
    const html = path.join(tmp, 'report.html')
    const report = samm(['report', '--out', html, profile])
    assert.equal(report.status, 0, report.stderr)
    assert.match(report.stdout, /short .*gt\.request/)
    const page = fs.readFileSync(html, 'utf8')
    assert.match(page, /<svg[^>]*lifetime histogram of gt\.two/)
    assert.match(page, /centroid/)
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
})

test('a corrupted profile is refused with file and line, and nothing is rebuilt', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'samm-bad-'))
  try {
    const bad = path.join(tmp, 'bad.profile')
    fs.writeFileSync(bad, 'samm-profile 1\ns site 3 5 0 0 4:2\n')
    const addon = path.join(ROOT, 'build', 'Release', 'samm.node')
    const before = fs.statSync(addon).mtimeMs
    const r = samm(['bake', bad], { cwd: tmp })
    assert.equal(r.status, 1)
    assert.match(r.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: lifetime bins \\(2\\) plus censored \\(0\\) must equal allocs \\(5\\)`))
    assert.equal(fs.statSync(addon).mtimeMs, before)
    assert.equal(fs.existsSync(path.join(tmp, 'samm.table.json')), false)
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
})
