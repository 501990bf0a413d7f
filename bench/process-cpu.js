'use strict'
// CPU time of another process, from /proc (Linux).
const fs = require('node:fs')

/** CPU seconds (user + system) process pid has used; NaN once it is gone. */
function cpuSeconds (pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(f[11]) + Number(f[12])) / 100
  } catch {
    return NaN
  }
}

module.exports = { cpuSeconds }
