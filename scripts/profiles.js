'use strict'
// Which profiles a build bakes: SAMM_PROFILE (paths separated by the
// platform's path delimiter), else the "samm": { "profile": ... } entry of
// the service's package.json (a path or a list, relative to it). The
// service is the directory npm was started in (INIT_CWD), else the current
// one. A folder stands for the *.profile files in it.
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

/**
 * The profile files paths name: a file as is, a folder as its *.profile
 * files (not its subfolders); sorted, each once. Throws when a path does
 * not exist or a folder holds no profile.
 */
function expandProfiles (paths) {
  const files = new Set()
  for (const p of paths) {
    let st
    try {
      st = fs.statSync(p)
    } catch (err) {
      throw new Error(`${p}: ${err.code === 'ENOENT' ? 'no such file or folder' : err.message}`)
    }
    if (!st.isDirectory()) {
      files.add(p)
      continue
    }
    const inside = fs.readdirSync(p).filter((f) => f.endsWith('.profile')).map((f) => path.join(p, f))
      .filter((f) => fs.statSync(f).isFile())
    if (inside.length === 0) throw new Error(`${p}: a folder with no *.profile file`)
    for (const f of inside) files.add(f)
  }
  return [...files].sort()
}

module.exports = { configuredProfiles, expandProfiles, serviceDir }
