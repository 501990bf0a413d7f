'use strict'
// The loop of requests the per-request micro benchmarks time: `requests`
// requests (samm.run(request, i)), the loop turning every 32, in 3 rounds;
// resolves the CPU time per request of the last round (the first two warm
// up), in µs.

async function cpuPerRequest (samm, requests, request) {
  let us = 0
  for (let round = 0; round < 3; round++) {
    const t0 = process.cpuUsage()
    for (let i = 0; i < requests; i++) {
      await samm.run(() => request(i))
      if (i % 32 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    const c = process.cpuUsage(t0)
    us = (c.user + c.system) / requests
  }
  return us
}

module.exports = { cpuPerRequest }
