import type { Context, MiddlewareHandler } from 'hono'
import type { Scope } from './index'

declare module 'hono' {
  interface ContextVariableMap {
    /** The request's SAMM scope (require('samm/hono')); null on requests without one. */
    samm: Scope | null
  }
}

type SammHono = (options?: hono.HonoOptions) => MiddlewareHandler

// Declared as the module itself (export =) with `default` and `hono` beside
// it, as the module is (see fastify.d.ts).
declare namespace hono {
  export interface HonoOptions {
    /** Requests for which this returns true get no scope. */
    skip?: (c: Context) => boolean
  }
  /** The middleware factory, by name. */
  export const hono: SammHono
  export { hono as default }
}

/**
 * Hono middleware for @hono/node-server (use it first): one SAMM scope per
 * request, as `c.get('samm')`, current in the handlers, closed once they
 * have settled and Node's response has emitted 'close'. Without
 * @hono/node-server's bindings, requests pass through without a scope.
 */
declare function hono (...args: Parameters<SammHono>): ReturnType<SammHono>

export = hono
