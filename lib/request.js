'use strict'
// What the framework integrations share: a scope per request that closes
// only when the response has emitted 'close' (which follows 'finish', and
// also fires when the client went away) and every hold on it - the
// handler's own work - has been released. Until then libuv may still hold
// pointers into scope memory handed to res.write()/res.end(), and an
// aborted request's handler may still be running.

const { Scope } = require('./scope')
const { noteResponse } = require('./diagnostics')
const { storage } = require('./storage')

function openRequestScope (res) {
  const scope = new Scope()
  noteResponse(scope, res)
  const close = () => scope.closeWhenSettled()
  if (res.closed || res.destroyed) queueMicrotask(close)
  else res.once('close', close)
  return scope
}

// Opens the request's scope and runs start(scope) - at once without a gate
// (lib/admission.js), else once the gate admits the request; a request it
// turns away gets refuse() (the integration's 503) instead.
function withRequestScope (gate, res, start, refuse) {
  if (gate === null) return start(openRequestScope(res))
  return gate.admit(res, () => {
    const scope = openRequestScope(res)
    gate.admitted(scope)
    return start(scope)
  }, refuse)
}

// Runs fn(...args) with scope as the current scope; if fn returns a promise,
// the scope stays open until it settles.
function runHeld (scope, fn, thisArg, args) {
  const ret = storage.run(scope, () => fn.apply(thisArg, args))
  if (ret !== null && typeof ret === 'object' && typeof ret.then === 'function' && !scope.closed) {
    scope.waitFor(ret)
  }
  return ret
}

// The same for integrations that know their arguments: fn(...args) with
// scope current, held while a promise it returns is pending.
function callHeld (scope, fn, ...args) {
  const ret = storage.run(scope, fn, ...args)
  if (ret !== null && typeof ret === 'object' && typeof ret.then === 'function' && !scope.closed) {
    scope.waitFor(ret)
  }
  return ret
}

module.exports = { openRequestScope, withRequestScope, runHeld, callHeld }
