'use strict'
// At start-up: when the service configures profiles (scripts/profiles.js)
// whose table is not the one baked into the addon - an install that ran
// with scripts off, a profile changed since the last bake, a build that
// could not happen - SAMM says so once, with the command that fixes it.

const fs = require('node:fs')
const path = require('node:path')
const { configured } = require('../scripts/profiles')

function checkTable (binding, table) {
  let conf
  try {
    conf = configured()
  } catch {
    return // the install said what is wrong with the configuration
  }
  const profiles = conf.profiles.filter((p) => fs.existsSync(p))
  if (profiles.length === 0 || profiles.length < conf.profiles.length) return // nothing here to compare with
  const names = profiles.map((p) => path.relative(process.cwd(), p) || p).join(', ')
  let digest
  try {
    digest = binding.profileDigest(profiles)
  } catch (err) {
    process.emitWarning(`the configured profile cannot be read (${err.message}): SAMM runs with the table baked into its addon (${table.digest || 'the default table: every site on the heap'})`,
      { code: 'SAMM_TABLE_MISMATCH' })
    return
  }
  if (digest === table.digest) return
  const baked = table.digest ? `the table of another profile (digest ${table.digest})` : 'the default table (every site on the heap)'
  process.emitWarning(`the service configures ${names} (digest ${digest}) but SAMM's addon has ${baked}: ` +
    'run "npx samm bake" (or "npm rebuild samm" with install scripts on) to build the addon with it',
  { code: 'SAMM_TABLE_MISMATCH' })
}

module.exports = { checkTable }
