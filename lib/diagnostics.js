'use strict'
// SAMM's events on node:diagnostics_channel (docs/diagnostics.md lists their
// payloads). A publisher checks `hasSubscribers` first, so that an event
// nobody listens to costs one property read.

const dc = require('node:diagnostics_channel')

const channels = {
  limit: dc.channel('samm:limit'), // the budget refused an allocation
  fallback: dc.channel('samm:fallback'), // an allocation served by the V8 heap instead
  scopeLong: dc.channel('samm:scope:long'), // a scope closed after being open unusually long
  escape: dc.channel('samm:escape') // a short-class buffer outlived its scope
}

module.exports = { channels }
