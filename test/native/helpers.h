/* helpers.h: shared by the cmocka suites: a page source that counts and
 * can be told to fail, and small heap helpers. */
#ifndef SAMM_TEST_HELPERS_H
#define SAMM_TEST_HELPERS_H

#define _GNU_SOURCE /* mremap */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "samm.h"

/* A page source over mmap that counts its calls and fails on request. */
typedef struct fault_os {
  samm_os os;
  int maps, unmaps, decommits, moves;
  int fail_maps_after;   /* -1: never; n: maps after the first n fail */
  int fail_decommit;     /* nonzero: decommit returns ENOMEM */
  int fail_moves;        /* nonzero: move returns ENOMEM */
  size_t mapped;         /* bytes currently mapped */
  uint64_t now;          /* ms, the clock of fault_os_fake_clock */
} fault_os;

static void *fault_map(size_t size, void *ctx) {
  fault_os *f = ctx;
  if (f->fail_maps_after >= 0 && f->maps >= f->fail_maps_after) return NULL;
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  f->maps++;
  f->mapped += size;
  return p;
}

static int fault_unmap(void *addr, size_t size, void *ctx) {
  fault_os *f = ctx;
  f->unmaps++;
  f->mapped -= size;
  return munmap(addr, size) == 0 ? 0 : 22;
}

static int fault_decommit(void *addr, size_t size, void *ctx) {
  fault_os *f = ctx;
  if (f->fail_decommit) return 12;
  f->decommits++;
  return madvise(addr, size, MADV_DONTNEED) == 0 ? 0 : 22;
}

static int fault_move(void *from, size_t size, void *to, void *ctx) {
  fault_os *f = ctx;
  if (f->fail_moves) {
    /* As Linux does for a source of several mappings: the destination's
     * pages are dropped before the move fails (here: made inaccessible, so
     * that a use of the hole faults while the accounting stays whole). */
    if (mmap(to, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) return 12;
    return 14;
  }
  if (mremap(from, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, to) == MAP_FAILED) return 22;
  f->moves++;
  f->mapped -= size;
  return 0;
}

static uint64_t fault_now(void *ctx) { return ((fault_os *)ctx)->now; }

static inline void fault_os_init(fault_os *f) {
  memset(f, 0, sizeof *f);
  f->os.map = fault_map;
  f->os.unmap = fault_unmap;
  f->os.decommit = fault_decommit;
  f->os.move = fault_move;
  f->os.ctx = f;
  f->fail_maps_after = -1;
}

/* Makes f's clock f->now, moved by the test, instead of the system's. */
static inline void fault_os_fake_clock(fault_os *f) { f->os.now_ms = fault_now; }

/* A heap over a fault_os with the given budget (0: default). */
static inline samm_heap *heap_with(fault_os *f, uint64_t max_bytes) {
  samm_config cfg;
  samm_config_init(&cfg);
  if (max_bytes) cfg.max_bytes = max_bytes;
  cfg.os = &f->os;
  samm_heap *h = samm_heap_create(&cfg);
  assert_non_null(h);
  return h;
}

static inline samm_stats stats_of(const samm_heap *h) {
  samm_stats s;
  samm_stats_get(h, &s);
  return s;
}

static inline void assert_heap_valid(const samm_heap *h) {
  assert_int_equal(samm_heap_check(h), SAMM_EOK);
}

static inline uint64_t env_scale(const char *name, uint64_t def) {
  const char *s = getenv(name);
  return s && *s ? strtoull(s, NULL, 10) : def;
}

#endif
