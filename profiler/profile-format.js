'use strict'
// Reads profile text (docs/profiling.md, "Profile format", versions 1 and
// 2) for reports. The C parser is the one that validates (samm bake); this
// one assumes a valid profile and sums lines the same way.

const BINS = 160

function decodeName (s) {
  return Buffer.from(s.replace(/%([0-9A-Fa-f]{2})/g, (m, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8')
}

// `u` lines come from two sources (profiler/preload.js), told apart by their
// allocation count: the Buffer sampler's lines count allocations, bytes and
// the bytes of them alive at exit; the heap profiler's lines (allocations 0)
// carry only its sampled heap bytes, in the last field. They are summed
// apart, so that each figure comes from one source.
function readProfile (text) {
  // name -> { name, allocs, outlived, censored, undecided, bins, sizes: Map(log2 -> allocs), retainers }
  const sites = new Map()
  const unmanaged = new Map() // where -> { where, allocs, bytes, survived }: the Buffer sampler
  const retained = new Map() // where -> { where, sampledBytes }: the heap profiler
  const siteOf = (name) => {
    let s = sites.get(name)
    if (s === undefined) {
      s = { name, allocs: 0, outlived: 0, censored: 0, undecided: 0, bins: new Array(BINS).fill(0), sizes: new Map(), retainers: new Map() }
      sites.set(name, s)
    }
    return s
  }
  let version = 1
  for (const line of text.split('\n')) {
    const f = line.replace(/\r$/, '').split(' ')
    if (f[0] === 'samm-profile') {
      version = Number(f[1])
    } else if (f[0] === 's' && f.length === (version >= 2 ? 8 : 7)) {
      const s = siteOf(decodeName(f[1]))
      const allocs = Number(f[3])
      s.allocs += allocs
      s.outlived += Number(f[4])
      s.censored += Number(f[5])
      if (version >= 2) s.undecided += Number(f[6])
      s.sizes.set(Number(f[2]), (s.sizes.get(Number(f[2])) || 0) + allocs)
      const binsField = f[f.length - 1]
      if (binsField !== '-') {
        for (const item of binsField.split(',')) {
          const [bin, count] = item.split(':').map(Number)
          s.bins[bin] += count
        }
      }
    } else if (f[0] === 'r' && f.length === 4 && version >= 2) {
      const s = siteOf(decodeName(f[1]))
      const path = decodeName(f[3])
      s.retainers.set(path, (s.retainers.get(path) || 0) + Number(f[2]))
    } else if (f[0] === 'u' && f.length === 5) {
      const where = decodeName(f[1])
      if (Number(f[2]) === 0) {
        const r = retained.get(where) || { where, sampledBytes: 0 }
        r.sampledBytes += Number(f[4])
        retained.set(where, r)
        continue
      }
      const u = unmanaged.get(where) || { where, allocs: 0, bytes: 0, survived: 0 }
      u.allocs += Number(f[2])
      u.bytes += Number(f[3])
      u.survived += Number(f[4])
      unmanaged.set(where, u)
    }
  }
  for (const s of sites.values()) {
    // Most frequent first, then by text: the same order whatever the file order.
    s.retainers = [...s.retainers].map(([path, count]) => ({ path, count }))
      .sort((a, b) => (b.count - a.count) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  }
  return {
    sites,
    unmanaged: [...unmanaged.values()].sort((a, b) => (b.survived - a.survived) || (b.bytes - a.bytes)),
    retained: [...retained.values()].sort((a, b) => b.sampledBytes - a.sampledBytes)
  }
}

// Lower edge of a lifetime bin, in µs.
function binStartUs (bin) { return 2 ** (bin / 4) }

module.exports = { readProfile, decodeName, binStartUs, BINS }
