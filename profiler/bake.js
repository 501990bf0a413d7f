'use strict'
// samm bake: clusters the profiles with the C bake tool, then rebuilds the
// addon with them so that samm.table() and samm.site(name).class reflect
// them, and leaves the readable table as samm.table.json in the current
// directory. The profiles are checked by a dry bake first: a bad profile
// changes nothing, a profile with no sites is refused unless --allow-empty
// (it would put every site back to heap), and a failed rebuild puts the
// previous addon back.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { parseArgs, UsageError } = require('./args')
const { configuredProfiles } = require('../scripts/profiles')

const ROOT = path.join(__dirname, '..')
const RELEASE = path.join(ROOT, 'build', 'Release')

const usage = {
  synopsis: 'samm bake [options] [profile...]',
  summary: 'Clusters the profiles (default: those the service configures in package.json "samm": { "profile": ... }, ' +
    'or SAMM_PROFILE) into a table, rebuilds the addon with it, and writes the readable table to samm.table.json ' +
    'in the current directory. The profiles are checked first: a bad profile changes nothing, and a failed rebuild ' +
    'puts the previous addon back.',
  options: [
    { name: 'short-min-in-request', value: 'F', kind: 'number', text: 'Share of a site\'s allocations (0 to 1) that must have died in their request for the site to be short (default 0.999, or SAMM_SHORT_MIN_IN_REQUEST).' },
    { name: 'allow-empty', kind: 'flag', text: 'Bake even when the profiles hold no site: every site goes back to heap. Without it such a profile (the trace of a run that failed) is refused.' }
  ],
  notes: ['Exits 0 once the addon is rebuilt; 1 when a profile is bad or empty or the rebuild failed (nothing changed); 2 on a usage error.']
}

function bakeArgs (options) {
  const min = options['short-min-in-request'] || process.env.SAMM_SHORT_MIN_IN_REQUEST
  return min === undefined ? [] : ['--short-min-in-request', String(min)]
}

async function main (argv) {
  const { options, positionals } = parseArgs(argv, usage.options)
  const min = options['short-min-in-request']
  if (min !== undefined && min > 1) throw new UsageError(`--short-min-in-request takes a share from 0 to 1, got ${min}`)
  const profiles = positionals.length ? positionals.map((p) => path.resolve(p)) : configuredProfiles(process.cwd())
  if (profiles.length === 0) {
    throw new UsageError('no profile: name the files (samm bake samm.profile) or set "samm": { "profile": ... } in package.json')
  }
  const tool = path.join(RELEASE, 'samm_bake')
  if (!fs.existsSync(tool)) throw new Error(`${tool} is missing: run "npm install" in ${ROOT} first`)

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'samm-bake-'))
  try {
    const dry = spawnSync(tool, ['--c', path.join(tmp, 'table.c'), '--json', path.join(tmp, 'table.json'), ...bakeArgs(options), ...profiles], { stdio: 'inherit' })
    if (dry.status !== 0) return 1
    const sites = JSON.parse(fs.readFileSync(path.join(tmp, 'table.json'), 'utf8')).sites.length
    if (sites === 0 && !options['allow-empty']) {
      console.error(`samm bake: ${profiles.join(', ')} ${profiles.length > 1 ? 'hold' : 'holds'} no site (the profile of a run ` +
        'that failed?); nothing was rebuilt. --allow-empty bakes it anyway, putting every site back to heap')
      return 1
    }

    const addon = path.join(RELEASE, 'samm.node')
    const backup = path.join(tmp, 'samm.node')
    if (fs.existsSync(addon)) fs.copyFileSync(addon, backup)
    console.error(`samm bake: rebuilding the addon with ${profiles.join(', ')}`)
    const env = { ...process.env, SAMM_PROFILE: profiles.join(path.delimiter) }
    if (options['short-min-in-request']) env.SAMM_SHORT_MIN_IN_REQUEST = String(options['short-min-in-request'])
    const build = spawnSync('npm', ['run', 'install'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] })
    if (build.status !== 0) {
      if (fs.existsSync(backup)) {
        fs.mkdirSync(RELEASE, { recursive: true })
        fs.copyFileSync(backup, addon)
      }
      console.error('samm bake: the rebuild failed; the previous addon is back in place')
      return 1
    }
    const table = JSON.parse(fs.readFileSync(path.join(tmp, 'table.json'), 'utf8'))
    fs.copyFileSync(path.join(tmp, 'table.json'), path.join(process.cwd(), 'samm.table.json'))
    console.log(`samm bake: table ${table.digest}, ${table.sites.length} sites -> samm.table.json`)
    for (const s of table.sites) {
      const inRequest = s.allocs ? (100 * (1 - s.outlived / s.allocs)).toFixed(1) : '0.0'
      console.log(`  ${s.class.padEnd(6)} ${s.name}  (${s.allocs} allocations, ${inRequest}% died in their request)`)
    }
    return 0
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

module.exports = { main, usage }
