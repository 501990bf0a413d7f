'use strict'
// Whether a sampled profile bakes the classes the full tracer does: each
// example is profiled under load with the full tracer (--duration per
// shape, as bench/run.js does) and with `--sample N` (longer: 1 allocation
// in N is traced, and a short verdict needs 1,000 decided allocations per
// size class; a site allocated once per request gets about one decided per
// forced collection, docs/profiling.md), then both profiles are baked (the bake tool only, nothing is
// rebuilt) and their tables compared site by site and size class by size
// class.
//
//   node bench/sampled-classes.js [N=100] [full seconds=8] [sampled seconds=300] [examples=express,fastify,http]

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { bakeTool } = require('../lib/tools')

const ROOT = path.join(__dirname, '..')
const SAMM_CLI = path.join(ROOT, 'bin', 'samm.js')
const SHAPES = ['heavy', 'small']

const n = Number(process.argv[2]) || 100
const fullSeconds = Number(process.argv[3]) || 8
const sampledSeconds = Number(process.argv[4]) || 300
const examples = (process.argv[5] || 'express,fastify,http').split(',')

// Profiles example under both shapes (extra: more samm profile options)
// into file, the shapes' profiles concatenated.
function profile (example, file, seconds, extra) {
  fs.rmSync(file, { force: true })
  for (const shape of SHAPES) {
    const part = `${file}.${shape}`
    const port = String(30000 + Math.floor(Math.random() * 20000))
    const r = spawnSync(process.execPath, [SAMM_CLI, 'profile', '--out', part, '--duration', String(seconds), '--connections', '16',
      ...extra, '--load', `http://127.0.0.1:${port}/?shape=${shape}&id=7`, '--', process.execPath, path.join(ROOT, 'examples', example, 'server.js')],
    { env: { ...process.env, PORT: port }, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`profiling ${example} (${shape}) failed:\n${r.stderr}`)
    fs.appendFileSync(file, fs.readFileSync(part))
    fs.rmSync(part)
  }
}

// The baked table of a profile, as site name -> "class" or "by size: ...".
function classes (file, tmp) {
  const json = path.join(tmp, 'table.json')
  const r = spawnSync(bakeTool(), ['--c', path.join(tmp, 'table.c'), '--json', json, file], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`baking ${file} failed:\n${r.stderr}`)
  const table = JSON.parse(fs.readFileSync(json, 'utf8'))
  const out = new Map()
  for (const s of table.sites) {
    const bySize = (s.sizes || []).map((z) => `${z.log2Min}-${z.log2Max}:${z.class}`).join(' ')
    out.set(s.name, { class: s.class, bySize, allocs: s.allocs, tooFew: Boolean(s.tooFew) })
  }
  return out
}

function main () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'samm-sampled-classes-'))
  const rows = []
  let differ = 0
  try {
    for (const example of examples) {
      const full = path.join(tmp, `${example}.full.profile`)
      const sampled = path.join(tmp, `${example}.sampled.profile`)
      console.error(`${example}: full tracer, ${fullSeconds} s per shape`)
      profile(example, full, fullSeconds, [])
      console.error(`${example}: --sample ${n}, ${sampledSeconds} s per shape`)
      profile(example, sampled, sampledSeconds, ['--sample', String(n)])
      const a = classes(full, tmp)
      const b = classes(sampled, tmp)
      for (const name of new Set([...a.keys(), ...b.keys()])) {
        const x = a.get(name)
        const y = b.get(name)
        const same = x !== undefined && y !== undefined && x.class === y.class && x.bySize === y.bySize
        if (!same) differ++
        const show = (c) => c === undefined ? 'absent' : `${c.class}${c.bySize ? ` (${c.bySize})` : ''}${c.tooFew ? ', too few for short' : ''}`
        rows.push(`| ${example} | ${name} | ${show(x)} | ${x ? x.allocs : 0} | ${show(y)} | ${y ? y.allocs : 0} | ${same ? 'yes' : '**no**'} |`)
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  console.log(`| example | site | class, full tracer | allocations traced | class, --sample ${n} | allocations traced | same |`)
  console.log('|---|---|---|---:|---|---:|:---:|')
  for (const row of rows) console.log(row)
  console.log(`\nFull tracer ${fullSeconds} s per shape, --sample ${n} ${sampledSeconds} s per shape (shapes ${SHAPES.join(', ')}), 16 connections, node ${process.version}; ${differ === 0 ? 'every site has the same class' : `${differ} site(s) differ`}.`)
  process.exitCode = differ === 0 ? 0 : 1
}

main()
