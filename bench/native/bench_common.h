/* What the native benchmarks share: a clock, medians, allocators loaded with
 * dlopen, and the static TLS surplus jemalloc needs. */
#ifndef SAMM_BENCH_COMMON_H
#define SAMM_BENCH_COMMON_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* The median of v[0..n), which it sorts. */
static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The allocator library so, loaded with its own heap (RTLD_LOCAL); NULL,
 * said on stderr, when it is not installed. */
static void *open_allocator(const char *name, const char *so) {
  void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) fprintf(stderr, "# %s not available (%s): install it to compare\n", name, dlerror());
  return h;
}

/* Debian's jemalloc uses initial-exec TLS, which dlopen can only place with
 * a larger static TLS surplus: runs this program again with one. */
static void rerun_with_tls_surplus(char **argv) {
  if (getenv("SAMM_BENCH_TLS") != NULL) return;
  setenv("SAMM_BENCH_TLS", "1", 1);
  setenv("GLIBC_TUNABLES", "glibc.rtld.optional_static_tls=65536", 1);
  execv("/proc/self/exe", argv);
}

#endif
