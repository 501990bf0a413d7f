'use strict'
// node:http integration: one scope per request, closed when both the
// response has emitted 'close' (after 'finish', or when the client went
// away) and the handler's own work has settled. Until then libuv may still
// hold pointers into scope memory handed to res.write()/res.end(), and an
// aborted request's handler may still be running.

const { Scope } = require('./scope')
const { invalidArg } = require('./errors')
const { callThenSettle } = require('./settle')

// A scope that closes on the second settle(): one comes from the response's
// 'close', the other from whoever ran the handler.
function openRequestScope (res) {
  const scope = new Scope()
  let waiting = 2
  const settle = () => { if (--waiting === 0) scope.close() }
  if (res.closed || res.destroyed) settle()
  else res.once('close', settle)
  return { scope, settle }
}

function http (handler, enter) {
  if (typeof handler !== 'function') throw invalidArg('handler', 'a function', handler)
  return function sammRequestHandler (req, res) {
    const { scope, settle } = openRequestScope(res)
    return callThenSettle(settle, enter, scope, handler, req, res)
  }
}

module.exports = { http }
