/* napi_error.c: what the binding throws when a Node-API call fails. */
#include "napi_error.h"

#include <stdio.h>

napi_value samm_throw_napi(napi_env env, const char *what) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return NULL;
  const napi_extended_error_info *info = NULL;
  char message[256];
  if (napi_get_last_error_info(env, &info) == napi_ok && info != NULL &&
      info->error_message != NULL)
    snprintf(message, sizeof message, "%s: %s", what, info->error_message);
  else
    snprintf(message, sizeof message, "%s", what);
  napi_throw_error(env, "ERR_SAMM_NAPI", message);
  return NULL;
}
