/* Request scopes: the bump arena. */
#include "helpers.h"

static void alloc_is_aligned_and_writable(void **state) {
  (void)state;
  fault_os f;
  fault_os_init(&f);
  samm_heap *h = heap_with(&f, 0);
  samm_scope *s = samm_scope_open(h);
  for (size_t n = 0; n < 300; n++) {
    uint8_t *p = samm_scope_alloc(s, n);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % SAMM_ALIGNMENT, 0);
    memset(p, 0xAB, n);
  }
  assert_int_equal(samm_owner(h, samm_scope_alloc(s, 8)), SAMM_SHORT);
  assert_int_equal(samm_scope_close(s), SAMM_EOK);
  assert_heap_valid(h);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

static void zero_size_gives_distinct_pointers(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  samm_scope *s = samm_scope_open(h);
  void *a = samm_scope_alloc(s, 0), *b = samm_scope_alloc(s, 0);
  assert_non_null(a);
  assert_non_null(b);
  assert_ptr_not_equal(a, b);
  samm_scope_close(s);
  samm_heap_destroy(h);
}

static void huge_sizes_are_refused(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  samm_scope *s = samm_scope_open(h);
  assert_null(samm_scope_alloc(s, SIZE_MAX));
  assert_int_equal(samm_heap_last_error(h), SAMM_EINVALID_SIZE);
  assert_null(samm_scope_alloc(s, SIZE_MAX - 8));
  assert_int_equal(samm_heap_last_error(h), SAMM_EINVALID_SIZE);
  assert_null(samm_scope_alloc(s, SAMM_MAX_ALLOC + 1));
  assert_int_equal(samm_heap_last_error(h), SAMM_EINVALID_SIZE);
  size_t len;
  assert_null(samm_scope_take(s, SIZE_MAX, &len));
  /* The scope still works. */
  assert_non_null(samm_scope_alloc(s, 100));
  samm_scope_close(s);
  assert_heap_valid(h);
  samm_heap_destroy(h);
}

static void concurrent_scopes_never_overlap(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  enum { SCOPES = 16, PER = 400 };
  samm_scope *s[SCOPES];
  uint8_t *p[SCOPES][PER];
  size_t len[SCOPES][PER];
  for (int i = 0; i < SCOPES; i++) s[i] = samm_scope_open(h);
  /* Interleave allocations across scopes, each filled with its own byte. */
  for (int k = 0; k < PER; k++)
    for (int i = 0; i < SCOPES; i++) {
      len[i][k] = 1 + (size_t)((i * 7919 + k * 104729) % 3000);
      p[i][k] = samm_scope_alloc(s[i], len[i][k]);
      assert_non_null(p[i][k]);
      memset(p[i][k], i * SCOPES + k % 16, len[i][k]);
    }
  for (int i = 0; i < SCOPES; i++)
    for (int k = 0; k < PER; k++)
      for (size_t b = 0; b < len[i][k]; b++)
        assert_int_equal(p[i][k][b], (uint8_t)(i * SCOPES + k % 16));
  assert_int_equal(stats_of(h).scopes_open, SCOPES);
  assert_heap_valid(h);
  for (int i = 0; i < SCOPES; i++) samm_scope_close(s[i]);
  assert_int_equal(stats_of(h).scopes_open, 0);
  assert_int_equal(stats_of(h).bump.in_use, 0);
  samm_heap_destroy(h);
}

static void chunks_are_reused_from_the_pool(void **state) {
  (void)state;
  fault_os f;
  fault_os_init(&f);
  samm_heap *h = heap_with(&f, 0);
  samm_config cfg;
  samm_heap_config(h, &cfg);
  for (int round = 0; round < 100; round++) {
    samm_scope *s = samm_scope_open(h);
    /* Eight chunks' worth. */
    for (size_t used = 0; used < 8 * cfg.chunk_size - cfg.chunk_size / 2; used += 4096)
      assert_non_null(samm_scope_alloc(s, 4096));
    samm_scope_close(s);
    if (round == 0) assert_true(f.maps >= 8);
  }
  /* Only the first round mapped memory. */
  assert_true(f.maps <= 9);
  assert_int_equal(stats_of(h).pool_chunks, 8);
  samm_collect(h);
  assert_true(stats_of(h).pool_chunks <= cfg.pool_chunks);
  assert_heap_valid(h);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

static void larger_than_chunk_gets_its_own_segment(void **state) {
  (void)state;
  fault_os f;
  fault_os_init(&f);
  samm_heap *h = heap_with(&f, 0);
  samm_scope *s = samm_scope_open(h);
  uint8_t *small = samm_scope_alloc(s, 64);
  size_t big = 3 * (256 << 10) + 123;
  uint8_t *p = samm_scope_alloc(s, big);
  assert_non_null(p);
  memset(p, 7, big);
  /* The current chunk is still bumped after the large block. */
  uint8_t *next = samm_scope_alloc(s, 64);
  assert_ptr_equal(next, small + 64);
  assert_true(stats_of(h).bump.reserved >= big);
  samm_scope_close(s);
  /* Cached, not unmapped: the next request of that size gets it back. */
  assert_true(stats_of(h).pool_large_bytes >= big);
  assert_heap_valid(h);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

static void closed_scope_is_refused(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  samm_scope *s = samm_scope_open(h);
  assert_non_null(samm_scope_alloc(s, 10));
  assert_int_equal(samm_scope_close(s), SAMM_EOK);
  assert_int_equal(samm_scope_close(s), SAMM_ESCOPE_CLOSED);
  assert_null(samm_scope_alloc(s, 10));
  assert_int_equal(samm_heap_last_error(h), SAMM_ESCOPE_CLOSED);
  size_t len;
  assert_null(samm_scope_take(s, 10, &len));
  assert_int_equal(samm_heap_last_error(h), SAMM_ESCOPE_CLOSED);
  assert_int_equal(stats_of(h).scopes_closed, 1);
  assert_heap_valid(h);
  samm_heap_destroy(h);
}

static void take_hands_out_the_rest_of_a_chunk(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  samm_config cfg;
  samm_heap_config(h, &cfg);
  samm_scope *s = samm_scope_open(h);
  uint8_t *a = samm_scope_alloc(s, 100);
  size_t len = 0;
  uint8_t *rest = samm_scope_take(s, 1, &len);
  assert_ptr_equal(rest, a + 112);
  assert_int_equal(len, cfg.chunk_size - 112);
  /* The chunk is used up: the next allocation comes from a fresh chunk. */
  uint8_t *b = samm_scope_alloc(s, 16);
  assert_true(b < rest || b >= rest + len);
  uint8_t *whole = samm_scope_take(s, cfg.chunk_size, &len);
  assert_non_null(whole);
  assert_int_equal(len, cfg.chunk_size);
  uint8_t *huge = samm_scope_take(s, 2 * cfg.chunk_size + 1, &len);
  assert_non_null(huge);
  assert_true(len >= 2 * cfg.chunk_size + 1);
  memset(huge, 1, len);
  assert_int_equal(samm_scope_used(s), 112 + (cfg.chunk_size - 112) + 16 + cfg.chunk_size + len);
  samm_scope_close(s);
  assert_heap_valid(h);
  samm_heap_destroy(h);
}

static void budget_refuses_and_recovers(void **state) {
  (void)state;
  fault_os f;
  fault_os_init(&f);
  samm_heap *h = heap_with(&f, 1 << 20); /* four chunks */
  samm_scope *s = samm_scope_open(h);
  int got = 0;
  while (samm_scope_alloc(s, 32 << 10) != NULL) got++;
  assert_int_equal(samm_heap_last_error(h), SAMM_ELIMIT);
  assert_int_equal(got, 32);
  assert_true(stats_of(h).committed <= 1 << 20);
  assert_int_equal(stats_of(h).limit_refusals, 1);
  /* A second scope is refused too, but the first still closes cleanly. */
  samm_scope *t = samm_scope_open(h);
  assert_null(samm_scope_alloc(t, 1));
  samm_scope_close(s);
  assert_non_null(samm_scope_alloc(t, 1));
  samm_scope_close(t);
  assert_heap_valid(h);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

static void os_refusal_is_reported_and_survived(void **state) {
  (void)state;
  fault_os f;
  fault_os_init(&f);
  samm_heap *h = heap_with(&f, 0);
  f.fail_maps_after = 0;
  samm_scope *s = samm_scope_open(h);
  assert_null(samm_scope_alloc(s, 10));
  assert_int_equal(samm_heap_last_error(h), SAMM_ENOMEM);
  assert_int_equal(stats_of(h).os_refusals, 1);
  assert_int_equal(stats_of(h).committed, 0);
  f.fail_maps_after = -1;
  assert_non_null(samm_scope_alloc(s, 10));
  samm_scope_close(s);
  assert_heap_valid(h);
  samm_heap_destroy(h);
}

static void debug_mode_poisons_closed_scopes(void **state) {
  (void)state;
  samm_config cfg;
  samm_config_init(&cfg);
  cfg.debug = 1;
  samm_heap *h = samm_heap_create(&cfg);
  samm_scope *s = samm_scope_open(h);
  uint8_t *p = samm_scope_alloc(s, 64);
  memset(p, 0, 64);
  samm_scope_close(s);
  /* The chunk sits in the pool, still mapped: its bytes are poisoned. */
  for (int i = 0; i < 64; i++) assert_int_equal(p[i], 0xDF);
  samm_heap_destroy(h);
}

static void destroy_releases_open_scopes(void **state) {
  (void)state;
  fault_os f;
  fault_os_init(&f);
  samm_heap *h = heap_with(&f, 0);
  for (int i = 0; i < 10; i++) {
    samm_scope *s = samm_scope_open(h);
    samm_scope_alloc(s, 1000 * (size_t)i + 1);
    samm_scope_alloc(s, 1 << 20);
  }
  assert_true(f.mapped > 0);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

static void lent_chunks_are_counted_and_come_back_once(void **state) {
  (void)state;
  fault_os f;
  fault_os_init(&f);
  samm_heap *h = heap_with(&f, 0);
  size_t len = 0;
  uint64_t t1 = 0, t2 = 0;
  uint8_t *a = samm_chunk_lend(h, 0, &len, &t1);
  uint8_t *b = samm_chunk_lend(h, 0, &len, &t2);
  assert_non_null(a);
  assert_non_null(b);
  assert_int_equal(len, 256 << 10);
  assert_true(t1 != 0 && t2 != 0 && t1 != t2);
  memset(a, 1, len);
  memset(b, 2, len);
  assert_int_equal(stats_of(h).chunks_lent, 2);
  assert_int_equal(stats_of(h).bump.in_use, 2 * len);
  assert_int_equal(samm_owner(h, a + 100), SAMM_SHORT);
  assert_int_equal(samm_chunk_ticket(h, a), t1);
  assert_int_equal(samm_chunk_ticket(h, a + 8), 0); /* not a chunk's start */
  assert_heap_valid(h);
  /* A scope never gets a lent chunk. */
  samm_scope *s = samm_scope_open(h);
  uint8_t *p = samm_scope_alloc(s, 64);
  assert_true(p < a || p >= a + len);
  assert_true(p < b || p >= b + len);
  samm_scope_close(s);
  /* Wrong ticket, wrong pointer: refused, nothing changes. */
  assert_int_equal(samm_chunk_return(h, a, t2), SAMM_EBAD_POINTER);
  assert_int_equal(samm_chunk_return(h, a + 64, t1), SAMM_EBAD_POINTER);
  assert_int_equal(samm_chunk_return(h, p, 1), SAMM_EBAD_POINTER);
  assert_int_equal(stats_of(h).chunks_lent, 2);
  assert_int_equal(samm_chunk_return(h, a, t1), SAMM_EOK);
  assert_int_equal(samm_chunk_ticket(h, a), 0);
  /* Lent again: a late return of the first lend cannot take it back. */
  uint64_t t3 = 0;
  uint8_t *c = samm_chunk_lend(h, 0, &len, &t3);
  assert_ptr_equal(c, a); /* the pool hands back its newest chunk */
  assert_int_equal(samm_chunk_return(h, a, t1), SAMM_EBAD_POINTER);
  assert_int_equal(stats_of(h).chunks_lent, 2);
  assert_int_equal(stats_of(h).invalid_frees, 4);
  assert_heap_valid(h);
  assert_int_equal(samm_chunk_return(h, c, t3), SAMM_EOK);
  /* b stays lent: destroy releases it with everything else. */
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

static void lent_blocks_come_from_the_large_cache_and_go_back_there(void **state) {
  (void)state;
  fault_os f;
  fault_os_init(&f);
  samm_heap *h = heap_with(&f, 0);
  size_t len = 0;
  uint64_t t = 0;
  uint8_t *a = samm_chunk_lend(h, (1 << 20) - 100, &len, &t);
  assert_non_null(a);
  assert_int_equal(len, 1 << 20);
  memset(a, 7, len);
  assert_int_equal(stats_of(h).chunks_lent, 1);
  assert_int_equal(stats_of(h).bump.in_use, len);
  assert_int_equal(samm_chunk_ticket(h, a), t);
  assert_heap_valid(h);
  /* A scope's own large block is not lent: it cannot be returned. */
  samm_scope *s = samm_scope_open(h);
  uint8_t *big = samm_scope_alloc(s, 600 << 10);
  assert_non_null(big);
  assert_int_equal(samm_chunk_ticket(h, big), 0);
  assert_int_equal(samm_chunk_return(h, big, 1), SAMM_EBAD_POINTER);
  assert_int_equal(samm_scope_close(s), SAMM_EOK);
  assert_int_equal(samm_chunk_return(h, a, t), SAMM_EOK);
  assert_int_equal(stats_of(h).chunks_lent, 0);
  assert_int_equal(stats_of(h).bump.in_use, 0);
  /* Cached, then lent again without a new mapping, under a new ticket. */
  int maps = f.maps;
  uint64_t t2 = 0;
  assert_ptr_equal(samm_chunk_lend(h, 1 << 20, &len, &t2), a);
  assert_int_equal(f.maps, maps);
  assert_true(t2 != t);
  assert_int_equal(samm_chunk_return(h, a, t), SAMM_EBAD_POINTER);
  assert_heap_valid(h);
  /* Beyond what any allocation may be: refused. */
  assert_null(samm_chunk_lend(h, SAMM_MAX_ALLOC + 1, &len, &t));
  assert_int_equal(samm_heap_last_error(h), SAMM_EINVALID_SIZE);
  /* a stays lent: destroy releases it with everything else. */
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

static void lending_respects_the_budget(void **state) {
  (void)state;
  fault_os f;
  fault_os_init(&f);
  samm_heap *h = heap_with(&f, 1 << 20); /* four chunks */
  size_t len;
  uint64_t t[5];
  uint8_t *p[5];
  for (int i = 0; i < 4; i++) assert_non_null(p[i] = samm_chunk_lend(h, 0, &len, &t[i]));
  assert_null(samm_chunk_lend(h, 0, &len, &t[4]));
  assert_int_equal(samm_heap_last_error(h), SAMM_ELIMIT);
  assert_int_equal(samm_chunk_return(h, p[2], t[2]), SAMM_EOK);
  /* The returned chunk is pooled and lent again without a new mapping. */
  int maps = f.maps;
  assert_ptr_equal(samm_chunk_lend(h, 0, &len, &t[4]), p[2]);
  assert_int_equal(f.maps, maps);
  assert_heap_valid(h);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(alloc_is_aligned_and_writable),
      cmocka_unit_test(zero_size_gives_distinct_pointers),
      cmocka_unit_test(huge_sizes_are_refused),
      cmocka_unit_test(concurrent_scopes_never_overlap),
      cmocka_unit_test(chunks_are_reused_from_the_pool),
      cmocka_unit_test(larger_than_chunk_gets_its_own_segment),
      cmocka_unit_test(closed_scope_is_refused),
      cmocka_unit_test(take_hands_out_the_rest_of_a_chunk),
      cmocka_unit_test(budget_refuses_and_recovers),
      cmocka_unit_test(os_refusal_is_reported_and_survived),
      cmocka_unit_test(debug_mode_poisons_closed_scopes),
      cmocka_unit_test(destroy_releases_open_scopes),
      cmocka_unit_test(lent_chunks_are_counted_and_come_back_once),
      cmocka_unit_test(lent_blocks_come_from_the_large_cache_and_go_back_there),
      cmocka_unit_test(lending_respects_the_budget),
  };
  return cmocka_run_group_tests_name("bump", tests, NULL, NULL);
}
