'use strict'
// samm bake: clusters the profiles with the C bake tool, then rebuilds the
// addon with them so that samm.table() and samm.site(name).class reflect
// them, and leaves the readable table as samm.table.json in the current
// directory. The profiles are checked by a dry bake first: a bad profile
// changes nothing, a profile with no sites is refused unless --allow-empty
// (it would put every site back to heap), and a failed rebuild puts the
// previous addon back. Several files and folders of them bake into one
// table (the tool sums them first: the table's bytes do not depend on their
// order). node-gyp's output goes to samm-build.log (scripts/install.js); the
// terminal gets what happens, what it produced and where to look.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { parseArgs, UsageError } = require('./args')
const { readProfile } = require('./profile-format')
const { configuredProfiles, expandProfiles } = require('../scripts/profiles')
const { bakeTool, ROOT } = require('../lib/tools')

const RELEASE = path.join(ROOT, 'build', 'Release')

const usage = {
  synopsis: 'samm bake [options] [profile or folder...]',
  summary: 'Clusters the profiles (default: those the service configures in package.json "samm": { "profile": ... }, ' +
    'or SAMM_PROFILE) into a table, rebuilds the addon with it, and writes the readable table to samm.table.json ' +
    'in the current directory. A folder stands for the *.profile files in it. The profiles are checked first: a bad ' +
    'profile changes nothing, and a failed rebuild puts the previous addon back. It prints each site\'s class, the ' +
    'sites with too few allocations for a short verdict, and what holds the buffers of each site that is not short.',
  options: [
    { name: 'short-min-in-request', value: 'F', kind: 'number', text: 'Share of a site\'s decided allocations (0 to 1) that must have died in their request for the site to be short (default 1: every one; or SAMM_SHORT_MIN_IN_REQUEST).' },
    { name: 'min-short-allocs', value: 'N', kind: 'count', text: 'Decided allocations a short verdict needs, per size class (default 1000, or SAMM_MIN_SHORT_ALLOCS).' },
    { name: 'allow-empty', kind: 'flag', text: 'Bake even when the profiles hold no site: every site goes back to heap. Without it such a profile (the trace of a run that failed) is refused.' }
  ],
  notes: ['Exits 0 once the addon is rebuilt; 1 when a profile is bad or empty or the rebuild failed (nothing changed); 2 on a usage error.']
}

// The bake options, from the command line, else the environment, as the
// environment the install build reads them from.
function bakeOptions (options) {
  const out = {}
  const min = options['short-min-in-request'] ?? process.env.SAMM_SHORT_MIN_IN_REQUEST
  if (min !== undefined) out.SAMM_SHORT_MIN_IN_REQUEST = String(min)
  const allocs = options['min-short-allocs'] ?? process.env.SAMM_MIN_SHORT_ALLOCS
  if (allocs !== undefined) out.SAMM_MIN_SHORT_ALLOCS = String(allocs)
  return out
}

function toolArgs (env) {
  const args = []
  if (env.SAMM_SHORT_MIN_IN_REQUEST !== undefined) args.push('--short-min-in-request', env.SAMM_SHORT_MIN_IN_REQUEST)
  if (env.SAMM_MIN_SHORT_ALLOCS !== undefined) args.push('--min-short-allocs', env.SAMM_MIN_SHORT_ALLOCS)
  return args
}

// What the bake says per site: its class and counts; why a site is not
// short when the profile is too thin to say; what holds the buffers of a
// site that is not short.
function summary (table, profile) {
  const lines = []
  for (const s of table.sites) {
    const decided = s.allocs - (s.undecided || 0)
    const inRequest = decided ? (100 * (1 - s.outlived / decided)).toFixed(1) : '0.0'
    const undecided = s.undecided ? `, ${s.undecided} undecided` : ''
    lines.push(`  ${s.class.padEnd(6)} ${s.name}  (${s.allocs} allocations${undecided}, ${inRequest}% of the decided died in their request)`)
    if (s.tooFew) {
      lines.push(`         too few allocations for a short verdict: in a size class where every decided one died in its request, fewer than ${table.minShortAllocs} were decided (--min-short-allocs); profile longer`)
    }
    const p = profile.sites.get(s.name)
    if (s.class !== 'short' && p !== undefined && p.retainers.length > 0) {
      const r = p.retainers[0]
      lines.push(`         held by ${r.path}${p.retainers.length > 1 ? ` (and ${p.retainers.length - 1} other path${p.retainers.length > 2 ? 's' : ''}, samm report)` : ''}`)
    }
  }
  return lines
}

async function main (argv) {
  const { options, positionals } = parseArgs(argv, usage.options)
  const min = options['short-min-in-request']
  if (min !== undefined && min > 1) throw new UsageError(`--short-min-in-request takes a share from 0 to 1, got ${min}`)
  const named = positionals.length ? positionals.map((p) => path.resolve(p)) : configuredProfiles(process.cwd())
  if (named.length === 0) {
    throw new UsageError('no profile: name the files or folders (samm bake samm.profile) or set "samm": { "profile": ... } in package.json')
  }
  const profiles = expandProfiles(named)
  const bakeEnv = bakeOptions(options)
  const tool = bakeTool()

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'samm-bake-'))
  try {
    const names = profiles.map((p) => path.relative(process.cwd(), p) || p).join(', ')
    console.error(`samm bake: clustering ${names}`)
    const dry = spawnSync(tool, ['--c', path.join(tmp, 'table.c'), '--json', path.join(tmp, 'table.json'), ...toolArgs(bakeEnv), ...profiles], { stdio: 'inherit' })
    if (dry.status !== 0) {
      console.error('samm bake: nothing changed (the table and the addon are as they were)')
      return 1
    }
    const table = JSON.parse(fs.readFileSync(path.join(tmp, 'table.json'), 'utf8'))
    if (table.sites.length === 0 && !options['allow-empty']) {
      console.error(`samm bake: ${profiles.join(', ')} ${profiles.length > 1 ? 'hold' : 'holds'} no site (the profile of a run ` +
        'that failed?); nothing was rebuilt. --allow-empty bakes it anyway, putting every site back to heap')
      return 1
    }

    const addon = path.join(RELEASE, 'samm.node')
    const backup = path.join(tmp, 'samm.node')
    if (fs.existsSync(addon)) fs.copyFileSync(addon, backup)
    console.error(`samm bake: rebuilding the addon with ${profiles.length === 1 ? names : `${profiles.length} profiles`}, table ${table.digest}`)
    const env = { ...process.env, ...bakeEnv, SAMM_PROFILE: profiles.join(path.delimiter) }
    const build = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'install.js'), '--strict'], { cwd: process.cwd(), env, stdio: ['ignore', 'ignore', 'inherit'] })
    if (build.status !== 0) {
      if (fs.existsSync(backup)) {
        fs.mkdirSync(RELEASE, { recursive: true })
        fs.copyFileSync(backup, addon)
      }
      console.error('samm bake: the rebuild failed; the previous addon is back in place')
      return 1
    }
    fs.copyFileSync(path.join(tmp, 'table.json'), path.join(process.cwd(), 'samm.table.json'))
    const profile = readProfile(profiles.map((f) => fs.readFileSync(f, 'utf8')).join(''))
    console.log(`samm bake: table ${table.digest}, ${table.sites.length} sites from ${profiles.length} profile${profiles.length === 1 ? '' : 's'} -> ${path.join(process.cwd(), 'samm.table.json')}`)
    for (const line of summary(table, profile)) console.log(line)
    console.log('samm bake: samm.table() and samm.site(name).class now follow this table; samm report <profile> shows why')
    return 0
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

module.exports = { main, usage, summary }
