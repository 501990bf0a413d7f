/* napi_error.h: what the binding throws when a Node-API call fails. */
#ifndef SAMM_NAPI_ERROR_H
#define SAMM_NAPI_ERROR_H

#include <node_api.h>

/* Throws an Error with code ERR_SAMM_NAPI, unless an exception is pending
 * already: "<what>: <Node-API's message for the last failed call>", or
 * what alone when Node-API gives none. Returns NULL, for a callback to
 * return. */
napi_value samm_throw_napi(napi_env env, const char *what);

#endif
