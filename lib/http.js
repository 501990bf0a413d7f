'use strict'
// node:http integration: one scope per request (see request.js).

const { invalidArg } = require('./errors')
const { withRequestScope } = require('./request')
const { storage } = require('./storage')
const { callThenSettle } = require('./settle')
const { gate } = require('./admission')

// options: { admit } (lib/admission.js).
function http (handler, options = {}) {
  if (typeof handler !== 'function') throw invalidArg('handler', 'a function', handler)
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options)
  for (const key of Object.keys(options)) if (key !== 'admit') throw invalidArg('options', 'an object with the key admit', key)
  const g = gate(options.admit)
  return function sammRequestHandler (req, res) {
    return withRequestScope(g, res, (scope) =>
      callThenSettle(scope.hold(), (...args) => storage.run(scope, handler, ...args), req, res))
  }
}

module.exports = { http }
