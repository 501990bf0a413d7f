/* samm.h: the public interface of the SAMM allocator core.
 *
 * A samm_heap owns every byte it hands out: request scopes (bump arenas reset
 * as a whole), a slab pool for medium lifetimes and a region arena for long
 * lifetimes. A heap belongs to one thread; nothing in it is locked. The baked
 * table read by samm_select() is the only global, and it is const.
 *
 * Allocation functions return NULL on failure; samm_heap_last_error() then
 * says why. Frees of pointers the heap did not hand out, double frees and
 * frees into the wrong arena are refused with an error code and change
 * nothing.
 */
#ifndef SAMM_H
#define SAMM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SAMM_VERSION_MAJOR 0
#define SAMM_VERSION_MINOR 1
#define SAMM_VERSION_PATCH 0

/* Every allocation is aligned to this many bytes. */
#define SAMM_ALIGNMENT 16
/* Largest single allocation the core accepts, in bytes (1 TiB). */
#define SAMM_MAX_ALLOC ((size_t)1 << 40)

/* ---- errors ------------------------------------------------------------ */

/* X(enum suffix, JavaScript code, message) */
#define SAMM_ERRORS(X)                                                         \
  X(OK, "ERR_SAMM_OK", "no error")                                             \
  X(NOMEM, "ERR_SAMM_NOMEM", "the operating system refused to map memory")     \
  X(LIMIT, "ERR_SAMM_LIMIT", "the allocation would exceed the heap's byte budget (maxBytes)") \
  X(INVALID_SIZE, "ERR_SAMM_INVALID_SIZE", "the requested size is out of range") \
  X(INVALID_ARG, "ERR_SAMM_INVALID_ARG", "an argument is invalid")             \
  X(INVALID_CLASS, "ERR_SAMM_INVALID_CLASS", "the lifetime class cannot be allocated here") \
  X(BAD_POINTER, "ERR_SAMM_BAD_POINTER", "the pointer was not handed out by this heap") \
  X(DOUBLE_FREE, "ERR_SAMM_DOUBLE_FREE", "the block was already freed")        \
  X(WRONG_ARENA, "ERR_SAMM_WRONG_ARENA", "the pointer belongs to a request scope, which is released only as a whole") \
  X(SCOPE_CLOSED, "ERR_SAMM_SCOPE_CLOSED", "the scope is closed")              \
  X(CORRUPT, "ERR_SAMM_CORRUPT", "heap metadata failed a consistency check")

typedef enum samm_err {
#define SAMM__ERR_ENUM(name, code, msg) SAMM_E##name,
  SAMM_ERRORS(SAMM__ERR_ENUM)
#undef SAMM__ERR_ENUM
  SAMM_ERR_COUNT
} samm_err;

/* A sentence describing err; never NULL. */
const char *samm_strerror(int err);
/* The stable code JavaScript sees ("ERR_SAMM_LIMIT"); never NULL. */
const char *samm_err_name(int err);

/* ---- lifetime classes ------------------------------------------------- */

typedef enum samm_class {
  SAMM_HEAP = 0,  /* not managed by SAMM: the caller uses its usual allocator */
  SAMM_SHORT = 1, /* request scope */
  SAMM_MEDIUM = 2,
  SAMM_LONG = 3
} samm_class;

/* "heap", "short", "medium", "long"; NULL for anything else. */
const char *samm_class_name(int cls);
/* The class named name, or -1. */
int samm_class_parse(const char *name);

/* ---- options ---------------------------------------------------------- */

/* X(field, JavaScript name, environment variable, default, minimum, maximum,
 *   multiple: values are multiples of it; chunks and region segments are cut
 *   from 64 KiB granules) */
#define SAMM_OPTIONS(X)                                                        \
  X(max_bytes, "maxBytes", "SAMM_MAX_BYTES", (uint64_t)1 << 30, 1 << 20,       \
    (uint64_t)1 << 46, 1)                                                      \
  X(chunk_size, "chunkSize", "SAMM_CHUNK_SIZE", 256 << 10, 64 << 10, 64 << 20, \
    64 << 10)                                                                  \
  X(pool_chunks, "poolChunks", "SAMM_POOL_CHUNKS", 16, 0, 1 << 20, 1)          \
  X(region_segment_size, "regionSegmentSize", "SAMM_REGION_SEGMENT_SIZE",      \
    4 << 20, 256 << 10, 1 << 30, 64 << 10)                                     \
  X(idle_trim_ms, "idleTrimMs", "SAMM_IDLE_TRIM_MS", 1000, 0, 86400000, 1)     \
  X(decay_ms, "decayMs", "SAMM_DECAY_MS", 5000, 0, 3600000, 1)                 \
  X(debug, "debug", "SAMM_DEBUG", 0, 0, 2, 1)

/* The page source. Sizes and addresses are multiples of the page size. map
 * returns NULL on failure; unmap, decommit and move return 0 or an errno
 * value. unmap may be given any page range of mapped memory, also one that
 * spans neighbouring mappings (the core merges adjacent free blocks, as
 * munmap allows). move moves the pages of [from, from + size) to
 * [to, to + size), a mapped range whose pages it drops, and leaves from
 * unmapped (Linux: mremap); NULL means pages are never moved. After a
 * failed move, to may be unmapped (Linux drops it before it checks from):
 * the core then gives that whole range up. now_ms reads
 * a monotonic clock in milliseconds (NULL: the operating system's). Tests
 * replace these to inject faults and time; NULL in samm_config means the
 * operating system. */
typedef struct samm_os {
  void *(*map)(size_t size, void *ctx);
  int (*unmap)(void *addr, size_t size, void *ctx);
  int (*decommit)(void *addr, size_t size, void *ctx);
  void *ctx;
  uint64_t (*now_ms)(void *ctx);
  int (*move)(void *from, size_t size, void *to, void *ctx);
} samm_os;

typedef struct samm_config {
#define SAMM__OPT_FIELD(field, js, env, def, lo, hi, mult) uint64_t field;
  SAMM_OPTIONS(SAMM__OPT_FIELD)
#undef SAMM__OPT_FIELD
  const samm_os *os; /* NULL: mmap/munmap/madvise */
} samm_config;

typedef enum samm_option {
#define SAMM__OPT_ENUM(field, js, env, def, lo, hi, mult) SAMM_OPT_##field,
  SAMM_OPTIONS(SAMM__OPT_ENUM)
#undef SAMM__OPT_ENUM
  SAMM_OPT_COUNT
} samm_option;

typedef struct samm_option_desc {
  const char *field;   /* C name: "max_bytes" */
  const char *js_name; /* JavaScript name: "maxBytes" */
  const char *env;     /* environment variable: "SAMM_MAX_BYTES" */
  uint64_t def, min, max, multiple; /* valid: min <= v <= max, v % multiple == 0 */
} samm_option_desc;

/* The descriptor of option opt, or NULL when out of range. */
const samm_option_desc *samm_option_get(int opt);
/* Fills cfg with the defaults. */
void samm_config_init(samm_config *cfg);
/* Sets option opt to value after a range check: 0 or SAMM_EINVALID_ARG. */
int samm_config_set(samm_config *cfg, int opt, uint64_t value);
/* The value of option opt in cfg (0 when opt is out of range). */
uint64_t samm_config_get(const samm_config *cfg, int opt);
/* Applies the SAMM_* environment variables that are set. Returns 0, or
 * SAMM_EINVALID_ARG naming the first bad variable in *bad_env (if not NULL);
 * bad values are skipped, the rest applied. */
int samm_config_from_env(samm_config *cfg, const char **bad_env);

/* ---- stats ------------------------------------------------------------ */

/* Per arena. X(field, description) */
#define SAMM_ARENA_STATS(X)                                                    \
  X(reserved, "bytes of address space mapped")                                 \
  X(committed, "bytes mapped and not returned to the OS")                      \
  X(in_use, "bytes handed out and not yet released (scopes: whole chunks held)") \
  X(high_water, "largest in_use seen")                                         \
  X(allocs, "allocations")                                                     \
  X(frees, "releases (scope allocations count when their scope closes)")

/* Heap-wide. X(field, description) */
#define SAMM_HEAP_STATS(X)                                                     \
  X(reserved, "bytes of address space mapped, all arenas")                    \
  X(committed, "bytes counted against maxBytes")                              \
  X(high_water, "largest committed seen")                                     \
  X(max_bytes, "the budget")                                                   \
  X(scopes_opened, "scopes opened")                                            \
  X(scopes_closed, "scopes closed")                                            \
  X(scopes_open, "scopes open now")                                            \
  X(limit_refusals, "allocations refused by the budget")                       \
  X(os_refusals, "allocations refused because the OS would not map memory")    \
  X(invalid_frees, "frees refused: bad pointer, double free or wrong arena")   \
  X(collects, "samm_collect calls")                                            \
  X(pool_chunks, "request chunks cached for reuse")                          \
  X(pool_large_bytes, "bytes of large scope blocks cached for reuse")         \
  X(chunks_lent, "request chunks and blocks lent to a caller that bumps in them itself") \
  X(large_in_use, "bytes of blocks larger than a chunk in scopes or lent")    \
  X(large_peak, "decaying peak of large_in_use: the large-block cache keeps at most large_peak - large_in_use") \
  X(large_maps, "large blocks mapped because no cached block fitted")         \
  X(large_moved_bytes, "bytes of cached blocks moved (page tables only) into a new block") \
  X(large_fresh_bytes, "bytes of new large blocks no cached page could cover: they fault in when touched") \
  X(zeroed_bytes, "bytes cleared by zeroed lends (the rest was known to read zero)")

typedef struct samm_arena_stats {
#define SAMM__STAT_FIELD(field, desc) uint64_t field;
  SAMM_ARENA_STATS(SAMM__STAT_FIELD)
#undef SAMM__STAT_FIELD
} samm_arena_stats;

typedef struct samm_stats {
  samm_arena_stats bump;   /* request scopes */
  samm_arena_stats slab;   /* medium */
  samm_arena_stats region; /* long, and medium blocks larger than a slab slot */
#define SAMM__STAT_FIELD(field, desc) uint64_t field;
  SAMM_HEAP_STATS(SAMM__STAT_FIELD)
#undef SAMM__STAT_FIELD
} samm_stats;

/* Writes stats as one JSON object into buf (at most len bytes, NUL-
 * terminated). Returns the length the whole text needs, like snprintf. */
size_t samm_stats_json(const samm_stats *stats, char *buf, size_t len);

/* ---- heap ------------------------------------------------------------- */

typedef struct samm_heap samm_heap;
typedef struct samm_scope samm_scope;

/* cfg NULL: defaults. Returns NULL when cfg is out of range or the metadata
 * cannot be allocated. */
samm_heap *samm_heap_create(const samm_config *cfg);
/* Releases every byte of the heap, open scopes included. */
void samm_heap_destroy(samm_heap *heap);
/* Marks the segment holding ptr (any memory the heap handed out) as possibly
 * still read through a view the caller cannot take back, such as memory a
 * caller moved into another thread: samm_heap_destroy then leaves it mapped
 * rather than unmapping what someone may still read. 0 or SAMM_EBAD_POINTER. */
int samm_heap_keep_mapped(samm_heap *heap, const void *ptr);
/* The reason of the last failure on this heap (SAMM_EOK if none). */
int samm_heap_last_error(const samm_heap *heap);
/* Changes the budget. A budget below what is committed now refuses new
 * memory until enough is released. 0 or SAMM_EINVALID_ARG. */
int samm_heap_set_limit(samm_heap *heap, uint64_t max_bytes);
/* Changes decay_ms (the half-life of the large-block cache's memory of peak
 * demand). 0 or SAMM_EINVALID_ARG. */
int samm_heap_set_decay(samm_heap *heap, uint64_t decay_ms);
/* Bytes committed that no cache holds for reuse: what scopes, lent memory
 * and live medium and long blocks hold (the chunk pool and the large-block
 * cache left out). The budget has max_bytes minus this left to give. O(1). */
uint64_t samm_heap_held(const samm_heap *heap);
/* The configuration in force. */
void samm_heap_config(const samm_heap *heap, samm_config *out);

/* A request scope: a bump arena released all at once. */
samm_scope *samm_scope_open(samm_heap *heap);
void *samm_scope_alloc(samm_scope *scope, size_t size);
/* Releases everything allocated in scope; scope must not be used again.
 * Closing a closed scope is refused (SAMM_ESCOPE_CLOSED). */
int samm_scope_close(samm_scope *scope);
/* Hands the caller the rest of the scope's current chunk, or a fresh chunk
 * when fewer than min_size bytes are left, so that it can bump allocations
 * itself. *len receives the usable length (at least min_size). The memory
 * belongs to the scope until it closes. NULL on failure. */
void *samm_scope_take(samm_scope *scope, size_t min_size, size_t *len);
/* Bytes handed out by this scope. */
size_t samm_scope_used(const samm_scope *scope);

/* Lends a whole request chunk to a caller that bumps allocations in it
 * itself and keeps it across several requests (the JavaScript scopes); when
 * size exceeds the chunk size, a block of at least size bytes of its own
 * (from the cache of large scope blocks). It counts as in use in the bump
 * arena until returned. *len receives its size, *ticket this lend's
 * identity (never 0; memory lent again gets a new one). NULL on failure
 * (budget, OS, SAMM_EINVALID_SIZE above SAMM_MAX_ALLOC). */
void *samm_chunk_lend(samm_heap *heap, size_t size, size_t *len, uint64_t *ticket);
/* As samm_chunk_lend, but all len bytes read as zeros. Only bytes that may
 * hold old data are cleared: freshly mapped pages are zero, and each chunk
 * and block remembers the prefix that was ever written. */
void *samm_chunk_lend_zeroed(samm_heap *heap, size_t size, size_t *len, uint64_t *ticket);
/* The ticket of chunk's current lend, or 0 when chunk is not lent. */
uint64_t samm_chunk_ticket(const samm_heap *heap, const void *chunk);
/* Takes a lent chunk back into the pool (a lent block into the large-block
 * cache). Refused with SAMM_EBAD_POINTER, nothing changing, unless chunk is
 * lent under this ticket: a late second return of the same lend can never
 * take back a later one. */
int samm_chunk_return(samm_heap *heap, void *chunk, uint64_t ticket);

/* The bump state at the head of every scope, public only so that the fast
 * path of samm_scope_alloc inlines into the caller. Never write it. */
typedef struct samm_scope_head {
  uint8_t *cursor; /* next free byte of the current chunk */
  uint8_t *end;    /* end of the current chunk; NULL while closed */
  uint64_t allocs; /* allocations */
} samm_scope_head;

void *samm__scope_alloc_slow(samm_scope *scope, size_t size);

static inline void *samm__scope_alloc_inline(samm_scope *scope, size_t size) {
  samm_scope_head *h = (samm_scope_head *)scope;
  size_t n = (size + (SAMM_ALIGNMENT - 1)) & ~(size_t)(SAMM_ALIGNMENT - 1);
  /* n == 0 (size 0, or a size that wrapped) wraps n - 1 to SIZE_MAX and
   * takes the slow path, as does a closed scope (cursor == end == NULL). */
  if (n - 1 < (size_t)(h->end - h->cursor)) {
    uint8_t *p = h->cursor;
    h->cursor = p + n;
    h->allocs++;
    return p;
  }
  return samm__scope_alloc_slow(scope, size);
}
/* Calls inline; (samm_scope_alloc)(s, n) and &samm_scope_alloc still reach
 * the function. */
#define samm_scope_alloc(scope, size) samm__scope_alloc_inline((scope), (size))

/* Medium (slab) and long (region) allocations. Other classes: NULL with
 * SAMM_EINVALID_CLASS. */
void *samm_alloc(samm_heap *heap, samm_class cls, size_t size);
/* Returns 0, or the reason the free was refused (nothing changes then). */
int samm_free(samm_heap *heap, void *ptr);
/* The usable size of a live medium or long block, 0 for anything else. */
size_t samm_usable_size(const samm_heap *heap, const void *ptr);
/* The class owning ptr (SAMM_SHORT for scope memory), or -1. */
int samm_owner(const samm_heap *heap, const void *ptr);

/* Idle-time trim: empty slab pages, wholly free region pages and surplus
 * request chunks go back to the OS, and the large-block cache shrinks to
 * its decayed target. */
void samm_collect(samm_heap *heap);

void samm_stats_get(const samm_heap *heap, samm_stats *out);

/* Walks every arena and checks its invariants: 0 or SAMM_ECORRUPT. */
int samm_heap_check(const samm_heap *heap);

/* ---- the baked table -------------------------------------------------- */

/* One row: allocations of site_id with floor(log2(size)) in
 * [size_log2_min, size_log2_max] get class cls. Rows are sorted by site_id,
 * then size_log2_min. */
typedef struct samm_table_row {
  uint32_t site_id;
  uint8_t size_log2_min;
  uint8_t size_log2_max;
  uint8_t cls;
} samm_table_row;

typedef struct samm_table_site {
  uint32_t site_id;
  const char *name;
} samm_table_site;

typedef struct samm_table {
  const samm_table_row *rows;
  size_t row_count;
  const samm_table_site *sites; /* sorted by site_id */
  size_t site_count;
  const char *digest; /* of the profile it was baked from, "" for the default */
  const char *json;   /* the human-readable table */
} samm_table;

/* The table compiled into this build. */
const samm_table *samm_table_get(void);
/* The id of a site name (32-bit FNV-1a of its UTF-8 bytes). */
uint32_t samm_site_id(const char *name, size_t len);
/* The class of an allocation of size bytes at site_id; SAMM_HEAP when the
 * table does not know the site. */
samm_class samm_select(uint32_t site_id, size_t size);
/* The same over any table (for tools and tests). */
samm_class samm_table_select(const samm_table *table, uint32_t site_id,
                             size_t size);

/* ---- profiles and the bake ------------------------------------------- */

/* Profile text format, version 2 (docs/profiling.md, "Profile format"):
 *   samm-profile 2
 *   s <site> <size_log2> <allocs> <outlived> <censored> <undecided> <bin>:<count>,...
 *   u <file:line> <allocs> <bytes> <survived_bytes>
 *   r <site> <count> <retainer path>
 *   # comment
 * Version 1 is read too: its s lines have no undecided field and it has no
 * r lines. Sites, locations and paths are percent-encoded; every count adds
 * up, so profiles of many processes merge by concatenation, whatever their
 * versions. */
#define SAMM_PROFILE_VERSION 2
#define SAMM_LIFETIME_BINS 160       /* bin = floor(4 * log2(lifetime in µs)) */
#define SAMM_PROFILE_MAX_LINE 65536  /* bytes, newline excluded */
#define SAMM_SITE_NAME_MAX 200       /* bytes of a decoded site name */

typedef struct samm_profile samm_profile;

typedef struct samm_parse_error {
  char file[256];
  uint64_t line;     /* 1-based; 0 when not about a line */
  char message[200];
} samm_parse_error;

samm_profile *samm_profile_new(void);
void samm_profile_free(samm_profile *profile);
/* Adds the profile text in text[0..len) to profile. 0, or SAMM_EINVALID_ARG
 * (or SAMM_ENOMEM) with err filled; the lines before the bad one stay
 * added. file names the text in messages. */
int samm_profile_add(samm_profile *profile, const char *text, size_t len,
                     const char *file, samm_parse_error *err);
/* Reads and adds a whole file. */
int samm_profile_add_file(samm_profile *profile, const char *path,
                          samm_parse_error *err);
/* Allocations seen, over all sites. */
uint64_t samm_profile_allocs(const samm_profile *profile);

typedef struct samm_bake_options {
  double short_min_in_request; /* share of the decided allocations that must
                                  die in their request for a site to be short
                                  (1.0: every one) */
  uint64_t min_short_allocs;   /* decided allocations a short verdict needs,
                                  per size class (1000) */
  uint64_t seed;               /* k-means++ seeding */
} samm_bake_options;

void samm_bake_options_init(samm_bake_options *opts);

typedef struct samm_bake samm_bake;

/* Clusters the profile's lifetimes and classes every site. NULL with *err
 * set (SAMM_EINVALID_ARG: site id collision, SAMM_ENOMEM). */
samm_bake *samm_bake_run(const samm_profile *profile, const samm_bake_options *opts,
                         int *err, char *message, size_t message_len);
void samm_bake_free(samm_bake *bake);
/* The readable table (JSON, one trailing newline) and the C source that
 * defines samm__baked_table. Both are byte-identical for the same profile,
 * however it was split or ordered. Return 0 or an errno value. */
int samm_bake_write_json(const samm_bake *bake, FILE *out);
int samm_bake_write_c(const samm_bake *bake, FILE *out);
/* The clustering of size class index (0..3): its size_log2 range and its
 * centroids in µs, ascending. Returns k (0: no data; -1: no such class). */
int samm_bake_size_class(const samm_bake *bake, int index, int *log2_min, int *log2_max,
                         double centroids_us[5]);
/* The digest of the profile it was baked from: 16 hex digits, the same for
 * the same profile content however it was split or ordered. */
const char *samm_bake_digest(const samm_bake *bake);
/* The class the bake gave site name at size bytes (SAMM_HEAP if unknown). */
int samm_bake_class_of(const samm_bake *bake, const char *name, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* SAMM_H */
