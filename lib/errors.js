'use strict'
// Errors with stable codes. Every code is listed in the README.

class SammError extends Error {
  constructor (code, message) {
    super(message)
    this.name = 'SammError'
    this.code = code
  }
}

function invalidArg (name, expected, value) {
  const err = new TypeError(`${name} must be ${expected}, got ${describe(value)}`)
  err.code = 'ERR_SAMM_INVALID_ARG'
  return err
}

function invalidSite (name, expected, value) {
  const err = invalidArg(name, expected, value)
  err.code = 'ERR_SAMM_INVALID_SITE'
  return err
}

function invalidSize (name, value, max) {
  const err = new RangeError(`${name} must be an integer from 0 to ${max}, got ${describe(value)}`)
  err.code = 'ERR_SAMM_INVALID_SIZE'
  return err
}

function describe (value) {
  if (value === null || value === undefined) return String(value)
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)
  if (typeof value === 'object' || typeof value === 'function') return value.constructor ? `an instance of ${value.constructor.name}` : typeof value
  return `${typeof value} ${String(value)}`
}

// A budget refusal: how much was asked, how much is committed, the budget,
// and what to change. scopeChunk: the chunk size, when the memory was for a
// request scope (each open scope that allocates holds at least a chunk).
function limitError (requested, committed, maxBytes, scopeChunk) {
  let message = `allocating ${requested} bytes${scopeChunk === undefined ? '' : ' in a request scope'} would exceed ` +
    `SAMM's budget: ${committed} bytes committed, maxBytes ${maxBytes}; `
  if (scopeChunk === undefined) {
    message += 'raise maxBytes (SAMM_MAX_BYTES) or set onLimit: \'heap\''
  } else {
    message += `each open scope that allocates holds at least chunkSize (${scopeChunk} bytes), so about ` +
      `${Math.floor(maxBytes / scopeChunk)} scopes can allocate at once: raise maxBytes (SAMM_MAX_BYTES), ` +
      'lower chunkSize (SAMM_CHUNK_SIZE) or set onLimit: \'heap\''
  }
  const err = new SammError('ERR_SAMM_LIMIT', message)
  err.requested = requested
  err.committed = committed
  err.maxBytes = maxBytes
  return err
}

// Native errors carry their code already; keep them but make them SammErrors.
function fromNative (err) {
  if (err && typeof err.code === 'string' && err.code.startsWith('ERR_SAMM_')) {
    return new SammError(err.code, err.message)
  }
  return err
}

module.exports = { SammError, invalidArg, invalidSite, invalidSize, limitError, fromNative }
