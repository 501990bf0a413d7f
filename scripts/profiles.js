'use strict'
// Which profiles a build bakes: SAMM_PROFILE (paths separated by the
// platform's path delimiter), else the "samm": { "profile": ... } entry of
// the service's package.json (a path or a list, relative to it). The
// service is the directory npm was started in (INIT_CWD), else the current
// one.
const fs = require('node:fs')
const path = require('node:path')

function serviceDir () {
  return process.env.INIT_CWD || process.cwd()
}

function configuredProfiles (dir = serviceDir()) {
  if (process.env.SAMM_PROFILE) {
    return process.env.SAMM_PROFILE.split(path.delimiter).filter(Boolean).map((p) => path.resolve(dir, p))
  }
  let pkg
  try {
    pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
  } catch {
    return []
  }
  const entry = pkg && pkg.samm && pkg.samm.profile
  if (entry === undefined) return []
  const list = Array.isArray(entry) ? entry : [entry]
  if (!list.every((p) => typeof p === 'string' && p.length > 0)) {
    throw new Error(`${path.join(dir, 'package.json')}: "samm.profile" must be a path or a list of paths`)
  }
  return list.map((p) => path.resolve(dir, p))
}

module.exports = { configuredProfiles, serviceDir }
