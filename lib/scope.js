// Request scopes. A scope takes whole chunks (then spans of several, once it
// outgrew its first chunk) from the pool (chunks.js) and bumps Buffer views
// inside them in JavaScript, so a small allocation costs one view object and
// no native call, and opening a scope costs none either. An allocation
// larger than a span is a block of its own, lent for this scope. close()
// detaches every ArrayBuffer the scope used (stale views then read as
// length 0) and hands the memory back for reuse. A scope dropped without
// close() loses nothing for good: its loans come back through their
// finalisers once its views are garbage.

const { SammError, fromNative } = require('./errors')
const { checkSize } = require('./validate')
const { tracer } = require('./trace')
const { counters, limitFallback } = require('./counters')
const { take, lastId, spanSize, giveBack, scopesRunLarge, noteScopeSize, byteLength } = require('./chunks')
const { allocate } = require('./allocate')
const { channels, scopeOpened, scopeReleased } = require('./diagnostics')

// A Uint8Array subclass whose prototype chain reaches Buffer.prototype: a
// real Buffer to every API, created at the cost of a plain typed array.
class SammBuffer extends Uint8Array {}
Object.setPrototypeOf(SammBuffer.prototype, Buffer.prototype)

// alloc() zeroes small allocations ahead of the bump pointer, up to this
// many bytes at a time, so that most of them cost no fill call of their own.
const ZERO_AHEAD = 4096

// Sizes the bump paths take without checkSize: integers from 0 to 64 MiB
// (larger ones take a block of their own, checked there).
function bumpable (size) {
  return typeof size === 'number' && size >= 0 && size <= 0x3ffffff && size % 1 === 0
}

// Why a scope serves from the V8 heap instead (#heapOnly).
const REFUSED = 1 // this runtime forbids external buffers
const OFF = 2 // SAMM is switched off (SAMM_DISABLE, configure({ disabled }))

const OPEN = 0
const CLOSING = 1 // close() called, waiting for waitFor() promises
const CLOSED = 2

function scopeClosed () {
  return new SammError('ERR_SAMM_SCOPE_CLOSED', 'the scope is closed')
}

class Scope {
  #state = OPEN
  #first = -1 // loan id of the first chunk (or span) taken, handed back at close
  #firstAb = null // its ArrayBuffer
  #more = null // any taken after it, as [id, ArrayBuffer, ...]: made only for scopes that need one
  #ab = null // the chunk being bumped
  #off = 0
  #end = 0
  #zeroed = 0 // bytes of #ab from #off up to here are zero
  #whole = null // a view over all of #ab, for zeroing ahead
  #allocs = 0
  // Blocks larger than a span, as [id, ArrayBuffer, ...], handed back at close.
  // Every loan's ArrayBuffer is held until the close, so that the binding
  // finds each one intact there and pools or frees it. (One collected before
  // the close could also be one whose memory a caller moved away: the
  // binding would have to wait for its finaliser.) A block's above all: its
  // finaliser would end the loan while the scope still holds its id, and
  // the close would then hand back whatever loan took that id since -
  // another scope's block, still being written to a socket.
  #large = null
  #pending = 0 // waitFor() promises not yet settled
  #heapOnly = counters.disabled ? OFF : 0 // REFUSED or OFF: every allocation from the V8 heap
  #held = 0 // bytes of the chunks, spans and blocks taken (admission learns from it)
  #admission = null // admission's tracker, for a request it let in (lib/admission.js)
  #closeWhenSettled = false // closes once the last hold is released (closeWhenSettled())

  constructor () {
    counters.scopesOpen++
    counters.scopesOpened++
    if (channels.scopeLong.hasSubscribers) scopeOpened(this)
  }

  get closed () { return this.#state !== OPEN }

  /** Bytes of memory the scope took from the heap so far. */
  get heldBytes () { return this.#held }

  /** True for the scope of a request admission let in. */
  get admitted () { return this.#admission !== null }

  /**
   * Marks the scope of a request admission let in: a budget refusal is then
   * served from the V8 heap instead of throwing, and tracker.released(scope)
   * is called once its memory is released.
   */
  admittedBy (tracker) { this.#admission = tracker }

  /**
   * Zero-filled memory valid until the scope closes. With a site, the
   * site's class decides: short-class memory comes from this scope, the
   * others from their arenas (see samm.alloc).
   */
  alloc (size, where) {
    if (where !== undefined) return this.#atSite(size, where, true)
    if (tracer !== null && tracer.take()) return this.#traced(size, true)
    const off = this.#off
    if (bumpable(size) && size <= ZERO_AHEAD && size <= this.#end - off && this.#state === OPEN &&
        (off + size <= this.#zeroed || this.#zeroAhead(off, off + size))) {
      return this.#bump(off, size, true)
    }
    // Larger than a span: a block of its own that the heap zeroes where it
    // may hold old bytes (fresh pages are zero already).
    if (bumpable(size) && size > spanSize() && this.#state === OPEN) return this.#takeLarge(size, true)
    return this.allocUnsafe(size).fill(0)
  }

  // Zeroes #ab from off (or the zeroed frontier, when beyond it) to at least
  // to, and ahead of that by as much as the chunk has used, up to
  // ZERO_AHEAD bytes: a scope making one small allocation zeroes little more.
  // False when the chunk was moved away (#chunkGone).
  #zeroAhead (off, to) {
    if (this.#chunkGone()) return false
    const from = off > this.#zeroed ? off : this.#zeroed
    const ahead = off < ZERO_AHEAD ? off : ZERO_AHEAD
    const until = Math.min(this.#end, to + ahead)
    if (this.#whole === null) this.#whole = new Uint8Array(this.#ab)
    this.#whole.fill(0, from, until)
    this.#zeroed = until
    return true
  }

  // Whether someone moved the chunk being bumped away (a BYOB read,
  // transfer(), a postMessage transfer list): it is detached, and the
  // scope goes on in a new one (its loan comes back as moved at the close).
  #chunkGone () {
    if (byteLength.call(this.#ab) !== 0) return false
    this.#end = this.#off
    return true
  }

  #atSite (size, where, zero) {
    checkSize('size', size)
    if (this.#state !== OPEN) throw scopeClosed()
    return allocate(size, where, zero, this)
  }

  // Trace mode: direct scope allocations are observed as the site "(scope)".
  #traced (size, zero) {
    checkSize('size', size)
    if (this.#state !== OPEN) throw scopeClosed()
    return tracer.alloc(size, '(scope)', this, zero)
  }

  /** Memory valid until the scope closes; may hold old bytes of this process. */
  allocUnsafe (size, where) {
    if (where !== undefined) return this.#atSite(size, where, false)
    if (tracer !== null && tracer.take()) return this.#traced(size, false)
    if (!bumpable(size)) return this.#allocChecked(size)
    if (this.#state !== OPEN) throw scopeClosed()
    const off = this.#off
    if (size <= this.#end - off) return this.#bump(off, size, false)
    return this.#take(size)
  }

  // size bytes at off of the chunk being bumped, which has room for them
  // (zero: they are zero already; a new chunk's are zeroed here).
  #bump (off, size, zero) {
    let buf
    try {
      buf = new SammBuffer(this.#ab, off, size)
    } catch (err) {
      if (!this.#chunkGone()) throw err
      return zero ? this.#take(size).fill(0) : this.#take(size)
    }
    this.#off = off + ((size + 7) & ~7)
    this.#allocs++
    return buf
  }

  #allocChecked (size) {
    checkSize('size', size)
    if (this.#state !== OPEN) throw scopeClosed()
    return this.#take(size)
  }

  #take (size) {
    if (this.#heapOnly !== 0) return this.#heapOnly === OFF ? Buffer.allocUnsafe(size) : heapFallback(size)
    if (size > spanSize()) return this.#takeLarge(size)
    let ab
    try {
      // A scope that outgrew its first chunk is a large one: it goes on in
      // spans, one recycle at close for several chunks' worth. Where
      // scopes lately were large, a new one starts in a span.
      const chunk = this.#first === -1 && size <= counters.chunkSize && !scopesRunLarge()
      ab = take(chunk ? 0 : spanSize())
    } catch (err) {
      return limitFallback(fromNative(err), size, false, true, 'short', null, this.#admission !== null)
    }
    if (ab === undefined) {
      this.#heapOnly = REFUSED
      return heapFallback(size)
    }
    this.#held += ab.byteLength
    const id = lastId()
    if (this.#first === -1) {
      this.#first = id
      this.#firstAb = ab
    } else if (this.#more === null) {
      this.#more = [id, ab]
    } else {
      this.#more.push(id, ab)
    }
    this.#ab = ab
    this.#whole = null
    this.#zeroed = 0
    this.#off = (size + 7) & ~7
    this.#end = ab.byteLength
    this.#allocs++
    return new SammBuffer(ab, 0, size)
  }

  // Larger than a span: a block of its own, lent until the close (zero:
  // reading as zeros).
  #takeLarge (size, zero = false) {
    if (this.#heapOnly !== 0) {
      const buf = this.#heapOnly === OFF ? Buffer.allocUnsafe(size) : heapFallback(size)
      return zero ? buf.fill(0) : buf
    }
    let ab
    try {
      ab = take(size, zero)
    } catch (err) {
      return limitFallback(fromNative(err), size, zero, true, 'short', null, this.#admission !== null)
    }
    if (ab === undefined) {
      this.#heapOnly = REFUSED
      return zero ? heapFallback(size).fill(0) : heapFallback(size)
    }
    this.#held += ab.byteLength
    if (this.#large === null) this.#large = [lastId(), ab]
    else this.#large.push(lastId(), ab)
    this.#allocs++
    return new SammBuffer(ab, 0, size)
  }

  /**
   * Keeps the scope open until promise settles, for asynchronous work that
   * still reads the scope's memory (zlib, fs, crypto). Returns a Promise
   * that settles as promise does (promise itself when it is a Promise).
   */
  waitFor (promise) {
    const done = this.hold()
    const settled = Promise.resolve(promise)
    settled.then(done, done)
    return settled
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
      if (--this.#pending === 0 && (this.#state === CLOSING || this.#closeWhenSettled)) this.#release()
    }
  }

  /**
   * Closes the scope once every hold is released (now, if none is). Until
   * then it stays open: the integrations call this when the response has
   * emitted 'close', and an aborted request's handler, still running, goes
   * on allocating from its request's scope - within the budget and
   * admission, released when it settles - instead of from the V8 heap.
   */
  closeWhenSettled () {
    if (this.#state !== OPEN) return
    if (this.#pending === 0) this.close()
    else this.#closeWhenSettled = true
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
    const first = this.#first
    const firstAb = this.#firstAb
    const more = this.#more
    const large = this.#large
    noteScopeSize(more !== null || this.#off > counters.chunkSize)
    this.#more = this.#large = this.#whole = this.#firstAb = this.#ab = null
    this.#first = -1
    this.#end = this.#off = this.#zeroed = 0
    counters.scopesOpen--
    counters.scopeAllocs += this.#allocs
    if (first !== -1) giveBack(first, firstAb, false)
    if (more !== null) for (let i = 0; i < more.length; i += 2) giveBack(more[i], more[i + 1], false)
    if (large !== null) for (let i = 0; i < large.length; i += 2) giveBack(large[i], large[i + 1], true)
    if (channels.scopeLong.hasSubscribers) scopeReleased(this, counters.longScopeMs)
    if (this.#admission !== null) this.#admission.released(this)
  }
}

function heapFallback (size) {
  counters.noteExternalRefused(size)
  return Buffer.allocUnsafe(size)
}

module.exports = { Scope, SammBuffer }
