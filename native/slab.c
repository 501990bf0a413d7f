/* slab.c: the medium-lifetime pool. Each span is one request chunk cut into
 * slots of a single size class, with a bitmap of live slots beside it (in
 * malloc'd memory): a slot is handed out from the lowest clear bit below
 * the span's fresh mark, or, while the span is young, from its never-used
 * tail. Nothing about a freed slot is kept inside it, so a write into freed
 * memory (a stale view, a bug in a caller) can corrupt no metadata; the
 * bitmap also makes double frees and interior pointers detectable. Spans
 * with free slots sit on their class's partial list, full ones on the full
 * list; empty spans go back to the chunk pool at collect time.
 *
 * Size classes: 16..128 in steps of 16, then four classes per doubling up
 * to SAMM__SLAB_MAX.
 */
#include "internal.h"

#include <stdlib.h>

static unsigned class_of(size_t size) {
  if (size <= 128) return (unsigned)((size + 15) / 16) - 1 + (size == 0);
  size_t s = size - 1;
  unsigned lg = 63u - (unsigned)__builtin_clzll(s);
  return 8 + (lg - 7) * 4 + (unsigned)((s - ((size_t)1 << lg)) >> (lg - 2));
}

uint32_t samm__slab_class_size(unsigned c) {
  if (c < 8) return (c + 1) * 16;
  unsigned g = (c - 8) / 4, r = (c - 8) % 4;
  uint32_t base = 128u << g;
  return base + (r + 1) * (base / 4);
}

static samm__segment *span_new(samm_heap *heap, unsigned c) {
  samm__segment *seg = samm__chunk_get(heap, &heap->slab);
  if (seg == NULL) return NULL;
  samm__slab_span *sp = &seg->u.slab;
  memset(sp, 0, sizeof *sp);
  sp->slot_size = samm__slab_class_size(c);
  sp->capacity = (uint32_t)(seg->size / sp->slot_size);
  sp->recip = ((uint64_t)1 << 32) / sp->slot_size + 1;
  sp->size_class = (uint8_t)c;
  sp->live = calloc((sp->capacity + 63) / 64, sizeof(uint64_t));
  if (sp->live == NULL) {
    samm__chunk_put(heap, seg);
    return samm__fail(heap, SAMM_ENOMEM);
  }
  seg->kind = SAMM__SEG_SLAB;
  samm__seg_list_push(&heap->slab_partial[c], seg);
  return seg;
}

static void span_release(samm_heap *heap, samm__segment *seg) {
  free(seg->u.slab.live);
  seg->u.slab.live = NULL;
  samm__chunk_put(heap, seg);
}

static inline uint32_t slot_index(const samm__slab_span *sp, size_t off) {
  return (uint32_t)((off * sp->recip) >> 32);
}

/* Debug: slot idx was written after it was freed. It is taken out of use
 * for good (counted live, so the accounts stay exact). */
static void quarantine(samm_heap *heap, samm__segment *seg, uint32_t idx) {
  samm__slab_span *sp = &seg->u.slab;
  sp->live[idx / 64] |= UINT64_C(1) << (idx % 64);
  sp->used++;
  samm__arena_in_use(&heap->slab, sp->slot_size);
  if (sp->used == sp->capacity) {
    samm__seg_list_remove(&heap->slab_partial[sp->size_class], seg);
    samm__seg_list_push(&heap->slab_full[sp->size_class], seg);
    sp->full = true;
  }
}

/* The lowest free slot below the fresh mark, or UINT32_MAX. */
static uint32_t lowest_free(samm__slab_span *sp) {
  uint32_t words = (sp->fresh + 63) / 64;
  for (uint32_t w = sp->scan; w < words; w++) {
    uint64_t clear = ~sp->live[w];
    if (clear == 0) continue;
    sp->scan = w;
    uint32_t idx = w * 64 + (uint32_t)__builtin_ctzll(clear);
    return idx < sp->fresh ? idx : UINT32_MAX;
  }
  sp->scan = words;
  return UINT32_MAX;
}

void *samm__slab_alloc(samm_heap *heap, size_t size) {
  unsigned c = class_of(size);
  samm__segment *seg = heap->slab_partial[c].head;
  if (SAMM__UNLIKELY(seg == NULL)) {
    seg = span_new(heap, c);
    if (seg == NULL) return NULL;
  }
  samm__slab_span *sp = &seg->u.slab;
  uint32_t idx = sp->used < sp->fresh ? lowest_free(sp) : UINT32_MAX;
  uint8_t *p;
  if (idx != UINT32_MAX) {
    p = seg->base + (size_t)idx * sp->slot_size;
    /* Debug: a write into the slot after it was freed broke its poison. */
    if (SAMM__UNLIKELY(heap->cfg.debug) && !samm__poison_intact(p, sp->slot_size)) {
      quarantine(heap, seg, idx);
      return samm__fail(heap, SAMM_ECORRUPT);
    }
  } else {
    idx = sp->fresh++;
    p = seg->base + (size_t)idx * sp->slot_size;
  }
  sp->live[idx / 64] |= UINT64_C(1) << (idx % 64);
  if (++sp->used == sp->capacity) {
    samm__seg_list_remove(&heap->slab_partial[c], seg);
    samm__seg_list_push(&heap->slab_full[c], seg);
    sp->full = true;
  }
  heap->slab.allocs++;
  samm__arena_in_use(&heap->slab, sp->slot_size);
  return p;
}

int samm__slab_free(samm_heap *heap, samm__segment *seg, void *ptr) {
  samm__slab_span *sp = &seg->u.slab;
  size_t off = (size_t)((uint8_t *)ptr - seg->base);
  uint32_t idx = slot_index(sp, off);
  if ((size_t)idx * sp->slot_size != off || idx >= sp->fresh) return SAMM_EBAD_POINTER;
  uint64_t bit = UINT64_C(1) << (idx % 64);
  if (!(sp->live[idx / 64] & bit)) return SAMM_EDOUBLE_FREE;
  sp->live[idx / 64] &= ~bit;
  if (idx / 64 < sp->scan) sp->scan = idx / 64;
  samm__poison(heap, ptr, sp->slot_size);
  sp->used--;
  if (sp->full) {
    samm__seg_list_remove(&heap->slab_full[sp->size_class], seg);
    samm__seg_list_push(&heap->slab_partial[sp->size_class], seg);
    sp->full = false;
  }
  heap->slab.frees++;
  heap->slab.in_use -= sp->slot_size;
  return SAMM_EOK;
}

size_t samm__slab_usable(const samm__segment *seg, const void *ptr) {
  const samm__slab_span *sp = &seg->u.slab;
  size_t off = (size_t)((const uint8_t *)ptr - seg->base);
  uint32_t idx = slot_index(sp, off);
  if ((size_t)idx * sp->slot_size != off || idx >= sp->fresh) return 0;
  if (!(sp->live[idx / 64] & (UINT64_C(1) << (idx % 64)))) return 0;
  return sp->slot_size;
}

void samm__slab_collect(samm_heap *heap) {
  for (unsigned c = 0; c < SAMM__SLAB_CLASSES; c++) {
    samm__segment *seg = heap->slab_partial[c].head;
    while (seg != NULL) {
      samm__segment *next = seg->next;
      if (seg->u.slab.used == 0) {
        samm__seg_list_remove(&heap->slab_partial[c], seg);
        span_release(heap, seg);
      }
      seg = next;
    }
  }
}

void samm__slab_destroy(samm_heap *heap) {
  for (unsigned c = 0; c < SAMM__SLAB_CLASSES; c++) {
    samm__segment *seg;
    while ((seg = samm__seg_list_pop(&heap->slab_partial[c])) != NULL) {
      free(seg->u.slab.live);
      samm__segment_release(heap, seg);
    }
    while ((seg = samm__seg_list_pop(&heap->slab_full[c])) != NULL) {
      free(seg->u.slab.live);
      samm__segment_release(heap, seg);
    }
  }
}

static int span_check(const samm__segment *seg, unsigned c, bool full) {
  const samm__slab_span *sp = &seg->u.slab;
  if (seg->kind != SAMM__SEG_SLAB || sp->size_class != c || sp->full != full ||
      sp->slot_size != samm__slab_class_size(c) || sp->fresh > sp->capacity ||
      sp->used > sp->fresh || (full != (sp->used == sp->capacity)))
    return SAMM_ECORRUPT;
  uint32_t live = 0;
  for (uint32_t w = 0; w < (sp->capacity + 63) / 64; w++) {
    live += (uint32_t)__builtin_popcountll(sp->live[w]);
    /* No slot at or above the fresh mark is live; below scan, all are. */
    uint64_t above = w * 64 >= sp->fresh ? ~UINT64_C(0)
                     : sp->fresh - w * 64 >= 64 ? 0 : ~UINT64_C(0) << (sp->fresh - w * 64);
    if ((sp->live[w] & above) != 0) return SAMM_ECORRUPT;
    if (w < sp->scan && sp->live[w] != ~UINT64_C(0)) return SAMM_ECORRUPT;
  }
  if (live != sp->used) return SAMM_ECORRUPT;
  return SAMM_EOK;
}

int samm__slab_check(const samm_heap *heap) {
  uint64_t in_use = 0, reserved = 0, committed = 0;
  for (unsigned c = 0; c < SAMM__SLAB_CLASSES; c++) {
    for (int full = 0; full < 2; full++) {
      const samm__seg_list *list = full ? &heap->slab_full[c] : &heap->slab_partial[c];
      size_t n = 0;
      for (const samm__segment *seg = list->head; seg != NULL; seg = seg->next, n++) {
        if (span_check(seg, c, full) != SAMM_EOK) return SAMM_ECORRUPT;
        in_use += (uint64_t)seg->u.slab.used * seg->u.slab.slot_size;
        reserved += seg->size;
        committed += seg->committed;
      }
      if (n != list->count) return SAMM_ECORRUPT;
    }
  }
  if (in_use != heap->slab.in_use || reserved != heap->slab.reserved ||
      committed != heap->slab.committed)
    return SAMM_ECORRUPT;
  return SAMM_EOK;
}
