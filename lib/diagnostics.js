'use strict'
// SAMM's events on node:diagnostics_channel (docs/diagnostics.md lists their
// payloads). A publisher checks `hasSubscribers` first, so that an event
// nobody listens to costs one property read.

const dc = require('node:diagnostics_channel')
const { performance } = require('node:perf_hooks')

const channels = {
  limit: dc.channel('samm:limit'), // the budget refused an allocation
  fallback: dc.channel('samm:fallback'), // an allocation served by the V8 heap instead
  scopeLong: dc.channel('samm:scope:long'), // a scope closed after being open unusually long
  escape: dc.channel('samm:escape') // a short-class buffer outlived its scope
}

// Recorded only while samm:scope:long has subscribers: when each scope
// opened, and the response of a scope opened for a request (for the
// event's payload). Kept here rather than on the scope, so that a scope
// costs nothing more while nobody listens.
const openedAt = new WeakMap()
const responses = new WeakMap()

/** Notes the time scope opened (samm:scope:long has subscribers). */
function scopeOpened (scope) {
  openedAt.set(scope, performance.now())
}

/** Remembers res as the response scope serves (request integrations). */
function noteResponse (scope, res) {
  if (channels.scopeLong.hasSubscribers) responses.set(scope, res)
}

/**
 * scope has released its memory: samm:scope:long if it was open at least
 * thresholdMs. Scopes that opened while nobody listened were not timed.
 */
function scopeReleased (scope, thresholdMs) {
  const opened = openedAt.get(scope)
  if (opened === undefined) return
  openedAt.delete(scope)
  const durationMs = performance.now() - opened
  if (durationMs < thresholdMs) return
  const response = responses.get(scope)
  channels.scopeLong.publish({
    scope,
    durationMs,
    thresholdMs,
    request: response !== undefined ? response.req : undefined,
    response
  })
}

/** samm:limit: the budget refused size bytes; action says what happens now. */
function publishLimit (err, size, cls, site, action, budget) {
  channels.limit.publish({ size, class: cls, site, action, maxBytes: budget.maxBytes, committed: budget.committed, error: err })
}

/** samm:fallback: an allocation of size bytes served by the V8 heap. */
function publishFallback (kind, size, cls, site) {
  channels.fallback.publish({ kind, size, class: cls, site })
}

module.exports = { channels, scopeOpened, noteResponse, scopeReleased, publishLimit, publishFallback }
