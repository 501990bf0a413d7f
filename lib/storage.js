'use strict'
// The request scope of the running code (an AsyncLocalStorage), and a way
// to start SAMM's own long-lived timers outside it: a timer keeps the store
// that was current when it was made for as long as it lives, so an
// interval started during a request would pin that request's scope - and a
// scope never closed, its memory - for the life of the interval.

const { AsyncLocalStorage } = require('node:async_hooks')

const storage = new AsyncLocalStorage()

/** Runs fn (which starts timers) with no request scope current. */
function outsideScopes (fn) {
  return storage.exit(fn)
}

module.exports = { storage, outsideScopes }
