#!/usr/bin/env node
'use strict'
// samm profile | bake | report | help: see docs/cli.md. Exit status: 0 done,
// 1 failed, 2 usage error.

const { formatHelp, UsageError } = require('../profiler/args')

const COMMANDS = {
  profile: { module: '../profiler/profile', text: 'run a service under SAMM\'s trace mode (optionally under load) and write its profile' },
  bake: { module: '../profiler/bake', text: 'cluster profiles into a table and rebuild the addon with it' },
  report: { module: '../profiler/report', text: 'write an HTML report of a profile or a table' },
  help: { text: 'print this help, or a command\'s options: samm help <command>' }
}

const USAGE = `usage: samm <command> [options]

commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)}${c.text}`).join('\n')}

samm <command> --help (or samm help <command>) prints a command's options;
samm --version prints SAMM's version.
`

function commandHelp (name) {
  return formatHelp(require(COMMANDS[name].module).usage)
}

function version () {
  return require('../package.json').version
}

// Options before "--" that ask for help.
function asksHelp (args) {
  const end = args.indexOf('--')
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h')
}

async function main (argv) {
  const [command, ...rest] = argv
  if (command === '--version' || command === '-v') {
    console.log(version())
    return 0
  }
  if (command === '--help' || command === '-h') {
    process.stdout.write(USAGE)
    return 0
  }
  if (command === 'help') {
    const topic = rest[0]
    if (topic === undefined || topic === 'help') {
      process.stdout.write(USAGE)
      return 0
    }
    if (!Object.hasOwn(COMMANDS, topic)) throw new UsageError(`no command '${topic}'`)
    process.stdout.write(commandHelp(topic))
    return 0
  }
  if (command === undefined) {
    process.stderr.write(USAGE)
    return 2
  }
  if (!Object.hasOwn(COMMANDS, command)) throw new UsageError(`unknown command '${command}'`)
  if (asksHelp(rest)) {
    process.stdout.write(commandHelp(command))
    return 0
  }
  try {
    return await require(COMMANDS[command].module).main(rest)
  } catch (err) {
    err.command = command
    throw err
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (err) => {
  if (err instanceof UsageError) {
    const cmd = err.command ? ` ${err.command}` : ''
    console.error(`samm${cmd}: ${err.message}\nsee: samm help${cmd}`)
    process.exitCode = 2
    return
  }
  console.error(`samm${err.command ? ` ${err.command}` : ''}: ${err.message}`)
  process.exitCode = 1
})
