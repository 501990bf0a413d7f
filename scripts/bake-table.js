'use strict'
// Build step (binding.gyp action): writes the C table compiled into the
// addon. With profiles - those scripts/install.js chose (SAMM_BUILD_PROFILES,
// a JSON list), else the configured ones (scripts/profiles.js) - it runs
// the C bake tool over them (the readable table lands beside the C file as
// samm.table.json); otherwise it copies the default table, which keeps
// every site on the heap.
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { configuredProfiles, expandProfiles } = require('./profiles')

const [tool, outC] = process.argv.slice(2)
const outJson = path.join(path.dirname(outC), 'samm.table.json')
let profiles
try {
  profiles = expandProfiles(process.env.SAMM_BUILD_PROFILES ? JSON.parse(process.env.SAMM_BUILD_PROFILES) : configuredProfiles())
} catch (err) {
  console.error(`samm: ${err.message}`)
  process.exit(1)
}
if (profiles.length === 0) {
  fs.copyFileSync(path.join(__dirname, '..', 'native', 'table', 'default_table.c'), outC)
  fs.rmSync(outJson, { force: true })
} else {
  console.log(`samm: baking ${profiles.join(', ')}`)
  try {
    const extra = []
    if (process.env.SAMM_SHORT_MIN_IN_REQUEST) extra.push('--short-min-in-request', process.env.SAMM_SHORT_MIN_IN_REQUEST)
    if (process.env.SAMM_MIN_SHORT_ALLOCS) extra.push('--min-short-allocs', process.env.SAMM_MIN_SHORT_ALLOCS)
    execFileSync(tool, ['--c', outC, '--json', outJson, ...extra, ...profiles], { stdio: 'inherit' })
  } catch {
    process.exit(1)
  }
}
