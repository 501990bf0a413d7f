import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Scope } from './index'

// Declared without Koa's own types, so that these declarations check
// whether or not @types/koa is installed. ctx.samm is typed through
// @types/koa's DefaultContext (`any`); a service that wants it typed adds
//   declare module 'koa' { interface DefaultContext { samm: Scope | null } }

/** What the middleware reads of Koa's context. */
interface KoaContext {
  req: IncomingMessage
  res: ServerResponse
  path: string
  [key: string]: any
}

type SammKoa = (options?: koa.KoaOptions) => (ctx: any, next: () => Promise<any>) => Promise<any>

// Declared as the module itself (export =) with `default` and `koa` beside
// it, as the module is (see fastify.d.ts).
declare namespace koa {
  export interface KoaOptions {
    /** Requests for which this returns true get no scope. */
    skip?: (ctx: KoaContext) => boolean
  }
  /** The middleware factory, by name. */
  export const koa: SammKoa
  export { koa as default }
}

/**
 * Koa middleware (use it first): one SAMM scope per request, as `ctx.samm`
 * (null on requests `skip` turns away),
 * current in every later middleware, closed once the chain has settled and
 * the response has emitted 'close'.
 */
declare function koa (...args: Parameters<SammKoa>): ReturnType<SammKoa>

export = koa
