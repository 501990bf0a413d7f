/* Native micro-benchmark: SAMM's arenas against glibc malloc, jemalloc and
 * mimalloc on the same access patterns, in one process. jemalloc and
 * mimalloc are loaded with dlopen (RTLD_LOCAL) so each keeps its own heap;
 * a missing one is reported and skipped. Every configuration runs REPS
 * times, interleaved; the table shows medians in ns per operation.
 *
 *   bench_native [reps]      (default 7)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "samm.h"

typedef struct allocator {
  const char *name;
  void *(*malloc_fn)(size_t);
  void (*free_fn)(void *);
} allocator;

static volatile uintptr_t sink;

enum { SMALL_N = 200000, PAIRS = 400000, LIVE = 1024 };
static size_t small_sizes[SMALL_N];
static size_t medium_sizes[PAIRS];
static size_t long_sizes[PAIRS];
static uint32_t slots[PAIRS];
static void *ptrs[SMALL_N];

static uint64_t rng = 88172645463325252ull;
static uint32_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng >> 11);
}

/* ---- patterns: each returns ns per operation ---- */

/* Short lifetimes: SMALL_N allocations of 16-256 B, then all released. */
static double scope_alloc_samm(samm_heap *h) {
  samm_scope *s = samm_scope_open(h);
  double t0 = now_ns();
  for (int i = 0; i < SMALL_N; i++) sink += (uintptr_t)samm_scope_alloc(s, small_sizes[i]);
  double t1 = now_ns();
  samm_scope_close(s);
  return (t1 - t0) / SMALL_N;
}

static double scope_alloc_malloc(const allocator *a) {
  double t0 = now_ns();
  for (int i = 0; i < SMALL_N; i++) ptrs[i] = a->malloc_fn(small_sizes[i]);
  double t1 = now_ns();
  for (int i = 0; i < SMALL_N; i++) a->free_fn(ptrs[i]);
  return (t1 - t0) / SMALL_N;
}

/* Release of a request: the scope used 8 chunks; the malloc equivalent
 * frees the same bytes as 64 KiB-ish blocks one by one. */
static double scope_close_samm(samm_heap *h, size_t chunk) {
  enum { ROUNDS = 2000 };
  double total = 0;
  for (int r = 0; r < ROUNDS; r++) {
    samm_scope *s = samm_scope_open(h);
    for (size_t used = 0; used + 4096 <= 8 * chunk; used += 4096) samm_scope_alloc(s, 4096);
    double t0 = now_ns();
    samm_scope_close(s);
    total += now_ns() - t0;
  }
  return total / ROUNDS;
}

static double scope_close_malloc(const allocator *a, size_t chunk) {
  enum { ROUNDS = 2000 };
  size_t n = 8 * chunk / 4096;
  double total = 0;
  for (int r = 0; r < ROUNDS; r++) {
    for (size_t i = 0; i < n; i++) ptrs[i] = a->malloc_fn(4096);
    double t0 = now_ns();
    for (size_t i = 0; i < n; i++) a->free_fn(ptrs[i]);
    total += now_ns() - t0;
  }
  return total / ROUNDS;
}

/* alloc+free pairs over a working set of LIVE blocks, random victim. */
static double pairs_samm(samm_heap *h, samm_class cls, const size_t *sizes) {
  void *live[LIVE];
  for (int i = 0; i < LIVE; i++) live[i] = samm_alloc(h, cls, sizes[i]);
  double t0 = now_ns();
  for (int i = 0; i < PAIRS; i++) {
    uint32_t k = slots[i];
    samm_free(h, live[k]);
    live[k] = samm_alloc(h, cls, sizes[i]);
  }
  double t1 = now_ns();
  for (int i = 0; i < LIVE; i++) samm_free(h, live[i]);
  return (t1 - t0) / PAIRS;
}

static double pairs_malloc(const allocator *a, const size_t *sizes) {
  void *live[LIVE];
  for (int i = 0; i < LIVE; i++) live[i] = a->malloc_fn(sizes[i]);
  double t0 = now_ns();
  for (int i = 0; i < PAIRS; i++) {
    uint32_t k = slots[i];
    a->free_fn(live[k]);
    live[k] = a->malloc_fn(sizes[i]);
  }
  double t1 = now_ns();
  for (int i = 0; i < LIVE; i++) a->free_fn(live[i]);
  return (t1 - t0) / PAIRS;
}

/* ---- driver ---- */

enum { PATTERNS = 4, MAX_ALLOCATORS = 4, MAX_REPS = 51 };
static const char *pattern_names[PATTERNS] = {
    "scope alloc, 16-256 B (ns/alloc)",
    "scope close, 8 chunks (ns/close)",
    "medium alloc+free, 16 B-8 KiB (ns/pair)",
    "long alloc+free, 1-64 KiB (ns/pair)",
};

static void load(allocator *a, const char *lib, const char *m, const char *f) {
  void *h = open_allocator(a->name, lib);
  if (h == NULL) return;
  a->malloc_fn = (void *(*)(size_t))dlsym(h, m);
  a->free_fn = (void (*)(void *))dlsym(h, f);
}

int main(int argc, char **argv) {
  rerun_with_tls_surplus(argv);
  int reps = argc > 1 ? atoi(argv[1]) : 7;
  if (reps < 1 || reps > MAX_REPS) reps = 7;
  for (int i = 0; i < SMALL_N; i++) small_sizes[i] = 16 + next_rand() % 241;
  for (int i = 0; i < PAIRS; i++) {
    uint32_t r = next_rand();
    medium_sizes[i] = r % 4 ? 16 + r % 1009 : 16 + r % 8177; /* mostly small */
    long_sizes[i] = 1024 + next_rand() % (64 * 1024 - 1024);
    slots[i] = next_rand() % LIVE;
  }
  allocator allocs[MAX_ALLOCATORS] = {
      {"samm", NULL, NULL}, {"glibc", malloc, free}, {"jemalloc", NULL, NULL},
      {"mimalloc", NULL, NULL}};
  load(&allocs[2], "libjemalloc.so.2", "malloc", "free");
  load(&allocs[3], "libmimalloc.so.2", "mi_malloc", "mi_free");

  samm_heap *heap = samm_heap_create(NULL);
  samm_config cfg;
  samm_heap_config(heap, &cfg);
  static double results[PATTERNS][MAX_ALLOCATORS][MAX_REPS];
  for (int r = 0; r < reps; r++) {
    for (int a = 0; a < MAX_ALLOCATORS; a++) {
      const allocator *al = &allocs[a];
      if (a > 0 && al->malloc_fn == NULL) continue;
      if (a == 0) {
        results[0][a][r] = scope_alloc_samm(heap);
        results[1][a][r] = scope_close_samm(heap, cfg.chunk_size);
        results[2][a][r] = pairs_samm(heap, SAMM_MEDIUM, medium_sizes);
        results[3][a][r] = pairs_samm(heap, SAMM_LONG, long_sizes);
      } else {
        results[0][a][r] = scope_alloc_malloc(al);
        results[1][a][r] = scope_close_malloc(al, cfg.chunk_size);
        results[2][a][r] = pairs_malloc(al, medium_sizes);
        results[3][a][r] = pairs_malloc(al, long_sizes);
      }
    }
  }
  printf("| pattern |");
  for (int a = 0; a < MAX_ALLOCATORS; a++)
    if (a == 0 || allocs[a].malloc_fn) printf(" %s |", allocs[a].name);
  printf(" samm / glibc | samm / jemalloc | samm / mimalloc |\n|---|");
  for (int a = 0; a < MAX_ALLOCATORS + 3; a++)
    if (a == 0 || a >= MAX_ALLOCATORS || allocs[a].malloc_fn) printf("---:|");
  printf("\n");
  for (int p = 0; p < PATTERNS; p++) {
    double med[MAX_ALLOCATORS] = {0};
    printf("| %s |", pattern_names[p]);
    for (int a = 0; a < MAX_ALLOCATORS; a++) {
      if (a > 0 && allocs[a].malloc_fn == NULL) continue;
      med[a] = median(results[p][a], reps);
      printf(" %.2f |", med[a]);
    }
    for (int a = 1; a < MAX_ALLOCATORS; a++) {
      if (med[a] > 0)
        printf(" %.2f |", med[0] / med[a]);
      else
        printf(" n/a |");
    }
    printf("\n");
  }
  printf("\nmedians of %d interleaved repetitions; chunk size %llu bytes\n", reps,
         (unsigned long long)cfg.chunk_size);
  samm_heap_destroy(heap);
  return 0;
}
