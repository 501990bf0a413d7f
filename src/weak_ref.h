/* weak_ref.h: weak references any collection empties (see weak_ref.c). */
#ifndef SAMM_WEAK_REF_H
#define SAMM_WEAK_REF_H

#include <node_api.h>

napi_value samm_weak_ref(napi_env env, napi_callback_info info);
napi_value samm_weak_target(napi_env env, napi_callback_info info);

#endif
