import type { FastifyPluginAsync } from 'fastify'
import type { Scope } from './index'

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's SAMM scope; null on routes that opted out (config.samm false). */
    samm: Scope | null
  }
  interface FastifyContextConfig {
    /** false: no SAMM scope for this route. */
    samm?: boolean
  }
}

type SammPlugin = FastifyPluginAsync

// Declared as the module itself (export =) with `default` and `samm` beside
// it, as the module is: `import samm from 'samm/fastify'` then works from
// CommonJS with or without esModuleInterop and from ES modules, and
// `import { samm } from 'samm/fastify'` too.
declare namespace samm {
  /** The plugin, by name. */
  export const samm: SammPlugin
  export { samm as default }
}

/**
 * Fastify plugin: one SAMM scope per request, as request.samm, current in
 * the route's handler and lifecycle hooks.
 */
declare function samm (...args: Parameters<SammPlugin>): ReturnType<SammPlugin>

export = samm
