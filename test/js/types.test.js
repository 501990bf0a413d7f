'use strict'
// The type declarations against the module, per TypeScript setting: the
// fixtures in test/types/fixtures are compiled with tsc --strict in a
// scratch project that depends on samm as an application would
// (node_modules/samm pointing at this package), under each `module` /
// `moduleResolution` pair, in each output format it allows, with and
// without esModuleInterop; then the compiled files are run with node, so
// that what type-checks also works. One `tsc -b` builds every setting.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync, spawnSync } = require('node:child_process')

const ROOT = path.join(__dirname, '..', '..')
const FIXTURES = path.join(ROOT, 'test', 'types', 'fixtures')
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')

const CJS = ['default-import', 'namespace-import', 'require-cjs', 'frameworks-cjs']
const ESM = ['default-import', 'namespace-import', 'require-esm', 'frameworks-esm']
const PAIRS = [
  { module: 'commonjs', moduleResolution: 'node10', formats: ['commonjs'] },
  { module: 'node16', moduleResolution: 'node16', formats: ['commonjs', 'module'] },
  { module: 'nodenext', moduleResolution: 'nodenext', formats: ['commonjs', 'module'] },
  { module: 'esnext', moduleResolution: 'bundler', formats: ['module'] }
]

// Every setting, each in a directory of its own. The declaration files are
// checked too (skipLibCheck false) in one setting with esModuleInterop:
// Fastify's own declarations (pino's) need it.
const SETTINGS = []
for (const p of PAIRS) {
  for (const type of p.formats) {
    for (const esModuleInterop of [true, false]) {
      SETTINGS.push({
        dir: `${type === 'module' ? 'esm' : 'cjs'}/${p.module}-${esModuleInterop ? 'interop' : 'plain'}`,
        name: `module ${p.module}, moduleResolution ${p.moduleResolution}, ${type === 'module' ? 'ES module' : 'CommonJS'} output, esModuleInterop ${esModuleInterop}`,
        fixtures: type === 'module' ? ESM : CJS,
        options: { module: p.module, moduleResolution: p.moduleResolution, esModuleInterop, skipLibCheck: !(p.module === 'node16' && type === 'commonjs' && esModuleInterop) }
      })
    }
  }
}
// Without Express (a Fastify service): samm's declarations still check.
const NO_EXPRESS = { dir: 'node16', fixtures: ['no-express-types'], options: { module: 'node16', moduleResolution: 'node16', skipLibCheck: false } }

let scratch
let bare // a project of its own for NO_EXPRESS: no node_modules above it with Express in
let built // tsc -b's status and output

// node_modules with everything this package has installed, plus samm
// itself, minus the packages in `without`. samm is linked, or copied when
// packages are left out: the compiler resolves the imports of a linked
// package's declarations from where it really is, beside all of them.
function linkModules (dir, without = []) {
  const modules = path.join(dir, 'node_modules')
  fs.mkdirSync(path.join(modules, '@types'), { recursive: true })
  if (without.length === 0) {
    fs.symlinkSync(ROOT, path.join(modules, 'samm'), 'dir')
  } else {
    const copy = path.join(modules, 'samm')
    fs.cpSync(path.join(ROOT, 'lib'), path.join(copy, 'lib'), { recursive: true })
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(copy, 'package.json'))
    fs.mkdirSync(path.join(copy, 'build', 'Release'), { recursive: true })
    fs.copyFileSync(path.join(ROOT, 'build', 'Release', 'samm.node'), path.join(copy, 'build', 'Release', 'samm.node'))
  }
  for (const name of fs.readdirSync(path.join(ROOT, 'node_modules'))) {
    if (name === '@types' || name.startsWith('.') || without.includes(name)) continue
    fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(modules, name), 'dir')
  }
  for (const name of fs.readdirSync(path.join(ROOT, 'node_modules', '@types'))) {
    if (!without.includes(`@types/${name}`)) fs.symlinkSync(path.join(ROOT, 'node_modules', '@types', name), path.join(modules, '@types', name), 'dir')
  }
}

function writeProject (s) {
  const dir = path.join(s === NO_EXPRESS ? bare : scratch, s.dir)
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true })
  const sources = new Set(s.fixtures)
  if (s.fixtures.some((f) => f.startsWith('frameworks-'))) sources.add('frameworks')
  for (const f of sources) fs.copyFileSync(path.join(FIXTURES, `${f}.ts`), path.join(dir, 'src', `${f}.ts`))
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, target: 'es2022', types: ['node'], rootDir: 'src', outDir: 'out', ...s.options },
    include: ['src']
  }))
  return path.join(dir, 'tsconfig.json')
}

before(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'samm-types-'))
  bare = fs.mkdtempSync(path.join(os.tmpdir(), 'samm-types-bare-'))
  for (const [dir, type] of [[path.join(scratch, 'cjs'), 'commonjs'], [path.join(scratch, 'esm'), 'module'], [bare, 'commonjs']]) {
    fs.mkdirSync(dir, { recursive: true })
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'types-check', private: true, type }))
  }
  linkModules(scratch)
  linkModules(bare, ['express', '@types/express', '@types/express-serve-static-core'])
  const projects = SETTINGS.concat(NO_EXPRESS).map(writeProject)
  const r = spawnSync(process.execPath, [TSC, '-b', ...projects], { cwd: scratch, encoding: 'utf8' })
  built = { status: r.status, output: r.stdout + r.stderr }
})
after(() => {
  fs.rmSync(scratch, { recursive: true, force: true })
  fs.rmSync(bare, { recursive: true, force: true })
})

// The compiler's complaints about one setting's files.
function errorsOf (s) {
  return built.output.split('\n').filter((l) => l.startsWith(`${s.dir}/`) || l.includes(`/${s.dir}/`) ||
    (s === NO_EXPRESS && l.includes(path.basename(bare)))).join('\n')
}

// Runs each compiled fixture's check() in one node process; returns what they said.
function run (s) {
  const out = path.join(s === NO_EXPRESS ? bare : scratch, s.dir, 'out')
  const script = `
    const { pathToFileURL } = require('node:url')
    ;(async () => {
      for (const f of ${JSON.stringify(s.fixtures)}) {
        const m = await import(pathToFileURL(require('node:path').join(${JSON.stringify(out)}, f + '.js')))
        console.log(await (m.check ?? m.default.check)())
      }
    })().catch((err) => { console.error(err); process.exitCode = 1 })`
  return execFileSync(process.execPath, ['-e', script], { cwd: path.dirname(out), encoding: 'utf8' }).trim().split('\n')
}

for (const s of SETTINGS) {
  test(`${s.name}: the fixtures type-check and run`, { timeout: 120000 }, () => {
    assert.equal(errorsOf(s), '')
    assert.deepEqual(run(s), ['default import: short', 'namespace import: heap,short,medium,long',
      s.fixtures.includes('require-esm') ? 'createRequire' : 'import = require', 'express and fastify'])
  })
}

test('samm\'s types check without Express or its types installed', { timeout: 120000 }, () => {
  assert.equal(errorsOf(NO_EXPRESS), '')
  assert.deepEqual(run(NO_EXPRESS), ['without @types/express'])
})

test('tsc built every setting', () => {
  assert.equal(built.status, 0, built.output)
})

test('a misuse is a type error (the fixtures can fail)', { timeout: 120000 }, () => {
  const dir = path.join(scratch, 'cjs', 'wrong')
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true })
  fs.writeFileSync(path.join(dir, 'src', 'wrong.ts'), `
    import samm from 'samm'
    import express = require('express')
    const p: Promise<number> = samm.scope().waitFor(Promise.resolve('text'))
    express().use(samm.express({ skip: (req) => req.nope === 1 }))
    export { p }
  `)
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, module: 'commonjs', moduleResolution: 'node10', types: ['node'], noEmit: true, skipLibCheck: true }, include: ['src']
  }))
  const r = spawnSync(process.execPath, [TSC, '-p', dir], { encoding: 'utf8' })
  assert.equal(r.status, 2)
  assert.match(r.stdout, /Type 'Promise<string>' is not assignable to type 'Promise<number>'/)
  assert.match(r.stdout, /Property 'nope' does not exist on type 'Request</)
})
