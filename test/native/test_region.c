/* The region arena (long lifetimes). */
#include "helpers.h"

static void variable_sizes_are_aligned_and_intact(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  enum { N = 500 };
  uint8_t *p[N];
  size_t n[N];
  for (int i = 0; i < N; i++) {
    n[i] = 1 + (size_t)(i * 2654435761u % 70000);
    p[i] = samm_alloc(h, SAMM_LONG, n[i]);
    assert_non_null(p[i]);
    assert_int_equal((uintptr_t)p[i] % SAMM_ALIGNMENT, 0);
    assert_true(samm_usable_size(h, p[i]) >= n[i]);
    assert_int_equal(samm_owner(h, p[i]), SAMM_LONG);
    memset(p[i], i & 0xFF, n[i]);
  }
  assert_heap_valid(h);
  for (int i = 0; i < N; i += 3) assert_int_equal(samm_free(h, p[i]), SAMM_EOK);
  assert_heap_valid(h);
  for (int i = 0; i < N; i++) {
    if (i % 3 == 0) continue;
    for (size_t b = 0; b < n[i]; b++) assert_int_equal(p[i][b], i & 0xFF);
    assert_int_equal(samm_free(h, p[i]), SAMM_EOK);
  }
  assert_int_equal(stats_of(h).region.in_use, 0);
  assert_heap_valid(h);
  samm_heap_destroy(h);
}

static void neighbours_coalesce(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  uint8_t *a = samm_alloc(h, SAMM_LONG, 1000);
  uint8_t *b = samm_alloc(h, SAMM_LONG, 1000);
  uint8_t *c = samm_alloc(h, SAMM_LONG, 1000);
  uint8_t *guard = samm_alloc(h, SAMM_LONG, 16);
  assert_true(a < b && b < c && c < guard);
  samm_free(h, b);
  samm_free(h, a);
  samm_free(h, c);
  assert_heap_valid(h);
  /* The three blocks merged: one block of nearly their combined size (the
   * free lists round a request up to the next list boundary) fits at a;
   * one of them alone could not hold it. */
  size_t combined = (size_t)(guard - a) - 32 - 256;
  uint8_t *d = samm_alloc(h, SAMM_LONG, combined);
  assert_ptr_equal(d, a);
  assert_heap_valid(h);
  samm_heap_destroy(h);
}

static void large_blocks_get_their_own_mapping(void **state) {
  (void)state;
  fault_os f;
  fault_os_init(&f);
  samm_heap *h = heap_with(&f, 0);
  size_t big = 8u << 20;
  uint8_t *p = samm_alloc(h, SAMM_LONG, big);
  assert_non_null(p);
  memset(p, 1, big);
  assert_true(samm_usable_size(h, p) >= big);
  assert_int_equal(samm_free(h, p + 4096), SAMM_EBAD_POINTER);
  size_t mapped = f.mapped;
  assert_int_equal(samm_free(h, p), SAMM_EOK);
  assert_int_equal(f.mapped, mapped - ((big + 65535) & ~(size_t)65535));
  assert_int_equal(samm_free(h, p), SAMM_EBAD_POINTER); /* gone */
  assert_heap_valid(h);
  samm_heap_destroy(h);
}

static void collect_returns_free_pages(void **state) {
  (void)state;
  fault_os f;
  fault_os_init(&f);
  samm_heap *h = heap_with(&f, 0);
  uint8_t *keep = samm_alloc(h, SAMM_LONG, 64);
  uint8_t *mid = samm_alloc(h, SAMM_LONG, 1 << 20);
  uint8_t *keep2 = samm_alloc(h, SAMM_LONG, 64);
  memset(mid, 9, 1 << 20);
  uint64_t before = stats_of(h).committed;
  assert_true(before >= (1 << 20));
  samm_free(h, mid);
  assert_int_equal(stats_of(h).committed, before); /* not before collect */
  samm_collect(h);
  uint64_t after = stats_of(h).committed;
  assert_true(before - after >= (1 << 20) - 2 * 4096);
  assert_true(f.decommits > 0);
  assert_heap_valid(h);
  /* Reusing the decommitted pages charges them again. */
  uint8_t *again = samm_alloc(h, SAMM_LONG, 1 << 20);
  assert_non_null(again);
  memset(again, 1, 1 << 20);
  assert_true(stats_of(h).committed >= before - 2 * 4096);
  assert_heap_valid(h);
  samm_free(h, again);
  samm_free(h, keep);
  samm_free(h, keep2);
  /* A wholly free segment is unmapped. */
  samm_collect(h);
  assert_int_equal(stats_of(h).region.reserved, 0);
  assert_int_equal(f.mapped, 0);
  assert_heap_valid(h);
  samm_heap_destroy(h);
}

static void decommit_failure_keeps_accounts_straight(void **state) {
  (void)state;
  fault_os f;
  fault_os_init(&f);
  samm_heap *h = heap_with(&f, 0);
  uint8_t *a = samm_alloc(h, SAMM_LONG, 64);
  uint8_t *b = samm_alloc(h, SAMM_LONG, 200000);
  samm_free(h, b);
  f.fail_decommit = 1;
  uint64_t before = stats_of(h).committed;
  samm_collect(h);
  assert_int_equal(stats_of(h).committed, before);
  assert_heap_valid(h);
  samm_free(h, a);
  samm_heap_destroy(h);
}

static void double_free_and_bad_pointers_are_refused(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  uint8_t *a = samm_alloc(h, SAMM_LONG, 300);
  uint8_t *b = samm_alloc(h, SAMM_LONG, 300);
  uint8_t *c = samm_alloc(h, SAMM_LONG, 300);
  memset(c, 0x11, 300);
  assert_int_equal(samm_free(h, b), SAMM_EOK);
  assert_int_equal(samm_free(h, b), SAMM_EDOUBLE_FREE);
  assert_int_equal(samm_free(h, a), SAMM_EOK);  /* a absorbs b */
  assert_int_equal(samm_free(h, b), SAMM_EDOUBLE_FREE);
  assert_int_equal(samm_free(h, a), SAMM_EDOUBLE_FREE);
  assert_int_equal(samm_free(h, c + 16), SAMM_EBAD_POINTER);
  assert_int_equal(samm_free(h, c + 1), SAMM_EBAD_POINTER);
  assert_heap_valid(h);
  for (int i = 0; i < 300; i++) assert_int_equal(c[i], 0x11);
  assert_int_equal(samm_free(h, c), SAMM_EOK);
  samm_heap_destroy(h);
}

static void budget_counts_touched_pages_only(void **state) {
  (void)state;
  fault_os f;
  fault_os_init(&f);
  samm_heap *h = heap_with(&f, 1 << 20);
  /* A 4 MiB segment fits a 1 MiB budget: only used pages count. */
  void *p[64];
  int got = 0;
  while (got < 64 && (p[got] = samm_alloc(h, SAMM_LONG, 100000)) != NULL) got++;
  assert_int_equal(samm_heap_last_error(h), SAMM_ELIMIT);
  assert_true(got >= 9 && got <= 10);
  assert_true(stats_of(h).committed <= 1 << 20);
  assert_heap_valid(h);
  samm_free(h, p[0]);
  /* Refusals trim on their own: the freed pages make room. */
  assert_non_null(samm_alloc(h, SAMM_LONG, 100000));
  assert_heap_valid(h);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

static void medium_above_slab_sizes_uses_region(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  void *p = samm_alloc(h, SAMM_MEDIUM, 100000);
  assert_non_null(p);
  assert_int_equal(samm_owner(h, p), SAMM_LONG);
  assert_int_equal(samm_free(h, p), SAMM_EOK);
  samm_heap_destroy(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(variable_sizes_are_aligned_and_intact),
      cmocka_unit_test(neighbours_coalesce),
      cmocka_unit_test(large_blocks_get_their_own_mapping),
      cmocka_unit_test(collect_returns_free_pages),
      cmocka_unit_test(decommit_failure_keeps_accounts_straight),
      cmocka_unit_test(double_free_and_bad_pointers_are_refused),
      cmocka_unit_test(budget_counts_touched_pages_only),
      cmocka_unit_test(medium_above_slab_sizes_uses_region),
  };
  return cmocka_run_group_tests_name("region", tests, NULL, NULL);
}
