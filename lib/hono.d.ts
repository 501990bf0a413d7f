import type { Context, MiddlewareHandler } from 'hono'
import type { Scope } from './index'

declare module 'hono' {
  interface ContextVariableMap {
    /** The request's SAMM scope (require('samm/hono')); undefined without one. */
    samm: Scope | undefined
  }
}

export interface HonoOptions {
  /** Requests for which this returns true get no scope. */
  skip?: (c: Context) => boolean
}

/**
 * Hono middleware for @hono/node-server (use it first): one SAMM scope per
 * request, as `c.get('samm')`, closed once the handlers have settled and
 * Node's response has emitted 'close'. Without @hono/node-server's bindings,
 * requests pass through without a scope.
 */
declare const hono: ((options?: HonoOptions) => MiddlewareHandler) & { default: (options?: HonoOptions) => MiddlewareHandler, hono: (options?: HonoOptions) => MiddlewareHandler }
export default hono
export { hono }
