/* SAMM_DEBUG: released memory is poisoned, guards after blocks are checked
 * on release, and a write into a freed slot is caught when it is reused. */
#include "helpers.h"

static samm_heap *debug_heap(void) {
  samm_config cfg;
  samm_config_init(&cfg);
  cfg.debug = 1;
  samm_heap *h = samm_heap_create(&cfg);
  assert_non_null(h);
  return h;
}

static void freed_blocks_are_poisoned(void **state) {
  (void)state;
  samm_heap *h = debug_heap();
  for (int cls = SAMM_MEDIUM; cls <= SAMM_LONG; cls++) {
    uint8_t *p = samm_alloc(h, (samm_class)cls, 200);
    uint8_t *keep = samm_alloc(h, (samm_class)cls, 200); /* keeps p's memory mapped */
    memset(p, 0, 200);
    assert_int_equal(samm_free(h, p), SAMM_EOK);
    for (int i = 16; i < 200; i++) assert_int_equal(p[i], 0xDF);
    samm_free(h, keep);
  }
  samm_heap_destroy(h);
}

static void overrun_past_the_end_is_caught_at_release(void **state) {
  (void)state;
  samm_heap *h = debug_heap();
  for (int cls = SAMM_MEDIUM; cls <= SAMM_LONG; cls++) {
    uint8_t *p = samm_alloc(h, (samm_class)cls, 100);
    size_t usable = samm_usable_size(h, p);
    assert_true(usable >= 100);
    memset(p, 1, usable); /* all of it: fine */
    assert_int_equal(samm_free(h, p), SAMM_EOK);
    p = samm_alloc(h, (samm_class)cls, 100);
    usable = samm_usable_size(h, p);
    p[usable] ^= 0xFF; /* one byte too far */
    assert_int_equal(samm_free(h, p), SAMM_ECORRUPT);
    assert_int_equal(samm_heap_last_error(h), SAMM_ECORRUPT);
    p[usable] ^= 0xFF;
    assert_int_equal(samm_free(h, p), SAMM_EOK); /* repaired, it goes */
  }
  assert_heap_valid(h);
  samm_heap_destroy(h);
}

static void write_after_free_is_caught_on_reuse(void **state) {
  (void)state;
  samm_heap *h = debug_heap();
  uint8_t *a = samm_alloc(h, SAMM_MEDIUM, 64);
  uint8_t *b = samm_alloc(h, SAMM_MEDIUM, 64);
  samm_free(h, a);
  a[20] = 42; /* use after release */
  assert_null(samm_alloc(h, SAMM_MEDIUM, 64));
  assert_int_equal(samm_heap_last_error(h), SAMM_ECORRUPT);
  /* The damaged slot is out of use; the heap goes on, consistent. */
  assert_heap_valid(h);
  uint8_t *c = samm_alloc(h, SAMM_MEDIUM, 64);
  assert_non_null(c);
  assert_ptr_not_equal(c, a);
  samm_free(h, b);
  samm_free(h, c);
  assert_heap_valid(h);
  samm_heap_destroy(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(freed_blocks_are_poisoned),
      cmocka_unit_test(overrun_past_the_end_is_caught_at_release),
      cmocka_unit_test(write_after_free_is_caught_on_reuse),
  };
  return cmocka_run_group_tests_name("debug", tests, NULL, NULL);
}
