'use strict'
// The example NestJS service, on the Express adapter or, with
// NEST_ADAPTER=fastify, on the Fastify one. SAMM=0 runs it without SAMM.
// PORT (3000). Plain JavaScript: the decorators are applied as functions
// (in TypeScript: @Controller(), @Get(), @Req() as usual).
require('reflect-metadata')
const samm = require('../..')
const { render, enabled } = require('../workload')

async function main () {
  const { NestFactory } = await import('@nestjs/core')
  const { Controller, Get, Req, Module, StreamableFile } = await import('@nestjs/common')
  const fastify = process.env.NEST_ADAPTER === 'fastify'

  class AppController {
    // A Buffer is sent as it is through StreamableFile on both adapters
    // (the Express adapter would send any other object as JSON).
    render (req) { return new StreamableFile(render(req.url)) }
    stats () { return samm.stats() }
  }
  const proto = AppController.prototype
  Req()(proto, 'render', 0)
  Get()(proto, 'render', Object.getOwnPropertyDescriptor(proto, 'render'))
  Get('stats')(proto, 'stats', Object.getOwnPropertyDescriptor(proto, 'stats'))
  Controller()(AppController)
  class AppModule {}
  Module({ controllers: [AppController] })(AppModule)

  let app
  if (fastify) {
    const { FastifyAdapter } = await import('@nestjs/platform-fastify')
    app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false })
    if (enabled) await app.register(require('samm/fastify')) // before the application starts
  } else {
    const { ExpressAdapter } = await import('@nestjs/platform-express')
    app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false })
    if (enabled) app.use(samm.express()) // before the application starts
  }
  await app.listen(Number(process.env.PORT) || 3000, '127.0.0.1')
  const { port } = app.getHttpServer().address()
  console.log(`nest example (${fastify ? 'fastify' : 'express'} adapter) on http://127.0.0.1:${port} (SAMM ${enabled ? 'on' : 'off'})`)
  return app
}

module.exports = main()
