'use strict'

// Calls fn(...args), then done() once fn has returned, thrown, or - when it
// returns a promise - settled. Returns what fn returns (the promise chained
// so that done runs first); rethrows what fn throws.
function callThenSettle (done, fn, ...args) {
  let result
  try {
    result = fn(...args)
  } catch (err) {
    done()
    throw err
  }
  if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
    return Promise.resolve(result).finally(done)
  }
  done()
  return result
}

module.exports = { callThenSettle }
