import type { Meter } from '@opentelemetry/api'

export interface OtelOptions {
  /**
   * Sites that get a `site` attribute of their own: the baked table's first,
   * then explicitly classed ones as they appear; the rest count as
   * `site: '(other)'` (default 50).
   */
  sitesLimit?: number
}

/**
 * Registers SAMM's observable instruments (`samm.*`) on `meter`; one batch
 * callback reads `samm.stats()` when the SDK collects.
 */
export declare function registerSammMetrics(meter: Meter, options?: OtelOptions): void
