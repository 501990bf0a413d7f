'use strict'
// What a user does: pack SAMM, install the tarball into a scratch service
// outside the repository, and use it as the README says - with install
// scripts and without, in a Dockerfile's order, in an npm workspace. Runs
// under the node found first in PATH (scripts/package-test.sh puts the
// lines of the matrix there). Needs the npm registry (Express, TypeScript).
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { listenablePort } = require('../js/helpers/ports')

const ROOT = path.join(__dirname, '..', '..')
const SHIPPED = ['package.json', 'binding.gyp', 'native', 'src', 'lib', 'bin', 'profiler', 'scripts', 'docs', 'README.md', 'CHANGELOG.md']
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'samm-package-'))
let tarball

// Runs a command; returns { status, out } with stdout and stderr together.
function run (cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600000, ...opts, env: { ...process.env, ...opts.env } })
  return { status: r.status, out: `${r.stdout}${r.stderr}` }
}

function ok (cmd, args, opts) {
  const r = run(cmd, args, opts)
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}:\n${r.out}`)
  return r.out
}

// --foreground-scripts: npm shows an install script's output only on
// failure otherwise, and these tests read SAMM's lines.
const npm = (args, cwd, env) => ok('npm', ['--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts', ...args], { cwd, env })

// A service folder with its package.json; extra fields merged in.
function service (name, extra = {}) {
  const dir = path.join(work, name)
  fs.mkdirSync(dir, { recursive: true })
  const pkg = {
    name,
    version: '1.0.0',
    private: true,
    dependencies: { express: '^5.1.0', samm: `file:${tarball}` },
    ...extra
  }
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2))
  fs.writeFileSync(path.join(dir, 'server.js'), SERVER)
  return dir
}

const SERVER = `'use strict'
const express = require('express')
const samm = require('samm')
const body = samm.site('page.body')
const kept = samm.site('cache.entry')
const cache = []
const app = express()
app.use(samm.express())
app.get('/', (req, res) => {
  const buf = samm.allocUnsafe(4096, body).fill(7)
  if (cache.length < 50) cache.push(samm.allocUnsafe(256, kept).fill(1))
  res.end(buf)
})
app.get('/table', (req, res) => res.json({ digest: samm.table().digest, body: samm.site('page.body').class }))
const server = app.listen(Number(process.env.PORT), '127.0.0.1')
process.on('SIGTERM', () => server.close(() => process.exit(0)))
`

// The digest of the table the service's installed SAMM has.
function digestIn (dir) {
  return ok(process.execPath, ['-e', 'process.stdout.write(require("samm").table().digest)'], { cwd: dir }).trim()
}

before(() => {
  // Packed from a copy, so that the prebuild npm pack makes leaves this
  // checkout's build alone.
  const src = path.join(work, 'src')
  fs.mkdirSync(src)
  for (const entry of SHIPPED) fs.cpSync(path.join(ROOT, entry), path.join(src, entry), { recursive: true })
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(src, 'node_modules'))
  ok('npm', ['pack', '--pack-destination', work], { cwd: src })
  tarball = path.join(work, fs.readdirSync(work).find((f) => f.endsWith('.tgz')))
})

after(() => fs.rmSync(work, { recursive: true, force: true }))

test('the tarball ships what the build and the CLI need, a prebuilt addon, and nothing of the repository\'s own', () => {
  const list = ok('tar', ['tzf', tarball]).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''))
  for (const f of ['binding.gyp', 'scripts/install.js', 'scripts/profiles.js', 'scripts/bake-table.js', 'lib/index.js', 'lib/index.d.ts',
    'native/include/samm.h', 'src/binding.c', 'bin/samm.js', `prebuilds/${process.platform}-${process.arch}/samm.glibc.node`,
    `prebuilds/${process.platform}-${process.arch}/samm_bake`]) {
    assert.ok(list.includes(f), `${f} is shipped`)
  }
  assert.ok(!list.some((f) => /^(test|bench|examples|\.ci)\//.test(f)), 'no tests, benchmarks or examples')
})

let profiled // the service profiled and baked below, with its table's digest

test('installed with scripts: require, import and TypeScript work, the default table is in force and nothing was compiled', () => {
  const dir = service('svc', { devDependencies: { typescript: '^5.9.3', '@types/node': '^20.19.0', '@types/express': '^5.0.0', autocannon: '^8.0.0' } })
  const out = npm(['install'], dir)
  assert.doesNotMatch(out, /gyp info|CC\(target\)/, 'no build, and no node-gyp noise')
  assert.ok(!fs.existsSync(path.join(dir, 'node_modules', 'samm', 'build', 'Release', 'samm.node')), 'the prebuilt addon is used')
  assert.equal(digestIn(dir), '', 'the default table')
  ok(process.execPath, ['--input-type=module', '-e', 'import samm from "samm"; import { site } from "samm"; if (samm.site !== site) process.exit(1)'], { cwd: dir })
  fs.writeFileSync(path.join(dir, 'usage.ts'), `import samm from 'samm'
import express from 'express'
const app = express()
app.use(samm.express({ skip: (req) => req.path === '/health' }))
app.get('/', async (req, res) => {
  const scope = req.samm
  const buf: Buffer = samm.allocUnsafe(64, 'page.body')
  if (scope !== null) await scope.waitFor(Promise.resolve(1)).then((n: number) => n + 1)
  res.end(buf)
})
const s: ReturnType<typeof samm.stats> = samm.stats()
console.log(s.bump.inUse, samm.site('x', { class: 'short' }).class)
`)
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: false }, files: ['usage.ts'] }))
  ok(path.join(dir, 'node_modules', '.bin', 'tsc'), ['-p', '.'], { cwd: dir })
  profiled = { dir }
})

test('samm profile under load, samm bake and samm report, as the README says', async () => {
  const { dir } = profiled
  const port = await listenablePort()
  const samm = path.join(dir, 'node_modules', '.bin', 'samm')
  ok(samm, ['profile', '--duration', '5', '--load', `http://127.0.0.1:${port}`, '--', process.execPath, 'server.js'], { cwd: dir, env: { PORT: String(port) } })
  assert.ok(fs.statSync(path.join(dir, 'samm.profile')).size > 0)
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
  pkg.samm = { profile: 'samm.profile' }
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2))
  const baked = ok(samm, ['bake'], { cwd: dir })
  assert.match(baked, /page\.body/)
  const digest = digestIn(dir)
  assert.match(digest, /^[0-9a-f]{16}$/)
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'samm.table.json'), 'utf8')).digest, digest)
  ok(samm, ['report', '--out', 'report.html', 'samm.profile'], { cwd: dir })
  assert.match(fs.readFileSync(path.join(dir, 'report.html'), 'utf8'), /page\.body/)
  profiled.digest = digest
})

test('npm ci gives the service the same baked table back', () => {
  const { dir, digest } = profiled
  fs.rmSync(path.join(dir, 'node_modules'), { recursive: true, force: true })
  const out = npm(['ci'], dir)
  assert.match(out, /building the addon with the table of samm\.profile/)
  assert.equal(digestIn(dir), digest)
})

test('installed with scripts off: the prebuilt addon works, and a configured profile it lacks is reported at start-up', () => {
  const { dir, digest } = profiled
  const quiet = service('noscripts')
  npm(['install', '--ignore-scripts'], quiet)
  assert.equal(digestIn(quiet), '')
  fs.copyFileSync(path.join(dir, 'samm.profile'), path.join(quiet, 'samm.profile'))
  const pkg = JSON.parse(fs.readFileSync(path.join(quiet, 'package.json'), 'utf8'))
  pkg.samm = { profile: 'samm.profile' }
  fs.writeFileSync(path.join(quiet, 'package.json'), JSON.stringify(pkg, null, 2))
  const r = run(process.execPath, ['-e', 'require("samm")'], { cwd: quiet })
  assert.equal(r.status, 0)
  assert.match(r.out, /SAMM_TABLE_MISMATCH/)
  assert.match(r.out, new RegExp(`samm\\.profile \\(digest ${digest}\\)`))
  assert.match(r.out, /npx samm bake/)
  // The fix the warning names.
  ok(path.join(quiet, 'node_modules', '.bin', 'samm'), ['bake'], { cwd: quiet })
  assert.equal(digestIn(quiet), digest)
  assert.doesNotMatch(run(process.execPath, ['-e', 'require("samm")'], { cwd: quiet }).out, /SAMM_TABLE_MISMATCH/)
})

test('a Dockerfile\'s order: npm ci before the profile is copied, then after', () => {
  const { dir, digest } = profiled
  const image = service('docker', { samm: { profile: 'samm.profile' } })
  fs.rmSync(path.join(image, 'server.js'))
  // COPY package*.json ./ ; RUN npm ci
  npm(['install', '--package-lock-only'], image)
  const first = npm(['ci'], image)
  assert.match(first, /samm\.profile .*does not exist yet/)
  assert.match(first, /COPY package\*\.json samm\.profile \.\/ then RUN npm ci/)
  assert.equal(digestIn(image), '', 'the prebuilt default table keeps working')
  // COPY . . ; the profile is there now
  fs.copyFileSync(path.join(dir, 'samm.profile'), path.join(image, 'samm.profile'))
  assert.match(run(process.execPath, ['-e', 'require("samm")'], { cwd: image }).out, /SAMM_TABLE_MISMATCH/)
  // The order the README gives: the profile beside package*.json before npm ci.
  fs.rmSync(path.join(image, 'node_modules'), { recursive: true, force: true })
  npm(['ci'], image)
  assert.equal(digestIn(image), digest)
})

test('an npm workspace: the workspace that depends on samm configures the profile, and the hoisted copy bakes it', () => {
  const { dir, digest } = profiled
  const root = path.join(work, 'monorepo')
  const pkgDir = path.join(root, 'packages', 'api')
  fs.mkdirSync(pkgDir, { recursive: true })
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'monorepo', private: true, workspaces: ['packages/*'] }, null, 2))
  fs.writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify({
    name: 'api', version: '1.0.0', private: true, dependencies: { samm: `file:${tarball}` }, samm: { profile: 'samm.profile' }
  }, null, 2))
  fs.copyFileSync(path.join(dir, 'samm.profile'), path.join(pkgDir, 'samm.profile'))
  const out = npm(['install'], root)
  assert.match(out, /building the addon with the table of/)
  assert.ok(fs.existsSync(path.join(root, 'node_modules', 'samm')), 'samm is hoisted to the root')
  assert.equal(digestIn(pkgDir), digest)
})
