/* large.c: blocks larger than a chunk - a scope allocation of its own, or a
 * block lent whole (the spans and large allocations of the JavaScript
 * scopes) - and the cache through which later requests reuse them instead
 * of mapping fresh pages and faulting every one of them in again.
 *
 * A block is a segment of kind SAMM__SEG_BUMP_LARGE, a whole number of
 * granules. A block coming back stays mapped, in the cache: merged with
 * cached neighbours (the segment map finds them in O(1)), kept on a list
 * newest first and in size bins. A request takes the best fit - the
 * smallest cached block at least as large, found through the bins - and
 * splits off what it does not need, so a block is as large as asked up to
 * the granule (64 KiB), and cached memory serves any size up to its largest
 * run.
 *
 * How much stays cached follows demand. large_peak is the peak of
 * large_in_use, decaying by half every decay_ms; in use and cached, large
 * blocks keep at most allowance(large_peak) resident (a quarter more than
 * the peak: room in which blocks of mixed sizes fit), so a steady load finds
 * its memory resident, and as demand falls the least recently freed memory
 * goes back to the OS. The decay is applied when a block is taken or comes
 * back (from a coarse clock: no system call) and at samm_collect. When no
 * cached block fits, fresh pages fill the allowance; past it, or past the
 * budget, the pages of cached blocks are moved into the new block. The
 * budget bounds all of it: a charge that does not fit takes what it misses
 * from the cache (segment.c).
 *
 * Each block remembers the prefix that may hold old data (dirty): fresh
 * mappings read zero, so a zeroed lend clears only that prefix.
 *
 * Threading: the heap's thread only.
 */
#include "internal.h"

#include <stdlib.h>

/* 2^-(k/16) in 1/65536ths: one sixteenth of a half-life of decay each. */
static const uint32_t decay_frac[16] = {65536, 62757, 60097, 57549, 55109, 52773,
                                        50535, 48393, 46341, 44376, 42495, 40693,
                                        38968, 37316, 35734, 34219};

/* Size bins over granule counts g: exact below 8, then four per power of
 * two. Bins grow with the size, so every block of a bin above g's fits g. */
static unsigned bin_of(size_t size) {
  uint64_t g = size >> SAMM__GRANULE_SHIFT;
  if (g < 8) return (unsigned)g;
  unsigned fl = 63u - (unsigned)__builtin_clzll(g);
  unsigned b = 8 + (fl - 3) * 4 + (unsigned)((g >> (fl - 2)) & 3);
  return b < SAMM__LARGE_BINS ? b : SAMM__LARGE_BINS - 1;
}

static void bin_insert(samm_heap *heap, samm__segment *seg) {
  unsigned b = bin_of(seg->size);
  samm__large_block *l = &seg->u.large;
  l->bin = (uint8_t)b;
  l->bin_prev = NULL;
  l->bin_next = heap->large_bins[b];
  if (l->bin_next != NULL) l->bin_next->u.large.bin_prev = seg;
  heap->large_bins[b] = seg;
  heap->large_bitmap[b >> 6] |= UINT64_C(1) << (b & 63);
}

static void bin_remove(samm_heap *heap, samm__segment *seg) {
  samm__large_block *l = &seg->u.large;
  if (l->bin_prev != NULL)
    l->bin_prev->u.large.bin_next = l->bin_next;
  else
    heap->large_bins[l->bin] = l->bin_next;
  if (l->bin_next != NULL) l->bin_next->u.large.bin_prev = l->bin_prev;
  if (heap->large_bins[l->bin] == NULL)
    heap->large_bitmap[l->bin >> 6] &= ~(UINT64_C(1) << (l->bin & 63));
  l->bin_next = l->bin_prev = NULL;
}

/* Puts seg in the cache, on the list right after `newer` (NULL: first). */
static void cache_insert(samm_heap *heap, samm__segment *seg, samm__segment *newer) {
  seg->u.large.cached = true;
  seg->u.large.asked = 0;
  if (newer == NULL) {
    samm__seg_list_push(&heap->large_pool, seg);
  } else {
    seg->prev = newer;
    seg->next = newer->next;
    if (seg->next != NULL) seg->next->prev = seg;
    newer->next = seg;
    heap->large_pool.count++;
  }
  bin_insert(heap, seg);
  heap->large_pool_bytes += seg->size;
}

static void cache_remove(samm_heap *heap, samm__segment *seg) {
  samm__seg_list_remove(&heap->large_pool, seg);
  bin_remove(heap, seg);
  seg->u.large.cached = false;
  heap->large_pool_bytes -= seg->size;
}

/* The cached block holding p, or NULL. */
static samm__segment *cached_at(const samm_heap *heap, const void *p) {
  samm__segment *seg = samm__segmap_find(&heap->map, p);
  return seg != NULL && seg->kind == SAMM__SEG_BUMP_LARGE && seg->u.large.cached ? seg : NULL;
}

/* The smallest cached block of at least size bytes, or NULL. */
static samm__segment *best_fit(const samm_heap *heap, size_t size) {
  unsigned b = bin_of(size);
  samm__segment *best = NULL;
  for (samm__segment *s = heap->large_bins[b]; s != NULL; s = s->u.large.bin_next)
    if (s->size >= size && (best == NULL || s->size < best->size)) best = s;
  if (best != NULL) return best;
  /* Any block of a higher bin fits: the smallest of the first non-empty one. */
  for (unsigned w = (b + 1) >> 6; w < 2; w++) {
    uint64_t bits = heap->large_bitmap[w];
    if (w == (b + 1) >> 6) bits &= ~UINT64_C(0) << ((b + 1) & 63);
    if (bits == 0) continue;
    unsigned nb = w * 64 + (unsigned)__builtin_ctzll(bits);
    for (samm__segment *s = heap->large_bins[nb]; s != NULL; s = s->u.large.bin_next)
      if (best == NULL || s->size < best->size) best = s;
    return best;
  }
  return NULL;
}

/* Takes size bytes from the start of cached block run. What is left stays
 * cached, in run's place on the list. Returns the block taken, out of the
 * cache (the whole of run when no descriptor can be allocated for a split). */
static samm__segment *carve(samm_heap *heap, samm__segment *run, size_t size) {
  samm__segment *newer = run->prev;
  cache_remove(heap, run);
  if (run->size == size) return run;
  samm__segment *other = malloc(sizeof *other);
  if (other == NULL) return run;
  *other = *run;
  uint8_t *base = run->base;
  size_t rest = run->size - size, dirty = run->dirty;
  /* The new descriptor takes the smaller part: fewer map entries to move. */
  samm__segment *taken = size <= rest ? other : run;
  samm__segment *left = taken == other ? run : other;
  taken->base = base;
  taken->size = taken->committed = size;
  taken->dirty = dirty < size ? dirty : size;
  left->base = base + size;
  left->size = left->committed = rest;
  left->dirty = dirty > size ? dirty - size : 0;
  taken->next = taken->prev = left->next = left->prev = NULL;
  samm__segmap_set(&heap->map, other->base, other->size, other);
  cache_insert(heap, left, newer);
  return taken;
}

/* Joins a and b (a ends where b starts, both out of the cache) into one
 * block; returns it. */
static samm__segment *merge(samm_heap *heap, samm__segment *a, samm__segment *b) {
  samm__segment *keep = a->size >= b->size ? a : b;
  samm__segment *gone = keep == a ? b : a;
  size_t dirty = b->dirty > 0 ? a->size + b->dirty : a->dirty;
  samm__segmap_set(&heap->map, gone->base, gone->size, keep);
  keep->base = a->base;
  keep->size = a->size + b->size;
  keep->committed = a->committed + b->committed;
  keep->dirty = dirty;
  free(gone);
  return keep;
}

/* What large blocks may keep resident, in use and cached, for a peak of
 * demand: the peak and a quarter more, room in which blocks of mixed sizes
 * find a fit without moving pages. */
static uint64_t allowance(uint64_t peak) { return peak + (peak >> 2); }

static uint64_t cache_target(const samm_heap *heap) {
  if (heap->cfg.decay_ms == 0) return 0; /* no memory of demand: no cache */
  uint64_t keep = allowance(heap->large_peak);
  return keep > heap->large_in_use ? keep - heap->large_in_use : 0;
}

/* Caches seg (out of every list), merged with its cached neighbours. */
static void cache_put(samm_heap *heap, samm__segment *seg) {
  if (seg->keep_mapped) {
    /* Memory someone may still read (samm_heap_keep_mapped): never reused,
     * merged, moved or unmapped; the heap forgets it. */
    samm__segment_release(heap, seg);
    return;
  }
  samm__segment *left = cached_at(heap, seg->base - 1);
  samm__segment *right = cached_at(heap, seg->base + seg->size);
  if (left != NULL) {
    cache_remove(heap, left);
    seg = merge(heap, left, seg);
  }
  if (right != NULL) {
    cache_remove(heap, right);
    seg = merge(heap, seg, right);
  }
  cache_insert(heap, seg, NULL);
}

/* The largest cached block. pre: the cache is not empty. */
static samm__segment *largest(const samm_heap *heap) {
  unsigned b = heap->large_bitmap[1] != 0 ? 127u - (unsigned)__builtin_clzll(heap->large_bitmap[1])
                                          : 63u - (unsigned)__builtin_clzll(heap->large_bitmap[0]);
  samm__segment *best = heap->large_bins[b];
  for (samm__segment *s = best; s != NULL; s = s->u.large.bin_next)
    if (s->size > best->size) best = s;
  return best;
}

/* A new block of size bytes when no cached block is large enough and the
 * allowance or the budget has no room for fresh pages: a fresh mapping
 * into which the pages of cached blocks are moved, largest first, as far
 * as they go (page table entries move; nothing is copied or faulted in,
 * and the resident total stays the same). Pages no cached block covers are
 * fresh. NULL with last_error set. */
static samm__segment *assemble(samm_heap *heap, size_t size) {
  samm__segment *pieces = NULL, **tail = &pieces;
  size_t got = 0;
  while (heap->os.move != NULL && got < size && heap->large_pool_bytes > 0) {
    size_t want = size - got;
    samm__segment *run = largest(heap);
    samm__segment *piece = carve(heap, run->size > want ? best_fit(heap, want) : run,
                                 run->size > want ? want : run->size);
    if (piece->size > want) { /* no descriptor for a split: stop here */
      cache_put(heap, piece);
      break;
    }
    /* Its pages are about to belong to the new block: counted there. */
    heap->committed -= piece->committed;
    heap->bump.committed -= piece->committed;
    piece->committed = 0;
    piece->next = NULL;
    *tail = piece;
    tail = &piece->next;
    got += piece->size;
  }
  samm__segment *seg = samm__segment_new(heap, SAMM__SEG_BUMP_LARGE, &heap->bump, size, size);
  samm__segment *piece;
  if (seg == NULL) {
    /* Back to the cache as they were: that fitted the budget before. */
    while ((piece = pieces) != NULL) {
      pieces = piece->next;
      piece->committed = piece->size;
      heap->committed += piece->size;
      heap->bump.committed += piece->size;
      cache_put(heap, piece);
    }
    return NULL;
  }
  heap->counters.large_maps++;
  size_t off = 0;
  bool whole = true;
  while ((piece = pieces) != NULL) {
    pieces = piece->next;
    samm__segmap_remove(&heap->map, piece);
    heap->reserved -= piece->size;
    heap->bump.reserved -= piece->size;
    if (whole && samm__os_move(&heap->os, piece->base, piece->size, seg->base + off) == 0) {
      if (piece->dirty > 0) seg->dirty = off + piece->dirty;
      heap->counters.large_moved_bytes += piece->size;
    } else {
      /* A failed move may have dropped the destination's pages first
       * (Linux unmaps it before it checks the source: a source of several
       * mappings fails there), leaving a hole another mapping could take.
       * The block is given up, and this piece and the rest with it. */
      whole = false;
      samm__os_unmap(&heap->os, piece->base, piece->size);
    }
    off += piece->size;
    free(piece);
  }
  if (!whole) {
    samm__segment_release(heap, seg);
    seg = samm__segment_new(heap, SAMM__SEG_BUMP_LARGE, &heap->bump, size, size);
    if (seg == NULL) return NULL;
    off = 0;
  }
  heap->counters.large_fresh_bytes += size - off;
  return seg;
}

/* Decays large_peak by the time passed since the last call, never below
 * large_in_use (which has not changed since). */
static void decay_peak(samm_heap *heap) {
  uint64_t half = heap->cfg.decay_ms;
  if (half == 0) {
    heap->large_peak = heap->large_in_use;
    return;
  }
  uint64_t now = samm__os_now_ms(&heap->os);
  uint64_t step = half >= 16 ? half / 16 : 1;
  if (now < heap->large_decay_at) heap->large_decay_at = now; /* a clock set back */
  uint64_t steps = (now - heap->large_decay_at) / step;
  if (steps > 0) {
    heap->large_decay_at += steps * step;
    uint64_t halvings = steps / 16;
    uint64_t peak = halvings >= 64 ? 0 : heap->large_peak >> halvings;
    heap->large_peak = (peak * decay_frac[steps % 16]) >> 16;
  }
  if (heap->large_peak < heap->large_in_use) heap->large_peak = heap->large_in_use;
}

samm__segment *samm__large_get(samm_heap *heap, size_t size) {
  /* Time decays the peak as it was (demand was large_in_use until now),
   * not the raise this block may bring. */
  decay_peak(heap);
  samm__segment *seg = best_fit(heap, size);
  if (seg != NULL) {
    seg = carve(heap, seg, size);
  } else {
    /* Fresh pages while the allowance and the budget have room for them:
     * the cache then grows into room in which later blocks fit. Moving
     * cached pages instead keeps resident memory where it is, but a moved
     * page costs more than one reused in place (on virtual machines with
     * shadow page tables, about as much as a fresh one). */
    uint64_t demand = heap->large_in_use + size;
    uint64_t peak = demand > heap->large_peak ? demand : heap->large_peak;
    bool grow = demand + heap->large_pool_bytes <= allowance(peak) &&
                heap->committed + size <= heap->cfg.max_bytes;
    if (grow) {
      seg = samm__segment_new(heap, SAMM__SEG_BUMP_LARGE, &heap->bump, size, size);
      if (seg != NULL) {
        heap->counters.large_maps++;
        heap->counters.large_fresh_bytes += size;
      }
    } else {
      seg = assemble(heap, size);
    }
  }
  if (seg == NULL) return NULL;
  memset(&seg->u.large, 0, sizeof seg->u.large);
  heap->large_in_use += seg->size;
  if (heap->large_in_use > heap->large_peak) heap->large_peak = heap->large_in_use;
  samm__large_trim(heap, cache_target(heap));
  return seg;
}

void samm__large_put(samm_heap *heap, samm__segment *seg) {
  /* Demand was large_in_use, this block included, until now. */
  decay_peak(heap);
  heap->large_in_use -= seg->size;
  if (heap->cfg.decay_ms == 0) heap->large_peak = heap->large_in_use;
  cache_put(heap, seg);
  samm__large_trim(heap, cache_target(heap));
}

void samm__large_trim(samm_heap *heap, uint64_t keep) {
  if (heap->large_pool_bytes <= keep) return;
  samm__segment *oldest = heap->large_pool.head; /* newest first: walk to the tail once */
  while (oldest->next != NULL) oldest = oldest->next;
  while (heap->large_pool_bytes > keep) {
    uint64_t excess = heap->large_pool_bytes - keep;
    size_t cut = samm__align_up((size_t)excess, SAMM__GRANULE);
    if (cut < oldest->size) {
      /* Give back the part of it that is too much, in whole granules. */
      bin_remove(heap, oldest);
      samm__segment_shrink(heap, oldest, oldest->size - cut);
      bin_insert(heap, oldest);
      heap->large_pool_bytes -= cut;
      return;
    }
    samm__segment *newer = oldest->prev;
    cache_remove(heap, oldest);
    samm__segment_release(heap, oldest);
    oldest = newer;
  }
}

void samm__large_decay(samm_heap *heap) {
  decay_peak(heap);
  samm__large_trim(heap, cache_target(heap));
}

void samm__large_destroy(samm_heap *heap) { samm__large_trim(heap, 0); }

int samm__large_check(const samm_heap *heap) {
  uint64_t bytes = 0;
  size_t count = 0;
  const samm__segment *newer = NULL;
  for (const samm__segment *seg = heap->large_pool.head; seg != NULL; seg = seg->next) {
    const samm__large_block *l = &seg->u.large;
    if (seg->kind != SAMM__SEG_BUMP_LARGE || seg->arena != &heap->bump || !l->cached ||
        seg->lend_ticket != 0 || seg->committed != seg->size || seg->dirty > seg->size ||
        l->bin != bin_of(seg->size) || seg->prev != newer || seg->size % SAMM__GRANULE != 0)
      return SAMM_ECORRUPT;
    /* Registered over its whole range, and never beside another cached
     * block: those are merged when they come back. */
    if (samm__segmap_find(&heap->map, seg->base) != seg ||
        samm__segmap_find(&heap->map, seg->base + seg->size - 1) != seg ||
        cached_at(heap, seg->base - 1) != NULL || cached_at(heap, seg->base + seg->size) != NULL)
      return SAMM_ECORRUPT;
    bytes += seg->size;
    count++;
    newer = seg;
  }
  if (count != heap->large_pool.count || bytes != heap->large_pool_bytes) return SAMM_ECORRUPT;
  size_t binned = 0;
  for (unsigned b = 0; b < SAMM__LARGE_BINS; b++) {
    bool bit = (heap->large_bitmap[b >> 6] >> (b & 63)) & 1;
    if (bit != (heap->large_bins[b] != NULL)) return SAMM_ECORRUPT;
    const samm__segment *prev = NULL;
    for (const samm__segment *seg = heap->large_bins[b]; seg != NULL; seg = seg->u.large.bin_next) {
      if (!seg->u.large.cached || seg->u.large.bin != b || seg->u.large.bin_prev != prev)
        return SAMM_ECORRUPT;
      prev = seg;
      if (++binned > count) return SAMM_ECORRUPT;
    }
  }
  /* The cache never holds more than the decayed peak leaves room for. */
  if (binned != count || heap->large_peak < heap->large_in_use || bytes > cache_target(heap))
    return SAMM_ECORRUPT;
  return SAMM_EOK;
}
