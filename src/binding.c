/* binding.c: the Node-API face of the allocator core.
 *
 * One samm_heap per environment (main thread or worker), held in instance
 * data and destroyed by the environment's cleanup hook.
 *
 * Every piece of heap memory JavaScript can see is a loan: a whole chunk, a
 * span or a large block lent to the JavaScript scopes (which bump views in
 * it themselves), or a medium or long block shown as one Buffer. A loan is
 * shown through one ArrayBuffer at a time - its wrap: an external one made
 * here, which Node marks untransferable (postMessage copies or refuses it,
 * by Node line), or one transfer() moved it to (below). A loan's finaliser
 * runs once no ArrayBuffer anywhere refers to the memory any more: that is
 * how a loan JavaScript lost (a dropped Buffer, a scope never closed) comes
 * back.
 *
 * Chunks and spans between scopes wait in this file's pools (first in,
 * first out), wrapped and strongly held; a scope takes one, and at its close
 * has it recycled: the wrap the scope used is detached - every view of it
 * then reads as length 0 - and a fresh wrap goes back to the pool. In the
 * main thread lib/chunks.js does that itself with transfer() and only tells
 * this file (park() below); a worker's closes move the memory with
 * transfer() too where they can, and hand the fresh ArrayBuffer here to be
 * detached (recycle(), release()): that also finds a detach key a caller set
 * (markAsUntransferable, Node 24 on), which napi_detach_arraybuffer would
 * abort the process on.
 *
 * A caller may move the memory out of a wrap itself (a BYOB stream read,
 * ArrayBuffer.prototype.transfer), and post the ArrayBuffer it moved to to
 * another thread. The wrap is then found detached by someone else, the loan
 * is marked moved, and its memory comes back only through the finaliser -
 * never while the moved view can still read it. When the environment tears
 * down, Node calls every pending finaliser at once, most recent wrap first,
 * detaching each wrap just before: so the first of them (recognised because
 * JavaScript can no longer run) looks at every loan before Node touched it,
 * and each loan whose wrap is not intact is kept mapped when the heap is
 * destroyed. The one wrap Node already detached then is ambiguous unless it
 * was pooled; take() keeps a pooled wrap the most recent one.
 *
 * V8 counts the bytes of every external ArrayBuffer in its external memory,
 * which paces its collections: medium and long loans dropped without free()
 * need no report of their own to be found.
 *
 * Threading: everything runs on the environment's JavaScript thread.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "samm.h"
#include "napi_error.h"
#include "weak_ref.h"

/* ---- call checking (Node's common.h pattern) ---- */

#define NAPI_CALL(env, call)                                                    \
  do {                                                                          \
    if ((call) != napi_ok) return samm_throw_napi(env, "Node-API call failed"); \
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

static napi_value boolean(napi_env env, bool b) {
  napi_value v = NULL;
  napi_get_boolean(env, b, &v);
  return v;
}

static void clear_pending(napi_env env) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
  }
}

/* ---- loans ---- */

#define NO_LOAN UINT32_MAX

typedef enum loan_kind {
  LOAN_FREE = 0,  /* an unused record */
  LOAN_CHUNK,     /* a chunk, span or large block (samm_chunk_lend) */
  LOAN_BLOCK      /* a medium or long block (samm_alloc) */
} loan_kind;

typedef struct loan {
  void *ptr;          /* the memory; NULL while the record is free */
  size_t len;         /* bytes shown to JavaScript */
  uint64_t ticket;    /* LOAN_CHUNK: the lend's ticket */
  napi_ref wrap;      /* the ArrayBuffer over it now: strong while pooled, else weak */
  uint32_t gen;       /* bumped at every wrap; a wrap's finaliser carries its own */
  uint32_t next;      /* the next free record, or the next loan in its pool */
  uint8_t kind;       /* loan_kind */
  bool pooled;        /* waiting in a pool: its wrap was never shown to JavaScript */
  bool parked;        /* waiting in lib/chunks.js's pool (park()) */
  bool moved;         /* its wrap was detached by someone else */
  bool keyed;         /* its ArrayBuffer has a caller's detach key (abandon()) */
  bool wrapping;      /* a wrap is being created: its finaliser must not end the loan */
  bool wrap_lost;     /* ... and that finaliser ran already (the creation failed) */
} loan;

/* Loans waiting between scopes, oldest first. */
typedef struct pool {
  uint32_t head, tail; /* NO_LOAN when empty */
  uint32_t count;
} pool;

typedef struct instance {
  samm_heap *heap;
  uint32_t heap_gen;     /* bumped when configure() replaces the heap */
  bool exiting;          /* the environment is tearing down: no heap work any more */
  bool destroyed;        /* the heap is gone: the instance goes with the last wrap */
  uint32_t live_wraps;   /* wraps whose finaliser has not run: the instance outlives them */
  loan *loans;
  uint32_t loan_count, loan_cap, free_loan;
  pool chunks, spans;
  uint32_t newest;       /* the loan whose wrap is the most recent, or NO_LOAN */
  uint64_t idle_trim_ms; /* read by JavaScript's idle timer */
  napi_env env;
  double *mailbox;       /* JavaScript's Float64Array: see MAILBOX_* */
  double collected;      /* the last count of collectedBytes(); 0 once a finaliser ran */
} instance;

/* What take() and alloc() leave for JavaScript besides their result, and
 * what the pools hold, readable without a call. */
enum { MAILBOX_ID, MAILBOX_POOL_CHUNKS, MAILBOX_POOL_SPAN_BYTES, MAILBOX_LEN };

/* What a wrap's finaliser receives. */
typedef struct wrap_hint {
  instance *inst;
  uint32_t id;
  uint32_t gen;
  uint32_t heap_gen;
} wrap_hint;

static void instance_free_if_done(instance *inst) {
  if (inst->destroyed && inst->live_wraps == 0) free(inst);
}

static size_t chunk_size(const instance *inst) {
  samm_config cfg;
  samm_heap_config(inst->heap, &cfg);
  return (size_t)cfg.chunk_size;
}

/* Spans are this many chunks (lib/chunks.js says why). */
#define SPAN_CHUNKS 4

static loan *loan_get(instance *inst, uint32_t id) {
  return id < inst->loan_count && inst->loans[id].kind != LOAN_FREE ? &inst->loans[id] : NULL;
}

/* A free record, or NO_LOAN when none can be had. */
static uint32_t loan_new(instance *inst) {
  if (inst->free_loan == NO_LOAN) {
    if (inst->loan_count == inst->loan_cap) {
      uint32_t cap = inst->loan_cap ? inst->loan_cap * 2 : 256;
      loan *n = cap > inst->loan_cap ? realloc(inst->loans, (size_t)cap * sizeof *n) : NULL;
      if (n == NULL) return NO_LOAN;
      inst->loans = n;
      inst->loan_cap = cap;
    }
    inst->loans[inst->loan_count] = (loan){.next = NO_LOAN};
    inst->free_loan = inst->loan_count++;
  }
  uint32_t id = inst->free_loan;
  loan *l = &inst->loans[id];
  inst->free_loan = l->next;
  *l = (loan){.gen = l->gen, .next = NO_LOAN};
  return id;
}

/* Frees the record of a loan whose memory is back with the heap or was
 * never had. */
static void loan_discard(instance *inst, uint32_t id) {
  loan *l = &inst->loans[id];
  if (l->wrap != NULL && !inst->exiting) napi_delete_reference(inst->env, l->wrap);
  *l = (loan){.gen = l->gen, .next = inst->free_loan};
  inst->free_loan = id;
}

/* Gives the memory back to the heap and frees the record.
 * pre: no ArrayBuffer can read the memory any more; not pooled. */
static int loan_end(instance *inst, uint32_t id) {
  loan *l = &inst->loans[id];
  int err;
  if (l->kind == LOAN_CHUNK) {
    err = samm_chunk_return(inst->heap, l->ptr, l->ticket);
  } else {
    err = samm_free(inst->heap, l->ptr);
  }
  loan_discard(inst, id);
  return err;
}

static pool *pool_of(instance *inst, const loan *l) {
  size_t chunk = chunk_size(inst);
  if (l->kind != LOAN_CHUNK) return NULL;
  return l->len == chunk ? &inst->chunks : l->len == SPAN_CHUNKS * chunk ? &inst->spans : NULL;
}

static void pool_counts(instance *inst) {
  inst->mailbox[MAILBOX_POOL_CHUNKS] = inst->chunks.count;
  inst->mailbox[MAILBOX_POOL_SPAN_BYTES] =
      (double)inst->spans.count * (double)(SPAN_CHUNKS * chunk_size(inst));
}

static void pool_push(instance *inst, pool *p, uint32_t id) {
  inst->loans[id].next = NO_LOAN;
  inst->loans[id].pooled = true;
  if (p->tail == NO_LOAN)
    p->head = id;
  else
    inst->loans[p->tail].next = id;
  p->tail = id;
  p->count++;
  pool_counts(inst);
}

static uint32_t pool_pop(instance *inst, pool *p) {
  uint32_t id = p->head;
  if (id == NO_LOAN) return NO_LOAN;
  loan *l = &inst->loans[id];
  p->head = l->next;
  if (p->head == NO_LOAN) p->tail = NO_LOAN;
  l->next = NO_LOAN;
  l->pooled = false;
  p->count--;
  pool_counts(inst);
  return id;
}

/* The state of a loan's wrap: WRAP_INTACT when it is alive and attached
 * (then *ab is set, when ab is not NULL), WRAP_DETACHED when someone
 * detached it, WRAP_GONE when it was collected or there is none. */
typedef enum wrap_state { WRAP_INTACT, WRAP_DETACHED, WRAP_GONE } wrap_state;

static wrap_state wrap_get(napi_env env, const loan *l, napi_value *ab) {
  napi_value v = NULL;
  if (l->wrap == NULL || napi_get_reference_value(env, l->wrap, &v) != napi_ok || v == NULL)
    return WRAP_GONE;
  bool detached = true;
  if (napi_is_detached_arraybuffer(env, v, &detached) != napi_ok || detached) return WRAP_DETACHED;
  if (ab != NULL) *ab = v;
  return WRAP_INTACT;
}

/* The environment is tearing down (file comment): keeps mapped the memory
 * of every loan that may be read through a view this heap cannot detach.
 * cleaned: the loan whose wrap Node detached just now, or NO_LOAN. */
static void teardown(instance *inst, uint32_t cleaned) {
  napi_env env = inst->env;
  napi_handle_scope hs = NULL;
  bool scoped = napi_open_handle_scope(env, &hs) == napi_ok;
  for (uint32_t id = 0; id < inst->loan_count; id++) {
    loan *l = &inst->loans[id];
    if (l->kind == LOAN_FREE || l->pooled || l->parked || l->keyed) continue;
    bool intact = !l->moved && scoped && id != cleaned && wrap_get(env, l, NULL) == WRAP_INTACT;
    if (!intact) samm_heap_keep_mapped(inst->heap, l->ptr);
  }
  if (scoped) napi_close_handle_scope(env, hs);
  inst->exiting = true;
}

/* False once JavaScript can no longer run in env: Node-API calls that may
 * run JavaScript then fail, and only teardown does that to a finaliser. */
static bool js_can_run(napi_env env) {
  napi_value u = NULL;
  bool same = false;
  return napi_get_undefined(env, &u) == napi_ok && napi_strict_equals(env, u, u, &same) == napi_ok;
}

static void wrap_finalize(napi_env env, void *data, void *hint) {
  (void)data;
  wrap_hint *h = hint;
  instance *inst = h->inst;
  loan *l = inst->heap_gen == h->heap_gen ? loan_get(inst, h->id) : NULL;
  bool current = l != NULL && l->gen == h->gen;
  inst->collected = 0;
  if (!inst->exiting && !inst->destroyed && !js_can_run(env))
    teardown(inst, current ? h->id : NO_LOAN);
  /* Only the loan's current wrap ends it: an older wrap was detached by its
   * replacement (or by the loan's early end) and has nothing left. At
   * teardown the heap goes as a whole. */
  if (current) {
    if (l->wrapping)
      l->wrap_lost = true;
    else if (!inst->exiting)
      loan_end(inst, h->id);
  }
  free(h);
  inst->live_wraps--;
  instance_free_if_done(inst);
}

/* Shows loan id through a new external ArrayBuffer (LOAN_CHUNK) or Buffer
 * (LOAN_BLOCK), its wrap from now on, held strongly when strong. Returns
 * it, or NULL: with an exception pending, or none when this runtime forbids
 * external buffers (*forbidden is then set). The caller still owns the loan
 * on failure; its previous wrap reference is gone either way. */
static napi_value wrap_new(napi_env env, instance *inst, uint32_t id, bool strong, bool *forbidden) {
  loan *l = &inst->loans[id];
  if (l->wrap != NULL) napi_delete_reference(env, l->wrap);
  l->wrap = NULL;
  wrap_hint *h = malloc(sizeof *h);
  if (h == NULL) return throw_samm(env, SAMM_ENOMEM);
  l->gen++;
  *h = (wrap_hint){inst, id, l->gen, inst->heap_gen};
  napi_value out = NULL, ab = NULL;
  napi_status st;
  /* The finaliser runs once no ArrayBuffer refers to the memory. Should the
   * creation fail after Node took it, it may run at once (Buffer::New does
   * for a size it refuses): `wrapping` tells it to leave the loan alone. */
  inst->live_wraps++;
  l->wrapping = true;
  l->wrap_lost = false;
  if (l->kind == LOAN_CHUNK) {
    st = napi_create_external_arraybuffer(env, l->ptr, l->len, wrap_finalize, h, &out);
    ab = out;
  } else {
    st = napi_create_external_buffer(env, l->len, l->ptr, wrap_finalize, h, &out);
    if (st == napi_ok) st = napi_get_typedarray_info(env, out, NULL, NULL, NULL, &ab, NULL);
  }
  l = &inst->loans[id];
  l->wrapping = false;
  if (st == napi_ok && out != NULL && !l->wrap_lost &&
      napi_create_reference(env, ab, strong ? 1 : 0, &l->wrap) == napi_ok) {
    inst->newest = id;
    return out;
  }
  if (!l->wrap_lost && (st != napi_ok || out == NULL)) {
    /* Node never took the finaliser: the wrap never was. */
    inst->live_wraps--;
    free(h);
  }
  l->wrap = NULL;
  l->gen++; /* whatever wrap stands is not the loan's */
  if (st == napi_no_external_buffers_allowed) {
    *forbidden = true;
    return NULL;
  }
  return samm_throw_napi(env, "Node-API call failed");
}

/* ---- instance ---- */

static void cleanup(void *arg) {
  instance *inst = arg;
  if (!inst->exiting) teardown(inst, NO_LOAN);
  inst->destroyed = true;
  samm_heap_destroy(inst->heap);
  inst->heap = NULL;
  free(inst->loans);
  inst->loans = NULL;
  inst->loan_count = inst->loan_cap = 0;
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
  if (v == NULL || napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) ||
      d > 9007199254740991.0 || d != (double)(uint64_t)d)
    return false;
  *out = (uint64_t)d;
  return true;
}

#define GET_ARGS(n)                                                       \
  size_t argc = n;                                                        \
  napi_value argv[n] = {NULL};                                            \
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));   \
  instance *inst = get_instance(env);                                     \
  if (inst == NULL) return NULL

/* What JavaScript holds for a loan: its id and the generation of its wrap,
 * so that a loan that ended while JavaScript still held it (its moved
 * memory collected, say) is never taken for the loan its record holds now.
 * An exact double: id in the low 32 bits, TOKEN_GEN_BITS of the generation
 * above. */
#define TOKEN_GEN_BITS 21
#define TOKEN_GEN_MASK ((UINT32_C(1) << TOKEN_GEN_BITS) - 1)

static double loan_token(const instance *inst, uint32_t id) {
  return (double)id + (double)(inst->loans[id].gen & TOKEN_GEN_MASK) * 4294967296.0;
}

/* The shown chunk loan named by token v, or NULL: with a TypeError when v is
 * not a token, without one (*gone set) when the loan it named has ended. */
static loan *arg_loan(napi_env env, instance *inst, napi_value v, uint32_t *id, bool *gone) {
  uint64_t n;
  *gone = false;
  if (!arg_u64(env, v, &n) || (uint32_t)n == NO_LOAN || (n >> 32) > TOKEN_GEN_MASK) {
    napi_throw_type_error(env, "ERR_SAMM_INVALID_ARG", "not a loan id shown to JavaScript");
    return NULL;
  }
  loan *l = loan_get(inst, (uint32_t)n);
  if (l == NULL || l->kind != LOAN_CHUNK || l->pooled || (l->gen & TOKEN_GEN_MASK) != (uint32_t)(n >> 32)) {
    *gone = true;
    return NULL;
  }
  *id = (uint32_t)n;
  return l;
}

/* ---- chunks, spans and large blocks lent to JavaScript ---- */

/* A new chunk loan of at least size bytes (a chunk when size is 0),
 * wrapped, or NO_LOAN: with an exception pending, or none when external
 * buffers are forbidden (*forbidden set). zero: its memory reads as zeros
 * (samm_chunk_lend_zeroed clears only what may hold old data). */
static uint32_t lend(napi_env env, instance *inst, size_t size, bool strong, napi_value *out,
                     bool *forbidden, bool zero) {
  uint32_t id = loan_new(inst);
  if (id == NO_LOAN) {
    throw_samm(env, SAMM_ENOMEM);
    return NO_LOAN;
  }
  size_t len = 0;
  uint64_t ticket = 0;
  void *p = zero ? samm_chunk_lend_zeroed(inst->heap, size, &len, &ticket)
                 : samm_chunk_lend(inst->heap, size, &len, &ticket);
  if (p == NULL) {
    loan_discard(inst, id);
    throw_samm(env, samm_heap_last_error(inst->heap));
    return NO_LOAN;
  }
  loan *l = &inst->loans[id];
  l->kind = LOAN_CHUNK;
  l->ptr = p;
  l->len = len;
  l->ticket = ticket;
  *out = wrap_new(env, inst, id, strong, forbidden);
  if (*out == NULL) {
    loan_end(inst, id);
    return NO_LOAN;
  }
  return id;
}

/* Makes the most recent wrap a pooled one (file comment): re-wraps the
 * newest pooled chunk, or lends one into the pool. Best effort. */
static void pool_renew(napi_env env, instance *inst) {
  uint32_t id = inst->chunks.tail;
  bool forbidden = false;
  napi_value ab;
  if (id != NO_LOAN) {
    /* Pooled wraps were never shown: nothing can read them but this. */
    loan *l = &inst->loans[id];
    if (wrap_get(env, l, &ab) == WRAP_INTACT) napi_detach_arraybuffer(env, ab);
    if (wrap_new(env, inst, id, true, &forbidden) != NULL) return;
    /* It cannot stay pooled without a wrap: take it out and end it. */
    pool *p = &inst->chunks;
    uint32_t prev = NO_LOAN;
    for (uint32_t i = p->head; i != id; i = inst->loans[i].next) prev = i;
    if (prev == NO_LOAN) p->head = NO_LOAN; else inst->loans[prev].next = NO_LOAN;
    p->tail = prev;
    p->count--;
    inst->loans[id].pooled = false;
    loan_end(inst, id);
    pool_counts(inst);
  } else {
    id = lend(env, inst, 0, true, &ab, &forbidden, false);
    if (id != NO_LOAN) pool_push(inst, &inst->chunks, id);
  }
  clear_pending(env);
}

/* take(size?, zero?) -> ArrayBuffer over a whole chunk (size omitted or 0),
 * a span (size: SPAN_CHUNKS chunks) or a block of its own of at least size
 * bytes (more than a span; zero: reading as zeros); its loan id in
 * mailbox[0]. undefined when external buffers are not allowed here. */
static napi_value take(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  uint64_t size = 0;
  bool zero = false;
  napi_valuetype t = napi_undefined;
  if (argc >= 1) NAPI_CALL(env, napi_typeof(env, argv[0], &t));
  NAPI_ASSERT(env, (t == napi_undefined || arg_u64(env, argv[0], &size)) &&
                       (argc < 2 || napi_get_value_bool(env, argv[1], &zero) == napi_ok),
              "ERR_SAMM_INVALID_ARG", "take(size?, zero?)");
  size_t chunk = chunk_size(inst);
  pool *p = size <= chunk ? &inst->chunks : size == SPAN_CHUNKS * chunk ? &inst->spans : NULL;
  napi_value ab = NULL;
  bool forbidden = false;
  uint32_t id = p != NULL ? pool_pop(inst, p) : NO_LOAN;
  if (id != NO_LOAN) {
    loan *l = &inst->loans[id];
    /* Shown from now on: a weak reference, so that a scope dropped without
     * close() loses nothing for good. */
    if (napi_get_reference_value(env, l->wrap, &ab) != napi_ok || ab == NULL ||
        napi_reference_unref(env, l->wrap, NULL) != napi_ok) {
      loan_end(inst, id);
      id = NO_LOAN;
      ab = NULL;
    }
  }
  if (id == NO_LOAN) {
    id = lend(env, inst, p == &inst->chunks ? 0 : (size_t)size, false, &ab, &forbidden, zero && p == NULL);
    if (id == NO_LOAN) {
      if (!forbidden) return NULL;
      napi_value undef;
      NAPI_CALL(env, napi_get_undefined(env, &undef));
      return undef;
    }
  }
  /* Keep a pooled wrap the most recent one: at teardown, the wrap Node
   * detaches first is then one nobody else could have moved. */
  if (inst->newest == id) pool_renew(env, inst);
  inst->mailbox[MAILBOX_ID] = loan_token(inst, id);
  return ab;
}

/* Ends loan id (loan_end) for a binding call: true, or the heap's error
 * thrown. */
static napi_value loan_ended(napi_env env, instance *inst, uint32_t id) {
  int err = loan_end(inst, id);
  return err != SAMM_EOK ? throw_samm(env, err) : boolean(env, true);
}

/* arg_loan for a loan shown to a scope (not parked: see park()). */
static loan *arg_shown_loan(napi_env env, instance *inst, napi_value v, uint32_t *id, bool *gone) {
  loan *l = arg_loan(env, inst, v, id, gone);
  if (l == NULL) return NULL;
  NAPI_ASSERT(env, !l->parked, "ERR_SAMM_INVALID_ARG", "a parked loan is unparked or dropped");
  return l;
}

/* Whether ab is an ArrayBuffer over the whole of l's memory. */
static bool is_loan_memory(napi_env env, const loan *l, napi_value ab) {
  bool is_ab = false;
  void *data = NULL;
  size_t len = 0;
  /* transfer() of an empty ArrayBuffer makes one over no memory at all. */
  return ab != NULL && napi_is_arraybuffer(env, ab, &is_ab) == napi_ok && is_ab &&
         napi_get_arraybuffer_info(env, ab, &data, &len) == napi_ok && len == l->len &&
         (data == l->ptr || len == 0);
}

/* The optional second argument: an ArrayBuffer, or NULL when undefined. */
static napi_value optional_arg(napi_env env, size_t argc, napi_value v) {
  napi_valuetype t = napi_undefined;
  if (argc < 2 || napi_typeof(env, v, &t) != napi_ok || t == napi_undefined) return NULL;
  return v;
}

/* Detaches what a shown chunk loan is read through at its scope's close:
 * fresh, when lib/chunks.js moved the memory there itself (transfer()),
 * else the loan's wrap. 1 when detached; 0 when the wrap had been detached
 * by someone else (the loan is then marked moved); -1 with an exception. */
static int detach_shown(napi_env env, loan *l, napi_value fresh) {
  napi_value ab = fresh;
  if (fresh != NULL) {
    if (!is_loan_memory(env, l, fresh) || l->moved || wrap_get(env, l, NULL) == WRAP_INTACT) {
      napi_throw_type_error(env, "ERR_SAMM_INVALID_ARG", "not the ArrayBuffer the loan's memory moved to");
      return -1;
    }
  } else if (l->moved || wrap_get(env, l, &ab) != WRAP_INTACT) {
    l->moved = true;
    return 0;
  }
  if (napi_detach_arraybuffer(env, ab) != napi_ok) {
    samm_throw_napi(env, "Node-API call failed");
    return -1;
  }
  return 1;
}

/* recycle(id, fresh?) -> true when the loan went back to its pool with a
 * new wrap, what it was read through detached first (detach_shown); false
 * when the wrap had been detached by someone else (the loan is then moved,
 * and comes back through its finaliser). A loan of no pool's size goes back
 * to the heap. */
static napi_value recycle(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  uint32_t id;
  bool gone;
  loan *l = arg_shown_loan(env, inst, argv[0], &id, &gone);
  if (l == NULL) return gone ? boolean(env, false) : NULL;
  int detached = detach_shown(env, l, optional_arg(env, argc, argv[1]));
  if (detached <= 0) return detached == 0 ? boolean(env, false) : NULL;
  pool *p = pool_of(inst, l);
  bool forbidden = false;
  if (p == NULL || wrap_new(env, inst, id, true, &forbidden) == NULL) {
    /* Detached, and no new wrap stands: the memory is free. */
    clear_pending(env);
    return loan_ended(env, inst, id);
  }
  pool_push(inst, p, id);
  return boolean(env, true);
}

/* abandon(id) -> false: the loan's ArrayBuffer cannot be detached (a
 * caller's markAsUntransferable set a detach key on it, Node 24 and later),
 * so the loan stays shown: its views stay readable, and its memory comes
 * back through the finaliser once they are gone. It is not moved: a keyed
 * ArrayBuffer cannot leave its thread, so teardown unmaps it, even when the
 * ArrayBuffer was collected and its finaliser had no turn to run. */
static napi_value abandon(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  uint32_t id;
  bool gone;
  loan *l = arg_shown_loan(env, inst, argv[0], &id, &gone);
  if (l == NULL && !gone) return NULL;
  if (l != NULL) l->keyed = true;
  return boolean(env, false);
}

/* disown(id, moved): the shown loan is read through moved, an ArrayBuffer
 * transfer() made (lib/chunks.js), no longer its wrap: this file's
 * reference follows it, weakly, so that collectedBytes() and teardown see
 * it as they saw the wrap. */
static napi_value disown(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  uint32_t id;
  bool gone;
  loan *l = arg_shown_loan(env, inst, argv[0], &id, &gone);
  NAPI_ASSERT(env, l != NULL && is_loan_memory(env, l, argv[1]) && wrap_get(env, l, NULL) != WRAP_INTACT,
              "ERR_SAMM_INVALID_ARG", "disown(id, the ArrayBuffer its wrap was moved to)");
  if (l->wrap != NULL) napi_delete_reference(env, l->wrap);
  l->wrap = NULL;
  NAPI_CALL(env, napi_create_reference(env, argv[1], 0, &l->wrap));
  return NULL;
}

/* In the main thread, lib/chunks.js recycles chunks and spans itself (file
 * comment): at a close it moves the memory to a fresh ArrayBuffer with
 * transfer() and parks the loan here while the fresh one waits in its own
 * pool, and a scope taking it unparks it. A parked loan's memory is read by
 * nothing but that pool, so teardown may unmap it. The binding keeps no
 * reference to the ArrayBuffers a close's transfer() makes (a reference per
 * close cost the collector more than the re-wrap it replaces; disown() keeps
 * one only per fresh lend): once parked, a loan's wrap is gone for this
 * file, so teardown keeps it mapped when shown again, and collectedBytes()
 * does not count it - which is why workers do not park.
 * The fresh ArrayBuffer keeps the loan's first wrap's backing store, so the
 * finaliser still runs only once no ArrayBuffer refers to the memory. */

/* The loan named by token v, checked as the ArrayBuffer ab over its whole
 * memory; NULL with a TypeError otherwise, or without one (*gone set) when
 * the loan has ended. */
static loan *arg_moved_loan(napi_env env, instance *inst, napi_value v, napi_value ab,
                            uint32_t *id, bool *gone) {
  loan *l = arg_loan(env, inst, v, id, gone);
  if (l == NULL) return NULL;
  NAPI_ASSERT(env, is_loan_memory(env, l, ab) && !l->moved, "ERR_SAMM_INVALID_ARG",
              "an ArrayBuffer over the whole of a loan's memory");
  return l;
}

/* park(id, fresh) -> 1 when the loan is parked as a chunk, 2 as a span,
 * fresh being the ArrayBuffer its memory was just moved to from the one its
 * scope used; 0 when it went back to the heap instead (no pool is of its
 * size: chunkSize changed) or had ended. */
static napi_value park(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  uint32_t id;
  bool gone;
  loan *l = arg_moved_loan(env, inst, argv[0], argv[1], &id, &gone);
  napi_value out;
  if (l == NULL) {
    if (!gone) return NULL;
    NAPI_CALL(env, napi_create_uint32(env, 0, &out));
    return out;
  }
  NAPI_ASSERT(env, !l->parked && wrap_get(env, l, NULL) != WRAP_INTACT, "ERR_SAMM_INVALID_ARG",
              "park(id, fresh): the loan is parked, or its scope's ArrayBuffer is intact");
  if (l->wrap != NULL) napi_delete_reference(env, l->wrap);
  l->wrap = NULL;
  pool *p = pool_of(inst, l);
  if (p == NULL) {
    /* fresh is the only ArrayBuffer over the memory: once it is detached,
     * nothing can read it. */
    NAPI_CALL(env, napi_detach_arraybuffer(env, argv[1]));
    int err = loan_end(inst, id);
    if (err != SAMM_EOK) return throw_samm(env, err);
  } else {
    l->parked = true;
  }
  NAPI_CALL(env, napi_create_uint32(env, p == NULL ? 0 : p == &inst->chunks ? 1 : 2, &out));
  return out;
}

/* unpark(id): the parked loan is shown to a scope again. */
static napi_value unpark(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  uint32_t id;
  bool gone;
  loan *l = arg_loan(env, inst, argv[0], &id, &gone);
  NAPI_ASSERT(env, l != NULL && l->parked, "ERR_SAMM_INVALID_ARG", "unpark(id of a parked loan)");
  l->parked = false;
  return NULL;
}

/* drop(id, ab): a parked loan goes back to the heap, ab (its pooled
 * ArrayBuffer) detached first. */
static napi_value drop(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  uint32_t id;
  bool gone;
  loan *l = arg_moved_loan(env, inst, argv[0], argv[1], &id, &gone);
  if (l == NULL) return gone ? boolean(env, false) : NULL;
  NAPI_ASSERT(env, l->parked, "ERR_SAMM_INVALID_ARG", "drop(id of a parked loan, its ArrayBuffer)");
  NAPI_CALL(env, napi_detach_arraybuffer(env, argv[1]));
  l->parked = false;
  return loan_ended(env, inst, id);
}

/* release(id, fresh?) -> true when the loan's memory went back to the heap
 * now, what it was read through detached first (detach_shown); false when
 * the wrap had been detached by someone else (the loan is then moved, and
 * comes back through its finaliser). */
static napi_value release(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  uint32_t id;
  bool gone;
  loan *l = arg_shown_loan(env, inst, argv[0], &id, &gone);
  if (l == NULL) return gone ? boolean(env, false) : NULL;
  int detached = detach_shown(env, l, optional_arg(env, argc, argv[1]));
  if (detached <= 0) return detached == 0 ? boolean(env, false) : NULL;
  return loan_ended(env, inst, id);
}

/* releasePool() -> how many pooled chunks and spans went back to the heap. */
static napi_value release_pool(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  (void)argv;
  uint32_t n = 0;
  pool *pools[] = {&inst->chunks, &inst->spans};
  for (int i = 0; i < 2; i++) {
    uint32_t id;
    while ((id = pool_pop(inst, pools[i])) != NO_LOAN) {
      napi_value ab;
      if (wrap_get(env, &inst->loans[id], &ab) == WRAP_INTACT) napi_detach_arraybuffer(env, ab);
      loan_end(inst, id);
      n++;
    }
  }
  napi_value out;
  NAPI_CALL(env, napi_create_uint32(env, n, &out));
  return out;
}

/* ---- medium / long ---- */

/* Marks the Buffers of medium and long blocks (napi_type_tag_object). */
static const napi_type_tag BLOCK_TYPE_TAG = {0x53414d4d426c6f63ULL, 0x6b2d6d656469756dULL};

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
  uint32_t id = loan_new(inst);
  if (id == NO_LOAN) return throw_samm(env, SAMM_ENOMEM);
  void *p = samm_alloc(inst->heap, (samm_class)cls, (size_t)size);
  if (p == NULL) {
    loan_discard(inst, id);
    return throw_samm(env, samm_heap_last_error(inst->heap));
  }
  if (zero) memset(p, 0, (size_t)size);
  loan *l = &inst->loans[id];
  l->kind = LOAN_BLOCK;
  l->ptr = p;
  l->len = (size_t)size;
  bool forbidden = false;
  napi_value buf = wrap_new(env, inst, id, false, &forbidden);
  if (buf == NULL) {
    loan_end(inst, id);
    if (!forbidden) return NULL;
    napi_value undef;
    NAPI_CALL(env, napi_get_undefined(env, &undef));
    return undef;
  }
  /* free() finds the loan from the Buffer; without the tag the loan still
   * comes back through its finaliser. The type tag tells this file's
   * Buffers from those another addon wrapped (napi_wrap's slot is shared),
   * and is set only on a wrapped one: a tagged Buffer without its wrap is
   * one free() took back already. */
  uintptr_t tag = (uintptr_t)id + 1;
  if (sizeof tag >= 8) tag += (uintptr_t)(inst->loans[id].gen & TOKEN_GEN_MASK) << 32;
  if (napi_wrap(env, buf, (void *)tag, NULL, NULL, NULL) != napi_ok ||
      napi_type_tag_object(env, buf, &BLOCK_TYPE_TAG) != napi_ok)
    clear_pending(env);
  return buf;
}

/* free(buffer, how?) -> true when the block went back to the heap now;
 * false when its ArrayBuffer had been detached by someone else (it then
 * comes back through its finaliser). Throws BAD_POINTER for a Buffer
 * alloc() did not return, DOUBLE_FREE for one freed already. how, for
 * lib/index.js, which moves the memory with transfer() itself so that a
 * detach key a caller set (markAsUntransferable, Node 24 on) is found
 * rather than aborting napi_detach_arraybuffer:
 *   false: only check - true when the block is the caller's to free and
 *          still attached (nothing changes);
 *   the ArrayBuffer the memory was moved to: it is detached, the block freed;
 *   true: the ArrayBuffer cannot be detached (a detach key) - false, the
 *         block left to its finaliser (see abandon()). */
static napi_value block_free(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  void *tag = NULL;
  bool is_buffer = false;
  NAPI_ASSERT(env, argc >= 1 && napi_is_buffer(env, argv[0], &is_buffer) == napi_ok && is_buffer,
              "ERR_SAMM_INVALID_ARG", "free(buffer, how?)");
  bool ours = false;
  if (napi_check_object_type_tag(env, argv[0], &BLOCK_TYPE_TAG, &ours) != napi_ok || !ours) {
    clear_pending(env);
    return throw_samm(env, SAMM_EBAD_POINTER);
  }
  napi_value how = optional_arg(env, argc, argv[1]);
  napi_valuetype how_type = napi_undefined;
  bool how_flag = false;
  if (how != NULL) {
    NAPI_CALL(env, napi_typeof(env, how, &how_type));
    if (how_type == napi_boolean) NAPI_CALL(env, napi_get_value_bool(env, how, &how_flag));
  }
  if (napi_unwrap(env, argv[0], &tag) != napi_ok || tag == NULL) {
    clear_pending(env);
    return throw_samm(env, SAMM_EDOUBLE_FREE); /* tagged, so freed before */
  }
  uint32_t id = (uint32_t)((uintptr_t)tag - 1);
  loan *l = loan_get(inst, id);
  bool same = l != NULL && l->kind == LOAN_BLOCK &&
              (sizeof tag < 8 || (uint32_t)((uint64_t)((uintptr_t)tag - 1) >> 32) == (l->gen & TOKEN_GEN_MASK));
  napi_value ab;
  NAPI_CALL(env, napi_get_typedarray_info(env, argv[0], NULL, NULL, NULL, &ab, NULL));
  bool detached = false;
  NAPI_CALL(env, napi_is_detached_arraybuffer(env, ab, &detached));
  napi_value target = ab;
  if (how != NULL && how_type == napi_object) {
    /* Moved by lib/index.js just now: the Buffer's ArrayBuffer is detached. */
    NAPI_ASSERT(env, same && !l->moved && detached && is_loan_memory(env, l, how),
                "ERR_SAMM_INVALID_ARG", "free(buffer, the ArrayBuffer its memory moved to)");
    target = how;
  } else {
    /* Moved memory (a BYOB read, transfer()) is never given back here: it
     * comes back through the finaliser of the view that holds it now, which
     * may have run already (the record is then free, or another loan's). */
    if (detached) {
      if (same) l->moved = true;
      return boolean(env, false);
    }
    if (!same) return throw_samm(env, SAMM_EDOUBLE_FREE);
    if (l->moved) return boolean(env, false);
    if (how != NULL) {
      NAPI_ASSERT(env, how_type == napi_boolean, "ERR_SAMM_INVALID_ARG", "free(buffer, how?)");
      /* true: keyed (abandon() says why it stays shown, not moved). */
      if (how_flag) l->keyed = true;
      return boolean(env, !how_flag);
    }
  }
  NAPI_CALL(env, napi_detach_arraybuffer(env, target));
  void *removed;
  napi_remove_wrap(env, argv[0], &removed);
  return loan_ended(env, inst, id);
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

/* activity() -> a count that moves whenever the native heap is used. */
static napi_value activity(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  (void)argv;
  samm_stats s;
  samm_stats_get(inst->heap, &s);
  napi_value out;
  NAPI_CALL(env, napi_create_double(env, (double)(s.bump.allocs + s.slab.allocs + s.slab.frees +
                                                  s.region.allocs + s.region.frees),
                                    &out));
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

/* collectedBytes(atLeast) -> bytes of loans whose ArrayBuffer the
 * collector has taken while their finaliser has not run yet: garbage that
 * comes back to the heap on a later turn of the event loop (Node runs the
 * finalisers of external buffers between turns, never inside a
 * collection). Moved loans do not count: their memory may still be read
 * elsewhere. The last count stands until a finaliser runs (only that makes
 * it smaller) unless it is below atLeast: a loop refused again and again
 * within one turn pays for one walk of the loans, not one per refusal. */
static napi_value collected_bytes(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  double at_least = 0;
  NAPI_ASSERT(env, argc == 1 && napi_get_value_double(env, argv[0], &at_least) == napi_ok,
              "ERR_SAMM_INVALID_ARG", "collectedBytes(atLeast)");
  if (inst->collected > 0 && inst->collected >= at_least) {
    napi_value out;
    NAPI_CALL(env, napi_create_double(env, inst->collected, &out));
    return out;
  }
  napi_handle_scope hs;
  NAPI_CALL(env, napi_open_handle_scope(env, &hs));
  double bytes = 0;
  for (uint32_t id = 0; id < inst->loan_count; id++) {
    const loan *l = &inst->loans[id];
    if (l->kind == LOAN_FREE || l->pooled || l->parked || l->moved || l->wrapping || l->wrap == NULL) continue;
    napi_value v = NULL;
    if (napi_get_reference_value(env, l->wrap, &v) == napi_ok && v == NULL) bytes += (double)l->len;
  }
  napi_close_handle_scope(env, hs);
  inst->collected = bytes;
  napi_value out;
  NAPI_CALL(env, napi_create_double(env, bytes, &out));
  return out;
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
      inst->idle_trim_ms = v;
    } else {
      /* Structural options need a fresh heap: only while nothing is lent
       * (JavaScript empties the pools first; wraps of loans already ended
       * never touch the heap). */
      samm_stats s;
      samm_stats_get(inst->heap, &s);
      if (s.scopes_open || s.slab.in_use || s.region.in_use || s.chunks_lent)
        return throw_samm(env, SAMM_EINVALID_ARG);
      samm_heap *fresh = samm_heap_create(&cfg);
      if (fresh == NULL) return throw_samm(env, SAMM_EINVALID_ARG);
      samm_heap_destroy(inst->heap);
      inst->heap = fresh;
      inst->heap_gen++;
      inst->collected = 0;
      pool_counts(inst);
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

/* profileDigest(paths) -> the digest of the table these profiles bake, or
 * throws ERR_SAMM_INVALID_ARG with the file and line of what is wrong. */
static napi_value profile_digest(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool is_array = false;
  uint32_t n = 0;
  NAPI_ASSERT(env, argc == 1 && napi_is_array(env, argv[0], &is_array) == napi_ok && is_array &&
                       napi_get_array_length(env, argv[0], &n) == napi_ok,
              "ERR_SAMM_INVALID_ARG", "profileDigest(paths)");
  samm_profile *profile = samm_profile_new();
  if (profile == NULL) return throw_samm(env, SAMM_ENOMEM);
  char message[600];
  message[0] = '\0';
  for (uint32_t i = 0; i < n && message[0] == '\0'; i++) {
    napi_value v;
    char path[4096];
    size_t len = 0;
    if (napi_get_element(env, argv[0], i, &v) != napi_ok ||
        napi_get_value_string_utf8(env, v, path, sizeof path, &len) != napi_ok || len + 1 >= sizeof path) {
      snprintf(message, sizeof message, "profileDigest: paths[%u] is not a path", i);
      break;
    }
    samm_parse_error err;
    if (samm_profile_add_file(profile, path, &err) != SAMM_EOK) {
      if (err.line)
        snprintf(message, sizeof message, "%s:%llu: %s", err.file, (unsigned long long)err.line, err.message);
      else
        snprintf(message, sizeof message, "%s: %s", err.file, err.message);
    }
  }
  samm_bake *bake = NULL;
  if (message[0] == '\0') {
    int err;
    bake = samm_bake_run(profile, NULL, &err, message, sizeof message);
  }
  samm_profile_free(profile);
  if (bake == NULL) {
    napi_throw_error(env, "ERR_SAMM_INVALID_ARG", message[0] ? message : "cannot bake the profiles");
    return NULL;
  }
  napi_value out;
  napi_status st = napi_create_string_utf8(env, samm_bake_digest(bake), NAPI_AUTO_LENGTH, &out);
  samm_bake_free(bake);
  NAPI_CALL(env, st);
  return out;
}

/* { jsName: { env, min, max, multiple } } for every option: what
 * configure() and the SAMM_* variables accept. */
static napi_value option_ranges(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  NAPI_CALL(env, napi_create_object(env, &out));
  for (int i = 0; i < SAMM_OPT_COUNT; i++) {
    const samm_option_desc *d = samm_option_get(i);
    napi_value o, v;
    NAPI_CALL(env, napi_create_object(env, &o));
    NAPI_CALL(env, napi_create_string_utf8(env, d->env, NAPI_AUTO_LENGTH, &v));
    NAPI_CALL(env, napi_set_named_property(env, o, "env", v));
    NAPI_CALL(env, napi_create_double(env, (double)d->min, &v));
    NAPI_CALL(env, napi_set_named_property(env, o, "min", v));
    NAPI_CALL(env, napi_create_double(env, (double)d->max, &v));
    NAPI_CALL(env, napi_set_named_property(env, o, "max", v));
    NAPI_CALL(env, napi_create_double(env, (double)d->multiple, &v));
    NAPI_CALL(env, napi_set_named_property(env, o, "multiple", v));
    NAPI_CALL(env, napi_set_named_property(env, out, d->js_name, o));
  }
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
  inst->free_loan = NO_LOAN;
  inst->chunks = inst->spans = (pool){NO_LOAN, NO_LOAN, 0};
  inst->newest = NO_LOAN;
  inst->idle_trim_ms = cfg.idle_trim_ms;
  inst->env = env;
  if (inst->heap == NULL) {
    free(inst);
    napi_throw_error(env, "ERR_SAMM_NOMEM", "cannot create the SAMM heap");
    return NULL;
  }
  /* The mailbox lives in V8's memory, held for good by a reference: its
   * bytes never move. */
  napi_value ab, mailbox;
  napi_ref keep;
  void *data = NULL;
  if (napi_create_arraybuffer(env, MAILBOX_LEN * sizeof(double), &data, &ab) != napi_ok ||
      napi_create_typedarray(env, napi_float64_array, MAILBOX_LEN, ab, 0, &mailbox) != napi_ok ||
      napi_create_reference(env, ab, 1, &keep) != napi_ok ||
      napi_set_instance_data(env, inst, NULL, NULL) != napi_ok ||
      napi_add_env_cleanup_hook(env, cleanup, inst) != napi_ok) {
    samm_heap_destroy(inst->heap);
    free(inst);
    return samm_throw_napi(env, "Node-API call failed");
  }
  inst->mailbox = data;

  napi_property_descriptor props[] = {
      {"mailbox", NULL, NULL, NULL, NULL, mailbox, napi_enumerable, NULL},
      {"take", NULL, take, NULL, NULL, NULL, napi_default, NULL},
      {"recycle", NULL, recycle, NULL, NULL, NULL, napi_default, NULL},
      {"abandon", NULL, abandon, NULL, NULL, NULL, napi_default, NULL},
      {"disown", NULL, disown, NULL, NULL, NULL, napi_default, NULL},
      {"park", NULL, park, NULL, NULL, NULL, napi_default, NULL},
      {"unpark", NULL, unpark, NULL, NULL, NULL, napi_default, NULL},
      {"drop", NULL, drop, NULL, NULL, NULL, napi_default, NULL},
      {"release", NULL, release, NULL, NULL, NULL, napi_default, NULL},
      {"releasePool", NULL, release_pool, NULL, NULL, NULL, napi_default, NULL},
      {"alloc", NULL, block_alloc, NULL, NULL, NULL, napi_default, NULL},
      {"free", NULL, block_free, NULL, NULL, NULL, napi_default, NULL},
      {"statsJson", NULL, stats_json, NULL, NULL, NULL, napi_default, NULL},
      {"memory", NULL, memory, NULL, NULL, NULL, napi_default, NULL},
      {"activity", NULL, activity, NULL, NULL, NULL, napi_default, NULL},
      {"collect", NULL, collect, NULL, NULL, NULL, napi_default, NULL},
      {"collectedBytes", NULL, collected_bytes, NULL, NULL, NULL, napi_default, NULL},
      {"configure", NULL, configure, NULL, NULL, NULL, napi_default, NULL},
      {"config", NULL, config_get, NULL, NULL, NULL, napi_default, NULL},
      {"tableJson", NULL, table_json, NULL, NULL, NULL, napi_default, NULL},
      {"envError", NULL, env_error, NULL, NULL, NULL, napi_default, NULL},
      {"optionRanges", NULL, option_ranges, NULL, NULL, NULL, napi_default, NULL},
      {"profileDigest", NULL, profile_digest, NULL, NULL, NULL, napi_default, NULL},
      {"weakRef", NULL, samm_weak_ref, NULL, NULL, NULL, napi_default, NULL},
      {"weakTarget", NULL, samm_weak_target, NULL, NULL, NULL, napi_default, NULL},
  };
  NAPI_CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}
