/* heap.c: the heap as a whole - creation, the medium/long entry points,
 * pointer ownership, collect, stats and the consistency walk. */
#include "internal.h"

#include <stdlib.h>
#include <time.h>


samm_heap *samm_heap_create(const samm_config *cfg) {
  samm_config defaults;
  if (cfg == NULL) {
    samm_config_init(&defaults);
    cfg = &defaults;
  }
  if (!samm__config_in_range(cfg)) return NULL;
  samm_heap *heap = calloc(1, sizeof *heap);
  if (heap == NULL) return NULL;
  heap->cfg = *cfg;
  heap->os = cfg->os != NULL ? *cfg->os : samm__os_default;
  if (heap->os.now_ms == NULL) heap->os.now_ms = samm__os_default.now_ms;
  heap->cfg.os = NULL;
  /* Differs per heap, so that a stale header of one heap never passes the
   * check of another. */
  heap->secret = (uint32_t)((uintptr_t)heap >> 4) ^ (uint32_t)time(NULL) ^ 0x5A17C0DEu;
  if (samm__segmap_init(&heap->map) != SAMM_EOK) {
    free(heap);
    return NULL;
  }
  heap->large_decay_at = samm__os_now_ms(&heap->os);
  return heap;
}

void samm_heap_destroy(samm_heap *heap) {
  if (heap == NULL) return;
  samm__bump_destroy(heap);
  samm__slab_destroy(heap);
  samm__region_destroy(heap);
  samm__segmap_destroy(&heap->map);
  free(heap);
}

int samm_heap_keep_mapped(samm_heap *heap, const void *ptr) {
  samm__segment *seg = ptr == NULL ? NULL : samm__segmap_find(&heap->map, ptr);
  if (seg == NULL) return heap->last_error = SAMM_EBAD_POINTER;
  seg->keep_mapped = true;
  return SAMM_EOK;
}

int samm_heap_last_error(const samm_heap *heap) { return heap->last_error; }

int samm_heap_set_limit(samm_heap *heap, uint64_t max_bytes) {
  const samm_option_desc *d = samm_option_get(SAMM_OPT_max_bytes);
  if (max_bytes < d->min || max_bytes > d->max) return heap->last_error = SAMM_EINVALID_ARG;
  heap->cfg.max_bytes = max_bytes;
  /* A lower budget holds at once as far as free memory allows: pages freed
   * blocks left committed would otherwise be reused without a charge. */
  if (heap->committed > max_bytes) {
    samm_collect(heap);
    samm__pool_trim(heap, 0);
    samm__large_trim(heap, 0);
  }
  return SAMM_EOK;
}

int samm_heap_set_decay(samm_heap *heap, uint64_t decay_ms) {
  const samm_option_desc *d = samm_option_get(SAMM_OPT_decay_ms);
  if (decay_ms < d->min || decay_ms > d->max) return heap->last_error = SAMM_EINVALID_ARG;
  samm__large_decay(heap); /* the time passed so far decays at the old rate */
  heap->cfg.decay_ms = decay_ms;
  samm__large_decay(heap);
  return SAMM_EOK;
}

uint64_t samm_heap_held(const samm_heap *heap) {
  return heap->committed - heap->pool.count * heap->cfg.chunk_size - heap->large_pool_bytes;
}

void samm_heap_config(const samm_heap *heap, samm_config *out) { *out = heap->cfg; }

/* The usable bytes of a live medium/long block, guard included. */
static size_t usable_raw(const samm_heap *heap, const samm__segment *seg, const void *ptr) {
  if (seg == NULL) return 0;
  if (seg->kind == SAMM__SEG_SLAB) return samm__slab_usable(seg, ptr);
  if (seg->kind == SAMM__SEG_REGION || seg->kind == SAMM__SEG_REGION_LARGE)
    return samm__region_usable(heap, seg, ptr);
  return 0;
}

static const uint8_t guard_bytes[SAMM__GUARD] = {0x6B, 0x1D, 0xA5, 0x3C, 0x6B, 0x1D, 0xA5, 0x3C,
                                                  0x6B, 0x1D, 0xA5, 0x3C, 0x6B, 0x1D, 0xA5, 0x3C};

void *samm_alloc(samm_heap *heap, samm_class cls, size_t size) {
  if (SAMM__UNLIKELY(size > SAMM_MAX_ALLOC)) return samm__fail(heap, SAMM_EINVALID_SIZE);
  if (size == 0) size = 1;
  /* Debug builds of a heap keep a guard after every block, checked when it
   * is released. */
  if (SAMM__UNLIKELY(heap->cfg.debug)) size += SAMM__GUARD;
  void *p;
  if (cls == SAMM_MEDIUM && size <= SAMM__SLAB_MAX)
    p = samm__slab_alloc(heap, size);
  else if (cls == SAMM_MEDIUM || cls == SAMM_LONG)
    p = samm__region_alloc(heap, size);
  else
    return samm__fail(heap, SAMM_EINVALID_CLASS);
  if (SAMM__UNLIKELY(heap->cfg.debug) && p != NULL) {
    size_t usable = usable_raw(heap, samm__segmap_find(&heap->map, p), p);
    memcpy((uint8_t *)p + usable - SAMM__GUARD, guard_bytes, SAMM__GUARD);
  }
  return p;
}

/* Debug: the guard after a live block is intact. */
static bool guard_intact(const samm_heap *heap, const samm__segment *seg, const void *ptr) {
  size_t usable = usable_raw(heap, seg, ptr);
  return usable == 0 || memcmp((const uint8_t *)ptr + usable - SAMM__GUARD, guard_bytes, SAMM__GUARD) == 0;
}

int samm_free(samm_heap *heap, void *ptr) {
  samm__segment *seg = samm__segmap_find(&heap->map, ptr);
  int err = SAMM_EBAD_POINTER;
  if (SAMM__UNLIKELY(heap->cfg.debug) && !guard_intact(heap, seg, ptr)) {
    heap->counters.invalid_frees++;
    return heap->last_error = SAMM_ECORRUPT;
  }
  if (seg != NULL) {
    switch (seg->kind) {
      case SAMM__SEG_SLAB:
        err = samm__slab_free(heap, seg, ptr);
        break;
      case SAMM__SEG_REGION:
      case SAMM__SEG_REGION_LARGE:
        err = samm__region_free(heap, seg, ptr);
        break;
      case SAMM__SEG_CHUNK:
      case SAMM__SEG_BUMP_LARGE:
        err = SAMM_EWRONG_ARENA;
        break;
    }
  }
  if (SAMM__UNLIKELY(err != SAMM_EOK)) {
    heap->counters.invalid_frees++;
    return heap->last_error = err;
  }
  if (SAMM__UNLIKELY(heap->cfg.debug >= 2) && samm_heap_check(heap) != SAMM_EOK)
    return heap->last_error = SAMM_ECORRUPT;
  return SAMM_EOK;
}

size_t samm_usable_size(const samm_heap *heap, const void *ptr) {
  size_t usable = usable_raw(heap, samm__segmap_find(&heap->map, ptr), ptr);
  return usable && heap->cfg.debug ? usable - SAMM__GUARD : usable;
}

int samm_owner(const samm_heap *heap, const void *ptr) {
  const samm__segment *seg = samm__segmap_find(&heap->map, ptr);
  if (seg == NULL) return -1;
  switch (seg->kind) {
    case SAMM__SEG_CHUNK:
    case SAMM__SEG_BUMP_LARGE:
      return SAMM_SHORT;
    case SAMM__SEG_SLAB:
      return SAMM_MEDIUM;
    case SAMM__SEG_REGION:
    case SAMM__SEG_REGION_LARGE:
      return SAMM_LONG;
  }
  return -1;
}

void samm_collect(samm_heap *heap) {
  heap->counters.collects++;
  samm__slab_collect(heap);
  samm__region_collect(heap);
  samm__pool_trim(heap, (size_t)heap->cfg.pool_chunks);
  samm__large_decay(heap);
}

void samm_stats_get(const samm_heap *heap, samm_stats *out) {
  *out = heap->counters;
  samm__bump_stats(heap, &out->bump);
  out->slab = heap->slab;
  out->region = heap->region;
  out->reserved = heap->reserved;
  out->committed = heap->committed;
  out->high_water = heap->high_water;
  out->max_bytes = heap->cfg.max_bytes;
  out->scopes_open = out->scopes_opened - out->scopes_closed;
  out->pool_chunks = heap->pool.count;
  out->pool_large_bytes = heap->large_pool_bytes;
  out->chunks_lent = heap->lent.count;
  out->large_in_use = heap->large_in_use;
  out->large_peak = heap->large_peak;
}

int samm_heap_check(const samm_heap *heap) {
  if (samm__bump_check(heap) != SAMM_EOK || samm__large_check(heap) != SAMM_EOK ||
      samm__slab_check(heap) != SAMM_EOK || samm__region_check(heap) != SAMM_EOK)
    return SAMM_ECORRUPT;
  const samm_arena_stats *a[] = {&heap->bump, &heap->slab, &heap->region};
  uint64_t reserved = 0, committed = 0;
  for (size_t i = 0; i < 3; i++) {
    reserved += a[i]->reserved;
    committed += a[i]->committed;
  }
  if (reserved != heap->reserved || committed != heap->committed ||
      heap->map.count != heap->reserved / SAMM__GRANULE)
    return SAMM_ECORRUPT;
  return SAMM_EOK;
}
