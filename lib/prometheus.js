'use strict'
// require('samm/prometheus'): SAMM's metrics for prom-client, registered the
// way collectDefaultMetrics registers Node's: gauges and counters whose
// collect() reads samm.stats() when the registry is scraped. Names and
// labels: docs/metrics.md.

const { SammError, invalidArg } = require('./errors')
const { makeReader, checkSitesLimit, ARENAS, FALLBACKS } = require('./metrics')

function promClient () {
  try {
    return require('prom-client')
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes("'prom-client'")) throw err
    const e = new SammError('ERR_SAMM_MISSING_PEER', 'samm/prometheus needs prom-client: npm install prom-client')
    e.cause = err
    throw e
  }
}

const ARENA_GAUGES = [
  ['arena_committed_bytes', 'Bytes SAMM has committed per arena (bump: request scopes, slab: medium, region: long).', 'committed'],
  ['arena_in_use_bytes', 'Bytes handed out and not yet released per arena (bump: whole chunks held by open scopes).', 'inUse'],
  ['arena_high_water_bytes', 'Largest in-use bytes seen per arena.', 'highWater']
]

// [name, help, read(stats)]
const GAUGES = [
  ['committed_bytes', 'Bytes SAMM has committed, all arenas: what the budget counts.', (s) => s.committed],
  ['high_water_bytes', 'Largest committed bytes seen.', (s) => s.highWater],
  ['budget_bytes', 'The budget: bytes SAMM may have committed (maxBytes).', (s) => s.maxBytes],
  ['scopes_open', 'Request scopes open now.', (s) => s.scopesOpen]
]

const COUNTERS = [
  ['scopes_opened_total', 'Request scopes opened.', (s) => s.scopesOpened],
  ['scope_allocations_total', 'Allocations served by request scopes (counted when their scope closes).', (s) => s.bump.allocs],
  ['budget_refusals_total', 'Times the budget refused memory (some were then served once cached chunks were handed back).', (s) => s.limitRefusals]
]

/**
 * Registers SAMM's metrics on registry (default: prom-client's global
 * registry). options: { prefix, labels, sitesLimit }, as collectDefaultMetrics
 * takes prefix and labels.
 */
function register (registry, options = {}) {
  const client = promClient()
  if (registry === undefined || registry === null) registry = client.register
  if (typeof registry !== 'object' || typeof registry.registerMetric !== 'function') {
    throw invalidArg('registry', 'a prom-client Registry', registry)
  }
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options)
  const prefix = options.prefix === undefined ? '' : options.prefix
  if (typeof prefix !== 'string') throw invalidArg('options.prefix', 'a string', prefix)
  const labels = options.labels === undefined ? {} : options.labels
  if (labels === null || typeof labels !== 'object') throw invalidArg('options.labels', 'an object', labels)
  const read = makeReader(checkSitesLimit('options.sitesLimit', options.sitesLimit))

  const labelNames = Object.keys(labels)
  const registers = [registry]
  const name = (n) => `${prefix}samm_${n}`

  for (const [n, help, key] of ARENA_GAUGES) {
    new client.Gauge({ // eslint-disable-line no-new
      name: name(n),
      help,
      labelNames: [...labelNames, 'arena'],
      registers,
      collect () {
        const { stats } = read()
        for (const arena of ARENAS) this.set({ ...labels, arena }, stats[arena][key])
      }
    })
  }
  for (const [n, help, value] of GAUGES) {
    new client.Gauge({ name: name(n), help, labelNames, registers, collect () { this.set(labels, value(read().stats)) } }) // eslint-disable-line no-new
  }
  // Counters hold SAMM's own totals: each collect sets them afresh.
  for (const [n, help, value] of COUNTERS) {
    new client.Counter({ // eslint-disable-line no-new
      name: name(n),
      help,
      labelNames,
      registers,
      collect () {
        this.reset()
        this.inc(labels, value(read().stats))
      }
    })
  }
  new client.Counter({ // eslint-disable-line no-new
    name: name('fallbacks_total'),
    help: 'Allocations the V8 heap served instead of SAMM, by kind: limit (over budget, onLimit heap), collected (over budget while collected buffers not yet given back held the room), externalRefused (external buffers forbidden), outsideScope (short class outside any scope).',
    labelNames: [...labelNames, 'kind'],
    registers,
    collect () {
      const { stats } = read()
      this.reset()
      for (const [kind, key] of FALLBACKS) this.inc({ ...labels, kind }, stats[key])
    }
  })
  const perSite = (n, help, key) => new client.Counter({
    name: name(n),
    help,
    labelNames: [...labelNames, 'site'],
    registers,
    collect () {
      this.reset()
      for (const [site, sum] of read().sites) this.inc({ ...labels, site }, sum[key])
    }
  })
  perSite('site_allocations_total', 'Allocations per site (the baked table\'s sites and explicitly classed ones up to sitesLimit; the rest as "(other)").', 'allocs')
  perSite('site_allocated_bytes_total', 'Bytes allocated per site (labels as samm_site_allocations_total).', 'bytes')
}

module.exports = { register }
