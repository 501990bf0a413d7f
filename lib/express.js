'use strict'
// Express middleware: one scope per request (see request.js), as req.samm;
// null on requests skip() turns away, as request.samm in Fastify.
//
// Express does not tell a middleware when the handlers after it have
// settled, and body parsers resume the chain from stream events, outside
// the request's async context. So the first time a router is used, each of
// its layers is wrapped once: every handler then runs with the request's
// scope current, and a promise it returns keeps the scope open until it
// settles (an aborted request's handler may still be running).

const { invalidArg } = require('./errors')
const { openRequestScope, runHeld } = require('./request')

const kScope = Symbol('samm.scope')
const kWrapped = Symbol('samm.wrapped')
const patched = new WeakSet()

function wrapHandle (fn) {
  if (typeof fn !== 'function' || fn[kWrapped]) return fn
  const wrapped = function sammLayerHandle (req, ...rest) {
    const scope = req !== null && typeof req === 'object' ? req[kScope] : undefined
    if (scope === undefined || scope.closed) return fn.call(this, req, ...rest)
    return runHeld(scope, fn, this, [req, ...rest])
  }
  // Express tells error handlers (arity 4) from the rest by fn.length.
  Object.defineProperty(wrapped, 'length', { value: fn.length })
  Object.defineProperty(wrapped, 'name', { value: fn.name })
  wrapped[kWrapped] = true
  return wrapped
}

// Wraps `handle` of every layer as the router dispatches through it: the
// Layer prototype is patched once, so routes added later are covered too.
function patchLayer (Layer) {
  const proto = Layer && Layer.prototype
  if (!proto || patched.has(proto)) return
  patched.add(proto)
  for (const method of ['handleRequest', 'handleError', 'handle_request', 'handle_error']) {
    const original = proto[method]
    if (typeof original !== 'function') continue
    proto[method] = function (...args) {
      if (!this.route) this.handle = wrapHandle(this.handle)
      return original.apply(this, args)
    }
  }
}

function routerOf (app) {
  if (!app) return undefined
  return app.router || app._router // Express 5, Express 4
}

function express (options = {}) {
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options)
  const { skip } = options
  if (skip !== undefined && typeof skip !== 'function') throw invalidArg('options.skip', 'a function', skip)

  return function sammMiddleware (req, res, next) {
    if (skip !== undefined && skip(req)) {
      req.samm = null
      return next()
    }
    const router = routerOf(req.app)
    if (router && router.stack && router.stack.length) patchLayer(router.stack[0].constructor)
    const scope = openRequestScope(res)
    req[kScope] = scope
    req.samm = scope
    const release = scope.hold()
    try {
      runHeld(scope, next, undefined, [])
    } finally {
      release()
    }
  }
}

module.exports = { express, kScope }
