/* The slab pool (medium lifetimes). */
#include "helpers.h"

static void sizes_get_a_slot_that_fits(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  for (size_t n = 1; n <= 32768; n += (n < 512 ? 1 : 97)) {
    uint8_t *p = samm_alloc(h, SAMM_MEDIUM, n);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % SAMM_ALIGNMENT, 0);
    size_t usable = samm_usable_size(h, p);
    assert_true(usable >= n);
    assert_true(usable <= n + n / 4 + 16); /* classes waste at most a quarter */
    memset(p, 0x5A, usable);
    assert_int_equal(samm_owner(h, p), SAMM_MEDIUM);
    assert_int_equal(samm_free(h, p), SAMM_EOK);
  }
  assert_heap_valid(h);
  assert_int_equal(stats_of(h).slab.in_use, 0);
  samm_heap_destroy(h);
}

static void freed_slot_is_reused_first(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  void *a = samm_alloc(h, SAMM_MEDIUM, 100);
  void *b = samm_alloc(h, SAMM_MEDIUM, 100);
  assert_ptr_not_equal(a, b);
  samm_free(h, a);
  assert_ptr_equal(samm_alloc(h, SAMM_MEDIUM, 100), a);
  samm_heap_destroy(h);
}

static void double_free_and_bad_pointers_are_refused(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  uint8_t *a = samm_alloc(h, SAMM_MEDIUM, 64);
  uint8_t *b = samm_alloc(h, SAMM_MEDIUM, 64);
  memset(b, 3, 64);
  assert_int_equal(samm_free(h, a), SAMM_EOK);
  assert_int_equal(samm_free(h, a), SAMM_EDOUBLE_FREE);
  assert_int_equal(samm_free(h, b + 8), SAMM_EBAD_POINTER);   /* interior */
  assert_int_equal(samm_free(h, b + 64 * 50), SAMM_EBAD_POINTER); /* never handed out */
  assert_int_equal(stats_of(h).invalid_frees, 3);
  /* Nothing changed: b is intact and frees once. */
  for (int i = 0; i < 64; i++) assert_int_equal(b[i], 3);
  assert_heap_valid(h);
  assert_int_equal(samm_free(h, b), SAMM_EOK);
  assert_heap_valid(h);
  samm_heap_destroy(h);
}

static void full_spans_fill_and_drain(void **state) {
  (void)state;
  fault_os f;
  fault_os_init(&f);
  samm_heap *h = heap_with(&f, 0);
  samm_config cfg;
  samm_heap_config(h, &cfg);
  size_t per_span = cfg.chunk_size / 4096, n = per_span * 3 + 5;
  void **p = calloc(n, sizeof *p);
  for (size_t i = 0; i < n; i++) {
    p[i] = samm_alloc(h, SAMM_MEDIUM, 4096);
    assert_non_null(p[i]);
    memcpy(p[i], &i, sizeof i);
  }
  assert_int_equal(stats_of(h).slab.reserved, 4 * cfg.chunk_size);
  assert_heap_valid(h);
  /* Free every other slot, then all: spans move from full to partial. */
  for (size_t i = 0; i < n; i += 2) assert_int_equal(samm_free(h, p[i]), SAMM_EOK);
  assert_heap_valid(h);
  for (size_t i = 1; i < n; i += 2) {
    size_t v;
    memcpy(&v, p[i], sizeof v);
    assert_int_equal(v, i);
    assert_int_equal(samm_free(h, p[i]), SAMM_EOK);
  }
  samm_stats s = stats_of(h);
  assert_int_equal(s.slab.in_use, 0);
  assert_int_equal(s.slab.allocs, n);
  assert_int_equal(s.slab.frees, n);
  assert_int_equal(s.slab.high_water, n * 4096);
  /* Empty spans are returned at collect time. */
  samm_collect(h);
  s = stats_of(h);
  assert_int_equal(s.slab.reserved, 0);
  assert_int_equal(s.slab.committed, 0);
  assert_heap_valid(h);
  free(p);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

static void classes_are_separate(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  uint8_t *p[40];
  for (int c = 0; c < 40; c++) {
    size_t n = (size_t)16 << (c % 12);
    p[c] = samm_alloc(h, SAMM_MEDIUM, n);
    memset(p[c], c, n);
  }
  for (int c = 0; c < 40; c++) {
    size_t n = (size_t)16 << (c % 12);
    for (size_t i = 0; i < n; i++) assert_int_equal(p[c][i], c);
  }
  assert_heap_valid(h);
  samm_heap_destroy(h);
}

static void budget_refuses_new_spans(void **state) {
  (void)state;
  fault_os f;
  fault_os_init(&f);
  samm_heap *h = heap_with(&f, 1 << 20);
  int got = 0;
  void *last = NULL;
  for (void *q; (q = samm_alloc(h, SAMM_MEDIUM, 32768)) != NULL; got++) last = q;
  assert_int_equal(samm_heap_last_error(h), SAMM_ELIMIT);
  assert_int_equal(got, 32);
  samm_free(h, last);
  assert_non_null(samm_alloc(h, SAMM_MEDIUM, 32768));
  assert_heap_valid(h);
  samm_heap_destroy(h);
}

/* A freed slot holds no metadata: a stale write into it (pointers to the
 * stack, into another slot, garbage) changes nothing the heap follows. The
 * walk holds, the next allocations are slots of the span and never the
 * written addresses, and every live slot keeps its bytes. */
static void writes_into_freed_slots_touch_no_metadata(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  uint8_t *live[8];
  for (int i = 0; i < 8; i++) live[i] = memset(samm_alloc(h, SAMM_MEDIUM, 200), i + 1, 200);
  int local = 0;
  void *forged[3] = {&local, live[2] + 8, live[3]};
  assert_int_equal(samm_free(h, live[0]), SAMM_EOK);
  assert_int_equal(samm_free(h, live[5]), SAMM_EOK);
  memcpy(live[0], forged, sizeof forged); /* the stale writes */
  memset(live[5], 0xff, 200);
  assert_int_equal(samm_heap_check(h), SAMM_EOK);
  for (int round = 0; round < 3; round++) {
    uint8_t *p = samm_alloc(h, SAMM_MEDIUM, 200);
    assert_non_null(p);
    assert_true(p != (uint8_t *)&local && p != live[2] + 8 && p != live[3]);
    assert_int_equal(samm_owner(h, p), SAMM_MEDIUM);
    assert_true(samm_usable_size(h, p) >= 200);
    memset(p, 0x77, 200);
    assert_int_equal(samm_heap_check(h), SAMM_EOK);
  }
  for (int i = 1; i < 8; i++) {
    if (i == 5) continue;
    for (int k = 0; k < 200; k++) assert_int_equal(live[i][k], i + 1);
  }
  samm_heap_destroy(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sizes_get_a_slot_that_fits),
      cmocka_unit_test(freed_slot_is_reused_first),
      cmocka_unit_test(double_free_and_bad_pointers_are_refused),
      cmocka_unit_test(full_spans_fill_and_drain),
      cmocka_unit_test(classes_are_separate),
      cmocka_unit_test(budget_refuses_new_spans),
      cmocka_unit_test(writes_into_freed_slots_touch_no_metadata),
  };
  return cmocka_run_group_tests_name("slab", tests, NULL, NULL);
}
