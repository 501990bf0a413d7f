/* Large blocks: what a zero-filled allocation of 1-16 MiB costs, and the page
 * faults it takes, in a steady rotation like a service's (IN_FLIGHT blocks
 * live at a time, the oldest released as a new one is taken).
 *
 * SAMM hands blocks out through samm_chunk_lend (the path JavaScript scopes
 * take) in two ways: clearing the whole block (what a caller does that
 * knows nothing of the block), or samm_chunk_lend_zeroed, which clears only
 * the prefix that may hold old data. Each runs with the cache (decayMs
 * 5000: blocks are reused) and without (decayMs 0: every block fresh), and
 * with and without the caller then writing the whole block, as a service
 * filling a response body does. calloc of glibc, jemalloc and mimalloc run
 * the same rotation for comparison.
 *
 *   bench_large [reps]      (default 5)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "samm.h"

enum { IN_FLIGHT = 32, WARM = 200, STEPS = 1200, MAX_REPS = 21 };
#define MiB ((size_t)1 << 20)

static size_t sizes[STEPS];

static long minor_faults(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

typedef struct result {
  double us;     /* per allocation, after the warm-up */
  double faults; /* minor faults per allocation, after the warm-up */
} result;

typedef enum { EAGER, LAZY } zeroing;

static result run_samm(uint64_t decay_ms, zeroing z, int write) {
  samm_config cfg;
  samm_config_init(&cfg);
  cfg.decay_ms = decay_ms;
  samm_heap *h = samm_heap_create(&cfg);
  uint8_t *p[IN_FLIGHT] = {0};
  uint64_t t[IN_FLIGHT];
  double t0 = 0;
  long f0 = 0;
  for (int i = 0; i < STEPS; i++) {
    if (i == WARM) {
      t0 = now_ns();
      f0 = minor_faults();
    }
    int k = i % IN_FLIGHT;
    if (p[k] != NULL) samm_chunk_return(h, p[k], t[k]);
    size_t len;
    if (z == LAZY) {
      p[k] = samm_chunk_lend_zeroed(h, sizes[i], &len, &t[k]);
    } else {
      p[k] = samm_chunk_lend(h, sizes[i], &len, &t[k]);
      memset(p[k], 0, len);
    }
    if (write) memset(p[k], 0x5a, sizes[i]);
  }
  result r = {(now_ns() - t0) / 1e3 / (STEPS - WARM),
              (double)(minor_faults() - f0) / (STEPS - WARM)};
  samm_heap_destroy(h);
  return r;
}

static result run_calloc(void *(*calloc_fn)(size_t, size_t), void (*free_fn)(void *), int write) {
  uint8_t *p[IN_FLIGHT] = {0};
  double t0 = 0;
  long f0 = 0;
  for (int i = 0; i < STEPS; i++) {
    if (i == WARM) {
      t0 = now_ns();
      f0 = minor_faults();
    }
    int k = i % IN_FLIGHT;
    free_fn(p[k]);
    p[k] = calloc_fn(1, sizes[i]);
    if (write) memset(p[k], 0x5a, sizes[i]);
  }
  result r = {(now_ns() - t0) / 1e3 / (STEPS - WARM),
              (double)(minor_faults() - f0) / (STEPS - WARM)};
  for (int k = 0; k < IN_FLIGHT; k++) free_fn(p[k]);
  return r;
}

typedef struct lib {
  const char *name;
  void *(*calloc_fn)(size_t, size_t);
  void (*free_fn)(void *);
} lib;

static void load(lib *l, const char *so, const char *c, const char *f) {
  void *h = open_allocator(l->name, so);
  if (h == NULL) return;
  l->calloc_fn = (void *(*)(size_t, size_t))dlsym(h, c);
  l->free_fn = (void (*)(void *))dlsym(h, f);
}

enum { CASES = 7 };

int main(int argc, char **argv) {
  rerun_with_tls_surplus(argv);
  int reps = argc > 1 ? atoi(argv[1]) : 5;
  if (reps < 1 || reps > MAX_REPS) reps = 5;
  uint64_t rng = 88172645463325252ull;
  for (int i = 0; i < STEPS; i++) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    double u = (double)(rng >> 11) / 9007199254740992.0;
    sizes[i] = i % 8 == 0 ? 16 * MiB : (size_t)((double)MiB * exp2(3 * u));
  }
  lib libs[3] = {{"glibc", calloc, free}, {"jemalloc", NULL, NULL}, {"mimalloc", NULL, NULL}};
  load(&libs[1], "libjemalloc.so.2", "calloc", "free");
  load(&libs[2], "libmimalloc.so.2", "mi_calloc", "mi_free");
  const char *names[CASES] = {"samm, cache, clear all", "samm, cache, clear dirty prefix",
                              "samm, no cache, clear all", "samm, no cache, clear dirty prefix",
                              "glibc calloc", "jemalloc calloc", "mimalloc calloc"};
  static double us[2][CASES][MAX_REPS], faults[2][CASES][MAX_REPS];
  for (int r = 0; r < reps; r++) {
    for (int write = 0; write < 2; write++) {
      result res[CASES] = {run_samm(5000, EAGER, write), run_samm(5000, LAZY, write),
                           run_samm(0, EAGER, write), run_samm(0, LAZY, write)};
      for (int l = 0; l < 3; l++)
        if (libs[l].calloc_fn != NULL)
          res[4 + l] = run_calloc(libs[l].calloc_fn, libs[l].free_fn, write);
      for (int c = 0; c < CASES; c++) {
        us[write][c][r] = res[c].us;
        faults[write][c][r] = res[c].faults;
      }
    }
  }
  printf("| allocation (%d live, 1-8 MiB log-uniform, every 8th 16 MiB) | µs / alloc | faults / alloc | "
         "µs / alloc, then written | faults / alloc, then written |\n|---|---:|---:|---:|---:|\n",
         IN_FLIGHT);
  for (int c = 0; c < CASES; c++) {
    if (c >= 4 && libs[c - 4].calloc_fn == NULL) continue;
    printf("| %s | %.0f | %.0f | %.0f | %.0f |\n", names[c], median(us[0][c], reps),
           median(faults[0][c], reps), median(us[1][c], reps), median(faults[1][c], reps));
  }
  printf("\nmedians of %d interleaved repetitions, %d allocations each after %d of warm-up\n", reps,
         STEPS - WARM, WARM);
  return 0;
}
