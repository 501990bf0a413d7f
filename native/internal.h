/* internal.h: declarations shared between the files of the core.
 *
 * Memory comes from the OS in segments: aligned mappings whose size is a
 * multiple of SAMM__GRANULE. Each segment has a descriptor (samm__segment,
 * kept in malloc'd memory, never inside the mapping, so that no write into a
 * block can reach metadata) and is registered granule by granule in the
 * heap's segment map, which is how a pointer handed to samm_free() is traced
 * back to its owner in O(1) - or found to belong to nobody.
 *
 * Everything here belongs to one heap and one thread.
 */
#ifndef SAMM_INTERNAL_H
#define SAMM_INTERNAL_H

#include "include/samm.h"

#include <stdbool.h>
#include <string.h>

#define SAMM__PAGE 4096u
#define SAMM__GRANULE_SHIFT 16
#define SAMM__GRANULE ((size_t)1 << SAMM__GRANULE_SHIFT) /* 64 KiB */

#define SAMM__DEBUG_FREED_BYTE 0xDF /* released memory, SAMM_DEBUG >= 1 */
#define SAMM__GUARD 16u              /* bytes of guard after each block, SAMM_DEBUG >= 1 */

#define SAMM__LIKELY(x) __builtin_expect(!!(x), 1)
#define SAMM__UNLIKELY(x) __builtin_expect(!!(x), 0)

static inline size_t samm__align_up(size_t n, size_t a) {
  return (n + a - 1) & ~(a - 1);
}
static inline size_t samm__align_down(size_t n, size_t a) { return n & ~(a - 1); }

typedef enum samm__seg_kind {
  SAMM__SEG_CHUNK = 1,    /* request chunk: in a scope or in the pool */
  SAMM__SEG_BUMP_LARGE,   /* a block larger than a chunk: a scope's, lent, or cached */
  SAMM__SEG_SLAB,         /* a slab span: slots of one size class */
  SAMM__SEG_REGION,       /* region segment: boundary-tagged blocks */
  SAMM__SEG_REGION_LARGE  /* one region block too large for a segment */
} samm__seg_kind;

/* ---- slab.c ------------------------------------------------------------- */

#define SAMM__SLAB_MAX 32768u /* largest slab slot, bytes */
#define SAMM__SLAB_CLASSES 40

typedef struct samm__slab_span {
  uint32_t slot_size;  /* bytes */
  uint32_t capacity;   /* slots */
  uint32_t used;       /* slots handed out */
  uint32_t fresh;      /* slots [fresh, capacity) were never handed out */
  uint64_t recip;      /* 2^32 / slot_size + 1: offset -> slot without a divide */
  uint32_t scan;       /* words of `live` below this one are all ones */
  uint8_t size_class;
  bool full;           /* on the class's full list, not its partial list */
  uint64_t *live;      /* one bit per slot: handed out and not freed */
} samm__slab_span;

/* ---- region.c ----------------------------------------------------------- */

typedef struct samm__region_seg {
  uint64_t *decommitted; /* one bit per page: returned to the OS */
} samm__region_seg;

/* ---- large.c ------------------------------------------------------------ */

#define SAMM__LARGE_BINS 100 /* size bins of cached large blocks (see large.c) */

typedef struct samm__large_block {
  size_t asked;                     /* in a scope: bytes asked for; else 0 */
  struct samm__segment *bin_next;   /* cached: its size bin's list */
  struct samm__segment *bin_prev;
  uint8_t bin;                      /* cached: index of that bin */
  bool cached;                      /* in the cache, not in a scope or lent */
} samm__large_block;

/* ---- segments ----------------------------------------------------------- */

typedef struct samm__segment {
  uint8_t *base;
  size_t size;                /* bytes, a multiple of SAMM__GRANULE */
  samm__seg_kind kind;
  samm_arena_stats *arena;    /* whose reserved / committed it counts in */
  size_t committed;           /* bytes of it counted as committed */
  struct samm__segment *next; /* in its owner's list */
  struct samm__segment *prev;
  uint64_t lend_ticket;       /* CHUNK, BUMP_LARGE: its lend while lent, else 0 */
  size_t dirty;               /* CHUNK, BUMP_LARGE: bytes from base that may hold
                                 old data; past them every byte reads zero */
  bool keep_mapped;           /* released segments stay mapped (samm_heap_keep_mapped) */
  union {
    samm__slab_span slab;
    samm__region_seg region;
    samm__large_block large;  /* BUMP_LARGE */
    size_t large_size;        /* REGION_LARGE: bytes committed for it */
  } u;
} samm__segment;

typedef struct samm__seg_list {
  samm__segment *head;
  size_t count;
} samm__seg_list;

void samm__seg_list_push(samm__seg_list *list, samm__segment *seg);
void samm__seg_list_remove(samm__seg_list *list, samm__segment *seg);
samm__segment *samm__seg_list_pop(samm__seg_list *list);

/* ---- segmap.c ----------------------------------------------------------- */

/* Open addressing, linear probing, keys are granule numbers. */
typedef struct samm__segmap_entry {
  uintptr_t granule; /* 0: empty (granule 0 is never mapped) */
  samm__segment *seg;
} samm__segmap_entry;

typedef struct samm__segmap {
  samm__segmap_entry *slots;
  size_t mask;  /* capacity - 1, capacity a power of two */
  size_t count; /* entries in use */
} samm__segmap;

int samm__segmap_init(samm__segmap *map);
void samm__segmap_destroy(samm__segmap *map);
/* pre: no granule of seg is registered. 0 or SAMM_ENOMEM. */
int samm__segmap_add(samm__segmap *map, samm__segment *seg);
void samm__segmap_remove(samm__segmap *map, samm__segment *seg);
/* The granules of [base, base + size) (granule multiples). */
void samm__segmap_remove_range(samm__segmap *map, const void *base, size_t size);
/* pre: every granule of [base, base + size) is registered. Points them at seg. */
void samm__segmap_set(samm__segmap *map, const void *base, size_t size, samm__segment *seg);

static inline size_t samm__segmap_home(uintptr_t granule, size_t mask) {
  return (size_t)((granule * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & mask;
}

static inline samm__segment *samm__segmap_find(const samm__segmap *map,
                                               const void *ptr) {
  uintptr_t g = (uintptr_t)ptr >> SAMM__GRANULE_SHIFT;
  size_t i = samm__segmap_home(g, map->mask);
  for (;;) {
    const samm__segmap_entry *e = &map->slots[i];
    if (e->granule == g) return e->seg;
    if (e->granule == 0) return NULL;
    i = (i + 1) & map->mask;
  }
}

/* ---- options.c ---------------------------------------------------------- */

bool samm__config_in_range(const samm_config *cfg);

/* ---- os.c --------------------------------------------------------------- */

extern const samm_os samm__os_default;
/* Maps size bytes aligned to align (both powers of two multiples of the
 * page size; align may be smaller than size). NULL on failure. */
void *samm__os_map_aligned(const samm_os *os, size_t size, size_t align);
int samm__os_unmap(const samm_os *os, void *addr, size_t size);
int samm__os_decommit(const samm_os *os, void *addr, size_t size);
/* pre: os->move != NULL. See samm_os. */
int samm__os_move(const samm_os *os, void *from, size_t size, void *to);
/* Milliseconds of a monotonic clock (coarse: a few ms of resolution). */
uint64_t samm__os_now_ms(const samm_os *os);

/* ---- heap.c ------------------------------------------------------------- */

struct samm_scope {
  samm_scope_head head;    /* cursor / end / allocs: the inline fast path */
  samm_heap *heap;
  uint8_t *base;           /* start of the current chunk */
  samm__seg_list chunks;   /* chunks and large blocks, newest first */
  size_t retired;          /* bytes handed out before the current chunk */
  bool open;
  samm_scope *next;        /* open list, or the heap's free list */
  samm_scope *prev;        /* open list only */
};

typedef struct samm__region {
  samm__seg_list segments;         /* SAMM__SEG_REGION */
  samm__seg_list large;            /* SAMM__SEG_REGION_LARGE */
  uint32_t fl_bitmap;              /* non-empty first-level lists */
  uint32_t sl_bitmap[32];          /* non-empty second-level lists */
  void *free_lists[32][16];        /* heads of the free block lists */
} samm__region;

struct samm_heap {
  samm_config cfg;
  samm_os os;
  int last_error;
  uint32_t secret;                 /* mixes region block checks */
  samm__segmap map;

  uint64_t committed;              /* bytes, counted against max_bytes */
  uint64_t reserved;               /* bytes mapped */
  uint64_t high_water;             /* bytes, largest committed */
  samm_arena_stats bump, slab, region;
  samm_stats counters;             /* heap-wide counters only */

  samm__seg_list pool;             /* free request chunks */
  samm__seg_list large_pool;       /* cached large blocks, most recently freed first */
  uint64_t large_pool_bytes;       /* their total size */
  samm__segment *large_bins[SAMM__LARGE_BINS]; /* the same blocks by size */
  uint64_t large_bitmap[2];        /* non-empty bins */
  uint64_t large_in_use;           /* bytes of large blocks in scopes or lent */
  uint64_t large_peak;             /* bytes: large_in_use's peak, decaying; the
                                      cache keeps at most large_peak - large_in_use */
  uint64_t large_decay_at;         /* clock (ms) large_peak last decayed at */
  samm__seg_list lent;             /* chunks and blocks lent by samm_chunk_lend */
  uint64_t last_ticket;            /* of the newest lend */
  samm_scope *open_scopes;
  samm_scope *free_scopes;

  samm__seg_list slab_partial[SAMM__SLAB_CLASSES];
  samm__seg_list slab_full[SAMM__SLAB_CLASSES];

  samm__region rg;
};

static inline void *samm__fail(samm_heap *heap, int err) {
  heap->last_error = err;
  return NULL;
}

/* Maps a segment of size bytes (a multiple of the granule), charging
 * `commit` bytes to the budget. NULL with last_error set on failure.
 * post: registered in the segment map, counted in arena. */
samm__segment *samm__segment_new(samm_heap *heap, samm__seg_kind kind,
                                 samm_arena_stats *arena, size_t size,
                                 size_t commit);
void samm__segment_release(samm_heap *heap, samm__segment *seg);
/* Unmaps the tail of seg past size bytes (a granule multiple, 0 < size <
 * seg->size) and fixes the accounting. */
void samm__segment_shrink(samm_heap *heap, samm__segment *seg, size_t size);
/* Charges or releases committed bytes of seg (negative: released). false if
 * the budget refuses a charge; nothing changes then. */
bool samm__commit(samm_heap *heap, samm__segment *seg, int64_t bytes);
/* Moves seg's accounting to another arena. */
void samm__segment_move(samm__segment *seg, samm_arena_stats *to);
void samm__arena_in_use(samm_arena_stats *arena, int64_t bytes);

/* A request chunk from the pool, or a new one. NULL with last_error set. */
samm__segment *samm__chunk_get(samm_heap *heap, samm_arena_stats *arena);
/* Back to the pool (no system call). */
void samm__chunk_put(samm_heap *heap, samm__segment *seg);
/* Releases pooled chunks beyond keep. */
void samm__pool_trim(samm_heap *heap, size_t keep);
/* ---- large.c ------------------------------------------------------------ */

/* A block of exactly size bytes (a multiple of the granule, above the chunk
 * size) for a scope allocation or a lend: carved from the best-fitting
 * cached block, or mapped. Counted in large_in_use (the caller counts
 * bump.in_use). NULL with last_error set. */
samm__segment *samm__large_get(samm_heap *heap, size_t size);
/* Takes a block back from a scope or a lend (pre: seg->dirty covers what
 * was written): cached, merged with cached neighbours, and the cache
 * trimmed to its target. No system call unless the target is exceeded. */
void samm__large_put(samm_heap *heap, samm__segment *seg);
/* Releases cached large blocks, least recently freed first, until at most
 * keep bytes stay. */
void samm__large_trim(samm_heap *heap, uint64_t keep);
/* Decays the peak by the time passed and trims the cache to its target. */
void samm__large_decay(samm_heap *heap);
void samm__large_destroy(samm_heap *heap);
int samm__large_check(const samm_heap *heap);

static inline void samm__poison(const samm_heap *heap, void *p, size_t n) {
  if (SAMM__UNLIKELY(heap->cfg.debug)) memset(p, SAMM__DEBUG_FREED_BYTE, n);
}

/* Debug: n bytes at p still hold the poison written when they were freed. */
static inline bool samm__poison_intact(const void *p, size_t n) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++)
    if (b[i] != SAMM__DEBUG_FREED_BYTE) return false;
  return true;
}

/* ---- bump.c ------------------------------------------------------------- */

void samm__bump_destroy(samm_heap *heap);
void samm__bump_stats(const samm_heap *heap, samm_arena_stats *out);
int samm__bump_check(const samm_heap *heap);

/* ---- slab.c ------------------------------------------------------------- */

/* pre: 0 < size <= SAMM__SLAB_MAX */
void *samm__slab_alloc(samm_heap *heap, size_t size);
int samm__slab_free(samm_heap *heap, samm__segment *seg, void *ptr);
size_t samm__slab_usable(const samm__segment *seg, const void *ptr);
void samm__slab_collect(samm_heap *heap);
void samm__slab_destroy(samm_heap *heap);
int samm__slab_check(const samm_heap *heap);
/* The slot size of size class c. */
uint32_t samm__slab_class_size(unsigned c);

/* ---- region.c ----------------------------------------------------------- */

void *samm__region_alloc(samm_heap *heap, size_t size);
int samm__region_free(samm_heap *heap, samm__segment *seg, void *ptr);
size_t samm__region_usable(const samm_heap *heap, const samm__segment *seg,
                           const void *ptr);
/* Decommits wholly free pages, unmaps wholly free segments. */
void samm__region_collect(samm_heap *heap);
void samm__region_destroy(samm_heap *heap);
int samm__region_check(const samm_heap *heap);

/* ---- profile.c ---------------------------------------------------------- */

typedef struct samm__prof_site {
  char *name;        /* decoded, NUL-terminated, stored after the struct */
  size_t name_len;   /* bytes */
  uint8_t size_log2;
  uint64_t allocs, outlived, censored;
  uint64_t undecided; /* sampled profiles: not known to have died in their request, nor to have outlived it */
  uint64_t bins[SAMM_LIFETIME_BINS]; /* deaths per lifetime bin */
} samm__prof_site;

struct samm_profile {
  samm__prof_site **slots; /* open addressing by (name, size_log2) */
  size_t cap, count;
};

#endif /* SAMM_INTERNAL_H */
