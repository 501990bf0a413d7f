'use strict'
// Koa middleware: one scope per request (see request.js), as ctx.samm
// (null on requests `skip` turns away). Use
// it first. The middleware after it runs with the request's scope current
// (AsyncLocalStorage follows next()'s promise chain), and the scope closes
// once next() has settled and the response has emitted 'close': Koa writes
// ctx.body after the chain resolved, and an aborted request's handlers may
// still be running. A stream body is read after the chain, from stream
// events: build its parts inside samm.enter(ctx.samm, fn).

const { invalidArg } = require('./errors')
const { openRequestScope, runHeld } = require('./request')

function koa (options = {}) {
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options)
  const { skip } = options
  if (skip !== undefined && typeof skip !== 'function') throw invalidArg('options.skip', 'a function', skip)

  return function sammKoa (ctx, next) {
    if (skip !== undefined && skip(ctx)) {
      ctx.samm = null
      return next()
    }
    const scope = openRequestScope(ctx.res)
    ctx.samm = scope
    return runHeld(scope, next, undefined, [])
  }
}

module.exports = koa
module.exports.default = koa
module.exports.koa = koa
