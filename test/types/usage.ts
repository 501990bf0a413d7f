import samm, { site, run, Scope, Stats } from 'samm'

const body = site('render.body')
const tmp = samm.site('parse.tmp', { class: 'short' })
const cls: 'short' | 'medium' | 'long' | 'heap' = body.class

async function handler (): Promise<number> {
  return run(async (s: Scope) => {
    const a: Buffer = samm.alloc(1024, body)
    const b: Buffer = s.allocUnsafe(16)
    const c: Buffer = s.alloc(64, 'parse.tmp')
    await s.waitFor(Promise.resolve(1))
    samm.current()?.close
    return a.length + b.length + c.length + tmp.id
  })
}

const st: Stats = samm.stats()
const inUse: number = st.bump.inUse + st.outsideScope
samm.configure({ maxBytes: 512 * 1024 * 1024, onLimit: 'heap', idleTrimMs: 500, onEscape: 'warn', escapeFile: null })
const escapes: number = st.sites['render.body'].escapes
const min: number | null = samm.table().minShortAllocs
const freed: boolean = samm.free(Buffer.alloc(1))
void handler; void cls; void inUse; void freed; void escapes; void min

import Fastify from 'fastify'
import sammFastify from 'samm/fastify'
const app = Fastify()
void app.register(sammFastify)
app.get('/', { config: { samm: false } }, async (request) => {
  const s: Scope | null = request.samm
  return s === null
})
const mw = samm.express({ skip: (req) => req.url === '/health' })
void mw
