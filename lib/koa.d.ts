import type { Middleware, ParameterizedContext } from 'koa'
import type { Scope } from './index'

declare module 'koa' {
  interface DefaultContext {
    /** The request's SAMM scope (require('samm/koa')); undefined for skipped requests. */
    samm?: Scope
  }
}

export interface KoaOptions {
  /** Requests for which this returns true get no scope. */
  skip?: (ctx: ParameterizedContext) => boolean
}

/**
 * Koa middleware (use it first): one SAMM scope per request, as `ctx.samm`,
 * closed once the rest of the chain has settled and the response has
 * emitted 'close'.
 */
declare const koa: ((options?: KoaOptions) => Middleware) & { default: (options?: KoaOptions) => Middleware, koa: (options?: KoaOptions) => Middleware }
export default koa
export { koa }
