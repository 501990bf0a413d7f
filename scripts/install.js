'use strict'
// SAMM's install script (package.json "install"), also run by `samm bake`.
//
// - The service configures no profile: the prebuilt addon in prebuilds/
//   (the default table) is used as it is, so no compiler is needed; where
//   no prebuild fits this platform, the addon is built from source.
// - The service configures profiles (scripts/profiles.js) that exist: the
//   addon is built from source with their table. If that cannot happen (no
//   compiler, make or python), one line says what is missing and what to
//   run, and the prebuilt default table stays in force.
// - Configured profiles that do not exist yet (a Dockerfile that installs
//   before copying them): one line says so, the prebuilt default stays.
//
// node-gyp's own output goes to build/samm-build.log; a failed build prints
// the compiler's error lines and the log's path. With --strict (samm bake)
// any failure to build the configured table exits 1.
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { configured, dependentDir } = require('./profiles')

const ROOT = path.join(__dirname, '..')
const BUILD = path.join(ROOT, 'build')
const LOG = path.join(ROOT, 'samm-build.log') // node-gyp rebuild empties build/ first
const strict = process.argv.includes('--strict')
// SAMM's own checkout (its tests are not shipped) always builds its sources.
const checkout = dependentDir() === null && fs.existsSync(path.join(ROOT, 'test'))

function say (line) { console.error(`samm: ${line}`) }

// A path as the user who ran npm would write it.
const shown = (p) => path.relative(process.env.INIT_CWD || process.cwd(), p) || p

// The prebuilt addon for this platform, or null.
function prebuild () {
  process.env.PREBUILDS_ONLY = '1'
  try {
    return require('node-gyp-build').path(ROOT)
  } catch {
    return null
  } finally {
    delete process.env.PREBUILDS_ONLY
  }
}

function onPath (cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0
}

// What a source build needs that this host lacks, as words.
function missingTools () {
  const missing = []
  if (!onPath(process.env.CC || 'cc') && !onPath('gcc') && !onPath('clang')) missing.push('a C compiler (cc)')
  if (!onPath('make')) missing.push('make')
  if (!onPath('python3') && !onPath('python')) missing.push('python3')
  return missing
}

// node-gyp: the one npm runs scripts with, else npm's bundled copy, else
// one on PATH; null when there is none.
function nodeGyp () {
  if (process.env.npm_config_node_gyp && fs.existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp
  const npm = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim()
  if (npm) {
    const bundled = path.join(path.dirname(fs.realpathSync(npm)), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
    if (fs.existsSync(bundled)) return bundled
  }
  return onPath('node-gyp') ? 'node-gyp' : null
}

// node-gyp downloads Node's headers unless it is told where they are: npm
// passes its nodedir setting to install scripts, and a Node installed from
// its tarball (or a distribution's package) carries its own headers.
function nodedirArgs () {
  if (process.env.npm_config_nodedir) return []
  const prefix = path.dirname(path.dirname(process.execPath))
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : []
}

// Builds the addon from source; true on success. profiles: baked in (the
// build reads SAMM_PROFILE), or [] for the default table.
function build (profiles) {
  const gyp = nodeGyp()
  if (gyp === null) {
    console.error('  node-gyp was not found (it comes with npm)')
    return false
  }
  const out = fs.openSync(LOG, 'w')
  // The build bakes exactly these (scripts/bake-table.js).
  const env = { ...process.env, SAMM_BUILD_PROFILES: JSON.stringify(profiles) }
  const cmd = gyp.endsWith('.js') ? [process.execPath, gyp] : [gyp]
  const r = spawnSync(cmd[0], [...cmd.slice(1), 'rebuild', ...nodedirArgs()], { cwd: ROOT, env, stdio: ['ignore', out, out] })
  fs.closeSync(out)
  if (r.status === 0) return true
  // node-gyp leaves what it built so far; a partial build must not shadow
  // the prebuilt addon.
  fs.rmSync(path.join(BUILD, 'Release', 'samm.node'), { force: true })
  const text = fs.readFileSync(LOG, 'utf8')
  if (/download\/release|getNodeDir/.test(text)) {
    console.error('  node-gyp found no Node headers and could not download them: set npm\'s nodedir (npm config set nodedir <prefix>) or install Node with its headers')
  } else {
    const errors = text.split('\n').filter((l) => /error|Error:|not found|No such file/.test(l)).slice(0, 8)
    for (const line of errors) console.error(`  ${line.trim()}`)
  }
  return false
}

function main () {
  let conf
  try {
    conf = configured()
  } catch (err) {
    say(`${err.message}; the default table is used`)
    conf = { profiles: [], sources: [] }
  }
  const fitting = checkout ? null : prebuild()
  if (conf.profiles.length === 0) {
    if (strict) {
      say('no profile is configured: nothing to bake')
      return 1
    }
    const stale = path.join(BUILD, 'Release', 'samm.node')
    if (fitting !== null) {
      if (fs.existsSync(stale)) {
        // A build of an earlier configuration would shadow the prebuild.
        fs.rmSync(path.join(BUILD, 'Release'), { recursive: true, force: true })
        say('no profile is configured (any more): the prebuilt addon with the default table (every site on the heap) is in force')
      }
      return 0
    }
    if (!checkout) say(`no prebuilt addon fits ${process.platform}-${process.arch}; building it from source (log: ${LOG})`)
    if (build([])) return 0
    const missing = missingTools()
    say(`the build failed${missing.length ? `: this host has no ${missing.join(', no ')}` : ''}; see ${LOG}`)
    return 1
  }

  const where = [...new Set(conf.sources)].map((s) => s === 'SAMM_PROFILE' ? s : shown(s)).join(', ')
  const absent = conf.profiles.filter((p) => !fs.existsSync(p))
  if (absent.length) {
    say(`${absent.map(shown).join(', ')} (configured in ${where}) ${absent.length > 1 ? 'do' : 'does'} not exist yet, so the ` +
      `${fitting !== null ? 'prebuilt addon keeps' : 'addon keeps'} the default table (every site on the heap). ` +
      'In a Dockerfile, copy the profile before installing (COPY package*.json samm.profile ./ then RUN npm ci), ' +
      'or run "npx samm bake" once it is there.')
    if (fitting === null && !strict) return build([]) ? 0 : 1
    return strict ? 1 : 0
  }
  say(`building the addon with the table of ${conf.profiles.map(shown).join(', ')} (log: ${shown(LOG)})`)
  if (build(conf.profiles)) {
    say('built')
    return 0
  }
  const missing = missingTools()
  const why = missing.length ? `this host has no ${missing.join(', no ')}` : 'the build failed'
  const fix = missing.length ? 'install them (Debian: apt-get install build-essential python3) and run "npm rebuild samm"' : `see ${LOG}`
  if (fitting !== null) {
    say(`cannot build the addon with the configured profile: ${why}. The prebuilt addon with the default table ` +
      `(every site on the heap) stays in force; ${fix}.`)
    return strict ? 1 : 0
  }
  say(`cannot build the addon: ${why}; ${fix}.`)
  return 1
}

process.exitCode = main()
