'use strict'
// node:http integration: one scope per request (see request.js).

const { invalidArg } = require('./errors')
const { openRequestScope, storage } = require('./request')
const { callThenSettle } = require('./settle')

function http (handler) {
  if (typeof handler !== 'function') throw invalidArg('handler', 'a function', handler)
  return function sammRequestHandler (req, res) {
    const scope = openRequestScope(res)
    return callThenSettle(scope.hold(), (...args) => storage.run(scope, handler, ...args), req, res)
  }
}

module.exports = { http }
