'use strict'
// autocannon for the benchmarks, without its per-response body string.
//
// autocannon keeps every response body as a string (each chunk through
// Buffer#toString) in case a test checks it. These benchmarks never check
// bodies, and with the examples' 16 KB - 1 MB bodies that conversion cost the
// load generator more CPU per request than the service spent (measured on
// the node:http example: about 600 us against 290 us), so the service was
// never the bottleneck and every configuration showed the load generator's
// ceiling. Counting bytes only (autocannon still counts them) keeps the load
// generator ahead of the service.
const autocannon = require('autocannon')

let queue = null
try {
  queue = require('autocannon/lib/pipelinedRequestsQueue')
} catch {}
const bodyKept = !(queue && typeof queue.prototype.addBody === 'function')
if (!bodyKept) queue.prototype.addBody = function addBody () {}

module.exports = autocannon
// false when the body strings are skipped (the usual case); true when this
// autocannon's internals changed and the benchmarks pay for them again.
module.exports.bodyKept = bodyKept
