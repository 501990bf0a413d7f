/* segment.c: the heap's page source. Maps and releases segments, keeps the
 * byte accounting exact (reserved, committed, per arena and heap-wide),
 * enforces the budget, and keeps the pool of free request chunks and the
 * cache of free large scope blocks (a scope allocation larger than a chunk:
 * mapping a fresh one per request would fault in every page of it again).
 *
 * Budget rule: `committed` is what may be resident - bytes mapped minus
 * bytes returned with decommit - and may never exceed max_bytes. A charge
 * that would is refused with SAMM_ELIMIT after one attempt to make room by
 * trimming the pool and the region arena.
 */
#include "internal.h"

#include <stdlib.h>

void samm__seg_list_push(samm__seg_list *list, samm__segment *seg) {
  seg->prev = NULL;
  seg->next = list->head;
  if (list->head != NULL) list->head->prev = seg;
  list->head = seg;
  list->count++;
}

void samm__seg_list_remove(samm__seg_list *list, samm__segment *seg) {
  if (seg->prev != NULL)
    seg->prev->next = seg->next;
  else
    list->head = seg->next;
  if (seg->next != NULL) seg->next->prev = seg->prev;
  seg->next = seg->prev = NULL;
  list->count--;
}

samm__segment *samm__seg_list_pop(samm__seg_list *list) {
  samm__segment *seg = list->head;
  if (seg != NULL) samm__seg_list_remove(list, seg);
  return seg;
}

void samm__arena_in_use(samm_arena_stats *arena, int64_t bytes) {
  arena->in_use += (uint64_t)bytes;
  if (arena->in_use > arena->high_water) arena->high_water = arena->in_use;
}

static bool budget_allows(const samm_heap *heap, uint64_t bytes) {
  return heap->committed + bytes >= heap->committed &&
         heap->committed + bytes <= heap->cfg.max_bytes;
}

/* Makes room for bytes by trimming caches; true if it now fits. */
static bool make_room(samm_heap *heap, uint64_t bytes) {
  samm__pool_trim(heap, 0);
  samm__large_trim(heap, 0);
  if (budget_allows(heap, bytes)) return true;
  samm__region_collect(heap);
  return budget_allows(heap, bytes);
}

static bool charge(samm_heap *heap, uint64_t bytes) {
  if (SAMM__UNLIKELY(!budget_allows(heap, bytes)) && !make_room(heap, bytes)) {
    heap->counters.limit_refusals++;
    heap->last_error = SAMM_ELIMIT;
    return false;
  }
  heap->committed += bytes;
  if (heap->committed > heap->high_water) heap->high_water = heap->committed;
  return true;
}

bool samm__commit(samm_heap *heap, samm__segment *seg, int64_t bytes) {
  if (bytes > 0 && !charge(heap, (uint64_t)bytes)) return false;
  if (bytes < 0) heap->committed -= (uint64_t)-bytes;
  seg->committed += (size_t)bytes;
  seg->arena->committed += (uint64_t)bytes;
  return true;
}

samm__segment *samm__segment_new(samm_heap *heap, samm__seg_kind kind,
                                 samm_arena_stats *arena, size_t size,
                                 size_t commit) {
  samm__segment *seg = calloc(1, sizeof *seg);
  if (seg == NULL) return samm__fail(heap, SAMM_ENOMEM);
  if (!charge(heap, commit)) {
    free(seg);
    return NULL;
  }
  seg->base = samm__os_map_aligned(&heap->os, size, SAMM__GRANULE);
  if (seg->base == NULL) {
    heap->committed -= commit;
    heap->counters.os_refusals++;
    free(seg);
    return samm__fail(heap, SAMM_ENOMEM);
  }
  seg->size = size;
  seg->kind = kind;
  seg->arena = arena;
  seg->committed = commit;
  if (samm__segmap_add(&heap->map, seg) != SAMM_EOK) {
    samm__os_unmap(&heap->os, seg->base, size);
    heap->committed -= commit;
    free(seg);
    return samm__fail(heap, SAMM_ENOMEM);
  }
  heap->reserved += size;
  arena->reserved += size;
  arena->committed += commit;
  return seg;
}

void samm__segment_release(samm_heap *heap, samm__segment *seg) {
  samm__segmap_remove(&heap->map, seg);
  if (!seg->keep_mapped) samm__os_unmap(&heap->os, seg->base, seg->size);
  heap->reserved -= seg->size;
  heap->committed -= seg->committed;
  seg->arena->reserved -= seg->size;
  seg->arena->committed -= seg->committed;
  free(seg);
}

void samm__segment_move(samm__segment *seg, samm_arena_stats *to) {
  seg->arena->reserved -= seg->size;
  seg->arena->committed -= seg->committed;
  to->reserved += seg->size;
  to->committed += seg->committed;
  seg->arena = to;
}

samm__segment *samm__chunk_get(samm_heap *heap, samm_arena_stats *arena) {
  samm__segment *seg = samm__seg_list_pop(&heap->pool);
  if (seg != NULL) {
    samm__segment_move(seg, arena);
    return seg;
  }
  size_t size = (size_t)heap->cfg.chunk_size;
  return samm__segment_new(heap, SAMM__SEG_CHUNK, arena, size, size);
}

void samm__chunk_put(samm_heap *heap, samm__segment *seg) {
  seg->kind = SAMM__SEG_CHUNK;
  samm__segment_move(seg, &heap->bump);
  samm__seg_list_push(&heap->pool, seg);
}

void samm__pool_trim(samm_heap *heap, size_t keep) {
  while (heap->pool.count > keep)
    samm__segment_release(heap, samm__seg_list_pop(&heap->pool));
}

samm__segment *samm__large_get(samm_heap *heap, size_t size) {
  /* Best fit among the cached blocks, but never one more than twice the
   * size: a big block stays for a big request. */
  samm__segment *best = NULL;
  for (samm__segment *seg = heap->large_pool.head; seg != NULL; seg = seg->next)
    if (seg->size >= size && seg->size / 2 <= size &&
        (best == NULL || seg->size < best->size))
      best = seg;
  if (best != NULL) {
    samm__seg_list_remove(&heap->large_pool, best);
    heap->large_pool_bytes -= best->size;
    return best;
  }
  return samm__segment_new(heap, SAMM__SEG_BUMP_LARGE, &heap->bump, size, size);
}

void samm__large_put(samm_heap *heap, samm__segment *seg) {
  if (heap->large_pool_bytes + seg->size > samm__large_cache_max(heap)) {
    samm__segment_release(heap, seg);
    return;
  }
  samm__seg_list_push(&heap->large_pool, seg);
  heap->large_pool_bytes += seg->size;
}

void samm__large_trim(samm_heap *heap, uint64_t keep) {
  if (heap->large_pool_bytes <= keep) return;
  samm__segment *oldest = heap->large_pool.head; /* newest first: walk to the tail once */
  while (oldest->next != NULL) oldest = oldest->next;
  while (heap->large_pool_bytes > keep) {
    samm__segment *newer = oldest->prev;
    samm__seg_list_remove(&heap->large_pool, oldest);
    heap->large_pool_bytes -= oldest->size;
    samm__segment_release(heap, oldest);
    oldest = newer;
  }
}
