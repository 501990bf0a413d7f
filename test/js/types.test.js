'use strict'
// The type declarations compile against a typed usage file.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

test('index.d.ts type-checks a typed usage file with tsc --noEmit', () => {
  const root = path.join(__dirname, '..', '..')
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const out = execFileSync(process.execPath, [tsc, '-p', path.join(root, 'test', 'types', 'tsconfig.json')], { encoding: 'utf8' })
  assert.equal(out.trim(), '')
})
