'use strict'
// Sites: named allocation places, classed by the baked table.

const binding = require('./binding')
const { invalidArg, invalidSite } = require('./errors')
const { firstCountdown } = require('./escape')
const { counters } = require('./counters')

const HEAP = 0
const SHORT = 1
const MEDIUM = 2
const LONG = 3
const CLASS_NAMES = ['heap', 'short', 'medium', 'long']

let table = null
function bakedTable () {
  if (table === null) {
    const parsed = JSON.parse(binding.tableJson())
    const byName = new Map()
    for (const s of parsed.sites) byName.set(s.name, s)
    table = { ...parsed, byName }
  }
  return table
}

// FNV-1a over the UTF-8 bytes: the same id the C core computes.
function siteId (name) {
  const bytes = Buffer.from(name, 'utf8')
  let h = 0x811c9dc5
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]
    h = Math.imul(h, 16777619) >>> 0
  }
  return h
}

class Site {
  constructor (name, id, cls, sizes, explicit) {
    this.name = name
    this.id = id
    this.explicit = explicit
    this.allocs = 0
    this.bytes = 0
    this.heapFallbacks = 0
    this.escapes = 0 // watched short-class buffers found reachable after their request (lib/escape.js)
    this._own = cls // the class the table or the caller gave
    this._ownSizes = sizes // [[log2Min, log2Max, cls], ...] or null: one class
    this._cls = disabled ? HEAP : cls // in force: heap while SAMM is switched off
    this._sizes = disabled ? null : sizes
    this.class = CLASS_NAMES[this._cls]
    this._watchIn = firstCountdown() // short-class allocations until the next watched one
    this._watched = 0
    this._scopesAtStart = counters.scopesOpened // for the site's allocations per scope
    this._warned = false
    for (const key of ['_own', '_ownSizes', '_cls', '_sizes', '_watchIn', '_watched', '_scopesAtStart', '_warned']) {
      Object.defineProperty(this, key, { enumerable: false, writable: true })
    }
  }

  // After an escape: every later short-class allocation comes from the V8
  // heap, and so for a Site made again under this name (unless given a
  // class other than short).
  _demote () {
    demoted.add(this.name)
    this._own = withoutShort(this._own)
    this._ownSizes = withoutShortSizes(this._ownSizes)
    if (!disabled) {
      this._cls = this._own
      this._sizes = this._ownSizes
      this.class = CLASS_NAMES[this._cls]
    }
  }

  // The class of an allocation of size bytes at this site.
  classOf (size) {
    const sizes = this._sizes
    if (sizes === null) return this._cls
    const lg = size > 0 ? 31 - Math.clz32(size) : 0
    for (let i = 0; i < sizes.length; i++) {
      if (lg >= sizes[i][0] && lg <= sizes[i][1]) return sizes[i][2]
    }
    return HEAP
  }

  toJSON () {
    return { name: this.name, id: this.id, class: this.class }
  }
}

const sites = new Map()
let disabled = false
const demoted = new Set() // names of sites demoted after an escape

const withoutShort = (cls) => (cls === SHORT ? HEAP : cls)
const withoutShortSizes = (sizes) => (sizes === null ? null : sizes.map(([lo, hi, c]) => [lo, hi, withoutShort(c)]))

/** Switches SAMM off (every site heap) or back on (the table's classes). */
function setDisabled (off) {
  disabled = off
  for (const s of sites.values()) {
    s._cls = off ? HEAP : s._own
    s._sizes = off ? null : s._ownSizes
    s.class = CLASS_NAMES[s._cls]
  }
}

function site (name, options) {
  if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name, 'utf8') > 200) {
    throw invalidSite('site name', 'a non-empty string of at most 200 bytes in UTF-8', name)
  }
  let explicit = null
  if (options !== undefined) {
    if (options === null || typeof options !== 'object') throw invalidArg('site options', 'an object', options)
    if (options.class !== undefined) {
      explicit = CLASS_NAMES.indexOf(options.class)
      if (explicit < 0) {
        const err = invalidArg('options.class', `one of ${CLASS_NAMES.join(', ')}`, options.class)
        err.code = 'ERR_SAMM_INVALID_CLASS'
        throw err
      }
    }
  }
  const known = sites.get(name)
  if (known !== undefined && (explicit === null || known._own === explicit && known._ownSizes === null)) return known
  const baked = bakedTable().byName.get(name)
  let cls = HEAP
  let sizes = null
  if (explicit !== null) {
    cls = explicit
  } else if (baked !== undefined) {
    cls = CLASS_NAMES.indexOf(baked.class)
    if (Array.isArray(baked.sizes) && baked.sizes.length > 1) {
      sizes = baked.sizes.map((r) => [r.log2Min, r.log2Max, CLASS_NAMES.indexOf(r.class)])
    }
  }
  if (demoted.has(name)) {
    cls = withoutShort(cls)
    sizes = withoutShortSizes(sizes)
  }
  const s = new Site(name, siteId(name), cls, sizes, explicit !== null)
  sites.set(name, s)
  return s
}

/** The Site value names: a Site, or a site name. */
function resolveSite (value) {
  if (value instanceof Site) return value
  if (typeof value === 'string') return sites.get(value) || site(value)
  throw invalidSite('site', 'a Site or a site name', value)
}

module.exports = { site, resolveSite, bakedTable, siteId, sites, setDisabled, Site, HEAP, SHORT, MEDIUM, LONG, CLASS_NAMES }
