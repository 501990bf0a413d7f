'use strict'
// The CLI's option parser and help text. A command describes its options
// once - name, value name, kind, a sentence - and both come from that:
//   { name: 'out', value: 'FILE', kind: 'string' | 'number' | 'count' | 'flag', repeat?, text }
// --name value and --name=value; a repeatable option collects a list;
// everything after "--" is returned as `rest`. -h and --help ask for help.
// Mistakes throw a UsageError (exit status 2).

class UsageError extends Error {}

function parseArgs (argv, spec) {
  const byName = new Map(spec.map((o) => [o.name, o]))
  const options = {}
  const positionals = []
  let rest = []
  let help = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') {
      rest = argv.slice(i + 1)
      break
    }
    if (arg === '-h' || arg === '--help') {
      help = true
      continue
    }
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') && arg.length > 1) throw new UsageError(`unknown option ${arg}`)
      positionals.push(arg)
      continue
    }
    const eq = arg.indexOf('=')
    const name = arg.slice(2, eq === -1 ? undefined : eq)
    const o = byName.get(name)
    if (o === undefined) throw new UsageError(`unknown option --${name}`)
    let value
    if (o.kind === 'flag') {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`)
      value = true
    } else {
      value = eq === -1 ? argv[++i] : arg.slice(eq + 1)
      if (value === undefined || (eq === -1 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value (${o.value})`)
      value = convert(o, value)
    }
    if (o.repeat) (options[name] ||= []).push(value)
    else if (options[name] !== undefined) throw new UsageError(`--${name} is given twice`)
    else options[name] = value
  }
  return { options, positionals, rest, help }
}

function convert (o, value) {
  if (o.kind === 'number') {
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${o.name} takes a positive number, got ${JSON.stringify(value)}`)
    return n
  }
  if (o.kind === 'count') {
    const n = Number(value)
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${o.name} takes a positive whole number, got ${JSON.stringify(value)}`)
    return n
  }
  return value
}

// Wraps text to width columns, each line after the first indented by indent.
function wrap (text, width, indent) {
  const lines = []
  let line = ''
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else {
      line = line ? `${line} ${word}` : word
    }
  }
  if (line) lines.push(line)
  return lines.join('\n' + ' '.repeat(indent))
}

/** The help of a command: { synopsis, summary, options, notes, examples }. */
function formatHelp (usage) {
  let out = `usage: ${usage.synopsis}\n\n${wrap(usage.summary, 78, 0)}\n`
  const options = usage.options.concat({ name: 'help', kind: 'flag', text: 'Print this help and exit.' })
  out += '\noptions:\n'
  const left = (o) => `  --${o.name}${o.kind === 'flag' ? '' : ` ${o.value}`}`
  const col = Math.max(...options.map((o) => left(o).length)) + 2
  for (const o of options) out += `${left(o).padEnd(col)}${wrap(o.text, 78 - col, col)}\n`
  for (const note of usage.notes || []) out += `\n${wrap(note, 78, 0)}\n`
  if (usage.examples) out += `\nexamples:\n${usage.examples.map((e) => `  ${e}\n`).join('')}`
  return out
}

module.exports = { parseArgs, formatHelp, UsageError }
