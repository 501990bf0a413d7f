'use strict'
// npm run prebuild (and npm pack, through prepack): the prebuilt addon the
// package ships in prebuilds/<platform>-<arch>/. prebuildify builds this
// checkout's sources for Node-API (one binary serves every Node line) with
// the default table, strips it and names it for node-gyp-build
// (samm.glibc.node); the samm_bake tool goes beside it, so that `samm
// report` and the checks of `samm bake` work where no compiler is. Packing
// always runs this first: the package carries a build of the sources it
// ships. It builds in a copy of the sources, leaving this checkout's build
// alone; node-gyp's output goes to samm-prebuild.log.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const ROOT = path.join(__dirname, '..')
const LOG = path.join(ROOT, 'samm-prebuild.log')
const SOURCES = ['package.json', 'binding.gyp', 'native', 'src', 'scripts']
const npmDir = path.dirname(path.dirname(fs.realpathSync(process.env.npm_execpath || require.resolve('npm'))))
const gyp = process.env.npm_config_node_gyp || path.join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'samm-prebuild-'))
try {
  for (const entry of SOURCES) fs.cpSync(path.join(ROOT, entry), path.join(work, entry), { recursive: true })
  const out = fs.openSync(LOG, 'w')
  const env = { ...process.env, PREBUILD_NODE_GYP: gyp, SAMM_BUILD_PROFILES: '[]' }
  const bin = path.join(path.dirname(require.resolve('prebuildify/package.json')), 'bin.js')
  const r = spawnSync(process.execPath, [bin, '--napi', '--strip', '--tag-libc'], { cwd: work, env, stdio: ['ignore', out, out] })
  fs.closeSync(out)
  if (r.status !== 0) {
    console.error(`samm prebuild: prebuildify failed; see ${LOG}`)
    process.exit(1)
  }
  fs.cpSync(path.join(work, 'prebuilds'), path.join(ROOT, 'prebuilds'), { recursive: true })
  fs.copyFileSync(path.join(work, 'build', 'Release', 'samm_bake'), path.join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`, 'samm_bake'))
} finally {
  fs.rmSync(work, { recursive: true, force: true })
}
const dir = path.join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`)
const tool = path.join(dir, 'samm_bake')
spawnSync('strip', [tool], { stdio: 'ignore' })
fs.chmodSync(tool, 0o755)
for (const f of fs.readdirSync(dir)) console.error(`samm prebuild: ${path.relative(ROOT, path.join(dir, f))} (${fs.statSync(path.join(dir, f)).size} bytes)`)
