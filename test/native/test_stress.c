/* Seeded random operation sequences checked against a reference model:
 * live blocks never overlap, alignment holds, every block keeps its cookie
 * until it is released, invalid frees are refused, and the stats equal the
 * model's counts. Scale: SAMM_STRESS_OPS (default 200000). */
#include "helpers.h"

#include <stdio.h>

typedef struct blk {
  uint8_t *p;
  size_t n;
  uint32_t cookie;
  int scope; /* -1: medium/long */
  samm_class cls;
} blk;

enum { MAX_BLOCKS = 4096, MAX_SCOPES = 8 };

typedef struct model {
  blk b[MAX_BLOCKS];
  size_t count;
  samm_scope *scopes[MAX_SCOPES];
  uint64_t rng;
  uint64_t heap_allocs, heap_frees, scope_allocs;
  uint64_t opened, closed;
  bool limit_lowered; /* below what was committed: allowed to stay above */
} model;

static uint32_t next(model *m) {
  m->rng ^= m->rng << 13;
  m->rng ^= m->rng >> 7;
  m->rng ^= m->rng << 17;
  return (uint32_t)(m->rng >> 16);
}

static size_t pick_size(model *m) {
  switch (next(m) % 10) {
    case 0: return next(m) % 300000;          /* up to several chunks */
    case 1: case 2: return next(m) % 40000;
    default: return next(m) % 600;
  }
}

static void stamp(blk *b) {
  /* Cookie in the first and last 8 bytes (whole block if small). */
  size_t k = b->n < 16 ? b->n / 2 : 8;
  for (size_t i = 0; i < k; i++) {
    b->p[i] = (uint8_t)(b->cookie >> (i % 4 * 8));
    b->p[b->n - 1 - i] = (uint8_t)(b->cookie >> (i % 4 * 8)) ^ 0xFF;
  }
}

static void verify(const blk *b) {
  size_t k = b->n < 16 ? b->n / 2 : 8;
  for (size_t i = 0; i < k; i++) {
    assert_int_equal(b->p[i], (uint8_t)(b->cookie >> (i % 4 * 8)));
    assert_int_equal(b->p[b->n - 1 - i], (uint8_t)((b->cookie >> (i % 4 * 8)) ^ 0xFF));
  }
}

static int by_addr(const void *x, const void *y) {
  const blk *a = x, *b = y;
  return a->p < b->p ? -1 : a->p > b->p;
}

static void check_no_overlap(model *m) {
  blk *sorted = malloc(m->count * sizeof *sorted);
  memcpy(sorted, m->b, m->count * sizeof *sorted);
  qsort(sorted, m->count, sizeof *sorted, by_addr);
  for (size_t i = 0; i + 1 < m->count; i++)
    if (sorted[i].n) assert_true(sorted[i].p + sorted[i].n <= sorted[i + 1].p);
  free(sorted);
}

static void drop(model *m, size_t i) { m->b[i] = m->b[--m->count]; }

static void close_scope(model *m, samm_heap *h, int s) {
  for (size_t i = 0; i < m->count;) {
    if (m->b[i].scope == s) {
      verify(&m->b[i]);
      drop(m, i);
    } else {
      i++;
    }
  }
  assert_int_equal(samm_scope_close(m->scopes[s]), SAMM_EOK);
  m->scopes[s] = NULL;
  m->closed++;
  (void)h;
}

static void check_stats(model *m, samm_heap *h) {
  samm_stats s = stats_of(h);
  uint64_t in_use = 0;
  for (size_t i = 0; i < m->count; i++)
    if (m->b[i].scope < 0) in_use += samm_usable_size(h, m->b[i].p);
  assert_int_equal(s.slab.in_use + s.region.in_use, in_use);
  assert_int_equal(s.slab.allocs + s.region.allocs, m->heap_allocs);
  assert_int_equal(s.slab.frees + s.region.frees, m->heap_frees);
  assert_int_equal(s.bump.allocs, m->scope_allocs);
  assert_int_equal(s.scopes_opened, m->opened);
  assert_int_equal(s.scopes_closed, m->closed);
  if (s.committed <= s.max_bytes) m->limit_lowered = false;
  assert_true(s.committed <= s.max_bytes || m->limit_lowered);
  assert_true(s.committed <= s.reserved);
}

static void run(uint64_t seed, uint64_t ops) {
  model *m = calloc(1, sizeof *m);
  m->rng = seed;
  fault_os f;
  fault_os_init(&f);
  samm_heap *h = heap_with(&f, 64 << 20);
  for (uint64_t op = 0; op < ops; op++) {
    uint32_t r = next(m) % 100;
    if (r < 5) { /* open a scope */
      int s = (int)(next(m) % MAX_SCOPES);
      if (m->scopes[s] == NULL) {
        m->scopes[s] = samm_scope_open(h);
        assert_non_null(m->scopes[s]);
        m->opened++;
      }
    } else if (r < 9) { /* close a scope */
      int s = (int)(next(m) % MAX_SCOPES);
      if (m->scopes[s] != NULL) close_scope(m, h, s);
    } else if (r < 55 && m->count < MAX_BLOCKS) { /* allocate */
      blk b = {0};
      b.n = pick_size(m);
      b.cookie = next(m);
      int s = (int)(next(m) % MAX_SCOPES);
      if (r < 30 && m->scopes[s] != NULL) {
        b.scope = s;
        b.cls = SAMM_SHORT;
        b.p = samm_scope_alloc(m->scopes[s], b.n);
        if (b.p) m->scope_allocs++;
      } else {
        b.scope = -1;
        b.cls = next(m) % 2 ? SAMM_MEDIUM : SAMM_LONG;
        b.p = samm_alloc(h, b.cls, b.n);
        if (b.p) m->heap_allocs++;
      }
      if (b.p == NULL) {
        assert_int_equal(samm_heap_last_error(h), SAMM_ELIMIT);
        continue;
      }
      assert_int_equal((uintptr_t)b.p % SAMM_ALIGNMENT, 0);
      stamp(&b);
      m->b[m->count++] = b;
    } else if (r < 90 && m->count > 0) { /* free, or try to */
      size_t i = next(m) % m->count;
      blk b = m->b[i];
      verify(&b);
      if (b.scope >= 0) {
        assert_int_equal(samm_free(h, b.p), SAMM_EWRONG_ARENA);
        continue;
      }
      assert_int_equal(samm_free(h, b.p), SAMM_EOK);
      m->heap_frees++;
      drop(m, i);
      /* Right away, the same pointer again is a double free. */
      int again = samm_free(h, b.p);
      assert_true(again == SAMM_EDOUBLE_FREE || again == SAMM_EBAD_POINTER);
    } else if (r < 92) {
      samm_collect(h);
    } else if (r < 93) { /* budget changes */
      uint64_t limit = (uint64_t)(8 + next(m) % 120) << 20;
      assert_int_equal(samm_heap_set_limit(h, limit), SAMM_EOK);
      if (stats_of(h).committed > limit) m->limit_lowered = true;
    } else if (r < 94 && m->count > 0) { /* interior pointer */
      blk *b = &m->b[next(m) % m->count];
      if (b->scope < 0 && b->n > 32) {
        int e = samm_free(h, b->p + 16);
        assert_true(e == SAMM_EBAD_POINTER || e == SAMM_EDOUBLE_FREE);
      }
    }
    if (op % 997 == 0) {
      assert_heap_valid(h);
      check_stats(m, h);
    }
    if (op % 9973 == 0) check_no_overlap(m);
  }
  for (size_t i = 0; i < m->count; i++) verify(&m->b[i]);
  check_no_overlap(m);
  assert_heap_valid(h);
  check_stats(m, h);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
  free(m);
}

static void random_sequences_match_the_model(void **state) {
  (void)state;
  uint64_t ops = env_scale("SAMM_STRESS_OPS", 200000);
  uint64_t seed = env_scale("SAMM_STRESS_SEED", 0x5EED);
  for (uint64_t k = 0; k < 4; k++) {
    printf("# stress seed %llu, %llu operations\n", (unsigned long long)(seed + k),
           (unsigned long long)(ops / 4));
    run(seed + k, ops / 4);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(random_sequences_match_the_model),
  };
  return cmocka_run_group_tests_name("stress", tests, NULL, NULL);
}
