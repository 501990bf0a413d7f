/* bump.c: request scopes. A scope owns a list of request chunks and bumps
 * a cursor through the newest one; an allocation larger than a chunk gets a
 * block of its own (large.c). Closing a scope hands its chunks back to the
 * heap's pool and its large blocks to the large-block cache (no system call
 * while the cache is under its target), in O(chunks).
 *
 * A chunk can also be lent whole (samm_chunk_lend) to a caller that bumps in
 * it itself across many requests, and so can a block of several chunks'
 * size from the large-block cache; either is on the heap's lent list,
 * counted in use, until samm_chunk_return takes it back under its ticket.
 *
 * Scope structs are recycled through the heap's free list; a closed scope
 * keeps open == false until it is reopened, which is how a use after close
 * is refused.
 */
#include "internal.h"

#include <stdlib.h>

samm_scope *samm_scope_open(samm_heap *heap) {
  samm_scope *s = heap->free_scopes;
  if (s != NULL) {
    heap->free_scopes = s->next;
  } else {
    s = malloc(sizeof *s);
    if (s == NULL) return samm__fail(heap, SAMM_ENOMEM);
  }
  memset(s, 0, sizeof *s);
  s->heap = heap;
  s->open = true;
  s->next = heap->open_scopes;
  if (s->next != NULL) s->next->prev = s;
  heap->open_scopes = s;
  heap->counters.scopes_opened++;
  return s;
}

/* Gives the scope a fresh region of at least size bytes: a pooled chunk, or
 * a large segment when size exceeds a chunk. Returns its start; for a chunk
 * the scope's cursor/end then describe the rest. */
static uint8_t *scope_grow(samm_scope *s, size_t size) {
  samm_heap *heap = s->heap;
  if (size > heap->cfg.chunk_size) {
    size_t bytes = samm__align_up(size, SAMM__GRANULE);
    if (bytes < size) return samm__fail(heap, SAMM_EINVALID_SIZE);
    samm__segment *seg = samm__large_get(heap, bytes);
    if (seg == NULL) return NULL;
    seg->u.large.asked = size;
    samm__seg_list_push(&s->chunks, seg);
    samm__arena_in_use(&heap->bump, (int64_t)seg->size); /* may exceed bytes */
    s->retired += size;
    return seg->base;
  }
  samm__segment *seg = samm__chunk_get(heap, &heap->bump);
  if (seg == NULL) return NULL;
  samm__seg_list_push(&s->chunks, seg);
  samm__arena_in_use(&heap->bump, (int64_t)seg->size);
  s->retired += (size_t)(s->head.cursor - s->base);
  s->base = s->head.cursor = seg->base;
  s->head.end = seg->base + seg->size;
  return seg->base;
}

void *samm__scope_alloc_slow(samm_scope *s, size_t size) {
  samm_heap *heap = s->heap;
  if (!s->open) return samm__fail(heap, SAMM_ESCOPE_CLOSED);
  if (size > SAMM_MAX_ALLOC) return samm__fail(heap, SAMM_EINVALID_SIZE);
  size = samm__align_up(size ? size : 1, SAMM_ALIGNMENT);
  uint8_t *p = s->head.cursor;
  if (size > (size_t)(s->head.end - p)) {
    p = scope_grow(s, size);
    if (p == NULL) return NULL;
  }
  if (size <= heap->cfg.chunk_size) s->head.cursor = p + size;
  s->head.allocs++;
  return p;
}

void *(samm_scope_alloc)(samm_scope *s, size_t size) {
  return samm__scope_alloc_inline(s, size);
}

void *samm_scope_take(samm_scope *s, size_t min_size, size_t *len) {
  samm_heap *heap = s->heap;
  if (!s->open) return samm__fail(heap, SAMM_ESCOPE_CLOSED);
  if (min_size == 0) min_size = 1;
  if (min_size > SAMM_MAX_ALLOC) return samm__fail(heap, SAMM_EINVALID_SIZE);
  min_size = samm__align_up(min_size, SAMM_ALIGNMENT);
  uint8_t *p = s->head.cursor;
  size_t n = (size_t)(s->head.end - p);
  if (n < min_size) {
    p = scope_grow(s, min_size);
    if (p == NULL) return NULL;
    n = min_size > heap->cfg.chunk_size ? min_size : heap->cfg.chunk_size;
  }
  if (min_size <= heap->cfg.chunk_size) s->head.cursor = s->head.end;
  s->head.allocs++;
  *len = n;
  return p;
}

size_t samm_scope_used(const samm_scope *s) {
  return s->retired + (size_t)(s->head.cursor - s->base);
}

void *samm_chunk_lend(samm_heap *heap, size_t size, size_t *len, uint64_t *ticket) {
  samm__segment *seg;
  if (size <= heap->cfg.chunk_size) {
    seg = samm__chunk_get(heap, &heap->bump);
  } else {
    size_t bytes = samm__align_up(size, SAMM__GRANULE);
    if (size > SAMM_MAX_ALLOC || bytes < size) return samm__fail(heap, SAMM_EINVALID_SIZE);
    seg = samm__large_get(heap, bytes);
  }
  if (seg == NULL) return NULL;
  samm__arena_in_use(&heap->bump, (int64_t)seg->size);
  seg->lend_ticket = ++heap->last_ticket;
  samm__seg_list_push(&heap->lent, seg);
  *len = seg->size;
  *ticket = seg->lend_ticket;
  return seg->base;
}

void *samm_chunk_lend_zeroed(samm_heap *heap, size_t size, size_t *len, uint64_t *ticket) {
  uint8_t *p = samm_chunk_lend(heap, size, len, ticket);
  if (p == NULL) return NULL;
  samm__segment *seg = samm__segmap_find(&heap->map, p);
  memset(p, 0, seg->dirty);
  heap->counters.zeroed_bytes += seg->dirty;
  seg->dirty = 0; /* all of it counts as written again when it comes back */
  return p;
}

/* The lent chunk or block that starts at p, or NULL. */
static samm__segment *lent_chunk(const samm_heap *heap, const void *p) {
  samm__segment *seg = samm__segmap_find(&heap->map, p);
  if (seg == NULL || seg->base != p || seg->lend_ticket == 0) return NULL;
  return seg;
}

uint64_t samm_chunk_ticket(const samm_heap *heap, const void *chunk) {
  const samm__segment *seg = lent_chunk(heap, chunk);
  return seg == NULL ? 0 : seg->lend_ticket;
}

int samm_chunk_return(samm_heap *heap, void *chunk, uint64_t ticket) {
  samm__segment *seg = lent_chunk(heap, chunk);
  if (seg == NULL || seg->lend_ticket != ticket) {
    heap->counters.invalid_frees++;
    return heap->last_error = SAMM_EBAD_POINTER;
  }
  seg->lend_ticket = 0;
  samm__seg_list_remove(&heap->lent, seg);
  heap->bump.in_use -= seg->size;
  samm__poison(heap, seg->base, seg->size);
  seg->dirty = seg->size; /* the borrower could write all of it */
  if (seg->kind == SAMM__SEG_BUMP_LARGE)
    samm__large_put(heap, seg);
  else
    samm__chunk_put(heap, seg);
  if (SAMM__UNLIKELY(heap->cfg.debug >= 2) && samm_heap_check(heap) != SAMM_EOK)
    return heap->last_error = SAMM_ECORRUPT;
  return SAMM_EOK;
}

/* Releases everything the scope owns. post: s is on no list. */
static void scope_release(samm_scope *s) {
  samm_heap *heap = s->heap;
  samm__segment *seg;
  while ((seg = samm__seg_list_pop(&s->chunks)) != NULL) {
    heap->bump.in_use -= seg->size;
    if (seg->kind == SAMM__SEG_BUMP_LARGE) {
      size_t asked = seg->u.large.asked;
      samm__poison(heap, seg->base, asked);
      if (seg->dirty < asked) seg->dirty = asked;
      samm__large_put(heap, seg);
    } else {
      samm__poison(heap, seg->base, seg->size);
      seg->dirty = seg->size;
      samm__seg_list_push(&heap->pool, seg);
    }
  }
  heap->bump.allocs += s->head.allocs;
  heap->bump.frees += s->head.allocs;
  if (s->prev != NULL)
    s->prev->next = s->next;
  else
    heap->open_scopes = s->next;
  if (s->next != NULL) s->next->prev = s->prev;
  s->open = false;
  memset(&s->head, 0, sizeof s->head);
  s->base = NULL;
  s->retired = 0;
}

int samm_scope_close(samm_scope *s) {
  samm_heap *heap = s->heap;
  if (!s->open) {
    heap->last_error = SAMM_ESCOPE_CLOSED;
    return SAMM_ESCOPE_CLOSED;
  }
  scope_release(s);
  heap->counters.scopes_closed++;
  s->next = heap->free_scopes;
  s->prev = NULL;
  heap->free_scopes = s;
  if (SAMM__UNLIKELY(heap->cfg.debug >= 2) && samm_heap_check(heap) != SAMM_EOK)
    return heap->last_error = SAMM_ECORRUPT;
  return SAMM_EOK;
}

void samm__bump_destroy(samm_heap *heap) {
  while (heap->open_scopes != NULL) {
    samm_scope *s = heap->open_scopes;
    scope_release(s);
    free(s);
  }
  while (heap->free_scopes != NULL) {
    samm_scope *s = heap->free_scopes;
    heap->free_scopes = s->next;
    free(s);
  }
  samm__segment *seg;
  while ((seg = samm__seg_list_pop(&heap->lent)) != NULL) {
    heap->bump.in_use -= seg->size;
    samm__segment_release(heap, seg);
  }
  samm__pool_trim(heap, 0);
  samm__large_destroy(heap);
}

void samm__bump_stats(const samm_heap *heap, samm_arena_stats *out) {
  *out = heap->bump;
  for (const samm_scope *s = heap->open_scopes; s != NULL; s = s->next)
    out->allocs += s->head.allocs;
}

int samm__bump_check(const samm_heap *heap) {
  uint64_t reserved = 0, committed = 0, in_use = 0, large = 0;
  for (const samm_scope *s = heap->open_scopes; s != NULL; s = s->next) {
    if (!s->open || s->heap != heap) return SAMM_ECORRUPT;
    size_t counted = 0, owned = 0;
    for (const samm__segment *seg = s->chunks.head; seg != NULL; seg = seg->next) {
      if (seg->kind != SAMM__SEG_CHUNK && seg->kind != SAMM__SEG_BUMP_LARGE)
        return SAMM_ECORRUPT;
      if (seg->arena != &heap->bump) return SAMM_ECORRUPT;
      if (seg->kind == SAMM__SEG_BUMP_LARGE) {
        if (seg->u.large.cached || seg->u.large.asked > seg->size) return SAMM_ECORRUPT;
        large += seg->size;
      }
      reserved += seg->size;
      committed += seg->committed;
      owned += seg->size;
      in_use += seg->size;
      counted++;
    }
    if (counted != s->chunks.count || samm_scope_used(s) > owned) return SAMM_ECORRUPT;
    if (s->chunks.head != NULL && s->head.cursor != NULL) {
      /* The cursor lies in the newest chunk. */
      const samm__segment *cur = s->chunks.head;
      while (cur != NULL && cur->kind != SAMM__SEG_CHUNK) cur = cur->next;
      if (cur == NULL || s->base != cur->base || s->head.cursor < cur->base ||
          s->head.end != cur->base + cur->size || s->head.cursor > s->head.end)
        return SAMM_ECORRUPT;
    }
  }
  for (const samm__segment *seg = heap->pool.head; seg != NULL; seg = seg->next) {
    if (seg->kind != SAMM__SEG_CHUNK || seg->arena != &heap->bump) return SAMM_ECORRUPT;
    reserved += seg->size;
    committed += seg->committed;
  }
  size_t lent = 0;
  for (const samm__segment *seg = heap->lent.head; seg != NULL; seg = seg->next) {
    if ((seg->kind != SAMM__SEG_CHUNK && seg->kind != SAMM__SEG_BUMP_LARGE) ||
        seg->arena != &heap->bump || seg->lend_ticket == 0 || seg->lend_ticket > heap->last_ticket)
      return SAMM_ECORRUPT;
    if (seg->kind == SAMM__SEG_BUMP_LARGE) {
      if (seg->u.large.cached) return SAMM_ECORRUPT;
      large += seg->size;
    }
    reserved += seg->size;
    committed += seg->committed;
    in_use += seg->size;
    lent++;
  }
  if (lent != heap->lent.count) return SAMM_ECORRUPT;
  /* The large-block cache checks itself (samm__large_check). */
  for (const samm__segment *seg = heap->large_pool.head; seg != NULL; seg = seg->next) {
    reserved += seg->size;
    committed += seg->committed;
  }
  if (large != heap->large_in_use) return SAMM_ECORRUPT;
  if (reserved != heap->bump.reserved || committed != heap->bump.committed ||
      in_use != heap->bump.in_use)
    return SAMM_ECORRUPT;
  return SAMM_EOK;
}
