'use strict'
// A port a service under test can listen on, for commands that need it up
// front (samm profile --load): one that binds now, below the kernel's
// ephemeral range (32768 and up here), so no outgoing connection of another
// process takes it between this probe and the service's listen.
const net = require('node:net')

async function listenablePort () {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + ((process.pid + i * 37) % 12000)
    const free = await new Promise((resolve) => {
      const probe = net.createServer()
      probe.once('error', () => resolve(false))
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)))
    })
    if (free) return port
  }
  throw new Error('no free port between 20000 and 32000')
}

module.exports = { listenablePort }
