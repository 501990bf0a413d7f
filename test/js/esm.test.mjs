import { test } from 'node:test'
import assert from 'node:assert/strict'
import samm, { alloc, run, site, stats } from 'samm'

test('the ESM entry exposes the same API, default and named', async () => {
  assert.equal(typeof samm.alloc, 'function')
  assert.equal(alloc, samm.alloc)
  const s = site('esm.short', { class: 'short' })
  let kept
  await run(async () => { kept = alloc(10, s) })
  assert.equal(kept.length, 0)
  assert.ok(stats().scopesOpened >= 1)
})

test('the ESM entry names every export of the CommonJS one, and both have default', async () => {
  const { createRequire } = await import('node:module')
  const cjs = createRequire(import.meta.url)('samm')
  const esm = await import('samm')
  assert.deepEqual(Object.keys(esm).filter((k) => k !== 'default').sort(), Object.keys(cjs).sort())
  for (const key of Object.keys(cjs)) assert.equal(esm[key], cjs[key], key)
  assert.equal(esm.default, cjs)
  assert.equal(cjs.default, cjs)
  assert.equal(samm.default, samm)
})
