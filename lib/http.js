'use strict'
// node:http integration: one scope per request, closed when both the
// response has emitted 'close' (after 'finish', or when the client went
// away) and the handler's own work has settled. Until then libuv may still
// hold pointers into scope memory handed to res.write()/res.end(), and an
// aborted request's handler may still be running.

const { Scope } = require('./scope')
const { invalidArg } = require('./errors')

function openRequestScope (res) {
  const scope = new Scope()
  let waiting = 2 // the response's 'close' and the handler
  const settle = () => { if (--waiting === 0) scope.close() }
  if (res.closed || res.destroyed) settle()
  else res.once('close', settle)
  return { scope, settle }
}

function http (handler, enter) {
  if (typeof handler !== 'function') throw invalidArg('handler', 'a function', handler)
  return function sammRequestHandler (req, res) {
    const { scope, settle } = openRequestScope(res)
    let result
    try {
      result = enter(scope, handler, req, res)
    } catch (err) {
      settle()
      throw err
    }
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
      return Promise.resolve(result).finally(settle)
    }
    settle()
    return result
  }
}

module.exports = { http, openRequestScope }
