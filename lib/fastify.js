'use strict'
// Fastify plugin: one scope per request (see request.js), as request.samm.
// Route handlers are wrapped as they are registered (register the plugin
// before the routes): each runs with the request's scope current, and a
// promise it returns keeps the scope open until it settles - onResponse
// misses aborted connections and onRequestAbort fires while the handler may
// still run, so neither alone is the moment to close. Opt a route out with
// `config: { samm: false }`.

const fp = require('fastify-plugin')
const { withRequestScope, runHeld } = require('./request')
const { gate } = require('./admission')

const kScope = Symbol('samm.scope')

function wrapHandler (handler) {
  return function sammRouteHandler (request, reply) {
    const scope = request[kScope]
    if (scope === undefined || scope.closed) return handler.call(this, request, reply)
    return runHeld(scope, handler, this, [request, reply])
  }
}

// options: { admit } (lib/admission.js).
async function samm (fastify, options) {
  const g = gate(options.admit)
  fastify.decorateRequest('samm', null)

  fastify.addHook('onRoute', function sammOnRoute (routeOptions) {
    if (routeOptions.config && routeOptions.config.samm === false) return
    routeOptions.handler = wrapHandler(routeOptions.handler)
  })

  fastify.addHook('onRequest', function sammOnRequest (request, reply, done) {
    const config = request.routeOptions && request.routeOptions.config
    if (config && config.samm === false) return done()
    withRequestScope(g, reply.raw, (scope) => {
      request[kScope] = scope
      request.samm = scope
      done()
    }, (retryAfter, body) => reply.code(503).header('retry-after', retryAfter).type('text/plain').send(body))
  })
}

const plugin = fp(samm, { fastify: '5.x', name: 'samm' })

module.exports = plugin
module.exports.default = plugin
module.exports.samm = plugin
