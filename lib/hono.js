'use strict'
// Hono middleware for @hono/node-server: one scope per request (see
// request.js), as c.get('samm') (null on requests without one). Use it
// first. The handlers after it run
// with the request's scope current, and the scope closes once they have
// settled and Node's response (c.env.outgoing) has emitted 'close': the
// server writes the Response's body after the handlers returned (a
// Uint8Array body straight from the scope's memory), and an aborted
// request's handler may still be running. A ReadableStream body is pulled
// after that: build its parts inside samm.enter(c.get('samm'), fn).
// Without @hono/node-server's bindings (another runtime, app.request() in
// tests) there is no response to watch: requests pass through without a
// scope.

const { invalidArg } = require('./errors')
const { openRequestScope, runHeld } = require('./request')

function hono (options = {}) {
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options)
  const { skip } = options
  if (skip !== undefined && typeof skip !== 'function') throw invalidArg('options.skip', 'a function', skip)

  return function sammHono (c, next) {
    const res = c.env !== undefined && c.env !== null ? c.env.outgoing : undefined
    if (res === undefined || res === null || typeof res.once !== 'function' || (skip !== undefined && skip(c))) {
      c.set('samm', null)
      return next()
    }
    const scope = openRequestScope(res)
    c.set('samm', scope)
    return runHeld(scope, next, undefined, [])
  }
}

module.exports = hono
module.exports.default = hono
module.exports.hono = hono
