#!/usr/bin/env node
'use strict'
// samm profile | bake | report: see README.md, "Profile, bake, report".

const USAGE = `usage:
  samm profile [--out FILE] [--duration S] [--load URL] [--connections N] -- <command...>
  samm bake [--short-min-in-request F] [profile...]
  samm report [--out FILE.html] <profile|table.json>`

async function main (argv) {
  const [command, ...rest] = argv
  const commands = {
    profile: () => require('../profiler/profile').main(rest),
    bake: () => require('../profiler/bake').main(rest),
    report: () => require('../profiler/report').main(rest)
  }
  if (commands[command] === undefined) {
    console.error(command === undefined || command === '--help' ? USAGE : `samm: unknown command '${command}'\n${USAGE}`)
    return command === '--help' ? 0 : 2
  }
  return commands[command]()
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (err) => {
  console.error(`samm: ${err.message}`)
  process.exitCode = 1
})
