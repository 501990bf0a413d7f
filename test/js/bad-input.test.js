'use strict'
// Every public entry point refuses bad input with a stable code and keeps working.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const samm = require('../..')

const short = samm.site('bad.short', { class: 'short' })
const medium = samm.site('bad.medium', { class: 'medium' })

// Calls fn with a fresh scope and closes the scope whatever fn does.
function inScope (fn) {
  const s = samm.scope()
  try {
    return fn(s)
  } finally {
    s.close()
  }
}

const cases = [
  ['alloc: size a string', () => samm.alloc('10', short), 'ERR_SAMM_INVALID_ARG', TypeError],
  ['alloc: size NaN', () => samm.alloc(NaN, short), 'ERR_SAMM_INVALID_SIZE', RangeError],
  ['alloc: size negative', () => samm.alloc(-1, short), 'ERR_SAMM_INVALID_SIZE', RangeError],
  ['alloc: size fractional', () => samm.alloc(1.5, short), 'ERR_SAMM_INVALID_SIZE', RangeError],
  ['alloc: size Infinity', () => samm.alloc(Infinity, medium), 'ERR_SAMM_INVALID_SIZE', RangeError],
  ['alloc: size above MAX_LENGTH', () => samm.alloc(2 ** 53, medium), 'ERR_SAMM_INVALID_SIZE', RangeError],
  ['alloc: size a BigInt', () => samm.alloc(10n, short), 'ERR_SAMM_INVALID_ARG', TypeError],
  ['alloc: site missing', () => samm.alloc(10), 'ERR_SAMM_INVALID_SITE', TypeError],
  ['alloc: site a number', () => samm.alloc(10, 5), 'ERR_SAMM_INVALID_SITE', TypeError],
  ['alloc: site an object', () => samm.alloc(10, { name: 'x' }), 'ERR_SAMM_INVALID_SITE', TypeError],
  ['allocUnsafe: size null', () => samm.allocUnsafe(null, short), 'ERR_SAMM_INVALID_ARG', TypeError],
  ['scope.alloc: site a number', () => inScope((s) => s.alloc(10, 5)), 'ERR_SAMM_INVALID_SITE', TypeError],
  ['scope.allocUnsafe: site null', () => inScope((s) => s.allocUnsafe(10, null)), 'ERR_SAMM_INVALID_SITE', TypeError],
  ['site: empty name', () => samm.site(''), 'ERR_SAMM_INVALID_SITE', TypeError],
  ['site: name not a string', () => samm.site(42), 'ERR_SAMM_INVALID_SITE', TypeError],
  ['site: name too long', () => samm.site('x'.repeat(201)), 'ERR_SAMM_INVALID_SITE', TypeError],
  ['site: name over 200 bytes in UTF-8', () => samm.site('é'.repeat(101)), 'ERR_SAMM_INVALID_SITE', TypeError],
  ['http: handler not a function', () => samm.http('handler'), 'ERR_SAMM_INVALID_ARG', TypeError],
  ['express: options not an object', () => samm.express(7), 'ERR_SAMM_INVALID_ARG', TypeError],
  ['site: unknown class', () => samm.site('a', { class: 'tiny' }), 'ERR_SAMM_INVALID_CLASS', TypeError],
  ['site: options not an object', () => samm.site('a', 'short'), 'ERR_SAMM_INVALID_ARG', TypeError],
  ['free: not a Buffer', () => samm.free({}), 'ERR_SAMM_INVALID_ARG', TypeError],
  ['free: undefined', () => samm.free(), 'ERR_SAMM_INVALID_ARG', TypeError],
  ['free: an ArrayBuffer', () => samm.free(new ArrayBuffer(8)), 'ERR_SAMM_INVALID_ARG', TypeError],
  ['run: not a function', () => samm.run(5), 'ERR_SAMM_INVALID_ARG', TypeError],
  ['configure: not an object', () => samm.configure(null), 'ERR_SAMM_INVALID_ARG', TypeError],
  ['configure: unknown option', () => samm.configure({ maxbytes: 1 }), 'ERR_SAMM_INVALID_ARG', TypeError],
  ['configure: negative budget', () => samm.configure({ maxBytes: -1 }), 'ERR_SAMM_INVALID_ARG', TypeError],
  ['configure: budget below 1 MiB', () => samm.configure({ maxBytes: 1000 }), 'ERR_SAMM_INVALID_ARG', RangeError],
  ['configure: chunk not a multiple of 64 KiB', () => samm.configure({ chunkSize: 100000 }), 'ERR_SAMM_INVALID_ARG', RangeError],
  ['configure: debug level 9', () => samm.configure({ debug: 9 }), 'ERR_SAMM_INVALID_ARG', RangeError],
  ['configure: bad onLimit', () => samm.configure({ onLimit: 'ignore' }), 'ERR_SAMM_INVALID_ARG', TypeError],
  ['configure: budget a string', () => samm.configure({ maxBytes: '1g' }), 'ERR_SAMM_INVALID_ARG', TypeError],
  ['configure: longScopeMs negative', () => samm.configure({ longScopeMs: -1 }), 'ERR_SAMM_INVALID_ARG', TypeError],
  ['configure: longScopeMs over a day', () => samm.configure({ longScopeMs: 86400001 }), 'ERR_SAMM_INVALID_ARG', RangeError],
  ['configure: bad onEscape', () => samm.configure({ onEscape: 'ignore' }), 'ERR_SAMM_INVALID_ARG', TypeError],
  ['configure: escapeFile not a string', () => samm.configure({ escapeFile: 42 }), 'ERR_SAMM_INVALID_ARG', TypeError]
]

for (const [name, fn, code, type] of cases) {
  test(`${name} -> ${code}`, () => {
    assert.throws(fn, (err) => {
      assert.equal(err.code, code)
      assert.ok(err instanceof type, `${err.constructor.name} is a ${type.name}`)
      assert.ok(err.message.length > 10)
      return true
    })
  })
}

test('closed scopes refuse allocation with ERR_SAMM_SCOPE_CLOSED', () => {
  const s = samm.scope()
  s.close()
  assert.throws(() => s.alloc(1), { code: 'ERR_SAMM_SCOPE_CLOSED' })
  assert.throws(() => s.allocUnsafe(1), { code: 'ERR_SAMM_SCOPE_CLOSED' })
  assert.throws(() => s.allocUnsafe(-1), { code: 'ERR_SAMM_INVALID_SIZE' })
})

test('scope sizes are validated like samm.alloc', () => {
  const s = samm.scope()
  assert.throws(() => s.alloc('1'), { code: 'ERR_SAMM_INVALID_ARG' })
  assert.throws(() => s.alloc(0.5), { code: 'ERR_SAMM_INVALID_SIZE' })
  assert.equal(s.alloc(0).length, 0)
  s.close()
})

test('site names with odd characters are just names', () => {
  for (const name of ['ümlaut.ß', 'with space', 'a\u0000b', '🙂', '../../etc/passwd', '"quoted"']) {
    const s = samm.site(name)
    assert.equal(s.name, name)
    assert.equal(s.class, 'heap')
    assert.equal(samm.alloc(4, name).length, 4)
  }
})

test('after every refusal the API still works', () => {
  samm.run(() => assert.equal(samm.alloc(16, short).length, 16))
  const m = samm.alloc(16, medium)
  assert.equal(samm.free(m), true)
  assert.equal(samm.config().maxBytes, 1024 * 1024 * 1024)
})

test('structural options cannot change while SAMM memory is live', () => {
  const m = samm.alloc(100, medium)
  assert.throws(() => samm.configure({ chunkSize: 512 * 1024 }), (err) => err instanceof RangeError && err.code === 'ERR_SAMM_INVALID_ARG' &&
    /cannot change while SAMM memory is in use .*SAMM_CHUNK_SIZE/.test(err.message))
  samm.free(m)
  assert.equal(samm.configure({ chunkSize: 512 * 1024 }).chunkSize, 512 * 1024)
  assert.equal(samm.configure({ chunkSize: 256 * 1024 }).chunkSize, 256 * 1024)
})

test('a bad SAMM_* environment variable is named in a warning, with what it accepts, and ignored', () => {
  const { spawnSync } = require('node:child_process')
  const run = (env) => spawnSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(require('node:path').join(__dirname, '..', '..'))}).config()))`],
    { env: { ...process.env, ...env }, encoding: 'utf8' })
  for (const value of ['lots', '100k']) { // 100k: in range, not a multiple of 64 KiB
    const r = run({ SAMM_CHUNK_SIZE: value })
    assert.equal(r.status, 0, r.stderr)
    assert.equal(JSON.parse(r.stdout).chunkSize, 256 * 1024)
    assert.match(r.stderr, new RegExp(`SAMM_CHUNK_SIZE="${value}" is not a valid value and was ignored \\(chunkSize: from 64 KiB to 64 MiB, a multiple of 64 KiB; k, m or g suffixes\\)`))
  }
  const r = run({ SAMM_MAX_BYTES: '12q' })
  assert.equal(JSON.parse(r.stdout).maxBytes, 1024 ** 3)
  assert.match(r.stderr, /SAMM_MAX_BYTES="12q" is not a valid value and was ignored \(maxBytes: from 1 MiB to 64 TiB; k, m or g suffixes\)/)
})

test('an option out of range says what it accepts', () => {
  assert.throws(() => samm.configure({ maxBytes: 512 * 1024 }), { name: 'RangeError', message: 'options.maxBytes must be from 1 MiB to 64 TiB, got 524288' })
  assert.throws(() => samm.configure({ chunkSize: 100 * 1024 }), { name: 'RangeError', message: 'options.chunkSize must be from 64 KiB to 64 MiB, a multiple of 64 KiB, got 102400' })
  assert.throws(() => samm.configure({ debug: 3 }), { name: 'RangeError', message: 'options.debug must be from 0 to 2, got 3' })
})

test('error messages name what they got', () => {
  assert.throws(() => samm.alloc(10), { message: 'site must be a Site or a site name, got undefined' })
  assert.throws(() => samm.alloc(10, null), { message: 'site must be a Site or a site name, got null' })
  assert.throws(() => samm.alloc(-1, short), { message: /got number -1$/ })
  assert.throws(() => samm.free({}), { message: 'buffer must be a Buffer, got an instance of Object' })
})
