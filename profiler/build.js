'use strict'
// Rebuilds the addon as the package's install script does (npm run install),
// with node-gyp's own output kept in build/samm-build.log instead of the
// terminal. When the build fails, the compiler's error lines and the log's
// path are what the caller shows.

const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const ROOT = path.join(__dirname, '..')
const LOG = path.join(ROOT, 'build', 'samm-build.log')
const MAX_ERROR_LINES = 20

// The lines of a build's output that say why it failed: the compiler's
// errors (file:line:col: error: ...) and what follows them, gyp's own
// complaints, make's and node-gyp's verdicts, the bake tool's messages.
function errorLines (output) {
  const lines = output.split('\n')
  const picked = []
  for (let i = 0; i < lines.length && picked.length < MAX_ERROR_LINES; i++) {
    const line = lines[i]
    if (/:\d+(:\d+)?: (fatal )?error:/.test(line)) {
      picked.push(line)
      // The compiler's excerpt of the source line and its caret.
      for (let k = i + 1; k < lines.length && k <= i + 2 && /^\s+(\d+\s+)?\|/.test(lines[k]); k++) picked.push(lines[k])
    } else if (/^samm_bake: |^gyp: |^make: \*\*\*|^gyp ERR! (configure error|build error|stack Error)|^npm (ERR!|error) (code|command failed)|[Ee]rror: /.test(line)) {
      picked.push(line)
    }
  }
  return picked
}

/**
 * Runs the install build with env. Returns { ok, log, errors }: errors are
 * the lines worth showing when it failed (the last lines of the log when
 * none of them looks like an error).
 */
function rebuild (env = process.env) {
  const r = spawnSync('npm', ['run', 'install'], { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  // Written once the build is over: node-gyp removes build/ as it starts.
  const output = `$ npm run install (in ${ROOT})\n${r.stdout || ''}${r.stderr || ''}${r.error ? `\n${r.error.message}\n` : ''}`
  fs.mkdirSync(path.dirname(LOG), { recursive: true })
  fs.writeFileSync(LOG, output)
  const ok = r.status === 0
  let errors = []
  if (!ok) {
    errors = errorLines(output)
    if (errors.length === 0) errors = output.trimEnd().split('\n').slice(-10)
  }
  return { ok, log: LOG, errors }
}

/** Lines that report a failed rebuild: the errors, then where the log is. */
function failureReport (result) {
  return [...result.errors.map((line) => `  ${line}`), `full build log: ${result.log}`]
}

module.exports = { rebuild, failureReport, errorLines, LOG }
