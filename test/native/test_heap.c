/* The heap: configuration, errors, ownership, stats. */
#include "helpers.h"

#include <stdio.h>

static void default_and_bad_configs(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  assert_non_null(h);
  samm_config cfg;
  samm_heap_config(h, &cfg);
  assert_int_equal(cfg.max_bytes, (uint64_t)1 << 30);
  assert_int_equal(cfg.chunk_size, 256 << 10);
  samm_heap_destroy(h);
  samm_heap_destroy(NULL);

  samm_config_init(&cfg);
  cfg.chunk_size = 100000; /* not a multiple of 64 KiB */
  assert_null(samm_heap_create(&cfg));
  samm_config_init(&cfg);
  cfg.max_bytes = 10; /* below the minimum */
  assert_null(samm_heap_create(&cfg));
  samm_config_init(&cfg);
  assert_int_equal(samm_config_set(&cfg, SAMM_OPT_chunk_size, 1), SAMM_EINVALID_ARG);
  assert_int_equal(samm_config_set(&cfg, SAMM_OPT_COUNT, 1), SAMM_EINVALID_ARG);
  assert_int_equal(samm_config_set(&cfg, SAMM_OPT_chunk_size, 128 << 10), SAMM_EOK);
  assert_int_equal(samm_config_set(&cfg, SAMM_OPT_chunk_size, 100 << 10), SAMM_EINVALID_ARG); /* not a multiple of 64 KiB */
  assert_int_equal(samm_config_set(&cfg, SAMM_OPT_region_segment_size, (1 << 20) + 4096), SAMM_EINVALID_ARG);
  assert_int_equal(cfg.chunk_size, 128 << 10);
  assert_int_equal(samm_config_get(&cfg, SAMM_OPT_chunk_size), 128 << 10);
  assert_int_equal(samm_config_get(&cfg, SAMM_OPT_COUNT), 0);
  assert_null(samm_option_get(-1));
  assert_string_equal(samm_option_get(SAMM_OPT_idle_trim_ms)->js_name, "idleTrimMs");
}

static void environment_overrides_options(void **state) {
  (void)state;
  samm_config cfg;
  samm_config_init(&cfg);
  setenv("SAMM_CHUNK_SIZE", "512k", 1);
  setenv("SAMM_MAX_BYTES", "2g", 1);
  setenv("SAMM_IDLE_TRIM_MS", "250", 1);
  assert_int_equal(samm_config_from_env(&cfg, NULL), SAMM_EOK);
  assert_int_equal(cfg.chunk_size, 512 << 10);
  assert_int_equal(cfg.max_bytes, (uint64_t)2 << 30);
  assert_int_equal(cfg.idle_trim_ms, 250);
  const char *bad = NULL;
  setenv("SAMM_POOL_CHUNKS", "lots", 1);
  setenv("SAMM_DEBUG", "7", 1);
  assert_int_equal(samm_config_from_env(&cfg, &bad), SAMM_EINVALID_ARG);
  assert_string_equal(bad, "SAMM_POOL_CHUNKS");
  assert_int_equal(cfg.pool_chunks, 16); /* bad values are skipped */
  assert_int_equal(cfg.debug, 0);
  setenv("SAMM_POOL_CHUNKS", "99999999999999999999999", 1);
  assert_int_equal(samm_config_from_env(&cfg, NULL), SAMM_EINVALID_ARG);
  unsetenv("SAMM_CHUNK_SIZE");
  unsetenv("SAMM_MAX_BYTES");
  unsetenv("SAMM_IDLE_TRIM_MS");
  unsetenv("SAMM_POOL_CHUNKS");
  unsetenv("SAMM_DEBUG");
}

static void every_error_has_a_name_and_message(void **state) {
  (void)state;
  for (int e = 0; e < SAMM_ERR_COUNT; e++) {
    assert_true(strncmp(samm_err_name(e), "ERR_SAMM_", 9) == 0);
    assert_true(strlen(samm_strerror(e)) > 5);
  }
  assert_string_equal(samm_err_name(SAMM_ELIMIT), "ERR_SAMM_LIMIT");
  assert_string_equal(samm_err_name(-1), "ERR_SAMM_UNKNOWN");
  assert_string_equal(samm_err_name(SAMM_ERR_COUNT), "ERR_SAMM_UNKNOWN");
  assert_string_equal(samm_strerror(1000), "unknown error");
  assert_string_equal(samm_class_name(SAMM_MEDIUM), "medium");
  assert_null(samm_class_name(4));
  assert_int_equal(samm_class_parse("long"), SAMM_LONG);
  assert_int_equal(samm_class_parse("Long"), -1);
  assert_int_equal(samm_class_parse(NULL), -1);
}

static void foreign_pointers_are_refused(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  samm_heap *other = samm_heap_create(NULL);
  int on_stack;
  void *from_malloc = malloc(64);
  void *elsewhere = samm_alloc(other, SAMM_MEDIUM, 64);
  assert_int_equal(samm_free(h, NULL), SAMM_EBAD_POINTER);
  assert_int_equal(samm_free(h, &on_stack), SAMM_EBAD_POINTER);
  assert_int_equal(samm_free(h, from_malloc), SAMM_EBAD_POINTER);
  assert_int_equal(samm_free(h, elsewhere), SAMM_EBAD_POINTER);
  assert_int_equal(samm_heap_last_error(h), SAMM_EBAD_POINTER);
  assert_int_equal(samm_owner(h, from_malloc), -1);
  assert_int_equal(samm_usable_size(h, from_malloc), 0);
  samm_scope *s = samm_scope_open(h);
  void *scoped = samm_scope_alloc(s, 64);
  assert_int_equal(samm_free(h, scoped), SAMM_EWRONG_ARENA);
  assert_int_equal(samm_usable_size(h, scoped), 0);
  samm_scope_close(s);
  assert_int_equal(stats_of(h).invalid_frees, 5);
  assert_heap_valid(h);
  assert_int_equal(samm_free(other, elsewhere), SAMM_EOK);
  free(from_malloc);
  samm_heap_destroy(h);
  samm_heap_destroy(other);
}

static void bad_class_and_size_are_refused(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  assert_null(samm_alloc(h, SAMM_SHORT, 10));
  assert_int_equal(samm_heap_last_error(h), SAMM_EINVALID_CLASS);
  assert_null(samm_alloc(h, SAMM_HEAP, 10));
  assert_null(samm_alloc(h, (samm_class)9, 10));
  assert_int_equal(samm_heap_last_error(h), SAMM_EINVALID_CLASS);
  assert_null(samm_alloc(h, SAMM_LONG, SIZE_MAX));
  assert_int_equal(samm_heap_last_error(h), SAMM_EINVALID_SIZE);
  assert_null(samm_alloc(h, SAMM_MEDIUM, SAMM_MAX_ALLOC + 1));
  assert_int_equal(samm_heap_last_error(h), SAMM_EINVALID_SIZE);
  /* Above the budget but a valid size: LIMIT. */
  assert_null(samm_alloc(h, SAMM_LONG, (size_t)2 << 30));
  assert_int_equal(samm_heap_last_error(h), SAMM_ELIMIT);
  void *z = samm_alloc(h, SAMM_MEDIUM, 0);
  assert_non_null(z);
  assert_int_equal(samm_free(h, z), SAMM_EOK);
  assert_heap_valid(h);
  samm_heap_destroy(h);
}

static void limit_can_change_at_run_time(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  void *p = samm_alloc(h, SAMM_LONG, 3 << 20);
  assert_non_null(p);
  assert_int_equal(samm_heap_set_limit(h, 1 << 20), SAMM_EOK);
  assert_int_equal(samm_heap_set_limit(h, 5), SAMM_EINVALID_ARG);
  assert_null(samm_alloc(h, SAMM_LONG, 3 << 20));
  assert_int_equal(samm_heap_last_error(h), SAMM_ELIMIT);
  samm_free(h, p);
  assert_non_null(samm_alloc(h, SAMM_LONG, 512 << 10));
  assert_int_equal(stats_of(h).max_bytes, 1 << 20);
  assert_heap_valid(h);
  samm_heap_destroy(h);
}

static void a_lower_limit_is_not_passed_by_reusing_freed_pages(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  void *p[16];
  for (int i = 0; i < 16; i++) assert_non_null(p[i] = samm_alloc(h, SAMM_LONG, 1 << 20));
  for (int i = 0; i < 16; i++) assert_int_equal(samm_free(h, p[i]), SAMM_EOK);
  /* The freed blocks' pages stay committed until a collect; lowering the
   * budget below them returns them, so later blocks are charged again. */
  assert_int_equal(samm_heap_set_limit(h, 4 << 20), SAMM_EOK);
  assert_true(stats_of(h).committed <= 4 << 20);
  int served = 0;
  while (served < 16 && (p[served] = samm_alloc(h, SAMM_LONG, 1 << 20)) != NULL) served++;
  assert_in_range(served, 1, 3);
  assert_int_equal(samm_heap_last_error(h), SAMM_ELIMIT);
  assert_true(stats_of(h).committed <= 4 << 20);
  for (int i = 0; i < served; i++) assert_int_equal(samm_free(h, p[i]), SAMM_EOK);
  assert_heap_valid(h);
  samm_heap_destroy(h);
}

static void stats_render_as_json(void **state) {
  (void)state;
  samm_heap *h = samm_heap_create(NULL);
  samm_scope *s = samm_scope_open(h);
  samm_scope_alloc(s, 100);
  samm_alloc(h, SAMM_MEDIUM, 100);
  samm_stats st = stats_of(h);
  assert_int_equal(st.bump.allocs, 1);
  assert_int_equal(st.bump.in_use, 256 << 10); /* the chunk the scope holds */
  assert_int_equal(st.slab.allocs, 1);
  assert_int_equal(st.scopes_open, 1);
  assert_int_equal(st.reserved, 2 * (256 << 10));
  char buf[2048];
  size_t need = samm_stats_json(&st, buf, sizeof buf);
  assert_int_equal(need, strlen(buf));
  assert_non_null(strstr(buf, "\"bump\":{\"reserved\":262144,"));
  assert_non_null(strstr(buf, "\"scopes_open\":1"));
  assert_int_equal(buf[0], '{');
  assert_int_equal(buf[need - 1], '}');
  char small[10];
  assert_int_equal(samm_stats_json(&st, small, sizeof small), need);
  assert_int_equal(strlen(small), 9);
  assert_int_equal(samm_stats_json(&st, NULL, 0), need);
  samm_scope_close(s);
  samm_heap_destroy(h);
}

static void heaps_are_independent(void **state) {
  (void)state;
  samm_heap *a = samm_heap_create(NULL), *b = samm_heap_create(NULL);
  samm_scope *sa = samm_scope_open(a);
  samm_alloc(b, SAMM_LONG, 1000);
  assert_int_equal(stats_of(a).region.allocs, 0);
  assert_int_equal(stats_of(b).scopes_opened, 0);
  samm_scope_close(sa);
  samm_heap_destroy(a);
  samm_heap_destroy(b);
}

/* Memory marked kept mapped survives the heap's destruction with its bytes;
 * everything else is unmapped, and a pointer the heap never handed out is
 * refused. */
static void kept_memory_outlives_the_heap(void **state) {
  (void)state;
  fault_os f;
  fault_os_init(&f);
  samm_heap *h = heap_with(&f, 0);
  size_t len = 0;
  uint64_t ticket = 0;
  uint8_t *chunk = samm_chunk_lend(h, 0, &len, &ticket);
  uint8_t *block = samm_alloc(h, SAMM_MEDIUM, 4096);
  uint8_t *other = samm_alloc(h, SAMM_LONG, 100000);
  assert_non_null(chunk);
  assert_non_null(block);
  assert_non_null(other);
  memset(chunk, 0x5a, len);
  memset(block, 0x6b, 4096);
  int outside;
  assert_int_equal(samm_heap_keep_mapped(h, &outside), SAMM_EBAD_POINTER);
  assert_int_equal(samm_heap_keep_mapped(h, NULL), SAMM_EBAD_POINTER);
  assert_int_equal(samm_heap_keep_mapped(h, chunk), SAMM_EOK);
  assert_int_equal(samm_heap_keep_mapped(h, block + 100), SAMM_EOK);
  samm_heap_destroy(h);
  /* The chunk and the slab span holding the block: one chunk size each. */
  assert_int_equal(f.mapped, 2 * len);
  for (size_t i = 0; i < len; i++) assert_int_equal(chunk[i], 0x5a);
  for (size_t i = 0; i < 4096; i++) assert_int_equal(block[i], 0x6b);
  munmap(chunk, len); /* the span stays mapped until the process ends */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(default_and_bad_configs),
      cmocka_unit_test(environment_overrides_options),
      cmocka_unit_test(every_error_has_a_name_and_message),
      cmocka_unit_test(foreign_pointers_are_refused),
      cmocka_unit_test(bad_class_and_size_are_refused),
      cmocka_unit_test(limit_can_change_at_run_time),
      cmocka_unit_test(a_lower_limit_is_not_passed_by_reusing_freed_pages),
      cmocka_unit_test(stats_render_as_json),
      cmocka_unit_test(heaps_are_independent),
      cmocka_unit_test(kept_memory_outlives_the_heap),
  };
  return cmocka_run_group_tests_name("heap", tests, NULL, NULL);
}
