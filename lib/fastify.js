'use strict'
// Fastify plugin: one scope per request (see request.js), as request.samm.
//
// addHook copies a lifecycle hook into the instance and all its children,
// those registered before the plugin too (siblings, @fastify/autoload
// trees), and Fastify builds each route's hook arrays into the route's
// context just before the server is ready. So the plugin's onRequest hook
// runs for every route of the instance it is registered on, whatever the
// order. On a route's first request it takes the route's context over,
// once: the hook moves to the front of onRequest, and the handler and every
// lifecycle hook are wrapped to run with the request's scope current. A
// promise they return keeps the scope open until it settles: onResponse
// misses aborted connections and onRequestAbort fires while the handler
// may still run, so neither alone is the moment to close. Opt a route out
// with `config: { samm: false }`.
//
// The route context is Fastify's own (request[Symbol('fastify.context')]);
// where it cannot be found the plugin still opens a scope per request but
// wraps nothing, and says so once (SAMM_FASTIFY_UNCOVERED).

const fp = require('fastify-plugin')
const { openRequestScope, callHeld } = require('./request')

const kScope = Symbol('samm.scope')
const kAdopted = Symbol('samm.adopted')
const kWrapped = Symbol('samm.wrapped')
const OPENER = 'sammOnRequest'

// Hooks called as fn(request, reply, done) and fn(request, reply, x, done),
// and onRequestAbort, called as fn(request, done).
const HOOKS_3 = ['onRequest', 'preValidation', 'preHandler', 'onResponse', 'onTimeout']
const HOOKS_4 = ['preParsing', 'preSerialization', 'onSend', 'onError']

let contextKey // Fastify's route-context symbol: undefined until looked for, then null if absent
let warned = false

function findContextKey (request) {
  for (const key of Object.getOwnPropertySymbols(request)) {
    if (key.description !== 'fastify.context') continue
    const ctx = request[key]
    if (ctx !== null && typeof ctx === 'object' && typeof ctx.handler === 'function' && Array.isArray(ctx.onRequest)) return key
  }
  return null
}

function uncovered () {
  if (warned) return
  warned = true
  process.emitWarning('samm/fastify cannot find the route context of this Fastify version: handlers and hooks run ' +
    'outside the request\'s scope (their allocations are counted in stats().outsideScope)', { code: 'SAMM_FASTIFY_UNCOVERED' })
}

function inScope3 (fn) {
  if (fn[kWrapped]) return fn
  const wrapped = function sammHook (request, reply, done) {
    const scope = request[kScope]
    if (scope === undefined || scope.closed) return fn(request, reply, done)
    return callHeld(scope, fn, request, reply, done)
  }
  wrapped[kWrapped] = true
  return wrapped
}

function inScope4 (fn) {
  if (fn[kWrapped]) return fn
  const wrapped = function sammHook (request, reply, payload, done) {
    const scope = request[kScope]
    if (scope === undefined || scope.closed) return fn(request, reply, payload, done)
    return callHeld(scope, fn, request, reply, payload, done)
  }
  wrapped[kWrapped] = true
  return wrapped
}

function inScope2 (fn) {
  if (fn[kWrapped]) return fn
  const wrapped = function sammHook (request, done) {
    const scope = request[kScope]
    if (scope === undefined || scope.closed) return fn(request, done)
    return callHeld(scope, fn, request, done)
  }
  wrapped[kWrapped] = true
  return wrapped
}

function wrapEach (fns, wrap, from) {
  if (!Array.isArray(fns)) return
  for (let i = from; i < fns.length; i++) fns[i] = wrap(fns[i])
}

// Takes a route's context over (once): the scope hook first in onRequest,
// then every other lifecycle hook and the handler wrapped. Called from the
// scope hook during the route's first request: moving the scope hook to the
// front leaves the hooks after it at their index, so that request's walk
// through onRequest goes on unchanged (the hooks that were before it ran
// without a scope, that once).
function adopt (ctx) {
  ctx[kAdopted] = true
  const onRequest = ctx.onRequest
  const at = onRequest.findIndex((fn) => fn.name === `bound ${OPENER}` || fn.name === OPENER)
  if (at > 0) {
    const opener = onRequest[at]
    onRequest.copyWithin(1, 0, at)
    onRequest[0] = opener
  }
  wrapEach(onRequest, inScope3, 1)
  for (const name of HOOKS_3) if (name !== 'onRequest') wrapEach(ctx[name], inScope3, 0)
  for (const name of HOOKS_4) wrapEach(ctx[name], inScope4, 0)
  wrapEach(ctx.onRequestAbort, inScope2, 0)
  const handler = ctx.handler
  if (typeof handler === 'function' && !handler[kWrapped]) {
    const wrapped = function sammRouteHandler (request, reply) {
      const scope = request[kScope]
      if (scope === undefined || scope.closed) return handler.call(this, request, reply)
      return callHeld(scope, handler, request, reply)
    }
    wrapped[kWrapped] = true
    ctx.handler = wrapped
  }
}

function sammOnRequest (request, reply, done) {
  if (contextKey === undefined) contextKey = findContextKey(request)
  const ctx = contextKey === null ? undefined : request[contextKey]
  let config
  if (ctx === undefined) {
    uncovered()
    config = request.routeOptions.config
  } else {
    config = ctx.config
  }
  if (config && config.samm === false) return done()
  if (ctx !== undefined && ctx[kAdopted] !== true) adopt(ctx)
  const scope = openRequestScope(reply.raw)
  request[kScope] = scope
  request.samm = scope
  done()
}

async function samm (fastify) {
  fastify.decorateRequest('samm', null)
  fastify.addHook('onRequest', sammOnRequest)
}

const plugin = fp(samm, { fastify: '5.x', name: 'samm' })

module.exports = plugin
module.exports.default = plugin
module.exports.samm = plugin
