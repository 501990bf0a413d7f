import samm from './index.js'

export default samm
export const {
  site, alloc, allocUnsafe, free, scope, run, current, configure, config, stats, table, collect,
  enter, http, express, Site, Scope, SammError, classes
} = samm
