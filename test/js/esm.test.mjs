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
