'use strict'
// Loaded into each benchmarked service (--require): counts garbage
// collections and their total pause (PerformanceObserver), records the
// event loop's delay (monitorEventLoopDelay), the CPU time the process used
// (all threads) and its minor page faults, and - when the service runs
// SAMM - samples SAMM's stats every SAMPLE_MS: its resident surplus (bytes
// committed but not in use, over bytes in use, summed over the samples) and
// the most memory the rest of the process held (resident set minus SAMM's
// committed bytes). On SIGTERM it writes them with the peak RSS (VmHWM) to
// BENCH_METRICS_OUT, then exits.
const fs = require('node:fs')
const path = require('node:path')
const { PerformanceObserver, monitorEventLoopDelay } = require('node:perf_hooks')

const SAMPLE_MS = 250
const out = process.env.BENCH_METRICS_OUT
const samm = process.env.SAMM !== '0' ? require(path.join(__dirname, '..')) : null
const gc = { count: 0, pauseMs: 0 }
let measuring = false
let cpuStart = null
let faultsStart = 0
let wallStart = 0n
const sampled = { notInUse: 0, inUse: 0, nonSammMax: 0 }
let largeStart = null

new PerformanceObserver((list) => {
  if (!measuring) return
  for (const entry of list.getEntries()) {
    gc.count++
    gc.pauseMs += entry.duration
  }
}).observe({ entryTypes: ['gc'] })

const loop = monitorEventLoopDelay({ resolution: 10 })

function vmHwmBytes () {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))
  return m ? Number(m[1]) * 1024 : null
}

function sample () {
  const s = samm.stats()
  const inUse = s.bump.inUse + s.slab.inUse + s.region.inUse
  sampled.notInUse += Math.max(0, s.committed - inUse)
  sampled.inUse += inUse
  sampled.nonSammMax = Math.max(sampled.nonSammMax, process.memoryUsage.rss() - s.committed)
}

// The runner sends SIGUSR2 when the warm-up is over.
process.on('SIGUSR2', () => {
  measuring = true
  gc.count = 0
  gc.pauseMs = 0
  loop.reset()
  loop.enable()
  cpuStart = process.cpuUsage()
  faultsStart = process.resourceUsage().minorPageFault
  wallStart = process.hrtime.bigint()
  if (samm !== null) {
    const st = samm.stats()
    largeStart = { maps: st.largeMaps, movedBytes: st.largeMovedBytes, freshBytes: st.largeFreshBytes }
    setInterval(sample, SAMPLE_MS).unref()
  }
})

process.on('SIGTERM', () => {
  loop.disable()
  const cpu = cpuStart ? process.cpuUsage(cpuStart) : null
  const wallUs = Number(process.hrtime.bigint() - wallStart) / 1000
  const s = samm !== null ? samm.stats() : null
  const metrics = {
    cpuUs: cpu ? cpu.user + cpu.system : null,
    sysUs: cpu ? cpu.system : null,
    wallUs: cpu ? wallUs : null,
    minorFaults: cpu ? process.resourceUsage().minorPageFault - faultsStart : null,
    gcCount: gc.count,
    gcPauseMs: gc.pauseMs,
    loopDelayP99Ms: loop.percentile(99) / 1e6,
    peakRss: vmHwmBytes(),
    samm: s && {
      surplus: sampled.inUse > 0 ? sampled.notInUse / sampled.inUse : null,
      nonSammMax: sampled.nonSammMax,
      highWater: s.highWater,
      maxBytes: s.maxBytes,
      limitFallbacks: s.limitFallbacks,
      admission: s.admission,
      // Large blocks since the warm-up: mapped, and bytes moved into them or fresh.
      large: largeStart && { maps: s.largeMaps - largeStart.maps, movedBytes: s.largeMovedBytes - largeStart.movedBytes, freshBytes: s.largeFreshBytes - largeStart.freshBytes }
    }
  }
  if (out) fs.writeFileSync(out, JSON.stringify(metrics))
  process.exit(0)
})
