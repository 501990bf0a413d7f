'use strict'
// The scenario routes (scenarios.js) as a NestJS controller, in plain
// JavaScript: the decorators are applied as functions. The same controller
// runs on the Express and on the Fastify adapter.
require('reflect-metadata')
const { Readable } = require('node:stream')
const samm = require('../../..')
const sc = require('./scenarios')

async function scenarioModule () {
  const { Controller, Get, Post, Param, Req, Body, Module, StreamableFile } = await import('@nestjs/common')

  class ScenarioController {
    async pattern (id) {
      const out = sc.build.pattern(Number(id))
      if (Number(id) % 3 === 0) await new Promise((resolve) => setImmediate(resolve))
      return new StreamableFile(out)
    }

    big (id) { return new StreamableFile(sc.build.big(Number(id))) }

    async slow () {
      await sc.slowWork()
      return 'late'
    }

    // The adapter reads the stream after the handler returned: its parts
    // are built in the request's scope as it is read.
    stream (req) {
      const scope = req.samm
      let i = 0
      return new StreamableFile(new Readable({ read () { this.push(i < 20 ? samm.enter(scope, () => sc.build.streamPart(i++)) : null) } }))
    }

    async throws () {
      sc.build.pattern(1)
      throw new Error('handler failed')
    }

    plain () { return 'plain' }

    echo (req, body) {
      return { scoped: samm.current() === req.samm && req.samm !== undefined && req.samm !== null, n: body.n }
    }
  }

  const proto = ScenarioController.prototype
  const route = (method, decorator, ...params) => {
    params.forEach((param, index) => param(proto, method, index))
    decorator(proto, method, Object.getOwnPropertyDescriptor(proto, method))
  }
  route('pattern', Get('pattern/:id'), Param('id'))
  route('big', Get('big/:id'), Param('id'))
  route('slow', Get('slow'))
  route('stream', Get('stream'), Req())
  route('throws', Get('throw'))
  route('plain', Get('plain'))
  route('echo', Post('echo'), Req(), Body())
  Controller()(ScenarioController)

  class ScenarioModule {}
  Module({ controllers: [ScenarioController] })(ScenarioModule)
  return ScenarioModule
}

module.exports = { scenarioModule }
