'use strict'
// Request scopes. A scope takes regions of its native bump arena as external
// ArrayBuffers and bumps Buffer views inside them in JavaScript, so a small
// allocation costs one view object and no native call. close() hands every
// ArrayBuffer back; the binding detaches each (stale views then read as
// length 0) before the arena is reset.

const binding = require('./binding')
const { SammError, fromNative } = require('./errors')
const { checkSize } = require('./validate')
const { tracer } = require('./trace')
const { counters, limitFallback } = require('./counters')

// A Uint8Array subclass whose prototype chain reaches Buffer.prototype: a
// real Buffer to every API, created at the cost of a plain typed array.
class SammBuffer extends Uint8Array {}
Object.setPrototypeOf(SammBuffer.prototype, Buffer.prototype)

const OPEN = 0
const CLOSING = 1 // close() called, waiting for waitFor() promises
const CLOSED = 2

function scopeClosed () {
  return new SammError('ERR_SAMM_SCOPE_CLOSED', 'the scope is closed')
}

class Scope {
  #handle
  #state = OPEN
  #buffers = [] // every ArrayBuffer taken, detached at close
  #ab = null // the region being bumped
  #off = 0
  #end = 0
  #pending = 0 // waitFor() promises not yet settled
  #heapFallback = false

  constructor () {
    try {
      this.#handle = binding.scopeOpen()
    } catch (err) {
      throw fromNative(err)
    }
    counters.scopesOpen++
  }

  get closed () { return this.#state !== OPEN }

  /** Zero-filled memory valid until the scope closes. */
  alloc (size) {
    if (tracer !== null) return this.#traced(size, true)
    return this.allocUnsafe(size).fill(0)
  }

  // Trace mode: direct scope allocations are observed as the site "(scope)".
  #traced (size, zero) {
    checkSize('size', size)
    if (this.#state !== OPEN) throw scopeClosed()
    return tracer.alloc(size, '(scope)', this, zero)
  }

  /** Memory valid until the scope closes; may hold old bytes of this process. */
  allocUnsafe (size) {
    if (tracer !== null) return this.#traced(size, false)
    if (typeof size !== 'number' || !(size >= 0 && size <= 0x3ffffff) || size % 1 !== 0) return this.#allocChecked(size)
    if (this.#state !== OPEN) throw scopeClosed()
    const off = this.#off
    if (size <= this.#end - off) {
      this.#off = off + ((size + 7) & ~7)
      return new SammBuffer(this.#ab, off, size)
    }
    return this.#take(size)
  }

  #allocChecked (size) {
    checkSize('size', size)
    if (this.#state !== OPEN) throw scopeClosed()
    return this.#take(size)
  }

  #take (size) {
    if (this.#heapFallback) return heapFallback(size)
    let ab
    try {
      ab = binding.scopeTake(this.#handle, size)
    } catch (err) {
      return limitFallback(fromNative(err), size, false)
    }
    if (ab === undefined) {
      this.#heapFallback = true
      return heapFallback(size)
    }
    this.#buffers.push(ab)
    if (size <= counters.chunkSize) {
      // A chunk (or the rest of one): bump inside it from now on.
      this.#ab = ab
      this.#off = (size + 7) & ~7
      this.#end = ab.byteLength
    }
    return new SammBuffer(ab, 0, size)
  }

  /**
   * Keeps the scope open until promise settles, for asynchronous work that
   * still reads the scope's memory (zlib, fs, crypto). Returns promise.
   */
  waitFor (promise) {
    const done = this.hold()
    Promise.resolve(promise).then(done, done)
    return promise
  }

  /**
   * Keeps the scope open until the returned function is called (once; later
   * calls do nothing). For integrations that know when work ends without a
   * promise.
   */
  hold () {
    if (this.#state === CLOSED) throw scopeClosed()
    this.#pending++
    let held = true
    return () => {
      if (!held) return
      held = false
      if (--this.#pending === 0 && this.#state === CLOSING) this.#release()
    }
  }

  /** Releases the scope's memory, at once or when waitFor() work settles. */
  close () {
    if (this.#state !== OPEN) return
    this.#state = CLOSING
    if (this.#pending === 0) this.#release()
  }

  #release () {
    this.#state = CLOSED
    if (tracer !== null) tracer.scopeClosed(this)
    const buffers = this.#buffers
    this.#buffers = null
    this.#ab = null
    this.#end = this.#off = 0
    counters.scopesOpen--
    binding.scopeClose(this.#handle, buffers)
  }
}

function heapFallback (size) {
  counters.noteExternalRefused()
  return Buffer.allocUnsafe(size)
}

module.exports = { Scope, SammBuffer }
