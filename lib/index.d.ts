/// <reference types="node" />
// Express's types are optional: with @types/express installed, `skip`
// receives Express's Request; without, any.
// @ts-ignore
import type { Request as ExpressRequest } from 'express'

/** The lifetime class of a site: which arena its allocations go to. */
export type LifetimeClass = 'short' | 'medium' | 'long' | 'heap'

/** A named allocation place, classed by the baked table or explicitly. */
export declare class Site {
  /** The name given to `site()`. */
  readonly name: string
  /** 32-bit FNV-1a of the name's UTF-8 bytes: the id the baked table uses. */
  readonly id: number
  /** The class allocations of this site get (by size, where the table says so). */
  readonly class: LifetimeClass
  /** True when the class was given to `site()` rather than read from the table. */
  readonly explicit: boolean
  /** Allocations and bytes requested at this site so far. */
  readonly allocs: number
  readonly bytes: number
  /** Allocations served from the V8 heap instead (outside a scope, or over budget). */
  readonly heapFallbacks: number
  /** The class of an allocation of `size` bytes at this site. */
  classOf(size: number): number
}

/** A request scope: a bump arena released all at once by `close()`. */
export declare class Scope {
  /** True once `close()` was called. */
  readonly closed: boolean
  /**
   * Zero-filled memory valid until the scope closes. With a site, the site's
   * class decides: short from this scope, medium/long from their arenas, heap
   * from V8.
   */
  alloc(size: number, site?: Site | string): Buffer
  /** As `alloc`, not initialised: may hold old bytes of this process. */
  allocUnsafe(size: number, site?: Site | string): Buffer
  /**
   * Keeps the scope open until `promise` settles. Returns a Promise that
   * settles as `promise` does (`promise` itself when it is a Promise).
   */
  waitFor<T>(promise: T | PromiseLike<T>): Promise<T>
  /** Keeps the scope open until the returned function is called (once). */
  hold(): () => void
  /** Releases the scope's memory (detaching every view), now or once waited-for work settles. */
  close(): void
  /**
   * Closes the scope once every hold (`waitFor`, `hold`) is released - now if
   * none is - and serves allocations until then. The integrations call it
   * when the response has emitted 'close'.
   */
  closeWhenSettled(): void
}

/** An error SAMM throws; `code` is stable (see README). */
export declare class SammError extends Error {
  constructor (code: string, message: string)
  readonly code: string
  /** ERR_SAMM_LIMIT: the bytes the refused allocation asked for. */
  readonly requested?: number
  /** ERR_SAMM_LIMIT: the bytes SAMM had committed when it refused. */
  readonly committed?: number
  /** ERR_SAMM_LIMIT: the budget in force (`maxBytes`). */
  readonly maxBytes?: number
}

export interface SiteOptions {
  /** Overrides the baked table for this site. */
  class?: LifetimeClass
}

export interface Options {
  /** Budget in bytes SAMM may have committed (default 1 GiB). */
  maxBytes?: number
  /** Request chunk size, a multiple of 64 KiB (default 256 KiB). */
  chunkSize?: number
  /** Free request chunks kept after an idle trim (default 16). */
  poolChunks?: number
  /** Region arena segment size, a multiple of 64 KiB (default 4 MiB). */
  regionSegmentSize?: number
  /** Trim after this many ms without allocation activity; 0: never (default 1000). */
  idleTrimMs?: number
  /** Half-life in ms of the large-block cache's memory of peak demand; 0: no cache (default 5000). */
  decayMs?: number
  /** 1: poison released memory; 2: also check the arenas on every release. */
  debug?: 0 | 1 | 2
  /** Over budget: throw ERR_SAMM_LIMIT (default) or serve from the V8 heap. */
  onLimit?: 'throw' | 'heap'
  /** A scope open at least this many ms is reported on `samm:scope:long` (default 1000; 0: every scope). */
  longScopeMs?: number
  /** Bytes the whole process should stay under: admission counts the rest of the process too; 0: none. */
  processLimit?: number
  /** true: every allocation from the V8 heap, as with SAMM_DISABLE=1 (the kill switch). */
  disabled?: boolean
  /** A short-class buffer found reachable after its request: demote its site to the heap (default) or only warn. */
  onEscape?: 'demote' | 'warn'
  /** A file escapes are appended to, in the profile format (null: none). */
  escapeFile?: string | null
}

/** Admission under the budget (docs/admission.md): true for the defaults. */
export interface AdmitOptions {
  /** Requests that may wait at once; the next gets a 503 (default 1000). */
  queue?: number
  /** How long a request may wait before its 503, in ms (default 5000). */
  timeoutMs?: number
  /** Share of each limit above which new requests wait, above 0 and at most 1 (default 0.8). */
  highWater?: number
  /** Seconds, the 503's Retry-After (default 1). */
  retryAfter?: number
}

/** The admission queue, for stats(). */
export interface AdmissionStats {
  waiting: number
  queued: number
  admitted: number
  rejected: number
  timedOut: number
  abandoned: number
  inFlight: number
  estimateBytes: number
  /** How much requests' peaks vary about estimateBytes (a running standard deviation). */
  spreadBytes: number
}

export interface ArenaStats {
  reserved: number
  committed: number
  inUse: number
  highWater: number
  allocs: number
  frees: number
}

export interface Stats {
  bump: ArenaStats
  slab: ArenaStats
  region: ArenaStats
  reserved: number
  committed: number
  highWater: number
  maxBytes: number
  scopesOpened: number
  scopesClosed: number
  scopesOpen: number
  limitRefusals: number
  osRefusals: number
  invalidFrees: number
  collects: number
  /** Free request chunks kept for reuse (by the heap and by JavaScript's pool). */
  poolChunks: number
  /** Chunks and spans lent to JavaScript: held by scopes or waiting in its pool. */
  chunksLent: number
  /** Bytes of blocks larger than a chunk kept for reuse: scope allocations and spans. */
  poolLargeBytes: number
  /** Short-class allocations made outside any scope (served by the V8 heap). */
  outsideScope: number
  /** Allocations served by the V8 heap because external buffers are forbidden. */
  externalRefused: number
  /** Budget refusals served by the V8 heap (`onLimit: 'heap'`, or a request admission let in). */
  limitFallbacks: number
  /**
   * Budget refusals served by the V8 heap because buffers already collected held the room asked
   * for: their memory returns once Node runs their finalisers, between turns of the event loop.
   */
  collectedFallbacks: number
  /** Bytes of blocks larger than a chunk in scopes or lent. */
  largeInUse: number
  /** The decaying peak of largeInUse: the large-block cache keeps at most largePeak - largeInUse. */
  largePeak: number
  /** Large blocks mapped: none of the cache was large enough. */
  largeMaps: number
  /** Bytes of cached blocks moved (page tables only) into new ones. */
  largeMovedBytes: number
  /** Bytes of new large blocks no cached page covered. */
  largeFreshBytes: number
  /** Bytes cleared by zeroed allocations of large blocks (the rest was known to read zero). */
  zeroedBytes: number
  /** SAMM is switched off (SAMM_DISABLE=1 or `configure({ disabled: true })`). */
  disabled: boolean
  admission: AdmissionStats
  /**
   * Per site: its class now (`heap` once demoted after an escape), allocations, bytes, heap
   * fallbacks, and escapes: watched short-class buffers found reachable after their request.
   */
  sites: Record<string, { class: LifetimeClass, allocs: number, bytes: number, heapFallbacks: number, escapes: number }>
}

/** Payload of `samm:limit` (node:diagnostics_channel): the budget refused an allocation. */
export interface LimitEvent {
  /** Bytes asked for. */
  size: number
  class: 'short' | 'medium' | 'long'
  /** The site's name; null for scope memory (a scope does not know the site). */
  site: string | null
  /**
   * What happens now: the error is thrown, or the V8 heap serves it (`onLimit: 'heap'`, or
   * collected buffers that have not given their memory back yet hold the room asked for).
   */
  action: 'throw' | 'heap'
  /** The budget and the bytes committed against it when it refused. */
  maxBytes: number
  committed: number
  /** The ERR_SAMM_LIMIT error. */
  error: SammError
}

/** Payload of `samm:fallback`: an allocation served by the V8 heap instead. */
export interface FallbackEvent {
  /**
   * Why: over budget with `onLimit: 'heap'`; over budget while collected buffers not yet
   * finalised hold the room; external buffers forbidden; or short class outside any scope.
   */
  kind: 'limit' | 'collected' | 'externalRefused' | 'outsideScope'
  size: number
  class: 'short' | 'medium' | 'long'
  site: string | null
}

/** Payload of `samm:scope:long`: a scope released its memory after `longScopeMs` or more. */
export interface ScopeLongEvent {
  scope: Scope
  /** From the scope's opening to the release of its memory. */
  durationMs: number
  /** `longScopeMs` in force at the release. */
  thresholdMs: number
  /** For a request's scope (the integrations), its request and response. */
  request?: import('node:http').IncomingMessage
  response?: import('node:http').ServerResponse
}

export interface TableSite {
  name: string
  id: number
  /** The class of the site as a whole. */
  class: LifetimeClass
  /** Allocations profiled, how many outlived their request, how many were still alive at the end. */
  allocs?: number
  outlived?: number
  censored?: number
  /** Sampled profiles: allocations not known to have died in their request nor to have outlived it. */
  undecided?: number
  /** The site passed the request rule on fewer decided allocations than minShortAllocs. */
  tooFew?: boolean
  /** The class per range of floor(log2(size)). */
  sizes?: Array<{ log2Min: number, log2Max: number, class: LifetimeClass }>
}

/** The clustering of one size class: lifetimes in µs. */
export interface TableSizeClass {
  log2Min: number
  log2Max: number
  /** Allocations profiled in this size class. */
  samples: number
  /** Clusters found (0 without data). */
  k: number
  /** Cluster centres, ascending. */
  centroidsUs: number[]
  /** Lifetimes between neighbouring clusters (k - 1 values). */
  boundariesUs: number[]
  /** The class each cluster maps to. */
  classes: LifetimeClass[]
}

export interface Table {
  version: number
  /** Digest of the profile the table was baked from; '' for the default table. */
  digest: string
  /** Share of a site's decided allocations that must die in their request for it to be short (1: all); null for the default table. */
  shortMinInRequest: number | null
  /** Decided allocations a short verdict needs, per size class; null for the default table. */
  minShortAllocs: number | null
  /** The clustering per size class; empty for the default table. */
  sizeClasses: TableSizeClass[]
  sites: TableSite[]
}

/** The site called `name`; its class comes from the baked table unless given. */
export declare function site(name: string, options?: SiteOptions): Site
/** A zero-filled Buffer from the arena of the site's class. */
export declare function alloc(size: number, site: Site | string): Buffer
/** A Buffer from the arena of the site's class, not initialised. */
export declare function allocUnsafe(size: number, site: Site | string): Buffer
/** Releases a medium/long Buffer now; false for buffers SAMM does not release one by one. */
export declare function free(buf: Buffer): boolean
/** An explicit request scope. */
export declare function scope(): Scope
/** Runs fn in a new request scope, closed when fn returns or its promise settles. */
export declare function run<T>(fn: (scope: Scope) => T): T
/** Runs fn with `scope` as the current scope, without closing it. */
export declare function enter<A extends unknown[], T>(scope: Scope, fn: (...args: A) => T, ...args: A): T
/**
 * Wraps a node:http request handler: each request runs in its own scope,
 * closed once the response has emitted 'close' and the handler settled.
 */
export declare function http<Req extends import('node:http').IncomingMessage, Res extends import('node:http').ServerResponse>(
  handler: (req: Req, res: Res) => unknown,
  options?: { admit?: AdmitOptions | boolean }
): (req: Req, res: Res) => unknown
export interface ExpressOptions {
  /** Requests for which this returns true get no scope (`req.samm` is null). */
  skip?: (req: ExpressRequest) => boolean
  /** Admission under the budget (docs/admission.md). */
  admit?: AdmitOptions | boolean
}
/**
 * Express middleware: one scope per request, as `req.samm`, closed once the
 * response has emitted 'close' and the handlers' promises have settled.
 */
export declare function express(options?: ExpressOptions): (
  req: import('node:http').IncomingMessage,
  res: import('node:http').ServerResponse,
  next: (err?: unknown) => void
) => void
/** The scope of the running request, or undefined. */
export declare function current(): Scope | undefined
/** Sets budget and tuning; returns the options in force. */
export declare function configure(options: Options): Required<Options>
/** The options in force. */
export declare function config(): Required<Options>
/** Arena, heap and per-site statistics. */
export declare function stats(): Stats
/** The baked table. */
export declare function table(): Table
/** Returns idle memory to the OS now. */
export declare function collect(): void
/** The class names, in table order. */
export declare const classes: LifetimeClass[]

declare const samm: {
  site: typeof site
  alloc: typeof alloc
  allocUnsafe: typeof allocUnsafe
  free: typeof free
  scope: typeof scope
  run: typeof run
  enter: typeof enter
  http: typeof http
  express: typeof express
  current: typeof current
  configure: typeof configure
  config: typeof config
  stats: typeof stats
  table: typeof table
  collect: typeof collect
  classes: typeof classes
  Site: typeof Site
  Scope: typeof Scope
  SammError: typeof SammError
}
export default samm

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * The request's SAMM scope (samm.express()); null on requests `skip`
       * turned away. Unset on requests the middleware never saw.
       */
      samm: Scope | null
    }
  }
}
