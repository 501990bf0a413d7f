/* segmap.c: granule number -> segment, for every granule a heap has mapped.
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones), load kept at or below one half. Owned by one heap.
 */
#include "internal.h"

#include <stdlib.h>

#define SEGMAP_MIN_CAPACITY 256

int samm__segmap_init(samm__segmap *map) {
  map->slots = calloc(SEGMAP_MIN_CAPACITY, sizeof *map->slots);
  if (map->slots == NULL) return SAMM_ENOMEM;
  map->mask = SEGMAP_MIN_CAPACITY - 1;
  map->count = 0;
  return SAMM_EOK;
}

void samm__segmap_destroy(samm__segmap *map) {
  free(map->slots);
  map->slots = NULL;
}

static void insert(samm__segmap *map, uintptr_t g, samm__segment *seg) {
  size_t i = samm__segmap_home(g, map->mask);
  while (map->slots[i].granule != 0) i = (i + 1) & map->mask;
  map->slots[i].granule = g;
  map->slots[i].seg = seg;
  map->count++;
}

static int grow(samm__segmap *map, size_t need) {
  size_t cap = map->mask + 1;
  while (need * 2 > cap) cap *= 2;
  if (cap == map->mask + 1) return SAMM_EOK;
  samm__segmap_entry *old = map->slots;
  size_t old_cap = map->mask + 1;
  samm__segmap_entry *slots = calloc(cap, sizeof *slots);
  if (slots == NULL) return SAMM_ENOMEM;
  map->slots = slots;
  map->mask = cap - 1;
  map->count = 0;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].granule != 0) insert(map, old[i].granule, old[i].seg);
  free(old);
  return SAMM_EOK;
}

int samm__segmap_add(samm__segmap *map, samm__segment *seg) {
  size_t n = seg->size >> SAMM__GRANULE_SHIFT;
  if (grow(map, map->count + n) != SAMM_EOK) return SAMM_ENOMEM;
  uintptr_t g = (uintptr_t)seg->base >> SAMM__GRANULE_SHIFT;
  for (size_t k = 0; k < n; k++) insert(map, g + k, seg);
  return SAMM_EOK;
}

static void remove_one(samm__segmap *map, uintptr_t g) {
  size_t i = samm__segmap_home(g, map->mask);
  while (map->slots[i].granule != g) {
    if (map->slots[i].granule == 0) return;
    i = (i + 1) & map->mask;
  }
  /* Shift later members of the probe run back into the hole. */
  size_t hole = i;
  for (size_t j = (i + 1) & map->mask; map->slots[j].granule != 0;
       j = (j + 1) & map->mask) {
    size_t home = samm__segmap_home(map->slots[j].granule, map->mask);
    /* j may move to hole when its home is not in (hole, j] cyclically. */
    bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (stays) continue;
    map->slots[hole] = map->slots[j];
    hole = j;
  }
  map->slots[hole].granule = 0;
  map->slots[hole].seg = NULL;
  map->count--;
}

void samm__segmap_remove(samm__segmap *map, samm__segment *seg) {
  samm__segmap_remove_range(map, seg->base, seg->size);
}

void samm__segmap_remove_range(samm__segmap *map, const void *base, size_t size) {
  size_t n = size >> SAMM__GRANULE_SHIFT;
  uintptr_t g = (uintptr_t)base >> SAMM__GRANULE_SHIFT;
  for (size_t k = 0; k < n; k++) remove_one(map, g + k);
}

void samm__segmap_set(samm__segmap *map, const void *base, size_t size, samm__segment *seg) {
  size_t n = size >> SAMM__GRANULE_SHIFT;
  uintptr_t g = (uintptr_t)base >> SAMM__GRANULE_SHIFT;
  for (size_t k = 0; k < n; k++) {
    size_t i = samm__segmap_home(g + k, map->mask);
    while (map->slots[i].granule != g + k) i = (i + 1) & map->mask;
    map->slots[i].seg = seg;
  }
}
