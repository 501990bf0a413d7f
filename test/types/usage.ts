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
samm.configure({ maxBytes: 512 * 1024 * 1024, onLimit: 'heap', idleTrimMs: 500 })
const freed: boolean = samm.free(Buffer.alloc(1))
void handler; void cls; void inUse; void freed

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

import { Registry } from 'prom-client'
import { register as registerPrometheus } from 'samm/prometheus'
import { registerSammMetrics } from 'samm/otel'
import { metrics } from '@opentelemetry/api'
registerPrometheus(new Registry(), { prefix: 'svc_', labels: { service: 'api' }, sitesLimit: 20 })
registerPrometheus()
registerSammMetrics(metrics.getMeter('svc'), { sitesLimit: 10 })

import Koa from 'koa'
import sammKoa from 'samm/koa'
const koaApp = new Koa()
koaApp.use(sammKoa({ skip: (ctx) => ctx.path === '/health' }))
koaApp.use(async (ctx) => {
  const s: Scope | undefined = ctx.samm
  ctx.body = s?.allocUnsafe(16)
})

import { Hono } from 'hono'
import sammHono from 'samm/hono'
const honoApp = new Hono()
honoApp.use(sammHono({ skip: (c) => c.req.path === '/health' }))
honoApp.get('/', (c) => {
  const s: Scope | undefined = c.get('samm')
  return c.text(String(s?.allocUnsafe(16).length))
})
