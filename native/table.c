/* table.c: lookups in the baked table. The table itself is generated
 * (native/table/) and const; nothing here writes. */
#include "internal.h"

extern const samm_table samm__baked_table;

const samm_table *samm_table_get(void) { return &samm__baked_table; }

uint32_t samm_site_id(const char *name, size_t len) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; i++) {
    h ^= (uint8_t)name[i];
    h *= 16777619u;
  }
  return h;
}

samm_class samm_table_select(const samm_table *t, uint32_t site_id, size_t size) {
  /* Lower bound of site_id among the rows. */
  size_t lo = 0, hi = t->row_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t->rows[mid].site_id < site_id)
      lo = mid + 1;
    else
      hi = mid;
  }
  unsigned lg = size ? 63u - (unsigned)__builtin_clzll((unsigned long long)size) : 0;
  for (size_t i = lo; i < t->row_count && t->rows[i].site_id == site_id; i++) {
    const samm_table_row *r = &t->rows[i];
    if (lg >= r->size_log2_min && lg <= r->size_log2_max) return (samm_class)r->cls;
  }
  return SAMM_HEAP;
}

samm_class samm_select(uint32_t site_id, size_t size) {
  return samm_table_select(&samm__baked_table, site_id, size);
}
