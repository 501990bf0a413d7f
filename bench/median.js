'use strict'
// The median of a list of numbers (the mean of the middle two for an even count).
function median (v) {
  const s = [...v].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

module.exports = { median }
