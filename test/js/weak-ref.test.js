'use strict'
// The binding's weak references (src/weak_ref.c), which the escape watch and
// sampled tracing observe buffers through: any collection that finds the
// target unreachable empties them, a young-generation one included.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const v8 = require('node:v8')
const vm = require('node:vm')
const { weakRef, weakTarget } = require('../../lib/binding')

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')
const turn = () => new Promise((resolve) => setImmediate(resolve))

test('a weak reference gives its target while something holds it', async () => {
  const held = Buffer.alloc(64, 7)
  const ref = weakRef(held)
  await turn()
  gc({ type: 'minor' })
  gc()
  assert.equal(weakTarget(ref), held)
})

test('a young-generation collection empties the weak references of buffers dropped young', async () => {
  const refs = []
  ;(() => {
    for (let i = 0; i < 200; i++) refs.push(weakRef(Buffer.alloc(64)), weakRef(Buffer.allocUnsafe(64)))
  })()
  await turn()
  gc({ type: 'minor' })
  assert.equal(refs.filter((r) => weakTarget(r) !== undefined).length, 0)
})

test('weakRef takes objects only, weakTarget only its handles', () => {
  for (const bad of [undefined, null, 1, 'x', Symbol('s')]) {
    assert.throws(() => weakRef(bad), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  }
  for (const bad of [undefined, {}, Buffer.alloc(1), 3]) {
    assert.throws(() => weakTarget(bad), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  }
})

test('a handle is an inert frozen object: used as a prototype or copied, it neither crashes nor passes for a handle', () => {
  const target = {}
  const ref = weakRef(target)
  assert.ok(Object.isFrozen(ref))
  const child = Object.create(ref)
  const other = Object.setPrototypeOf({}, ref)
  assert.throws(() => weakTarget(child), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => weakTarget(other), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => weakTarget({ ...ref }), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.equal(weakTarget(ref), target)
})
