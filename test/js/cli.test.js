'use strict'
// The samm command line: help, version, usage errors (exit 2), failures
// (exit 1) that leave a committed profile as it was, and load spread over
// several routes.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const { listenablePort } = require('./helpers/ports')

const ROOT = path.join(__dirname, '..', '..')
const SAMM = path.join(ROOT, 'bin', 'samm.js')
const SERVICE = path.join(ROOT, 'test', 'fixtures', 'routes-service.js')
const COMMITTED = 'samm-profile 1\n# the committed profile\ns kept.site 10 4 0 0 40:4\n'

function samm (args, opts = {}) {
  return spawnSync(process.execPath, [SAMM, ...args], { encoding: 'utf8', ...opts })
}

function scratchDir (t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samm-cli-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

// A directory holding a committed profile, to check that a run leaves it be.
function withCommitted (t) {
  const dir = scratchDir(t)
  const out = path.join(dir, 'samm.profile')
  fs.writeFileSync(out, COMMITTED)
  return { dir, out }
}

function assertUntouched (dir, out) {
  assert.equal(fs.readFileSync(out, 'utf8'), COMMITTED)
  assert.deepEqual(fs.readdirSync(dir), ['samm.profile'], 'no temporary file left behind')
}

// Per-path request counts the routes service printed when it was stopped.
function countsOf (stdout) {
  const line = stdout.split('\n').find((l) => l.startsWith('counts '))
  assert.ok(line, `no counts in\n${stdout}`)
  return JSON.parse(line.slice('counts '.length))
}

test('samm --version prints the version of package.json', () => {
  const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  for (const flag of ['--version', '-v']) {
    const r = samm([flag])
    assert.equal(r.status, 0)
    assert.equal(r.stdout, `${version}\n`)
  }
})

test('samm help lists the commands; without a command the same goes to stderr with status 2', () => {
  const help = samm(['help'])
  assert.equal(help.status, 0)
  for (const command of ['profile', 'bake', 'report', 'help']) assert.match(help.stdout, new RegExp(`^  ${command} +\\S`, 'm'))
  assert.equal(samm(['--help']).stdout, help.stdout)
  const bare = samm([])
  assert.equal(bare.status, 2)
  assert.equal(bare.stderr, help.stdout)
})

test('each command\'s help has a sentence for every option, the same from help, --help and -h', () => {
  for (const command of ['profile', 'bake', 'report']) {
    const { usage } = require(`../../profiler/${command}`)
    const r = samm(['help', command])
    assert.equal(r.status, 0)
    assert.match(r.stdout, new RegExp(`^usage: samm ${command} `))
    for (const o of usage.options) {
      assert.match(o.text, /^[A-Z].*\.$/, `--${o.name} has a sentence`)
      assert.ok(r.stdout.includes(`--${o.name}`), `--${o.name} in the help of ${command}`)
      assert.ok(r.stdout.replace(/\s+/g, ' ').includes(o.text), `the text of --${o.name}`)
    }
    assert.equal(samm([command, '--help']).stdout, r.stdout)
    assert.equal(samm([command, '-h']).stdout, r.stdout)
  }
  // After "--" a --help belongs to the service's command.
  assert.doesNotMatch(samm(['profile', '--duration', 'x', '--', 'node', '--help']).stdout, /usage/)
})

test('usage errors exit with status 2 and say what is wrong and where help is', (t) => {
  const dir = scratchDir(t)
  const paths = path.join(dir, 'paths.txt')
  fs.writeFileSync(paths, '# routes\n/a\n')
  const cases = [
    [['frobnicate'], /unknown command 'frobnicate'\nsee: samm help\n/],
    [['help', 'frobnicate'], /no command 'frobnicate'/],
    [['profile', '--out', 'x.profile'], /samm profile: needs the service's command after "--"/],
    [['profile', '--colour', 'red', '--', 'true'], /unknown option --colour/],
    [['profile', '--out', '--', 'true'], /--out needs a value \(FILE\)/],
    [['profile', '--out', 'a', '--out', 'b', '--', 'true'], /--out is given twice/],
    [['profile', '--duration', 'soon', '--', 'true'], /--duration takes a positive number, got "soon"/],
    [['profile', '--connections', '2.5', '--', 'true'], /--connections takes a positive whole number/],
    [['profile', '--load', 'http://example.com/', '--', 'true'], /--load must be on this machine \(127\.0\.0\.1, localhost or \[::1\]\)/],
    [['profile', '--load', 'https://127.0.0.1:3000/', '--', 'true'], /--load must be an http:\/\/ URL/],
    [['profile', '--load', '127.0.0.1:3000', '--', 'true'], /--load must be an http:\/\/ URL|--load must be a URL/],
    [['profile', '--load', '/path', '--', 'true'], /--load must be a URL such as http:\/\/127\.0\.0\.1:3000\/path/],
    [['profile', '--load', 'http://127.0.0.1:3000', '--load', 'http://127.0.0.1:3001/', '--', 'true'], /same host and port: http:\/\/127\.0\.0\.1:3001 differs from http:\/\/127\.0\.0\.1:3000/],
    [['profile', '--load-file', paths, '--', 'true'], /paths\.txt:2: "\/a" is a path; give --load URL for its host and port/],
    [['profile', '--load-file', path.join(dir, 'none.txt'), '--', 'true'], /--load-file .*none\.txt: no such file/],
    [['bake', '--allow-empty=yes'], /--allow-empty takes no value/],
    [['bake', '--short-min-in-request', '2', 'x.profile'], /--short-min-in-request takes a share from 0 to 1/],
    [['bake'], /samm bake: no profile: name the files/],
    [['report'], /samm report: takes one profile or table file/],
    [['report', '-x', 'a'], /unknown option -x/]
  ]
  for (const [args, message] of cases) {
    const r = samm(args, { cwd: dir })
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message, args.join(' '))
    assert.match(r.stderr, /see: samm help/, args.join(' '))
  }
  assert.deepEqual(fs.readdirSync(dir).sort(), ['paths.txt'], 'usage errors write nothing')
})

test('--load takes any http URL of this machine, with or without a port or path', (t) => {
  const { loadTargets } = require('../../profiler/load')
  assert.deepEqual(loadTargets(['http://127.0.0.1']), { origin: 'http://127.0.0.1', paths: ['/'] })
  assert.deepEqual(loadTargets(['http://127.0.0.1:3000']), { origin: 'http://127.0.0.1:3000', paths: ['/'] })
  assert.deepEqual(loadTargets(['http://localhost:3000/x/y?q=1#part', 'http://localhost:3000/z']),
    { origin: 'http://localhost:3000', paths: ['/x/y?q=1', '/z'] })
  assert.deepEqual(loadTargets(['http://[::1]:8080/a']), { origin: 'http://[::1]:8080', paths: ['/a'] })
  const list = path.join(scratchDir(t), 'paths.txt')
  fs.writeFileSync(list, '/a\r\n  # a comment\n\nhttp://127.0.0.1:3000/b\n/a\n')
  assert.deepEqual(loadTargets(['http://127.0.0.1:3000/'], list), { origin: 'http://127.0.0.1:3000', paths: ['/', '/a', '/b', '/a'] })
  fs.writeFileSync(list, 'http://127.0.0.1:3000/only\n')
  assert.deepEqual(loadTargets([], list), { origin: 'http://127.0.0.1:3000', paths: ['/only'] })
  assert.equal(loadTargets([]), null)
  fs.writeFileSync(list, '# nothing\n')
  assert.throws(() => loadTargets(['http://127.0.0.1:3000/'], list), /holds no path/)
  fs.writeFileSync(list, 'a/b\n')
  assert.throws(() => loadTargets(['http://127.0.0.1:3000/'], list), /paths\.txt:1: "a\/b" is neither a path starting with \/ nor a URL/)
})

test('report failures exit with status 1 and the reason', (t) => {
  const dir = scratchDir(t)
  const garbage = path.join(dir, 'garbage.json')
  fs.writeFileSync(garbage, '{"version":1,"sites":')
  assert.match(samm(['report', garbage]).stderr, /neither a profile nor a table/)
  fs.writeFileSync(garbage, '{"version":7,"sites":[]}')
  const r = samm(['report', garbage])
  assert.equal(r.status, 1)
  assert.match(r.stderr, /not a SAMM table/)
  const missing = samm(['report', path.join(dir, 'missing.profile')])
  assert.equal(missing.status, 1)
  assert.match(missing.stderr, /cannot read .*missing\.profile: no such file/)
})

test('a typo in the service\'s command leaves the committed profile as it was, with status 1', (t) => {
  const { dir, out } = withCommitted(t)
  const typo = path.join(dir, 'servr.js')
  const r = samm(['profile', '--out', out, '--duration', '5', '--', process.execPath, typo])
  assert.equal(r.status, 1, r.stderr)
  assert.match(r.stderr, /samm profile: the service exited with code 1\n/)
  assert.match(r.stderr, /no profile written; .*samm\.profile is unchanged/)
  assertUntouched(dir, out)
})

test('a service that exits before it answers the load leaves the profile as it was', async (t) => {
  const { dir, out } = withCommitted(t)
  const port = await listenablePort()
  const r = samm(['profile', '--out', out, '--load', `http://127.0.0.1:${port}`, '--', process.execPath, path.join(dir, 'servr.js')])
  assert.equal(r.status, 1)
  assert.match(r.stderr, new RegExp(`the service exited with code 1 before it answered http://127\\.0\\.0\\.1:${port}/`))
  assertUntouched(dir, out)
})

test('a command that cannot start leaves the profile as it was', (t) => {
  const { dir, out } = withCommitted(t)
  const r = samm(['profile', '--out', out, '--', path.join(dir, 'no-such-program')])
  assert.equal(r.status, 1)
  assert.match(r.stderr, /the service could not start \(spawn .*ENOENT\)/)
  assertUntouched(dir, out)
})

test('a run that records nothing leaves the profile as it was', (t) => {
  const { dir, out } = withCommitted(t)
  const r = samm(['profile', '--out', out, '--', process.execPath, '-e', 'setTimeout(() => {}, 100)'])
  assert.equal(r.status, 1)
  assert.match(r.stderr, /nothing was recorded/)
  assertUntouched(dir, out)
})

test('a load that no route answers with 2xx leaves the profile as it was', async (t) => {
  const { dir, out } = withCommitted(t)
  const port = await listenablePort()
  const r = samm(['profile', '--out', out, '--duration', '1', '--load', `http://127.0.0.1:${port}`, '--',
    process.execPath, '-e', `require('node:http').createServer((q, s) => { s.statusCode = 404; s.end() }).listen(${port}, '127.0.0.1')`])
  assert.equal(r.status, 1)
  assert.match(r.stderr, /no request succeeded \(\d+ non-2xx, 0 errors\): check the --load URLs/)
  assertUntouched(dir, out)
})

test('bake refuses a profile with no site unless --allow-empty', (t) => {
  const dir = scratchDir(t)
  const empty = path.join(dir, 'empty.profile')
  fs.writeFileSync(empty, 'samm-profile 1\n# pid 1, a run that failed\n')
  const addon = path.join(ROOT, 'build', 'Release', 'samm.node')
  const before = fs.statSync(addon).mtimeMs
  const r = samm(['bake', empty], { cwd: dir })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /empty\.profile holds no site \(the profile of a run that failed\?\); nothing was rebuilt\. --allow-empty bakes it anyway/)
  assert.equal(fs.statSync(addon).mtimeMs, before)
  assert.deepEqual(fs.readdirSync(dir), ['empty.profile'])

  // With --allow-empty it goes on to the rebuild: in a copy of the package
  // that cannot build (no binding.gyp), which fails fast and puts the
  // addon back.
  const pkg = path.join(dir, 'pkg')
  for (const entry of ['package.json', 'bin', 'lib', 'profiler', 'scripts']) fs.cpSync(path.join(ROOT, entry), path.join(pkg, entry), { recursive: true })
  fs.mkdirSync(path.join(pkg, 'build', 'Release'), { recursive: true })
  for (const f of ['samm_bake', 'samm.node']) fs.copyFileSync(path.join(ROOT, 'build', 'Release', f), path.join(pkg, 'build', 'Release', f))
  fs.chmodSync(path.join(pkg, 'build', 'Release', 'samm_bake'), 0o755)
  const allowed = spawnSync(process.execPath, [path.join(pkg, 'bin', 'samm.js'), 'bake', '--allow-empty', empty], { cwd: dir, encoding: 'utf8' })
  assert.match(allowed.stderr, /samm bake: rebuilding the addon with .*empty\.profile/)
  assert.match(allowed.stderr, /the rebuild failed; the previous addon is back in place/)
  assert.equal(allowed.status, 1)
  assert.ok(fs.existsSync(path.join(pkg, 'build', 'Release', 'samm.node')))
})

test('--load several times, and --load-file, spread the load over the routes', { timeout: 120000 }, async (t) => {
  const { dir, out } = withCommitted(t)
  const port = await listenablePort()
  const list = path.join(dir, 'paths.txt')
  fs.writeFileSync(list, '# twice the share for /c\n/c\n\n/c\n')
  const r = samm(['profile', '--out', out, '--duration', '2', '--connections', '4',
    '--load', `http://127.0.0.1:${port}`, '--load', `http://127.0.0.1:${port}/b?x=1`, '--load-file', list,
    '--', process.execPath, SERVICE], { env: { ...process.env, PORT: String(port) } })
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stderr, new RegExp(`with load on http://127\\.0\\.0\\.1:${port} \\(3 paths\\)`))
  const counts = countsOf(r.stdout)
  assert.deepEqual(Object.keys(counts).sort(), ['/', '/b?x=1', '/c'])
  assert.ok(counts['/'] > 0 && counts['/b?x=1'] > 0)
  assert.ok(counts['/c'] > counts['/'], `twice the share for /c: ${JSON.stringify(counts)}`)
  // The new profile is in place, and nothing else.
  const text = fs.readFileSync(out, 'utf8')
  assert.match(text, /^samm-profile 2\n/)
  assert.match(text, /^s routes\.request /m)
  assert.doesNotMatch(text, /kept\.site/)
  assert.deepEqual(fs.readdirSync(dir).sort(), ['paths.txt', 'samm.profile'])
})

test('Ctrl-C ends a run without load and keeps what was recorded', { timeout: 60000 }, async (t) => {
  const { dir, out } = withCommitted(t)
  const child = spawn(process.execPath, [SAMM, 'profile', '--out', out, '--', process.execPath, SERVICE], { env: { ...process.env, PORT: '0' } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => { stdout += d })
  child.stderr.on('data', (d) => { stderr += d })
  while (!stdout.includes('routes service on')) await new Promise((resolve) => setTimeout(resolve, 50))
  child.kill('SIGINT')
  const code = await new Promise((resolve) => child.once('exit', resolve))
  assert.equal(code, 0, stderr)
  assert.match(stderr, /interrupted; stopping the service/)
  assert.match(fs.readFileSync(out, 'utf8'), /^s routes\.start /m)
  assert.deepEqual(fs.readdirSync(dir), ['samm.profile'])
})
