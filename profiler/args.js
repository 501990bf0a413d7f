'use strict'
// A small option parser for the CLI: --name value pairs, then positionals;
// everything after "--" is returned as `rest`. Kinds: 'string', 'number'
// (positive), 'integer' (whole, positive), 'list' (repeatable).

function parseArgs (argv, spec) {
  const options = {}
  const positionals = []
  let rest = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') {
      rest = argv.slice(i + 1)
      break
    }
    if (arg.startsWith('--')) {
      const name = arg.slice(2)
      const kind = spec[name]
      if (kind === undefined) throw new Error(`unknown option ${arg}`)
      const value = argv[++i]
      if (value === undefined) throw new Error(`${arg} needs a value`)
      if (kind === 'number') {
        const n = Number(value)
        if (!Number.isFinite(n) || n <= 0) throw new Error(`${arg} takes a positive number, got ${JSON.stringify(value)}`)
        options[name] = n
      } else if (kind === 'integer') {
        if (!/^[1-9][0-9]{0,8}$/.test(value)) throw new Error(`${arg} takes a whole number from 1 to 999999999, got ${JSON.stringify(value)}`)
        options[name] = Number(value)
      } else if (kind === 'list') {
        options[name] = (options[name] || []).concat(value)
      } else {
        options[name] = value
      }
    } else {
      positionals.push(arg)
    }
  }
  return { options, positionals, rest }
}

module.exports = { parseArgs }
