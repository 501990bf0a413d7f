'use strict'
// The samm_bake tool: this copy's own build, else the prebuilt one shipped
// beside the prebuilt addon.
const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.join(__dirname, '..')

/** The path of samm_bake, or throws with what to run. */
function bakeTool () {
  const candidates = [
    path.join(ROOT, 'build', 'Release', 'samm_bake'),
    path.join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`, 'samm_bake')
  ]
  const found = candidates.find((p) => fs.existsSync(p))
  if (found === undefined) throw new Error(`the samm_bake tool is missing (${candidates.join(', ')}): run "npm rebuild samm"`)
  return found
}

module.exports = { bakeTool, ROOT }
