/* binding.c: the Node-API face of the allocator core.
 *
 * One samm_heap per environment (main thread or worker), held in instance
 * data and destroyed by the environment's cleanup hook. Scope memory reaches
 * JavaScript as external ArrayBuffers over whole chunks and spans of
 * several chunks lent to it, which it keeps across scopes (see "chunks lent
 * to JavaScript"); allocations larger than a span come from a native scope
 * and are detached at its close. Medium and long blocks are one external
 * Buffer each; free() detaches and returns the block, and a finaliser
 * returns what JavaScript dropped. A repeating, unref'd libuv timer trims
 * the heap (JavaScript's chunk pool first) once it has seen no activity for
 * idleTrimMs.
 *
 * Threading: everything runs on the environment's JavaScript thread.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "samm.h"

/* ---- call checking (Node's common.h pattern) ---- */

static void throw_last(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  napi_throw_error(env, "ERR_SAMM_NAPI",
                   info && info->error_message ? info->error_message : "Node-API call failed");
}

#define NAPI_CALL(env, call)         \
  do {                               \
    if ((call) != napi_ok) {         \
      throw_last(env);               \
      return NULL;                   \
    }                                \
  } while (0)

#define NAPI_CALL_VOID(env, call)    \
  do {                               \
    if ((call) != napi_ok) {         \
      throw_last(env);               \
      return;                        \
    }                                \
  } while (0)

#define NAPI_ASSERT(env, cond, code, msg)       \
  do {                                          \
    if (!(cond)) {                              \
      napi_throw_type_error(env, code, msg);    \
      return NULL;                              \
    }                                           \
  } while (0)

static napi_value throw_samm(napi_env env, int err) {
  napi_throw_error(env, samm_err_name(err), samm_strerror(err));
  return NULL;
}

/* After a failed external ArrayBuffer/Buffer creation: undefined when this
 * runtime forbids external buffers (JavaScript falls back to the V8 heap),
 * else the error thrown. The caller keeps or gives back the memory. */
static napi_value wrap_failed(napi_env env, napi_status st) {
  if (st == napi_no_external_buffers_allowed) {
    napi_value undef;
    napi_get_undefined(env, &undef);
    return undef;
  }
  throw_last(env);
  return NULL;
}

/* ---- instance data ---- */

typedef struct scope_slot {
  samm_scope *scope; /* NULL: free slot */
  uint32_t gen;      /* bumped at every close, part of the handle */
  uint32_t next_free;
} scope_slot;

typedef struct instance {
  samm_heap *heap;
  uint32_t heap_gen;      /* bumped when configure() replaces the heap */
  bool exiting;
  uint32_t live_blocks;   /* block and chunk records not yet finalised */
  scope_slot *slots;
  uint32_t slot_count, slot_cap, free_slot; /* free_slot: UINT32_MAX none */
  uv_timer_t *timer;
  uint64_t idle_trim_ms;
  uint64_t last_activity; /* activity count at the previous tick */
  napi_env env;
  napi_ref idle_hook;     /* JavaScript's part of the idle trim, or NULL */
  napi_async_context idle_async;
} instance;

/* A medium or long block shown to JavaScript. */
typedef struct block_rec {
  instance *inst;
  void *ptr;
  bool freed;
} block_rec;

static void instance_free_if_done(instance *inst) {
  if (inst->exiting && inst->live_blocks == 0) free(inst);
}

static uint64_t activity(const samm_heap *heap) {
  samm_stats s;
  samm_stats_get(heap, &s);
  return s.bump.allocs + s.slab.allocs + s.slab.frees + s.region.allocs +
         s.region.frees + s.scopes_opened;
}

/* Calls the idle hook: hook(false) returns JavaScript's activity count,
 * hook(true) hands back what JavaScript keeps for reuse. */
static double call_idle_hook(instance *inst, bool release) {
  napi_env env = inst->env;
  napi_handle_scope hs;
  if (napi_open_handle_scope(env, &hs) != napi_ok) return 0;
  double out = 0;
  napi_value fn, recv, arg, res;
  if (napi_get_reference_value(env, inst->idle_hook, &fn) == napi_ok && fn != NULL &&
      napi_get_global(env, &recv) == napi_ok && napi_get_boolean(env, release, &arg) == napi_ok &&
      napi_make_callback(env, inst->idle_async, recv, fn, 1, &arg, &res) == napi_ok &&
      napi_get_value_double(env, res, &out) != napi_ok)
    out = 0;
  /* The hook does not throw; should it ever, the error is not left pending
   * for whatever JavaScript runs next. */
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
  }
  napi_close_handle_scope(env, hs);
  return out;
}

static void on_timer(uv_timer_t *t) {
  instance *inst = t->data;
  if (inst == NULL || inst->exiting) return;
  uint64_t now = activity(inst->heap);
  if (inst->idle_hook != NULL) now += (uint64_t)call_idle_hook(inst, false);
  if (now == inst->last_activity) {
    if (inst->idle_hook != NULL) call_idle_hook(inst, true);
    samm_collect(inst->heap);
  }
  inst->last_activity = now;
}

static void timer_closed(uv_handle_t *h) { free(h); }

static void stop_timer(instance *inst) {
  if (inst->timer == NULL) return;
  inst->timer->data = NULL;
  uv_timer_stop(inst->timer);
  uv_close((uv_handle_t *)inst->timer, timer_closed);
  inst->timer = NULL;
}

static int start_timer(napi_env env, instance *inst, uint64_t ms) {
  stop_timer(inst);
  inst->idle_trim_ms = ms;
  if (ms == 0) return 0;
  uv_loop_t *loop = NULL;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == NULL) return -1;
  uv_timer_t *t = malloc(sizeof *t);
  if (t == NULL || uv_timer_init(loop, t) != 0) {
    free(t);
    return -1;
  }
  t->data = inst;
  uv_unref((uv_handle_t *)t);
  uv_timer_start(t, on_timer, ms, ms);
  inst->timer = t;
  return 0;
}

static void cleanup(void *arg) {
  instance *inst = arg;
  stop_timer(inst);
  inst->exiting = true;
  samm_heap_destroy(inst->heap);
  inst->heap = NULL;
  free(inst->slots);
  inst->slots = NULL;
  instance_free_if_done(inst);
}

static instance *get_instance(napi_env env) {
  instance *inst = NULL;
  if (napi_get_instance_data(env, (void **)&inst) != napi_ok || inst == NULL ||
      inst->exiting) {
    napi_throw_error(env, "ERR_SAMM_EXITING", "the environment is shutting down");
    return NULL;
  }
  return inst;
}

/* ---- argument helpers ---- */

static bool arg_u64(napi_env env, napi_value v, uint64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d > 9007199254740991.0 ||
      d != (double)(uint64_t)d)
    return false;
  *out = (uint64_t)d;
  return true;
}

#define GET_ARGS(n)                                                       \
  size_t argc = n;                                                        \
  napi_value argv[n];                                                     \
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));   \
  instance *inst = get_instance(env);                                     \
  if (inst == NULL) return NULL

/* ---- scopes ---- */

static samm_scope *slot_scope(instance *inst, uint64_t handle) {
  uint32_t idx = (uint32_t)(handle & 0xFFFFF), gen = (uint32_t)(handle >> 20);
  if (idx >= inst->slot_count) return NULL;
  scope_slot *s = &inst->slots[idx];
  return s->scope != NULL && s->gen == gen ? s->scope : NULL;
}

static napi_value scope_open(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  (void)argv;
  if (inst->free_slot == UINT32_MAX) {
    if (inst->slot_count == inst->slot_cap) {
      uint32_t cap = inst->slot_cap ? inst->slot_cap * 2 : 64;
      if (cap > 0x100000) return throw_samm(env, SAMM_ENOMEM);
      scope_slot *n = realloc(inst->slots, cap * sizeof *n);
      if (n == NULL) return throw_samm(env, SAMM_ENOMEM);
      inst->slots = n;
      inst->slot_cap = cap;
    }
    inst->slots[inst->slot_count] = (scope_slot){NULL, 0, UINT32_MAX};
    inst->free_slot = inst->slot_count++;
  }
  samm_scope *scope = samm_scope_open(inst->heap);
  if (scope == NULL) return throw_samm(env, samm_heap_last_error(inst->heap));
  uint32_t idx = inst->free_slot;
  scope_slot *s = &inst->slots[idx];
  inst->free_slot = s->next_free;
  s->scope = scope;
  napi_value out;
  NAPI_CALL(env, napi_create_double(env, (double)(((uint64_t)(s->gen & 0x7FFFFFFF) << 20) | idx), &out));
  return out;
}

/* scopeTake(handle, minSize) -> ArrayBuffer over the region taken. */
static napi_value scope_take(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  uint64_t handle, min;
  NAPI_ASSERT(env, argc == 2 && arg_u64(env, argv[0], &handle) && arg_u64(env, argv[1], &min),
              "ERR_SAMM_INVALID_ARG", "scopeTake(handle, minSize)");
  samm_scope *scope = slot_scope(inst, handle);
  if (scope == NULL) return throw_samm(env, SAMM_ESCOPE_CLOSED);
  size_t len = 0;
  void *p = samm_scope_take(scope, (size_t)min, &len);
  if (p == NULL) return throw_samm(env, samm_heap_last_error(inst->heap));
  napi_value ab;
  napi_status st = napi_create_external_arraybuffer(env, p, len, NULL, NULL, &ab);
  return st == napi_ok ? ab : wrap_failed(env, st);
}

/* scopeClose(handle, arrayBuffers) detaches each, then resets the arena. */
static napi_value scope_close(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  uint64_t handle;
  bool is_array = false;
  NAPI_ASSERT(env, argc == 2 && arg_u64(env, argv[0], &handle) &&
                       napi_is_array(env, argv[1], &is_array) == napi_ok && is_array,
              "ERR_SAMM_INVALID_ARG", "scopeClose(handle, arrayBuffers)");
  samm_scope *scope = slot_scope(inst, handle);
  if (scope == NULL) return throw_samm(env, SAMM_ESCOPE_CLOSED);
  uint32_t n = 0;
  NAPI_CALL(env, napi_get_array_length(env, argv[1], &n));
  for (uint32_t i = 0; i < n; i++) {
    napi_value ab;
    bool is_ab = false, detached = false;
    NAPI_CALL(env, napi_get_element(env, argv[1], i, &ab));
    if (napi_is_arraybuffer(env, ab, &is_ab) != napi_ok || !is_ab) continue;
    NAPI_CALL(env, napi_is_detached_arraybuffer(env, ab, &detached));
    if (!detached) NAPI_CALL(env, napi_detach_arraybuffer(env, ab));
  }
  uint32_t idx = (uint32_t)(handle & 0xFFFFF);
  scope_slot *s = &inst->slots[idx];
  s->scope = NULL;
  s->gen++;
  s->next_free = inst->free_slot;
  inst->free_slot = idx;
  int err = samm_scope_close(scope);
  if (err != SAMM_EOK) return throw_samm(env, err);
  return NULL;
}

/* ---- chunks lent to JavaScript ----
 *
 * JavaScript keeps whole chunks across scopes: it bumps views in them, and
 * at a scope's close moves each chunk's memory to a fresh ArrayBuffer
 * (ArrayBuffer.prototype.transfer), which detaches every view the scope
 * handed out without a native call. chunkRelease gives a chunk back; a
 * chunk whose ArrayBuffer JavaScript lost (collected, or transferred away by
 * the user) comes back through its finaliser, once its memory has no
 * ArrayBuffer left. */

typedef struct chunk_rec {
  instance *inst;
  uint32_t heap_gen;
  void *ptr;
  uint64_t ticket;
} chunk_rec;

static void chunk_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  chunk_rec *rec = hint;
  instance *inst = rec->inst;
  /* Released already (then the ticket is stale), or lent by a heap that
   * configure() replaced: nothing to give back. */
  if (!inst->exiting && rec->heap_gen == inst->heap_gen &&
      samm_chunk_ticket(inst->heap, rec->ptr) == rec->ticket)
    samm_chunk_return(inst->heap, rec->ptr, rec->ticket);
  free(rec);
  inst->live_blocks--;
  instance_free_if_done(inst);
}

/* chunkLend(size?) -> ArrayBuffer over a whole chunk (size omitted or at
 * most a chunk) or over a block of at least size bytes, or undefined when
 * external buffers are not allowed here. */
static napi_value chunk_lend(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  uint64_t size = 0;
  napi_valuetype t = napi_undefined;
  if (argc >= 1) NAPI_CALL(env, napi_typeof(env, argv[0], &t));
  NAPI_ASSERT(env, t == napi_undefined || arg_u64(env, argv[0], &size), "ERR_SAMM_INVALID_ARG",
              "chunkLend(size?)");
  chunk_rec *rec = malloc(sizeof *rec);
  if (rec == NULL) return throw_samm(env, SAMM_ENOMEM);
  size_t len = 0;
  uint64_t ticket = 0;
  void *p = samm_chunk_lend(inst->heap, size, &len, &ticket);
  if (p == NULL) {
    free(rec);
    return throw_samm(env, samm_heap_last_error(inst->heap));
  }
  *rec = (chunk_rec){inst, inst->heap_gen, p, ticket};
  napi_value ab;
  napi_status st = napi_create_external_arraybuffer(env, p, len, chunk_finalize, rec, &ab);
  if (st != napi_ok) {
    samm_chunk_return(inst->heap, p, ticket);
    free(rec);
    return wrap_failed(env, st);
  }
  inst->live_blocks++;
  return ab;
}

/* chunkRelease(arrayBuffer): detaches it and takes its chunk back at once.
 * false when it was detached already (its finaliser returns the chunk). */
static napi_value chunk_release(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  bool is_ab = false;
  void *data = NULL;
  size_t len = 0;
  NAPI_ASSERT(env, argc == 1 && napi_is_arraybuffer(env, argv[0], &is_ab) == napi_ok && is_ab &&
                       napi_get_arraybuffer_info(env, argv[0], &data, &len) == napi_ok,
              "ERR_SAMM_INVALID_ARG", "chunkRelease(arrayBuffer)");
  napi_value out;
  uint64_t ticket = data == NULL ? 0 : samm_chunk_ticket(inst->heap, data);
  if (ticket == 0) {
    NAPI_CALL(env, napi_get_boolean(env, false, &out));
    return out;
  }
  NAPI_CALL(env, napi_detach_arraybuffer(env, argv[0]));
  int err = samm_chunk_return(inst->heap, data, ticket);
  if (err != SAMM_EOK) return throw_samm(env, err);
  NAPI_CALL(env, napi_get_boolean(env, true, &out));
  return out;
}

/* setIdleHook(fn): see call_idle_hook. */
static napi_value set_idle_hook(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  napi_valuetype t;
  NAPI_ASSERT(env, argc == 1 && napi_typeof(env, argv[0], &t) == napi_ok && t == napi_function,
              "ERR_SAMM_INVALID_ARG", "setIdleHook(fn)");
  if (inst->idle_async == NULL) {
    napi_value name;
    NAPI_CALL(env, napi_create_string_utf8(env, "samm:idle", NAPI_AUTO_LENGTH, &name));
    NAPI_CALL(env, napi_async_init(env, NULL, name, &inst->idle_async));
  }
  if (inst->idle_hook != NULL) NAPI_CALL(env, napi_delete_reference(env, inst->idle_hook));
  inst->idle_hook = NULL;
  NAPI_CALL(env, napi_create_reference(env, argv[0], 1, &inst->idle_hook));
  inst->env = env;
  return NULL;
}

/* ---- medium / long ---- */

static void block_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  block_rec *rec = hint;
  instance *inst = rec->inst;
  if (!rec->freed && !inst->exiting) samm_free(inst->heap, rec->ptr);
  free(rec);
  inst->live_blocks--;
  instance_free_if_done(inst);
}

/* alloc(cls, size, zero) -> Buffer, or undefined when external buffers are
 * not allowed here. */
static napi_value block_alloc(napi_env env, napi_callback_info info) {
  GET_ARGS(3);
  uint64_t cls, size;
  bool zero = false;
  NAPI_ASSERT(env, argc == 3 && arg_u64(env, argv[0], &cls) && arg_u64(env, argv[1], &size) &&
                       napi_get_value_bool(env, argv[2], &zero) == napi_ok,
              "ERR_SAMM_INVALID_ARG", "alloc(cls, size, zero)");
  if (cls != SAMM_MEDIUM && cls != SAMM_LONG) return throw_samm(env, SAMM_EINVALID_CLASS);
  block_rec *rec = malloc(sizeof *rec);
  if (rec == NULL) return throw_samm(env, SAMM_ENOMEM);
  void *p = samm_alloc(inst->heap, (samm_class)cls, (size_t)size);
  if (p == NULL) {
    free(rec);
    return throw_samm(env, samm_heap_last_error(inst->heap));
  }
  if (zero) memset(p, 0, (size_t)size);
  *rec = (block_rec){inst, p, false};
  napi_value buf;
  napi_status st = napi_create_external_buffer(env, (size_t)size, p, block_finalize, rec, &buf);
  if (st != napi_ok) {
    samm_free(inst->heap, p);
    free(rec);
    return wrap_failed(env, st);
  }
  inst->live_blocks++;
  NAPI_CALL(env, napi_wrap(env, buf, rec, NULL, NULL, NULL));
  return buf;
}

/* free(buffer): the buffer alloc() returned. */
static napi_value block_free(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  block_rec *rec = NULL;
  bool is_buffer = false;
  NAPI_ASSERT(env, argc == 1 && napi_is_buffer(env, argv[0], &is_buffer) == napi_ok && is_buffer,
              "ERR_SAMM_INVALID_ARG", "free(buffer)");
  if (napi_remove_wrap(env, argv[0], (void **)&rec) != napi_ok || rec == NULL) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    return throw_samm(env, SAMM_EBAD_POINTER);
  }
  napi_value ab;
  NAPI_CALL(env, napi_get_typedarray_info(env, argv[0], NULL, NULL, NULL, &ab, NULL));
  NAPI_CALL(env, napi_detach_arraybuffer(env, ab));
  int err = samm_free(inst->heap, rec->ptr);
  rec->freed = true;
  if (err != SAMM_EOK) return throw_samm(env, err);
  return NULL;
}

/* ---- heap-wide ---- */

static napi_value stats_json(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  (void)argv;
  samm_stats s;
  samm_stats_get(inst->heap, &s);
  char buf[2048];
  size_t n = samm_stats_json(&s, buf, sizeof buf);
  napi_value out;
  NAPI_CALL(env, napi_create_string_utf8(env, buf, n < sizeof buf ? n : sizeof buf - 1, &out));
  return out;
}

/* memory(float64Array): writes [held, committed, maxBytes] into it, for
 * admission (lib/admission.js) to read per request without building an
 * object. */
static napi_value memory(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  bool is_ta = false;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  NAPI_ASSERT(env, argc == 1 && napi_is_typedarray(env, argv[0], &is_ta) == napi_ok && is_ta &&
                       napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) == napi_ok &&
                       type == napi_float64_array && length >= 3,
              "ERR_SAMM_INVALID_ARG", "memory(float64Array of 3)");
  samm_stats s;
  samm_stats_get(inst->heap, &s);
  double *out = data;
  out[0] = (double)samm_heap_held(inst->heap);
  out[1] = (double)s.committed;
  out[2] = (double)s.max_bytes;
  return NULL;
}

static napi_value collect(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  (void)argv;
  samm_collect(inst->heap);
  return NULL;
}

/* configure(name, value): one option at a time; throws on a bad value. */
static napi_value configure(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  char name[64];
  size_t len;
  uint64_t v;
  NAPI_ASSERT(env, argc == 2 &&
                       napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) == napi_ok &&
                       arg_u64(env, argv[1], &v),
              "ERR_SAMM_INVALID_ARG", "configure(name, value)");
  samm_config cfg;
  samm_heap_config(inst->heap, &cfg);
  for (int i = 0; i < SAMM_OPT_COUNT; i++) {
    const samm_option_desc *d = samm_option_get(i);
    if (strcmp(d->js_name, name) != 0) continue;
    if (samm_config_set(&cfg, i, v) != SAMM_EOK) return throw_samm(env, SAMM_EINVALID_ARG);
    if (i == SAMM_OPT_max_bytes) {
      samm_heap_set_limit(inst->heap, v);
    } else if (i == SAMM_OPT_decay_ms) { /* the large-block cache's decay applies live */
      samm_heap_set_decay(inst->heap, v);
    } else if (i == SAMM_OPT_idle_trim_ms) {
      if (start_timer(env, inst, v) != 0) return throw_samm(env, SAMM_ENOMEM);
    } else {
      /* Structural options need a fresh heap: only while nothing is live
       * (records of freed blocks awaiting their finaliser never touch it). */
      samm_stats s;
      samm_stats_get(inst->heap, &s);
      if (s.scopes_open || s.slab.in_use || s.region.in_use || s.chunks_lent)
        return throw_samm(env, SAMM_EINVALID_ARG);
      samm_heap *fresh = samm_heap_create(&cfg);
      if (fresh == NULL) return throw_samm(env, SAMM_EINVALID_ARG);
      samm_heap_destroy(inst->heap);
      inst->heap = fresh;
      inst->heap_gen++;
    }
    return NULL;
  }
  return throw_samm(env, SAMM_EINVALID_ARG);
}

static napi_value config_get(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  (void)argv;
  samm_config cfg;
  samm_heap_config(inst->heap, &cfg);
  napi_value out;
  NAPI_CALL(env, napi_create_object(env, &out));
  for (int i = 0; i < SAMM_OPT_COUNT; i++) {
    napi_value v;
    double value = i == SAMM_OPT_idle_trim_ms ? (double)inst->idle_trim_ms
                                               : (double)samm_config_get(&cfg, i);
    NAPI_CALL(env, napi_create_double(env, value, &v));
    NAPI_CALL(env, napi_set_named_property(env, out, samm_option_get(i)->js_name, v));
  }
  return out;
}

static napi_value table_json(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  NAPI_CALL(env, napi_create_string_utf8(env, samm_table_get()->json, NAPI_AUTO_LENGTH, &out));
  return out;
}

static napi_value env_error(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  samm_config cfg;
  samm_config_init(&cfg);
  const char *bad = NULL;
  samm_config_from_env(&cfg, &bad);
  if (bad == NULL) {
    napi_get_null(env, &out);
    return out;
  }
  NAPI_CALL(env, napi_create_string_utf8(env, bad, NAPI_AUTO_LENGTH, &out));
  return out;
}

NAPI_MODULE_INIT() {
  instance *inst = calloc(1, sizeof *inst);
  if (inst == NULL) return NULL;
  samm_config cfg;
  samm_config_init(&cfg);
  samm_config_from_env(&cfg, NULL);
  inst->heap = samm_heap_create(&cfg);
  inst->free_slot = UINT32_MAX;
  if (inst->heap == NULL) {
    free(inst);
    napi_throw_error(env, "ERR_SAMM_NOMEM", "cannot create the SAMM heap");
    return NULL;
  }
  NAPI_CALL(env, napi_set_instance_data(env, inst, NULL, NULL));
  NAPI_CALL(env, napi_add_env_cleanup_hook(env, cleanup, inst));
  start_timer(env, inst, cfg.idle_trim_ms);

  napi_property_descriptor props[] = {
      {"scopeOpen", NULL, scope_open, NULL, NULL, NULL, napi_default, NULL},
      {"scopeTake", NULL, scope_take, NULL, NULL, NULL, napi_default, NULL},
      {"scopeClose", NULL, scope_close, NULL, NULL, NULL, napi_default, NULL},
      {"chunkLend", NULL, chunk_lend, NULL, NULL, NULL, napi_default, NULL},
      {"chunkRelease", NULL, chunk_release, NULL, NULL, NULL, napi_default, NULL},
      {"setIdleHook", NULL, set_idle_hook, NULL, NULL, NULL, napi_default, NULL},
      {"alloc", NULL, block_alloc, NULL, NULL, NULL, napi_default, NULL},
      {"free", NULL, block_free, NULL, NULL, NULL, napi_default, NULL},
      {"statsJson", NULL, stats_json, NULL, NULL, NULL, napi_default, NULL},
      {"memory", NULL, memory, NULL, NULL, NULL, napi_default, NULL},
      {"collect", NULL, collect, NULL, NULL, NULL, napi_default, NULL},
      {"configure", NULL, configure, NULL, NULL, NULL, napi_default, NULL},
      {"config", NULL, config_get, NULL, NULL, NULL, napi_default, NULL},
      {"tableJson", NULL, table_json, NULL, NULL, NULL, napi_default, NULL},
      {"envError", NULL, env_error, NULL, NULL, NULL, napi_default, NULL},
  };
  NAPI_CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}
