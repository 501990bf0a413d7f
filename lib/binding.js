'use strict'
// Loads the addon built by node-gyp (Release first, Debug for local work).

const path = require('node:path')

function load () {
  const root = path.join(__dirname, '..', 'build')
  const errors = []
  for (const dir of ['Release', 'Debug']) {
    try {
      return require(path.join(root, dir, 'samm.node'))
    } catch (err) {
      errors.push(err.message)
    }
  }
  const err = new Error(`SAMM's native addon is not built (run "npm install" or "npx node-gyp rebuild"): ${errors.join('; ')}`)
  err.code = 'ERR_SAMM_NOT_BUILT'
  throw err
}

module.exports = load()
