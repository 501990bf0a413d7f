/* stats.c: the JSON form of samm_stats, generated from the field lists. */
#include "internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

typedef struct out {
  char *buf;
  size_t len, need;
} out;

static void put(out *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t room = o->need < o->len ? o->len - o->need : 0;
  int n = vsnprintf(room ? o->buf + o->need : NULL, room, fmt, ap);
  va_end(ap);
  if (n > 0) o->need += (size_t)n;
}

static void put_arena(out *o, const char *name, const samm_arena_stats *a) {
  put(o, "\"%s\":{", name);
  const char *sep = "";
#define SAMM__STAT_JSON(field, desc)                           \
  put(o, "%s\"%s\":%" PRIu64, sep, #field, a->field); \
  sep = ",";
  SAMM_ARENA_STATS(SAMM__STAT_JSON)
#undef SAMM__STAT_JSON
  put(o, "},");
}

size_t samm_stats_json(const samm_stats *s, char *buf, size_t len) {
  out o = {buf, len, 0};
  if (len) buf[0] = '\0';
  put(&o, "{");
  put_arena(&o, "bump", &s->bump);
  put_arena(&o, "slab", &s->slab);
  put_arena(&o, "region", &s->region);
  const char *sep = "";
#define SAMM__STAT_JSON(field, desc)                           \
  put(&o, "%s\"%s\":%" PRIu64, sep, #field, s->field); \
  sep = ",";
  SAMM_HEAP_STATS(SAMM__STAT_JSON)
#undef SAMM__STAT_JSON
  put(&o, "}");
  return o.need;
}
