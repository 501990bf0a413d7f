'use strict'
// What samm/prometheus and samm/otel report, read from samm.stats() when a
// scrape or a collection asks (docs/metrics.md).
//
// Per-site series are bounded: the baked table's sites, then sites given a
// class explicitly as they first show up, get a label of their own until
// sitesLimit labels are given; every other site counts under OTHER. A
// site's label never changes once given, so every series only grows.

const samm = require('./index')
const { sites } = require('./site')
const { invalidArg } = require('./errors')

const OTHER = '(other)'
const ARENAS = ['bump', 'slab', 'region']
// kind -> the stats() counter of heap fallbacks of that kind.
const FALLBACKS = [['limit', 'limitFallbacks'], ['collected', 'collectedFallbacks'], ['externalRefused', 'externalRefused'], ['outsideScope', 'outsideScope']]
const SITES_LIMIT = 50

function checkSitesLimit (name, value) {
  if (value === undefined) return SITES_LIMIT
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 10000) {
    throw invalidArg(name, 'an integer from 0 to 10000', value)
  }
  return value
}

class SiteLabels {
  constructor (limit) {
    this.limit = limit
    this.given = new Map() // site name -> its label (its name, or OTHER)
    this.labelled = 0
    for (const s of samm.table().sites) this.#give(s.name)
  }

  #give (name) {
    if (this.given.has(name)) return
    const own = this.labelled < this.limit
    if (own) this.labelled++
    this.given.set(name, own ? name : OTHER)
  }

  /** The label of the site called name (a site of the table, or not). */
  of (name) {
    let label = this.given.get(name)
    if (label === undefined) {
      const s = sites.get(name)
      if (s !== undefined && s.explicit) this.#give(name)
      else this.given.set(name, OTHER)
      label = this.given.get(name)
    }
    return label
  }
}

/**
 * A reader of samm.stats() with per-site figures under bounded labels:
 * read() returns { stats, sites: Map(label -> { allocs, bytes }) }. One
 * reading serves every instrument collected in the same synchronous run (a
 * prom-client scrape calls every metric's collect() in one loop).
 */
function makeReader (sitesLimit) {
  const labels = new SiteLabels(sitesLimit)
  let snapshot = null
  const forget = () => { snapshot = null }
  return function read () {
    if (snapshot !== null) return snapshot
    const stats = samm.stats()
    const bySite = new Map()
    for (const name of Object.keys(stats.sites)) {
      const label = labels.of(name)
      const s = stats.sites[name]
      const sum = bySite.get(label)
      if (sum === undefined) bySite.set(label, { allocs: s.allocs, bytes: s.bytes })
      else { sum.allocs += s.allocs; sum.bytes += s.bytes }
    }
    if (!bySite.has(OTHER)) bySite.set(OTHER, { allocs: 0, bytes: 0 })
    snapshot = { stats, sites: bySite }
    queueMicrotask(forget)
    return snapshot
  }
}

module.exports = { makeReader, checkSitesLimit, ARENAS, FALLBACKS, OTHER, SITES_LIMIT }
