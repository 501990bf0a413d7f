'use strict'
// Why a site's buffers survive: at the end of a profile run, a V8 heap
// snapshot (v8.writeHeapSnapshot, synchronous on every Node line, so this
// also works in an 'exit' handler; an in-thread inspector session delivers
// the snapshot only after the call returns on Node 22 and later) and, for a few
// surviving buffers of each site, the shortest path that holds them from
// the heap's roots, written for people:
//
//   Array (forever) ← module test/fixtures/lifetimes-service.js
//   buf ← function (anonymous) (server.js:12) ← Timeout._onTimeout ← … ← module node:internal/timers
//
// Each step names the holder: an object's class and the property it is
// held under, a closure and where it was defined; a variable is written in
// parentheses after what it holds, and a module's top-level scope ends the
// path. The buffers are handed to the snapshot through probe objects that
// the search ignores, as it ignores weak references and the set of objects
// that WeakRef.prototype.deref() keeps alive until the end of the job.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const v8 = require('node:v8')

const MAX_STEPS = 6

class SammRetainerProbe {
  constructor (site, bufs) {
    this.site = site
    this.bufs = bufs
  }
}

function scriptName (url) {
  if (url.startsWith('file://')) url = new URL(url).pathname
  if (!path.isAbsolute(url)) return url
  const rel = path.relative(process.cwd(), url)
  return rel.startsWith('..') ? url : rel
}

// Retainer paths from a parsed snapshot. probes: the site of each probe is
// read from the snapshot itself. Returns Map(site -> [path per buffer]).
function pathsIn (snapshot) {
  const meta = snapshot.snapshot.meta
  const NF = meta.node_fields.length
  const EF = meta.edge_fields.length
  const nType = meta.node_fields.indexOf('type')
  const nName = meta.node_fields.indexOf('name')
  const nEdges = meta.node_fields.indexOf('edge_count')
  const eType = meta.edge_fields.indexOf('type')
  const eName = meta.edge_fields.indexOf('name_or_index')
  const eTo = meta.edge_fields.indexOf('to_node')
  const nodeTypes = meta.node_types[nType]
  const edgeTypes = meta.edge_types[eType]
  const { nodes, edges, strings } = snapshot
  const count = nodes.length / NF
  const first = new Int32Array(count + 1)
  for (let i = 0, e = 0; i < count; i++) {
    first[i] = e
    e += nodes[i * NF + nEdges] * EF
  }
  first[count] = edges.length
  const type = (i) => nodeTypes[nodes[i * NF + nType]]
  const name = (i) => strings[nodes[i * NF + nName]]
  const edgeType = (e) => edgeTypes[edges[e + eType]]
  const edgeName = (e) => {
    const t = edgeType(e)
    return t === 'element' || t === 'hidden' ? edges[e + eName] : strings[edges[e + eName]]
  }
  const target = (e) => edges[e + eTo] / NF
  const edgeTo = (i, wanted) => {
    for (let e = first[i]; e < first[i + 1]; e += EF) if (edgeName(e) === wanted) return e
    return -1
  }

  // The probes, and the buffers they hold.
  const excluded = new Uint8Array(count) // holders the search does not go through
  const buffers = [] // { site, node }
  for (let i = 0; i < count; i++) {
    if (type(i) !== 'object' || name(i) !== 'SammRetainerProbe') continue
    excluded[i] = 1
    const siteEdge = edgeTo(i, 'site')
    const bufsEdge = edgeTo(i, 'bufs')
    if (siteEdge < 0 || bufsEdge < 0) continue
    const list = target(bufsEdge)
    excluded[list] = 1
    const site = name(target(siteEdge))
    for (let e = first[list]; e < first[list + 1]; e += EF) {
      if (edgeType(e) === 'element') buffers.push({ site, node: target(e) })
    }
  }

  // Breadth-first from the root: each node's parent on a shortest path.
  // What the stack holds only comes second: a path through the service's
  // own structures says more than one through the frame that wrote the
  // profile.
  const parentEdge = new Int32Array(count).fill(-1)
  const parent = new Int32Array(count).fill(-1)
  const seen = new Uint8Array(count)
  const queue = new Int32Array(count)
  let stackRoots = -1
  for (let i = 0; i < count && stackRoots < 0; i++) if (type(i) === 'synthetic' && name(i) === '(Stack roots)') stackRoots = i
  const search = (from) => {
    let head = 0
    let tail = 0
    queue[tail++] = from
    seen[from] = 1
    while (head < tail) {
      const i = queue[head++]
      if (excluded[i] || (i === stackRoots && from !== stackRoots)) continue
      for (let e = first[i]; e < first[i + 1]; e += EF) {
        if (edgeType(e) === 'weak' || edgeName(e) === 'weak_refs_keep_during_job') continue
        const t = target(e)
        if (seen[t]) continue
        seen[t] = 1
        parent[t] = i
        parentEdge[t] = e
        queue[tail++] = t
      }
    }
  }
  search(0)
  if (stackRoots >= 0) search(stackRoots)

  // Names of scopes: a context's script comes from a closure made in it.
  let contextScripts = null
  const scriptOfContext = (ctx) => {
    if (contextScripts === null) {
      contextScripts = new Map()
      for (let i = 0; i < count; i++) {
        if (type(i) !== 'closure') continue
        const c = edgeTo(i, 'context')
        if (c < 0 || contextScripts.has(target(c))) continue
        const script = scriptOfClosure(i)
        if (script) contextScripts.set(target(c), script)
      }
    }
    return contextScripts.get(ctx) || '(file unknown)'
  }
  const scriptOfClosure = (i) => {
    const shared = edgeTo(i, 'shared')
    if (shared < 0) return null
    // V8 names the edge script_or_debug_info up to Node 24, script from 26.
    let script = edgeTo(target(shared), 'script_or_debug_info')
    if (script < 0) script = edgeTo(target(shared), 'script')
    if (script < 0) return null
    const n = name(target(script))
    return typeof n === 'string' && n !== '' ? scriptName(n) : null
  }
  const lines = new Map()
  if (Array.isArray(snapshot.locations) && meta.location_fields) {
    const LF = meta.location_fields.length
    const lo = meta.location_fields.indexOf('object_index')
    const ll = meta.location_fields.indexOf('line')
    for (let k = 0; k < snapshot.locations.length; k += LF) lines.set(snapshot.locations[k + lo] / NF, snapshot.locations[k + ll] + 1)
  }
  const isModuleScope = (ctx) => {
    const prev = edgeTo(ctx, 'previous')
    return prev >= 0 && name(target(prev)) === 'system / NativeContext'
  }

  // One path, from the buffer up.
  const describe = (node) => {
    const steps = []
    let i = node
    for (let guard = 0; parent[i] >= 0 && guard < 10000; guard++) {
      const holder = parent[i]
      const e = parentEdge[i]
      const t = edgeType(e)
      const hType = type(holder)
      const hName = name(holder)
      if (hType === 'synthetic') {
        if (hName === '(Stack roots)') steps.push('the stack')
        else if (hName === '(Global handles)') steps.push('a global handle')
        break
      }
      if (hName === 'system / Context' && t === 'context') {
        const variable = String(edgeName(e))
        if (steps.length > 0) steps[steps.length - 1] += ` (${variable})`
        else steps.push(variable)
        if (isModuleScope(holder)) {
          steps.push(`module ${scriptOfContext(holder)}`)
          break
        }
      } else if (hType === 'closure' && t === 'internal' && edgeName(e) === 'context') {
        const where = scriptOfClosure(holder)
        const line = lines.get(holder)
        steps.push(`function ${hName || '(anonymous)'}${where ? ` (${where}${line ? `:${line}` : ''})` : ''}`)
      } else if (hType === 'object' || hType === 'closure' || (hType === 'array' && hName !== '' && !hName.startsWith('system /'))) {
        // (An array without a name is an engine's backing store: a Map's
        // table, an object's elements; the object that owns it names it.)
        const label = hName || hType
        steps.push(t === 'property' ? `${label}.${edgeName(e)}` : label)
      }
      i = holder
    }
    const merged = steps.filter((s, k) => k === 0 || s !== steps[k - 1])
    if (merged.length > MAX_STEPS) merged.splice(MAX_STEPS - 2, merged.length - MAX_STEPS + 1, '…')
    return merged.length ? merged.join(' ← ') : 'the heap (no path found)'
  }

  const out = new Map()
  for (const { site, node } of buffers) {
    if (!seen[node]) continue
    let list = out.get(site)
    if (list === undefined) out.set(site, list = [])
    list.push(describe(node))
  }
  return out
}

/**
 * Retainer paths of survivors ([{ name, bufs }]): Map(site -> [path, ...]).
 * With dir, the snapshot is also written there (a warning if it cannot be).
 */
function retainerPaths (survivors, dir) {
  const probes = survivors.map((s) => new SammRetainerProbe(s.name, s.bufs))
  let file = dir ? path.join(dir, `samm-${os.hostname()}-${process.pid}.heapsnapshot`) : null
  let kept = false
  if (file !== null) {
    try {
      v8.writeHeapSnapshot(file)
      kept = true
      process.stderr.write(`samm: heap snapshot -> ${file}\n`)
    } catch (err) {
      process.stderr.write(`samm: warning: cannot write the heap snapshot to ${file} (${err.code || err.message}); the profile is written without it\n`)
    }
  }
  let json
  if (kept) {
    json = fs.readFileSync(file, 'utf8')
  } else {
    file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'samm-snapshot-')), 'snapshot.heapsnapshot')
    try {
      v8.writeHeapSnapshot(file)
      json = fs.readFileSync(file, 'utf8')
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true })
    }
  }
  const paths = pathsIn(JSON.parse(json))
  probes.length = 0 // a use after the snapshot: the probes stay live through it
  return paths
}

module.exports = { retainerPaths, pathsIn, SammRetainerProbe }
