'use strict'
// npm run demo: profile the Express example under load, bake its table,
// rebuild, then benchmark it against the baselines (glibc; jemalloc and
// mimalloc when installed) and print a short table and where the rest is.
// About five minutes on 2 cores. The addon is rebuilt with the default
// table at the end, so the package is left as it was. The tools' own
// output goes to bench/out/run.log and samm-build.log.
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const ROOT = path.join(__dirname, '..')
if (!fs.existsSync(path.join(ROOT, 'build', 'Release', 'samm.node'))) {
  console.error('demo: the addon is not built; run "npm install" first')
  process.exit(1)
}
console.error('demo: profile -> bake -> benchmark of examples/express, both workload shapes (buffer-heavy, many small buffers); about five minutes')
const r = spawnSync(process.execPath, [path.join(__dirname, 'run.js'), '--quiet', '--examples', 'express', '--shapes', 'heavy,small',
  '--reps', '3', '--duration', '8', '--warmup', '2', ...process.argv.slice(2)], { stdio: 'inherit' })
if (r.status === 0) console.error('demo: done; the addon is back to the default table')
process.exitCode = r.status === null ? 1 : r.status
