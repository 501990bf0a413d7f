'use strict'
// require('samm/otel'): SAMM's metrics as OpenTelemetry observable
// instruments on a Meter from @opentelemetry/api. One batch callback reads
// samm.stats() when the SDK collects. Names follow OpenTelemetry's
// conventions: dotted, the unit in `unit` rather than in the name
// (docs/metrics.md).

const { invalidArg } = require('./errors')
const { makeReader, checkSitesLimit, ARENAS, FALLBACKS } = require('./metrics')

const METER_METHODS = ['createObservableGauge', 'createObservableCounter', 'createObservableUpDownCounter', 'addBatchObservableCallback']

/**
 * Registers SAMM's observable instruments on meter. options: { sitesLimit }.
 */
function registerSammMetrics (meter, options = {}) {
  if (meter === null || typeof meter !== 'object' || METER_METHODS.some((m) => typeof meter[m] !== 'function')) {
    throw invalidArg('meter', 'an OpenTelemetry Meter', meter)
  }
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options)
  const read = makeReader(checkSitesLimit('options.sitesLimit', options.sitesLimit))

  const upDown = (name, description, unit) => meter.createObservableUpDownCounter(name, { description, unit })
  const gauge = (name, description, unit) => meter.createObservableGauge(name, { description, unit })
  const counter = (name, description, unit) => meter.createObservableCounter(name, { description, unit })

  const arena = {
    committed: upDown('samm.arena.committed', 'Bytes SAMM has committed per arena (bump: request scopes, slab: medium, region: long).', 'By'),
    inUse: upDown('samm.arena.in_use', 'Bytes handed out and not yet released per arena (bump: whole chunks held by open scopes).', 'By'),
    highWater: gauge('samm.arena.high_water', 'Largest in-use bytes seen per arena.', 'By')
  }
  const committed = upDown('samm.committed', 'Bytes SAMM has committed, all arenas: what the budget counts.', 'By')
  const highWater = gauge('samm.high_water', 'Largest committed bytes seen.', 'By')
  const budget = upDown('samm.budget', 'The budget: bytes SAMM may have committed (maxBytes).', 'By')
  const scopesOpen = upDown('samm.scopes.open', 'Request scopes open now.', '{scope}')
  const scopesOpened = counter('samm.scopes.opened', 'Request scopes opened.', '{scope}')
  const scopeAllocations = counter('samm.scope.allocations', 'Allocations served by request scopes (counted when their scope closes).', '{allocation}')
  const refusals = counter('samm.budget.refusals', 'Times the budget refused memory (some were then served once cached chunks were handed back).', '{refusal}')
  const fallbacks = counter('samm.fallbacks', 'Allocations the V8 heap served instead of SAMM, by kind: limit, collected, externalRefused, outsideScope.', '{allocation}')
  const siteAllocations = counter('samm.site.allocations', 'Allocations per site (the baked table\'s sites and explicitly classed ones up to sitesLimit; the rest as "(other)").', '{allocation}')
  const siteBytes = counter('samm.site.allocated', 'Bytes allocated per site (attributes as samm.site.allocations).', 'By')

  const observables = [arena.committed, arena.inUse, arena.highWater, committed, highWater, budget, scopesOpen,
    scopesOpened, scopeAllocations, refusals, fallbacks, siteAllocations, siteBytes]

  meter.addBatchObservableCallback(function observeSamm (result) {
    const { stats, sites } = read()
    for (const name of ARENAS) {
      const attributes = { arena: name }
      result.observe(arena.committed, stats[name].committed, attributes)
      result.observe(arena.inUse, stats[name].inUse, attributes)
      result.observe(arena.highWater, stats[name].highWater, attributes)
    }
    result.observe(committed, stats.committed)
    result.observe(highWater, stats.highWater)
    result.observe(budget, stats.maxBytes)
    result.observe(scopesOpen, stats.scopesOpen)
    result.observe(scopesOpened, stats.scopesOpened)
    result.observe(scopeAllocations, stats.bump.allocs)
    result.observe(refusals, stats.limitRefusals)
    for (const [kind, key] of FALLBACKS) result.observe(fallbacks, stats[key], { kind })
    for (const [site, sum] of sites) {
      result.observe(siteAllocations, sum.allocs, { site })
      result.observe(siteBytes, sum.bytes, { site })
    }
  }, observables)
}

module.exports = { registerSammMetrics }
