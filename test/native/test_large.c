/* Blocks larger than a chunk: exact sizes, the cache that reuses them (split,
 * merged, assembled by moving pages), its decay, the budget, zeroed lends. */
#include "helpers.h"

#include <math.h>

#define MiB ((size_t)1 << 20)
#define GRANULE ((size_t)64 << 10)

static size_t round_granule(size_t n) { return (n + GRANULE - 1) & ~(GRANULE - 1); }

/* What large blocks may keep resident for a peak of demand (large.c). */
static uint64_t allowance(uint64_t peak) { return peak + peak / 4; }

/* A heap over f with a fake clock, the given budget (0: default) and decay. */
static samm_heap *large_heap(fault_os *f, uint64_t max_bytes, uint64_t decay_ms) {
  fault_os_init(f);
  fault_os_fake_clock(f);
  samm_config cfg;
  samm_config_init(&cfg);
  cfg.os = &f->os;
  if (max_bytes) cfg.max_bytes = max_bytes;
  cfg.decay_ms = decay_ms;
  samm_heap *h = samm_heap_create(&cfg);
  assert_non_null(h);
  return h;
}

/* Resident bytes of large blocks: in use plus cached. */
static uint64_t large_resident(const samm_heap *h) {
  samm_stats s = stats_of(h);
  return s.large_in_use + s.pool_large_bytes;
}

static void sizes_from_a_span_to_64_mib_get_blocks_of_their_size(void **state) {
  (void)state;
  fault_os f;
  samm_heap *h = large_heap(&f, 0, 5000);
  const size_t sizes[] = {MiB, MiB + 1, 3 * MiB + 123, 8 * MiB - 5, 16 * MiB, 64 * MiB};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t n = sizes[i];
    samm_scope *s = samm_scope_open(h);
    uint8_t *p = samm_scope_alloc(s, n);
    assert_non_null(p);
    p[0] = 1;
    p[n - 1] = 2;
    /* A block of the size asked, up to the granule: nothing wasted inside. */
    assert_int_equal(stats_of(h).large_in_use, round_granule(n));
    assert_int_equal(stats_of(h).bump.in_use, round_granule(n));
    assert_heap_valid(h);
    assert_int_equal(samm_scope_close(s), SAMM_EOK);
    assert_int_equal(stats_of(h).large_in_use, 0);
    assert_heap_valid(h);
    /* The same size again: a cached block, no system call (which one
     * depends on how the mappings happened to lie side by side). */
    int maps = f.maps, unmaps = f.unmaps;
    s = samm_scope_open(h);
    assert_non_null(samm_scope_alloc(s, n));
    assert_int_equal(stats_of(h).large_in_use, round_granule(n));
    assert_int_equal(f.maps, maps);
    assert_int_equal(f.unmaps, unmaps);
    assert_heap_valid(h);
    samm_scope_close(s);
    assert_heap_valid(h);
  }
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

static void a_smaller_request_takes_part_of_a_cached_block_and_the_rest_merges_back(void **state) {
  (void)state;
  fault_os f;
  samm_heap *h = large_heap(&f, 0, 5000);
  samm_scope *s = samm_scope_open(h);
  uint8_t *base = samm_scope_alloc(s, 8 * MiB);
  samm_scope_close(s);
  int maps = f.maps;
  samm_scope *a = samm_scope_open(h), *b = samm_scope_open(h);
  assert_ptr_equal(samm_scope_alloc(a, 3 * MiB), base);
  assert_int_equal(stats_of(h).pool_large_bytes, 5 * MiB);
  assert_heap_valid(h);
  assert_ptr_equal(samm_scope_alloc(b, 5 * MiB), base + 3 * MiB);
  assert_int_equal(stats_of(h).pool_large_bytes, 0);
  assert_int_equal(f.maps, maps);
  assert_heap_valid(h);
  /* Back in either order: one block again. */
  samm_scope_close(b);
  assert_heap_valid(h);
  samm_scope_close(a);
  assert_heap_valid(h);
  assert_int_equal(stats_of(h).pool_large_bytes, 8 * MiB);
  s = samm_scope_open(h);
  assert_ptr_equal(samm_scope_alloc(s, 8 * MiB), base);
  assert_int_equal(f.maps, maps);
  samm_scope_close(s);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

/* Caches [base, base + 2 MiB) and [base + 4 MiB, base + 6 MiB), apart, the
 * first filled with 0xA1, the second with 0xC3; *mid keeps the middle in
 * use. Returns base. */
static uint8_t *two_cached_runs(samm_heap *h, samm_scope **mid) {
  samm_scope *s = samm_scope_open(h);
  uint8_t *base = samm_scope_alloc(s, 6 * MiB);
  samm_scope_close(s);
  samm_scope *a = samm_scope_open(h), *c = samm_scope_open(h);
  *mid = samm_scope_open(h);
  assert_ptr_equal(samm_scope_alloc(a, 2 * MiB), base);
  assert_ptr_equal(samm_scope_alloc(*mid, 2 * MiB), base + 2 * MiB);
  assert_ptr_equal(samm_scope_alloc(c, 2 * MiB), base + 4 * MiB);
  memset(base, 0xA1, 2 * MiB);
  memset(base + 4 * MiB, 0xC3, 2 * MiB);
  samm_scope_close(a);
  samm_scope_close(c);
  assert_int_equal(stats_of(h).pool_large_bytes, 4 * MiB);
  return base;
}

static void a_request_no_cached_block_fits_moves_cached_pages_into_one(void **state) {
  (void)state;
  fault_os f;
  samm_heap *h = large_heap(&f, 0, 5000);
  samm_scope *mid;
  two_cached_runs(h, &mid);
  uint64_t committed = stats_of(h).committed, fresh = stats_of(h).large_fresh_bytes;
  int maps = f.maps, moves = f.moves;
  samm_scope *s = samm_scope_open(h);
  uint8_t *p = samm_scope_alloc(s, 4 * MiB);
  assert_non_null(p);
  /* One new mapping, two moves of page tables, no fresh page: the bytes
   * are the old ones (allocUnsafe semantics), nothing more is resident. */
  assert_int_equal(f.maps, maps + 1);
  assert_int_equal(f.moves, moves + 2);
  assert_int_equal(stats_of(h).large_fresh_bytes, fresh);
  assert_int_equal(stats_of(h).large_moved_bytes, 4 * MiB);
  assert_int_equal(stats_of(h).pool_large_bytes, 0);
  assert_int_equal(stats_of(h).committed, committed);
  uint8_t first = p[0], second = p[2 * MiB];
  assert_true((first == 0xA1 && second == 0xC3) || (first == 0xC3 && second == 0xA1));
  assert_int_equal(samm_owner(h, p + 4 * MiB - 1), SAMM_SHORT);
  assert_heap_valid(h);
  samm_scope_close(s);
  assert_heap_valid(h);
  /* Short of cached pages: moves what there is, the rest is fresh. */
  samm_scope *t = samm_scope_open(h);
  assert_non_null(samm_scope_alloc(t, 7 * MiB));
  assert_int_equal(stats_of(h).large_fresh_bytes, fresh + 3 * MiB);
  assert_int_equal(stats_of(h).pool_large_bytes, 0);
  assert_heap_valid(h);
  samm_scope_close(t);
  samm_scope_close(mid);
  assert_heap_valid(h);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

static void a_move_the_os_refuses_leaves_fresh_pages(void **state) {
  (void)state;
  fault_os f;
  samm_heap *h = large_heap(&f, 0, 5000);
  samm_scope *mid;
  two_cached_runs(h, &mid);
  f.fail_moves = 1;
  uint64_t committed = stats_of(h).committed, fresh = stats_of(h).large_fresh_bytes;
  samm_scope *s = samm_scope_open(h);
  uint8_t *p = samm_scope_alloc(s, 4 * MiB);
  assert_non_null(p);
  assert_int_equal(stats_of(h).large_fresh_bytes, fresh + 4 * MiB);
  assert_int_equal(stats_of(h).committed, committed); /* the cached pages went */
  for (size_t i = 0; i < 4 * MiB; i += 4096) assert_int_equal(p[i], 0);
  assert_heap_valid(h);
  samm_scope_close(s);
  samm_scope_close(mid);
  assert_heap_valid(h);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
  /* A page source that cannot move pages: a fresh block, the cache kept. */
  fault_os_init(&f);
  f.os.move = NULL;
  samm_config cfg;
  samm_config_init(&cfg);
  cfg.os = &f.os;
  h = samm_heap_create(&cfg);
  two_cached_runs(h, &mid);
  fresh = stats_of(h).large_fresh_bytes;
  s = samm_scope_open(h);
  assert_non_null(samm_scope_alloc(s, 4 * MiB));
  assert_int_equal(f.moves, 0);
  assert_int_equal(stats_of(h).large_fresh_bytes, fresh + 4 * MiB);
  /* Resident bytes stay within the allowance of the peak: cached pages
   * beyond it went. */
  assert_int_equal(stats_of(h).large_peak, 6 * MiB);
  assert_true(stats_of(h).pool_large_bytes <= allowance(6 * MiB) - 6 * MiB);
  assert_true(stats_of(h).pool_large_bytes > allowance(6 * MiB) - 6 * MiB - GRANULE);
  assert_heap_valid(h);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

/* A service's large allocations: `inflight` requests at a time, each a
 * body of 1-8 MiB (log-uniform) and every 8th a 16 MiB buffer too; the
 * oldest request ends as a new one starts, 2 ms apart. Returns the share of
 * bytes handed out after the warm-up that were fresh pages, through *moved
 * the share that were moved cached pages, and through *surplus the mean of
 * cached over in-use bytes after it. */
static double steady_load(samm_heap *h, fault_os *f, int inflight, int steps, double *surplus,
                          double *moved) {
  uint64_t rng = 0x9E3779B97F4A7C15ull;
  samm_scope *open[64] = {0};
  int warm = steps / 4;
  uint64_t fresh0 = 0, moved0 = 0, handed = 0;
  double cached = 0, used = 0;
  for (int i = 0; i < steps; i++) {
    int k = i % inflight;
    if (open[k] != NULL) samm_scope_close(open[k]);
    open[k] = samm_scope_open(h);
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    size_t n = (size_t)((double)MiB * exp2(3.0 * (double)(rng >> 11) / 9007199254740992.0));
    uint8_t *p = samm_scope_alloc(open[k], n);
    assert_non_null(p);
    p[0] = p[n - 1] = 1;
    if (i >= warm) handed += round_granule(n);
    if (i % 8 == 0) {
      assert_non_null(samm_scope_alloc(open[k], 16 * MiB));
      if (i >= warm) handed += 16 * MiB;
    }
    f->now += 2;
    samm_stats st = stats_of(h);
    /* The cache never holds more than the decayed peak leaves room for. */
    assert_true(st.pool_large_bytes + st.large_in_use <= allowance(st.large_peak));
    if (i == warm) {
      fresh0 = st.large_fresh_bytes;
      moved0 = st.large_moved_bytes;
    }
    if (i >= warm) {
      cached += (double)st.pool_large_bytes;
      used += (double)st.large_in_use;
    }
    assert_heap_valid(h);
  }
  for (int k = 0; k < inflight; k++) samm_scope_close(open[k]);
  *surplus = cached / used;
  *moved = (double)(stats_of(h).large_moved_bytes - moved0) / (double)handed;
  return (double)(stats_of(h).large_fresh_bytes - fresh0) / (double)handed;
}

static void steady_demand_reuses_resident_memory(void **state) {
  (void)state;
  fault_os f;
  samm_heap *h = large_heap(&f, 0, 5000);
  double surplus, moved;
  double fresh = steady_load(h, &f, 24, 1600, &surplus, &moved);
  print_message("steady load, 24 in flight: %.2f %% of bytes fresh, %.2f %% moved, surplus %.3f\n",
                100 * fresh, 100 * moved, surplus);
  /* Nearly every byte is reused in place: blocks fit in what is cached. */
  assert_true(fresh < 0.05);
  assert_true(moved < 0.05);
  assert_true(surplus < 0.5);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);

  /* Without a cache (decay 0) every block is fresh. */
  h = large_heap(&f, 0, 0);
  fresh = steady_load(h, &f, 24, 400, &surplus, &moved);
  assert_true(fresh > 0.99);
  assert_true(surplus == 0);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

static void shrinking_demand_gives_memory_back(void **state) {
  (void)state;
  fault_os f;
  samm_heap *h = large_heap(&f, 0, 1000);
  samm_scope *s[32];
  for (int i = 0; i < 32; i++) {
    s[i] = samm_scope_open(h);
    assert_non_null(samm_scope_alloc(s[i], 4 * MiB));
  }
  assert_int_equal(large_resident(h), 128 * MiB);
  /* Demand falls to a quarter: nothing goes at once... */
  for (int i = 8; i < 32; i++) samm_scope_close(s[i]);
  assert_int_equal(stats_of(h).pool_large_bytes, 96 * MiB);
  assert_heap_valid(h);
  /* ...then the allowance of a peak that halves every half-life, checked
   * as the clock moves in steps of a sixteenth. */
  uint64_t last = large_resident(h);
  for (int step = 1; step <= 16 * 8; step++) {
    f.now += 1000 / 16;
    samm_collect(h);
    uint64_t r = large_resident(h);
    assert_true(r <= last);
    assert_true(r >= 32 * MiB);
    last = r;
    if (step == 16) assert_true(r > allowance(64 * MiB) - MiB && r <= allowance(64 * MiB)); /* peak / 2 */
    assert_heap_valid(h);
  }
  assert_true(large_resident(h) <= allowance(32 * MiB)); /* the peak is what is in use */
  /* The in-use blocks came back too: after enough half-lives, nothing. */
  for (int i = 0; i < 8; i++) samm_scope_close(s[i]);
  f.now += 64 * 1000;
  samm_collect(h);
  assert_int_equal(stats_of(h).pool_large_bytes, 0);
  assert_heap_valid(h);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

static void decay_follows_the_clock_and_can_change(void **state) {
  (void)state;
  fault_os f;
  samm_heap *h = large_heap(&f, 0, 1600);
  samm_scope *s = samm_scope_open(h);
  assert_non_null(samm_scope_alloc(s, 32 * MiB));
  samm_scope_close(s);
  assert_int_equal(stats_of(h).pool_large_bytes, 32 * MiB);
  f.now += 800; /* half a half-life: a peak of 32 / sqrt(2) = 22.6 MiB */
  samm_collect(h);
  uint64_t pool = stats_of(h).pool_large_bytes;
  assert_int_equal(stats_of(h).large_peak / MiB, 22);
  assert_true(pool <= allowance(stats_of(h).large_peak) && pool > allowance(stats_of(h).large_peak) - GRANULE);
  f.now += 800;
  samm_collect(h);
  pool = stats_of(h).pool_large_bytes;
  assert_true(stats_of(h).large_peak > 16 * MiB - 1024 && stats_of(h).large_peak < 16 * MiB + 1024);
  assert_true(pool <= allowance(stats_of(h).large_peak) && pool > allowance(16 * MiB) - 2 * GRANULE);
  assert_heap_valid(h);
  /* A scope taking a block sees the time passed too, without a collect. */
  f.now += 1600;
  s = samm_scope_open(h);
  assert_non_null(samm_scope_alloc(s, MiB));
  assert_true(stats_of(h).pool_large_bytes <= allowance(8 * MiB) - MiB);
  samm_scope_close(s);
  /* After a pause, a block raises the peak to its full size: the time that
   * passed decays what came before it, not the block. */
  f.now += 100000;
  s = samm_scope_open(h);
  assert_non_null(samm_scope_alloc(s, 12 * MiB));
  assert_int_equal(stats_of(h).large_peak, 12 * MiB);
  samm_scope_close(s);
  assert_int_equal(stats_of(h).pool_large_bytes, 12 * MiB);
  /* Nor does a block held a long time lose its place when it comes back:
   * demand was that high all along. */
  s = samm_scope_open(h);
  assert_non_null(samm_scope_alloc(s, 12 * MiB));
  f.now += 100000;
  samm_scope_close(s);
  assert_int_equal(stats_of(h).pool_large_bytes, 12 * MiB);
  /* decay_ms 0: nothing is kept from now on. */
  assert_int_equal(samm_heap_set_decay(h, 0), SAMM_EOK);
  assert_int_equal(stats_of(h).pool_large_bytes, 0);
  assert_int_equal(samm_heap_set_decay(h, 3600001), SAMM_EINVALID_ARG);
  s = samm_scope_open(h);
  assert_non_null(samm_scope_alloc(s, 2 * MiB));
  int unmaps = f.unmaps;
  samm_scope_close(s);
  assert_int_equal(f.unmaps, unmaps + 1);
  assert_int_equal(stats_of(h).pool_large_bytes, 0);
  assert_heap_valid(h);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

static void budget_refusals_on_the_way(void **state) {
  (void)state;
  fault_os f;
  samm_heap *h = large_heap(&f, 48 * MiB, 5000);
  samm_scope *a = samm_scope_open(h);
  assert_non_null(samm_scope_alloc(a, 40 * MiB));
  samm_scope *b = samm_scope_open(h);
  assert_null(samm_scope_alloc(b, 16 * MiB));
  assert_int_equal(samm_heap_last_error(h), SAMM_ELIMIT);
  assert_int_equal(stats_of(h).limit_refusals, 1);
  assert_int_equal(stats_of(h).large_in_use, 40 * MiB);
  assert_heap_valid(h);
  samm_scope_close(a);
  assert_int_equal(stats_of(h).pool_large_bytes, 40 * MiB);
  /* From the cache now, within the budget. */
  assert_non_null(samm_scope_alloc(b, 16 * MiB));
  samm_scope *c = samm_scope_open(h);
  assert_non_null(samm_scope_alloc(c, 30 * MiB)); /* 24 MiB cached + 6 fresh */
  assert_int_equal(stats_of(h).large_fresh_bytes, 40 * MiB + 6 * MiB);
  assert_true(stats_of(h).committed <= 48 * MiB);
  assert_heap_valid(h);
  samm_scope *d = samm_scope_open(h);
  assert_null(samm_scope_alloc(d, 4 * MiB));
  assert_int_equal(stats_of(h).limit_refusals, 2);
  assert_heap_valid(h);
  /* A lend is refused the same way, and works once there is room. */
  size_t len;
  uint64_t ticket;
  assert_null(samm_chunk_lend(h, 4 * MiB, &len, &ticket));
  samm_scope_close(c);
  uint8_t *lent = samm_chunk_lend(h, 4 * MiB, &len, &ticket);
  assert_non_null(lent);
  assert_heap_valid(h);
  assert_int_equal(samm_chunk_return(h, lent, ticket), SAMM_EOK);
  samm_scope_close(b);
  samm_scope_close(d);
  assert_true(stats_of(h).high_water <= 48 * MiB);
  assert_heap_valid(h);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

static void budget_pressure_takes_only_what_it_misses_from_the_cache(void **state) {
  (void)state;
  fault_os f;
  samm_heap *h = large_heap(&f, 32 * MiB, 5000);
  samm_scope *s = samm_scope_open(h);
  assert_non_null(samm_scope_alloc(s, 24 * MiB));
  samm_scope_close(s);
  s = samm_scope_open(h);
  assert_non_null(samm_scope_alloc(s, 100)); /* one chunk */
  uint64_t committed = stats_of(h).committed;
  assert_int_equal(committed, 24 * MiB + (256 << 10));
  /* 8 MiB of long memory: room for it is made from the cache, no more. */
  void *p = samm_alloc(h, SAMM_LONG, 8 * MiB);
  assert_non_null(p);
  assert_int_equal(stats_of(h).limit_refusals, 0);
  uint64_t pool = stats_of(h).pool_large_bytes;
  assert_true(pool >= 24 * MiB - (8 * MiB - (32 * MiB - committed)) - GRANULE);
  assert_true(pool < 24 * MiB);
  assert_true(stats_of(h).committed <= 32 * MiB);
  assert_heap_valid(h);
  samm_free(h, p);
  samm_scope_close(s);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

static void zeroed_lends_clear_only_what_may_hold_old_data(void **state) {
  (void)state;
  fault_os f;
  samm_heap *h = large_heap(&f, 0, 5000);
  size_t len;
  uint64_t ticket;
  /* Fresh: nothing to clear. */
  uint8_t *p = samm_chunk_lend_zeroed(h, 2 * MiB, &len, &ticket);
  assert_non_null(p);
  assert_int_equal(len, 2 * MiB);
  assert_int_equal(stats_of(h).zeroed_bytes, 0);
  for (size_t i = 0; i < len; i += 512) assert_int_equal(p[i], 0);
  memset(p, 0x5A, len);
  assert_int_equal(samm_chunk_return(h, p, ticket), SAMM_EOK);
  /* Lent again: all of it was written, all of it is cleared. */
  assert_ptr_equal(samm_chunk_lend_zeroed(h, 2 * MiB, &len, &ticket), p);
  assert_int_equal(stats_of(h).zeroed_bytes, 2 * MiB);
  for (size_t i = 0; i < len; i++)
    if (p[i] != 0) fail_msg("byte %zu is %d", i, p[i]);
  assert_int_equal(samm_chunk_return(h, p, ticket), SAMM_EOK);
  samm_heap_destroy(h);

  /* A scope wrote 1 MiB + 16 of a block of 1 MiB + 64 KiB: a zeroed lend
   * of the block clears those bytes only. */
  h = large_heap(&f, 0, 5000);
  samm_scope *s = samm_scope_open(h);
  uint8_t *q = samm_scope_alloc(s, MiB + 10);
  memset(q, 0x77, MiB + 10);
  samm_scope_close(s);
  assert_ptr_equal(samm_chunk_lend_zeroed(h, MiB + 1, &len, &ticket), q);
  assert_int_equal(len, MiB + GRANULE);
  assert_int_equal(stats_of(h).zeroed_bytes, MiB + 16);
  for (size_t i = 0; i < len; i++)
    if (q[i] != 0) fail_msg("byte %zu is %d", i, q[i]);
  assert_int_equal(samm_chunk_return(h, q, ticket), SAMM_EOK);
  /* Moved pages keep what they knew: a block assembled from that one and
   * a fresh part clears no more than the old bytes. */
  uint64_t zeroed = stats_of(h).zeroed_bytes;
  uint8_t *r = samm_chunk_lend_zeroed(h, 3 * MiB, &len, &ticket);
  assert_non_null(r);
  assert_int_equal(stats_of(h).zeroed_bytes - zeroed, MiB + GRANULE);
  for (size_t i = 0; i < len; i++)
    if (r[i] != 0) fail_msg("byte %zu is %d", i, r[i]);
  assert_int_equal(samm_chunk_return(h, r, ticket), SAMM_EOK);

  /* Chunks too: a fresh one needs nothing, a pooled one is cleared. */
  zeroed = stats_of(h).zeroed_bytes;
  uint8_t *c = samm_chunk_lend_zeroed(h, 0, &len, &ticket);
  assert_non_null(c);
  assert_int_equal(stats_of(h).zeroed_bytes, zeroed);
  memset(c, 0x33, len);
  assert_int_equal(samm_chunk_return(h, c, ticket), SAMM_EOK);
  assert_ptr_equal(samm_chunk_lend_zeroed(h, 0, &len, &ticket), c);
  assert_int_equal(stats_of(h).zeroed_bytes - zeroed, len);
  for (size_t i = 0; i < len; i++)
    if (c[i] != 0) fail_msg("byte %zu is %d", i, c[i]);
  assert_int_equal(samm_chunk_return(h, c, ticket), SAMM_EOK);
  assert_heap_valid(h);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

static void held_leaves_out_what_caches_keep(void **state) {
  (void)state;
  fault_os f;
  samm_heap *h = large_heap(&f, 0, 5000);
  assert_int_equal(samm_heap_held(h), 0);
  samm_scope *s = samm_scope_open(h);
  assert_non_null(samm_scope_alloc(s, 100));
  assert_non_null(samm_scope_alloc(s, 3 * MiB));
  void *p = samm_alloc(h, SAMM_MEDIUM, 100);
  assert_int_equal(samm_heap_held(h), stats_of(h).committed);
  uint64_t slab = stats_of(h).slab.committed;
  samm_scope_close(s);
  /* The chunk and the block are cached: only the slab span is held. */
  assert_true(stats_of(h).committed > slab);
  assert_int_equal(samm_heap_held(h), slab);
  samm_free(h, p);
  samm_heap_destroy(h);
  assert_int_equal(f.mapped, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sizes_from_a_span_to_64_mib_get_blocks_of_their_size),
      cmocka_unit_test(a_smaller_request_takes_part_of_a_cached_block_and_the_rest_merges_back),
      cmocka_unit_test(a_request_no_cached_block_fits_moves_cached_pages_into_one),
      cmocka_unit_test(a_move_the_os_refuses_leaves_fresh_pages),
      cmocka_unit_test(steady_demand_reuses_resident_memory),
      cmocka_unit_test(shrinking_demand_gives_memory_back),
      cmocka_unit_test(decay_follows_the_clock_and_can_change),
      cmocka_unit_test(budget_refusals_on_the_way),
      cmocka_unit_test(budget_pressure_takes_only_what_it_misses_from_the_cache),
      cmocka_unit_test(zeroed_lends_clear_only_what_may_hold_old_data),
      cmocka_unit_test(held_leaves_out_what_caches_keep),
  };
  return cmocka_run_group_tests_name("large", tests, NULL, NULL);
}
