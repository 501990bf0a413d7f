/* os.c: the only file that talks to the operating system about memory
 * (and about time, for the large-block cache's decay).
 *
 * Contract: sizes and addresses are multiples of the page size; map returns
 * NULL on failure, unmap and decommit return 0 or an errno value. A heap
 * reaches these through the samm_os table in its config, so tests can put
 * failing primitives (or a clock of their own) in their place.
 */
#define _GNU_SOURCE /* mremap */
#include "internal.h"

#include <errno.h>
#include <sys/mman.h>
#include <time.h>

static void *os_map(size_t size, void *ctx) {
  (void)ctx;
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                 -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static int os_unmap(void *addr, size_t size, void *ctx) {
  (void)ctx;
  return munmap(addr, size) == 0 ? 0 : errno;
}

static int os_decommit(void *addr, size_t size, void *ctx) {
  (void)ctx;
  /* Anonymous private memory reads back as zeros after MADV_DONTNEED and is
   * no longer resident: exactly "decommitted" for accounting. */
  return madvise(addr, size, MADV_DONTNEED) == 0 ? 0 : errno;
}

static uint64_t os_now_ms(void *ctx) {
  (void)ctx;
  struct timespec ts;
  /* The coarse clock is read from the vDSO without a system call. */
  if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0) return 0;
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#ifdef __linux__
static int os_move(void *from, size_t size, void *to, void *ctx) {
  (void)ctx;
  /* Moves page table entries: resident pages stay resident, nothing is
   * copied or faulted in. */
  void *p = mremap(from, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, to);
  return p == MAP_FAILED ? errno : 0;
}
#define OS_MOVE os_move
#else
#define OS_MOVE NULL
#endif

const samm_os samm__os_default = {os_map, os_unmap, os_decommit, NULL, os_now_ms, OS_MOVE};

void *samm__os_map_aligned(const samm_os *os, size_t size, size_t align) {
  if (align <= SAMM__PAGE) return os->map(size, os->ctx);
  /* Over-allocate by the alignment, then give back the head and the tail. */
  if (size + align < size) return NULL;
  uint8_t *raw = os->map(size + align, os->ctx);
  if (raw == NULL) return NULL;
  uintptr_t start = samm__align_up((uintptr_t)raw, align);
  size_t head = start - (uintptr_t)raw;
  size_t tail = align - head;
  if (head != 0 && os->unmap(raw, head, os->ctx) != 0) goto undo;
  if (tail != 0 && os->unmap((uint8_t *)start + size, tail, os->ctx) != 0) {
    os->unmap((void *)start, size, os->ctx);
    return NULL;
  }
  return (void *)start;
undo:
  os->unmap(raw, size + align, os->ctx);
  return NULL;
}

int samm__os_unmap(const samm_os *os, void *addr, size_t size) {
  return os->unmap(addr, size, os->ctx);
}

int samm__os_decommit(const samm_os *os, void *addr, size_t size) {
  return os->decommit(addr, size, os->ctx);
}

uint64_t samm__os_now_ms(const samm_os *os) { return os->now_ms(os->ctx); }

int samm__os_move(const samm_os *os, void *from, size_t size, void *to) {
  return os->move(from, size, to, os->ctx);
}
