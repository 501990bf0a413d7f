'use strict'
// Admission for the example services (docs/admission.md): a request that
// arrives while SAMM's memory is above 80 % of maxBytes waits, in order, up
// to 5 s, then gets a 503. Costs one check per request while memory is low.
// SAMM_ADMIT=0 turns it off.
module.exports = {
  admit: process.env.SAMM_ADMIT === '0' ? undefined : { queue: 1024, timeoutMs: 5000 }
}
