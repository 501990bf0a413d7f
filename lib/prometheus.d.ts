import type { Registry } from 'prom-client'

export interface PrometheusOptions {
  /** Prepended to every metric name, as collectDefaultMetrics' prefix (default ''). */
  prefix?: string
  /** Labels added to every series, as collectDefaultMetrics' labels. */
  labels?: Record<string, string>
  /**
   * Sites that get a `site` label of their own: the baked table's first,
   * then explicitly classed ones as they appear; the rest count as
   * `site="(other)"` (default 50).
   */
  sitesLimit?: number
}

/**
 * Registers SAMM's gauges and counters (`samm_*`) on `registry` (default:
 * prom-client's global registry); each reads `samm.stats()` when scraped.
 * Throws if they are registered on that registry already.
 */
export declare function register(registry?: Registry, options?: PrometheusOptions): void
