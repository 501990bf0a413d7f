/* The segment map and the aligned page source, from the inside. */
#include "helpers.h"

#include "internal.h"

static void map_tracks_adds_and_removes(void **state) {
  (void)state;
  samm__segmap map;
  assert_int_equal(samm__segmap_init(&map), SAMM_EOK);
  enum { N = 3000 };
  static samm__segment segs[N];
  static bool present[N];
  uint64_t rng = 12345;
  /* Fake segments at distinct granule-aligned addresses, 1-4 granules. */
  for (int i = 0; i < N; i++) {
    segs[i].base = (uint8_t *)((uintptr_t)(i + 1) * 8 * SAMM__GRANULE);
    segs[i].size = (size_t)(1 + i % 4) * SAMM__GRANULE;
  }
  for (int step = 0; step < 40000; step++) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    int i = (int)((rng >> 33) % N);
    if (present[i])
      samm__segmap_remove(&map, &segs[i]);
    else
      assert_int_equal(samm__segmap_add(&map, &segs[i]), SAMM_EOK);
    present[i] = !present[i];
    if (step % 4000 == 0) {
      size_t count = 0;
      for (int j = 0; j < N; j++) {
        for (size_t g = 0; g < segs[j].size; g += SAMM__GRANULE) {
          samm__segment *found = samm__segmap_find(&map, segs[j].base + g + 100);
          assert_ptr_equal(found, present[j] ? &segs[j] : NULL);
        }
        if (present[j]) count += segs[j].size / SAMM__GRANULE;
        /* The gap after each segment belongs to nobody. */
        assert_null(samm__segmap_find(&map, segs[j].base + 5 * SAMM__GRANULE));
      }
      assert_int_equal(map.count, count);
    }
  }
  samm__segmap_destroy(&map);
}

static void aligned_map_trims_head_and_tail(void **state) {
  (void)state;
  fault_os f;
  fault_os_init(&f);
  for (int i = 0; i < 20; i++) {
    size_t size = (size_t)(1 + i) * SAMM__GRANULE;
    uint8_t *p = samm__os_map_aligned(&f.os, size, SAMM__GRANULE);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % SAMM__GRANULE, 0);
    assert_int_equal(f.mapped, size); /* the over-allocation went back */
    p[0] = 1;
    p[size - 1] = 1;
    assert_int_equal(samm__os_unmap(&f.os, p, size), 0);
    assert_int_equal(f.mapped, 0);
  }
  f.fail_maps_after = 0;
  assert_null(samm__os_map_aligned(&f.os, SAMM__GRANULE, SAMM__GRANULE));
  assert_null(samm__os_map_aligned(&f.os, SIZE_MAX - 4095, SAMM__GRANULE));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(map_tracks_adds_and_removes),
      cmocka_unit_test(aligned_map_trims_head_and_tail),
  };
  return cmocka_run_group_tests_name("segmap", tests, NULL, NULL);
}
