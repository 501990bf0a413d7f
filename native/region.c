/* region.c: the long-lifetime arena. Segments of region_segment_size bytes
 * hold boundary-tagged blocks (a 32-byte header: size, size of the block
 * before, a check word that encodes the block's address and state, and for
 * a free block its links in the free lists); free blocks are kept in
 * two-level segregated lists (TLSF: O(1) search via two bitmaps) and
 * coalesce with free neighbours on release. A block too large for half a
 * segment gets a segment of its own. Everything the arena follows lives in
 * headers, never in a payload: a write into freed memory (a stale view, a
 * bug in a caller) corrupts no metadata.
 *
 * Pages: a new segment is mapped untouched and counts only the pages that
 * hold its first header and its end sentinel as committed; an allocation
 * commits the pages it covers (charging the budget), and samm_collect
 * returns the pages wholly inside free blocks with decommit (a bitmap per
 * segment remembers which), and unmaps segments that are wholly free.
 * Invariant: the header of every block and every used block lie on
 * committed pages.
 */
#include "internal.h"

#include <stdlib.h>

#define HDR 32u
#define MIN_BLOCK 48u
#define SL_BITS 4
#define SL_COUNT (1u << SL_BITS)
#define FL_SHIFT (SL_BITS + 4)
#define SMALL_BLOCK (1u << FL_SHIFT)

#define STATE_USED 0x55u
#define STATE_FREE 0xAAu
#define STATE_END 0x5Au

typedef struct block {
  uint32_t size;      /* bytes, header included; 0 never */
  uint32_t prev_size; /* bytes of the block before; 0 for the first */
  uint32_t check;     /* block_check(heap, block, state) */
  uint32_t reserved;
  /* Free blocks only: */
  struct block *next_free;
  struct block *prev_free;
} block;

static inline uint32_t block_check(const samm_heap *heap, const block *b,
                                   uint32_t state) {
  uint64_t x = ((uint64_t)(uintptr_t)b >> 4) ^ heap->secret;
  x *= UINT64_C(0x9E3779B97F4A7C15);
  return (uint32_t)(x >> 32) ^ state;
}

static inline bool is_free(const samm_heap *heap, const block *b) {
  return b->check == block_check(heap, b, STATE_FREE);
}

static inline block *block_next(block *b) { return (block *)((uint8_t *)b + b->size); }

static inline size_t seg_blocks_end(const samm__segment *seg) { return seg->size - HDR; }

/* ---- free lists (TLSF) ---- */

static void mapping(size_t size, unsigned *fl, unsigned *sl) {
  if (size < SMALL_BLOCK) {
    *fl = 0;
    *sl = (unsigned)size >> 4;
  } else {
    unsigned lg = 63u - (unsigned)__builtin_clzll(size);
    *fl = lg - FL_SHIFT + 1;
    *sl = (unsigned)(size >> (lg - SL_BITS)) ^ SL_COUNT;
  }
}

static void list_insert(samm__region *rg, block *b) {
  unsigned fl, sl;
  mapping(b->size, &fl, &sl);
  block *head = rg->free_lists[fl][sl];
  b->next_free = head;
  b->prev_free = NULL;
  if (head != NULL) head->prev_free = b;
  rg->free_lists[fl][sl] = b;
  rg->fl_bitmap |= 1u << fl;
  rg->sl_bitmap[fl] |= 1u << sl;
}

static void list_remove(samm__region *rg, block *b) {
  unsigned fl, sl;
  mapping(b->size, &fl, &sl);
  if (b->prev_free != NULL)
    b->prev_free->next_free = b->next_free;
  else
    rg->free_lists[fl][sl] = b->next_free;
  if (b->next_free != NULL) b->next_free->prev_free = b->prev_free;
  if (rg->free_lists[fl][sl] == NULL) {
    rg->sl_bitmap[fl] &= ~(1u << sl);
    if (rg->sl_bitmap[fl] == 0) rg->fl_bitmap &= ~(1u << fl);
  }
}

/* A free block of at least size bytes, or NULL. Rounds the size up to the
 * next list boundary so that any block of the list found fits. */
static block *list_find(samm__region *rg, size_t size) {
  if (size >= SMALL_BLOCK) {
    unsigned lg = 63u - (unsigned)__builtin_clzll(size);
    size += ((size_t)1 << (lg - SL_BITS)) - 1;
  }
  unsigned fl, sl;
  mapping(size, &fl, &sl);
  if (fl >= 32) return NULL;
  uint32_t sl_map = rg->sl_bitmap[fl] & (~0u << sl);
  if (sl_map == 0) {
    uint32_t fl_map = fl + 1 < 32 ? rg->fl_bitmap & (~0u << (fl + 1)) : 0;
    if (fl_map == 0) return NULL;
    fl = (unsigned)__builtin_ctz(fl_map);
    sl_map = rg->sl_bitmap[fl];
  }
  sl = (unsigned)__builtin_ctz(sl_map);
  return rg->free_lists[fl][sl];
}

/* ---- pages ---- */

static inline bool page_decommitted(const samm__segment *seg, size_t page) {
  return seg->u.region.decommitted[page / 64] & (UINT64_C(1) << (page % 64));
}

/* Bytes of [lo, hi) (offsets in seg, hi exclusive) on decommitted pages. */
static size_t pages_to_commit(const samm__segment *seg, size_t lo, size_t hi) {
  size_t n = 0;
  for (size_t p = lo / SAMM__PAGE; p < (hi + SAMM__PAGE - 1) / SAMM__PAGE; p++)
    n += page_decommitted(seg, p);
  return n * SAMM__PAGE;
}

/* pre: the budget was charged for these pages. */
static void pages_mark_committed(samm__segment *seg, size_t lo, size_t hi) {
  for (size_t p = lo / SAMM__PAGE; p < (hi + SAMM__PAGE - 1) / SAMM__PAGE; p++)
    seg->u.region.decommitted[p / 64] &= ~(UINT64_C(1) << (p % 64));
}

/* Decommits the committed pages wholly inside [lo, hi). */
static void pages_decommit(samm_heap *heap, samm__segment *seg, size_t lo, size_t hi) {
  size_t first = samm__align_up(lo, SAMM__PAGE) / SAMM__PAGE;
  size_t last = samm__align_down(hi, SAMM__PAGE) / SAMM__PAGE;
  size_t p = first;
  while (p < last) {
    if (page_decommitted(seg, p)) {
      p++;
      continue;
    }
    size_t run = p;
    while (run < last && !page_decommitted(seg, run)) run++;
    size_t bytes = (run - p) * SAMM__PAGE;
    if (samm__os_decommit(&heap->os, seg->base + p * SAMM__PAGE, bytes) == 0) {
      for (size_t q = p; q < run; q++)
        seg->u.region.decommitted[q / 64] |= UINT64_C(1) << (q % 64);
      samm__commit(heap, seg, -(int64_t)bytes);
    }
    p = run;
  }
}

/* ---- segments ---- */

static samm__segment *segment_new(samm_heap *heap) {
  size_t size = (size_t)heap->cfg.region_segment_size;
  size_t pages = size / SAMM__PAGE;
  uint64_t *bits = malloc(((pages + 63) / 64) * sizeof(uint64_t));
  if (bits == NULL) return samm__fail(heap, SAMM_ENOMEM);
  samm__segment *seg = samm__segment_new(heap, SAMM__SEG_REGION, &heap->region,
                                         size, 2 * SAMM__PAGE);
  if (seg == NULL) {
    free(bits);
    return NULL;
  }
  /* All pages but the first (first header) and the last (sentinel) are
   * untouched: count them as decommitted. */
  memset(bits, 0xFF, ((pages + 63) / 64) * sizeof(uint64_t));
  seg->u.region.decommitted = bits;
  pages_mark_committed(seg, 0, 1);
  pages_mark_committed(seg, size - 1, size);
  block *first = (block *)seg->base;
  first->size = (uint32_t)seg_blocks_end(seg);
  first->prev_size = 0;
  first->check = block_check(heap, first, STATE_FREE);
  block *end = block_next(first);
  end->size = HDR;
  end->prev_size = first->size;
  end->check = block_check(heap, end, STATE_END);
  list_insert(&heap->rg, first);
  samm__seg_list_push(&heap->rg.segments, seg);
  return seg;
}

static void segment_release(samm_heap *heap, samm__segment *seg) {
  samm__seg_list_remove(&heap->rg.segments, seg);
  free(seg->u.region.decommitted);
  samm__segment_release(heap, seg);
}

static void *large_alloc(samm_heap *heap, size_t size) {
  size_t commit = samm__align_up(size, SAMM__PAGE);
  size_t bytes = samm__align_up(size, SAMM__GRANULE);
  samm__segment *seg =
      samm__segment_new(heap, SAMM__SEG_REGION_LARGE, &heap->region, bytes, commit);
  if (seg == NULL) return NULL;
  seg->u.large_size = commit;
  samm__seg_list_push(&heap->rg.large, seg);
  heap->region.allocs++;
  samm__arena_in_use(&heap->region, commit);
  return seg->base;
}

/* ---- alloc / free ---- */

void *samm__region_alloc(samm_heap *heap, size_t size) {
  size_t need = samm__align_up(size, 16) + HDR;
  if (need < MIN_BLOCK) need = MIN_BLOCK;
  if (need > (heap->cfg.region_segment_size - HDR) / 2)
    return large_alloc(heap, size);
  block *b = list_find(&heap->rg, need);
  if (b == NULL) {
    if (segment_new(heap) == NULL) return NULL;
    b = list_find(&heap->rg, need);
  }
  list_remove(&heap->rg, b);
  samm__segment *seg = samm__segmap_find(&heap->map, b);
  size_t lo = (size_t)((uint8_t *)b - seg->base);
  size_t rest = b->size - need;
  bool split = rest >= MIN_BLOCK;
  size_t hi = lo + (split ? need + MIN_BLOCK : b->size);
  size_t charge = pages_to_commit(seg, lo, hi);
  /* Mark the block used first: a budget charge may run a collect, which
   * must not see it as free. */
  b->check = block_check(heap, b, STATE_USED);
  if (charge != 0 && !samm__commit(heap, seg, (int64_t)charge)) {
    b->check = block_check(heap, b, STATE_FREE);
    list_insert(&heap->rg, b);
    return NULL;
  }
  pages_mark_committed(seg, lo, hi);
  if (split) {
    block *r = (block *)((uint8_t *)b + need);
    r->size = (uint32_t)rest;
    r->prev_size = (uint32_t)need;
    r->check = block_check(heap, r, STATE_FREE);
    block_next(r)->prev_size = (uint32_t)rest;
    b->size = (uint32_t)need;
    list_insert(&heap->rg, r);
  }
  heap->region.allocs++;
  samm__arena_in_use(&heap->region, b->size - HDR);
  return (uint8_t *)b + HDR;
}

/* The used block whose payload starts at ptr, or NULL with *err set. */
static block *used_block(const samm_heap *heap, const samm__segment *seg,
                         const void *ptr, int *err) {
  size_t off = (size_t)((const uint8_t *)ptr - seg->base);
  *err = SAMM_EBAD_POINTER;
  if ((off & 15) != 0 || off < HDR || off >= seg_blocks_end(seg)) return NULL;
  block *b = (block *)((uint8_t *)ptr - HDR);
  if (is_free(heap, b)) {
    *err = SAMM_EDOUBLE_FREE;
    return NULL;
  }
  if (b->check != block_check(heap, b, STATE_USED)) return NULL;
  return b;
}

int samm__region_free(samm_heap *heap, samm__segment *seg, void *ptr) {
  if (seg->kind == SAMM__SEG_REGION_LARGE) {
    if (ptr != seg->base) return SAMM_EBAD_POINTER;
    heap->region.frees++;
    heap->region.in_use -= seg->u.large_size;
    samm__seg_list_remove(&heap->rg.large, seg);
    samm__segment_release(heap, seg);
    return SAMM_EOK;
  }
  int err;
  block *b = used_block(heap, seg, ptr, &err);
  if (b == NULL) return err;
  heap->region.frees++;
  heap->region.in_use -= b->size - HDR;
  samm__poison(heap, ptr, b->size - HDR);
  b->check = block_check(heap, b, STATE_FREE);
  block *next = block_next(b);
  if (is_free(heap, next)) {
    list_remove(&heap->rg, next);
    b->size += next->size;
  }
  if (b->prev_size != 0) {
    block *prev = (block *)((uint8_t *)b - b->prev_size);
    if (is_free(heap, prev)) {
      list_remove(&heap->rg, prev);
      prev->size += b->size;
      b = prev;
    }
  }
  block_next(b)->prev_size = b->size;
  list_insert(&heap->rg, b);
  return SAMM_EOK;
}

size_t samm__region_usable(const samm_heap *heap, const samm__segment *seg,
                           const void *ptr) {
  if (seg->kind == SAMM__SEG_REGION_LARGE)
    return ptr == seg->base ? seg->u.large_size : 0;
  int err;
  const block *b = used_block(heap, seg, ptr, &err);
  return b != NULL ? b->size - HDR : 0;
}

void samm__region_collect(samm_heap *heap) {
  samm__region *rg = &heap->rg;
  for (unsigned fl = 0; fl < 32; fl++) {
    if (!(rg->fl_bitmap & (1u << fl))) continue;
    for (unsigned sl = 0; sl < SL_COUNT; sl++) {
      block *b = rg->free_lists[fl][sl];
      while (b != NULL) {
        block *next = b->next_free;
        samm__segment *seg = samm__segmap_find(&heap->map, b);
        size_t lo = (size_t)((uint8_t *)b - seg->base);
        if (lo == 0 && b->size == seg_blocks_end(seg)) {
          list_remove(rg, b);
          segment_release(heap, seg);
        } else {
          pages_decommit(heap, seg, lo + MIN_BLOCK, lo + b->size);
        }
        b = next;
      }
    }
  }
}

void samm__region_destroy(samm_heap *heap) {
  samm__segment *seg;
  while ((seg = heap->rg.segments.head) != NULL) segment_release(heap, seg);
  while ((seg = samm__seg_list_pop(&heap->rg.large)) != NULL)
    samm__segment_release(heap, seg);
  memset(&heap->rg, 0, sizeof heap->rg);
}

static int segment_check(const samm_heap *heap, const samm__segment *seg,
                         uint64_t *in_use, size_t *free_blocks) {
  if (seg->kind != SAMM__SEG_REGION || seg->arena != &heap->region) return SAMM_ECORRUPT;
  size_t end = seg_blocks_end(seg), off = 0, prev_size = 0;
  bool prev_free = false;
  while (off < end) {
    const block *b = (const block *)(seg->base + off);
    bool free_b = is_free(heap, b);
    if (b->size < MIN_BLOCK || (b->size & 15) || b->size > end - off ||
        b->prev_size != prev_size || (!free_b && b->check != block_check(heap, b, STATE_USED)) ||
        (free_b && prev_free) || pages_to_commit(seg, off, off + MIN_BLOCK) != 0)
      return SAMM_ECORRUPT;
    if (free_b) {
      (*free_blocks)++;
    } else {
      if (pages_to_commit(seg, off, off + b->size) != 0) return SAMM_ECORRUPT;
      *in_use += b->size - HDR;
    }
    prev_free = free_b;
    prev_size = b->size;
    off += b->size;
  }
  const block *sentinel = (const block *)(seg->base + end);
  if (off != end || sentinel->prev_size != prev_size ||
      sentinel->check != block_check(heap, sentinel, STATE_END))
    return SAMM_ECORRUPT;
  size_t pages = seg->size / SAMM__PAGE, committed = 0;
  for (size_t p = 0; p < pages; p++) committed += !page_decommitted(seg, p);
  if (committed * SAMM__PAGE != seg->committed) return SAMM_ECORRUPT;
  return SAMM_EOK;
}

int samm__region_check(const samm_heap *heap) {
  const samm__region *rg = &heap->rg;
  uint64_t in_use = 0, reserved = 0, committed = 0;
  size_t walked_free = 0, listed_free = 0;
  for (const samm__segment *seg = rg->segments.head; seg != NULL; seg = seg->next) {
    if (segment_check(heap, seg, &in_use, &walked_free) != SAMM_EOK) return SAMM_ECORRUPT;
    reserved += seg->size;
    committed += seg->committed;
  }
  for (const samm__segment *seg = rg->large.head; seg != NULL; seg = seg->next) {
    if (seg->kind != SAMM__SEG_REGION_LARGE) return SAMM_ECORRUPT;
    in_use += seg->u.large_size;
    reserved += seg->size;
    committed += seg->committed;
  }
  for (unsigned fl = 0; fl < 32; fl++) {
    for (unsigned sl = 0; sl < SL_COUNT; sl++) {
      bool bit = (rg->sl_bitmap[fl] >> sl) & 1;
      if (bit != (rg->free_lists[fl][sl] != NULL)) return SAMM_ECORRUPT;
      for (const block *b = rg->free_lists[fl][sl]; b != NULL; b = b->next_free) {
        unsigned f, s;
        mapping(b->size, &f, &s);
        if (f != fl || s != sl || !is_free(heap, b) ||
            (b->next_free != NULL && b->next_free->prev_free != b))
          return SAMM_ECORRUPT;
        if (++listed_free > walked_free) return SAMM_ECORRUPT;
      }
    }
    if (((rg->fl_bitmap >> fl) & 1) != (rg->sl_bitmap[fl] != 0)) return SAMM_ECORRUPT;
  }
  if (listed_free != walked_free || in_use != heap->region.in_use ||
      reserved != heap->region.reserved || committed != heap->region.committed)
    return SAMM_ECORRUPT;
  return SAMM_EOK;
}
