'use strict'
// Which profiles a build bakes, and who asked for them.
//
//   SAMM_PROFILE            paths separated by the platform's path delimiter
//                           (relative to the current directory), else
//   "samm": { "profile" }   a path or a list of paths in the service's
//                           package.json, relative to it.
//
// The service: when SAMM is installed as a dependency, the package whose
// node_modules holds it - and, when that is the root of npm workspaces,
// every workspace that depends on samm (their profiles bake together: one
// installed copy of SAMM has one table). In SAMM's own checkout, or where
// the layout says nothing (pnpm's store), the directory npm was started in
// (INIT_CWD), else the current one.
//
// A folder stands for the *.profile files in it (expandProfiles).
const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.join(__dirname, '..')

function readJson (file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch {
    return null
  }
}

// The directory of the package that has this copy of SAMM in its
// node_modules, or null.
function dependentDir (root = ROOT) {
  let dir = path.dirname(root)
  if (path.basename(dir).startsWith('@')) dir = path.dirname(dir) // a scope folder
  if (path.basename(dir) !== 'node_modules') return null
  const parent = path.dirname(dir)
  if (path.basename(parent) === '.pnpm' || path.basename(path.dirname(parent)) === '.pnpm') return null
  return fs.existsSync(path.join(parent, 'package.json')) ? parent : null
}

function dependsOnSamm (pkg) {
  return ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']
    .some((k) => pkg[k] && typeof pkg[k] === 'object' && Object.hasOwn(pkg[k], 'samm'))
}

// The workspace package directories of a root package.json (npm's
// "workspaces": a list of paths or of "dir/*" patterns).
function workspaceDirs (dir, pkg) {
  const list = Array.isArray(pkg.workspaces) ? pkg.workspaces : pkg.workspaces && Array.isArray(pkg.workspaces.packages) ? pkg.workspaces.packages : []
  const out = []
  for (const pattern of list) {
    if (typeof pattern !== 'string') continue
    if (pattern.endsWith('/*') || pattern.endsWith('/**')) {
      const base = path.join(dir, pattern.replace(/\/\*+$/, ''))
      let entries = []
      try {
        entries = fs.readdirSync(base, { withFileTypes: true })
      } catch {}
      for (const e of entries) if (e.isDirectory()) out.push(path.join(base, e.name))
    } else {
      out.push(path.join(dir, pattern))
    }
  }
  return out.filter((d) => fs.existsSync(path.join(d, 'package.json')))
}

// The "samm.profile" entry of dir's package.json as absolute paths, or [].
function entryOf (dir, pkg) {
  const entry = pkg && pkg.samm ? pkg.samm.profile : undefined
  if (entry === undefined) return []
  const list = Array.isArray(entry) ? entry : [entry]
  if (!list.every((p) => typeof p === 'string' && p.length > 0)) {
    throw new Error(`${path.join(dir, 'package.json')}: "samm.profile" must be a path or a list of paths`)
  }
  return list.map((p) => path.resolve(dir, p))
}

/**
 * The service directories whose package.json may configure profiles for
 * this copy of SAMM: see the header.
 */
function serviceDirs (root = ROOT) {
  const dep = dependentDir(root)
  if (dep === null) return [process.env.INIT_CWD || process.cwd()]
  const pkg = readJson(path.join(dep, 'package.json')) || {}
  const dirs = [dep]
  if (pkg.workspaces) {
    for (const w of workspaceDirs(dep, pkg)) {
      const wpkg = readJson(path.join(w, 'package.json'))
      if (wpkg && dependsOnSamm(wpkg)) dirs.push(w)
    }
  }
  return dirs
}

/**
 * { profiles, sources }: the profiles configured for this copy of SAMM
 * (absolute paths) and where each was configured ("SAMM_PROFILE" or a
 * package.json path). dir: look only at that directory's package.json (the
 * CLI, run in a service).
 */
function configured (dir) {
  if (process.env.SAMM_PROFILE) {
    const base = dir || process.cwd()
    const profiles = process.env.SAMM_PROFILE.split(path.delimiter).filter(Boolean).map((p) => path.resolve(base, p))
    return { profiles, sources: profiles.map(() => 'SAMM_PROFILE') }
  }
  const profiles = []
  const sources = []
  for (const d of dir ? [dir] : serviceDirs()) {
    for (const p of entryOf(d, readJson(path.join(d, 'package.json')))) {
      if (profiles.includes(p)) continue
      profiles.push(p)
      sources.push(path.join(d, 'package.json'))
    }
  }
  return { profiles, sources }
}

/** The configured profiles' paths (see configured()). */
function configuredProfiles (dir) {
  return configured(dir).profiles
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

module.exports = { configured, configuredProfiles, expandProfiles, serviceDirs, dependentDir }
