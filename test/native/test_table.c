/* The baked table and site ids. */
#include "helpers.h"

static void default_table_keeps_everything_on_the_heap(void **state) {
  (void)state;
  const samm_table *t = samm_table_get();
  assert_int_equal(t->row_count, 0);
  assert_string_equal(t->digest, "");
  assert_non_null(strstr(t->json, "\"sites\":[]"));
  for (uint32_t id = 0; id < 1000; id += 7)
    assert_int_equal(samm_select(id, id * 13), SAMM_HEAP);
  assert_int_equal(samm_select(samm_site_id("render.body", 11), 65536), SAMM_HEAP);
}

static void site_ids_are_fnv1a(void **state) {
  (void)state;
  assert_int_equal(samm_site_id("", 0), 0x811c9dc5u);
  assert_int_equal(samm_site_id("a", 1), 0xe40c292cu);
  assert_int_equal(samm_site_id("foobar", 6), 0xbf9cf968u);
}

static void select_matches_site_and_size(void **state) {
  (void)state;
  static const samm_table_row rows[] = {
      {10, 0, 9, SAMM_SHORT},   /* < 1 KiB */
      {10, 10, 63, SAMM_LONG},  /* >= 1 KiB */
      {20, 0, 63, SAMM_MEDIUM},
      {30, 12, 13, SAMM_SHORT}, /* 4 KiB .. 16 KiB - 1 only */
  };
  const samm_table t = {rows, 4, NULL, 0, "x", "{}"};
  assert_int_equal(samm_table_select(&t, 10, 0), SAMM_SHORT);
  assert_int_equal(samm_table_select(&t, 10, 1023), SAMM_SHORT);
  assert_int_equal(samm_table_select(&t, 10, 1024), SAMM_LONG);
  assert_int_equal(samm_table_select(&t, 10, SIZE_MAX), SAMM_LONG);
  assert_int_equal(samm_table_select(&t, 20, 5), SAMM_MEDIUM);
  assert_int_equal(samm_table_select(&t, 30, 4095), SAMM_HEAP);
  assert_int_equal(samm_table_select(&t, 30, 4096), SAMM_SHORT);
  assert_int_equal(samm_table_select(&t, 30, 16384), SAMM_HEAP);
  assert_int_equal(samm_table_select(&t, 15, 100), SAMM_HEAP);
  assert_int_equal(samm_table_select(&t, 0, 100), SAMM_HEAP);
  assert_int_equal(samm_table_select(&t, 31, 100), SAMM_HEAP);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(default_table_keeps_everything_on_the_heap),
      cmocka_unit_test(site_ids_are_fnv1a),
      cmocka_unit_test(select_matches_site_and_size),
  };
  return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
