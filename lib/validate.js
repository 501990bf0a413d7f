'use strict'
const { invalidArg, invalidSize } = require('./errors')
const { kMaxLength } = require('node:buffer')

function checkSize (name, size) {
  if (typeof size !== 'number') throw invalidArg(name, 'a number', size)
  if (!Number.isInteger(size) || size < 0 || size > kMaxLength) throw invalidSize(name, size, kMaxLength)
}

module.exports = { checkSize }
