/* weak_ref.c: weak references that every collection empties.
 *
 * A JavaScript WeakRef keeps its target through young-generation
 * collections on Node 20 to 24 (V8 clears WeakRef targets only in full
 * collections there), so a buffer that died young still looks alive until
 * the next major collection, which a busy service may not run for minutes.
 * A Node-API reference of count 0 is a weak V8 handle, which the scavenger
 * empties too, on every Node line. The profiler's sampled tracing and the
 * escape watch hold what they observe through these, so the service's own
 * young-generation collections tell them which buffers died.
 *
 *   weakRef(value)     an opaque handle (a frozen empty object) to a weak
 *                      reference to value; the reference is deleted when the
 *                      handle is collected.
 *   weakTarget(handle) value, or undefined once a collection found value
 *                      unreachable.
 *
 * The handle is an ordinary object, not an external: Node 24 and 26 crash
 * when an external is made the prototype of another object.
 */
#include "weak_ref.h"

#include <stddef.h>

#include "napi_error.h"

/* Marks the handles this file makes, so that any other object is refused. */
static const napi_type_tag HANDLE_TAG = {0x53414d4d7765616bULL, 0x7265662068616e64ULL};

static void delete_ref(napi_env env, void *data, void *hint) {
  (void)hint;
  napi_delete_reference(env, (napi_ref)data);
}

/* Throws a TypeError with code ERR_INVALID_ARG_TYPE; returns NULL. */
static napi_value bad_arg(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

napi_value samm_weak_ref(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value value = NULL;
  napi_valuetype type = napi_undefined;
  if (napi_get_cb_info(env, info, &argc, &value, NULL, NULL) != napi_ok || argc < 1 ||
      napi_typeof(env, value, &type) != napi_ok ||
      (type != napi_object && type != napi_function))
    return bad_arg(env, "weakRef() takes an object");
  napi_ref ref = NULL;
  napi_value handle = NULL;
  if (napi_create_reference(env, value, 0, &ref) != napi_ok)
    return samm_throw_napi(env, "weakRef(): cannot make a reference");
  if (napi_create_object(env, &handle) != napi_ok ||
      napi_wrap(env, handle, ref, delete_ref, NULL, NULL) != napi_ok) {
    napi_delete_reference(env, ref);
    return samm_throw_napi(env, "weakRef(): cannot make a handle");
  }
  if (napi_type_tag_object(env, handle, &HANDLE_TAG) != napi_ok ||
      napi_object_freeze(env, handle) != napi_ok)
    return samm_throw_napi(env, "weakRef(): cannot make a handle");
  return handle;
}

napi_value samm_weak_target(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value handle = NULL;
  napi_valuetype type = napi_undefined;
  bool ours = false;
  void *ref = NULL;
  if (napi_get_cb_info(env, info, &argc, &handle, NULL, NULL) != napi_ok || argc < 1 ||
      napi_typeof(env, handle, &type) != napi_ok || type != napi_object ||
      napi_check_object_type_tag(env, handle, &HANDLE_TAG, &ours) != napi_ok || !ours ||
      napi_unwrap(env, handle, &ref) != napi_ok || ref == NULL)
    return bad_arg(env, "weakTarget() takes a handle made by weakRef()");
  napi_value target = NULL;
  if (napi_get_reference_value(env, (napi_ref)ref, &target) != napi_ok)
    return samm_throw_napi(env, "weakTarget(): cannot read the reference");
  if (target != NULL) return target;
  napi_value undefined = NULL;
  napi_get_undefined(env, &undefined);
  return undefined;
}
