'use strict'
// Loaded into each benchmarked service (--require): counts garbage
// collections and their total pause (PerformanceObserver), records the
// event loop's delay (monitorEventLoopDelay) and the CPU time the process
// used (all threads), and on SIGTERM writes them with the peak RSS (VmHWM)
// to BENCH_METRICS_OUT, then exits.
const fs = require('node:fs')
const { PerformanceObserver, monitorEventLoopDelay } = require('node:perf_hooks')

const out = process.env.BENCH_METRICS_OUT
const gc = { count: 0, pauseMs: 0 }
let measuring = false
let cpuStart = null
let wallStart = 0n

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

// The runner sends SIGUSR2 when the warm-up is over.
process.on('SIGUSR2', () => {
  measuring = true
  gc.count = 0
  gc.pauseMs = 0
  loop.reset()
  loop.enable()
  cpuStart = process.cpuUsage()
  wallStart = process.hrtime.bigint()
})

process.on('SIGTERM', () => {
  loop.disable()
  const cpu = cpuStart ? process.cpuUsage(cpuStart) : null
  const wallUs = Number(process.hrtime.bigint() - wallStart) / 1000
  const metrics = {
    cpuUs: cpu ? cpu.user + cpu.system : null,
    wallUs: cpu ? wallUs : null,
    gcCount: gc.count,
    gcPauseMs: gc.pauseMs,
    loopDelayP99Ms: loop.percentile(99) / 1e6,
    peakRss: vmHwmBytes()
  }
  if (out) fs.writeFileSync(out, JSON.stringify(metrics))
  process.exit(0)
})
