'use strict'
// Loads the addon through node-gyp-build: a build of this copy's sources
// (build/Release, made when the service configures a profile or no prebuild
// fits) first, else the prebuilt one in prebuilds/ (the default table).

const path = require('node:path')

function load () {
  const root = path.join(__dirname, '..')
  try {
    return require('node-gyp-build')(root)
  } catch (cause) {
    const err = new Error(`SAMM's native addon is missing (no build in ${path.join(root, 'build')} and no prebuilt addon for ` +
      `${process.platform}-${process.arch}): run "npm rebuild samm" with a C compiler, make and python3 installed. ${cause.message}`)
    err.code = 'ERR_SAMM_NOT_BUILT'
    throw err
  }
}

module.exports = load()
