import type { FastifyPluginAsync } from 'fastify'
import type { Scope } from './index'

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's SAMM scope; null on routes that opted out. */
    samm: Scope | null
  }
  interface FastifyContextConfig {
    /** false: no SAMM scope for this route. */
    samm?: boolean
  }
}

/** Fastify plugin: one SAMM scope per request, as request.samm. */
declare const samm: FastifyPluginAsync & { default: FastifyPluginAsync, samm: FastifyPluginAsync }
export default samm
export { samm }
