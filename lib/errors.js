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

// Native errors carry their code already; keep them but make them SammErrors.
function fromNative (err) {
  if (err && typeof err.code === 'string' && err.code.startsWith('ERR_SAMM_')) {
    return new SammError(err.code, err.message)
  }
  return err
}

module.exports = { SammError, invalidArg, invalidSite, invalidSize, fromNative }
