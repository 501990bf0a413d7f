/* libFuzzer target: random operation sequences on the C core. Each input
 * byte pair is an operation: open or close a scope (any order), allocate
 * in a scope, allocate medium/long, free (valid, twice, interior, foreign,
 * scope memory), free and then write into the freed memory as a stale view
 * would, lend and return whole chunks (stale tickets too), collect, change
 * the budget. After every step the heap's own walk must pass; every live
 * block keeps the byte pattern written into it; invalid frees must be
 * refused, never obeyed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "samm.h"

#define MAX_SCOPES 6
#define MAX_BLOCKS 256

typedef struct blk {
  uint8_t *p;
  size_t n;
  uint8_t tag;
  int scope; /* -1: medium/long, -2: a lent chunk */
  uint64_t ticket; /* lent chunks */
} blk;

static void fill(const blk *b) { memset(b->p, b->tag, b->n < 64 ? b->n : 64); }

static void check(const blk *b) {
  size_t n = b->n < 64 ? b->n : 64;
  for (size_t i = 0; i < n; i++)
    if (b->p[i] != b->tag) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  samm_config cfg;
  samm_config_init(&cfg);
  cfg.max_bytes = 8 << 20;
  cfg.chunk_size = 64 << 10;
  cfg.region_segment_size = 256 << 10;
  samm_heap *h = samm_heap_create(&cfg);
  if (h == NULL) abort();
  samm_scope *scopes[MAX_SCOPES] = {0};
  blk blocks[MAX_BLOCKS];
  size_t count = 0;
  uint8_t tag = 1;
  for (size_t i = 0; i + 1 < size; i += 2) {
    uint8_t op = data[i] % 11, arg = data[i + 1];
    switch (op) {
      case 0: { /* open */
        int s = arg % MAX_SCOPES;
        if (scopes[s] == NULL && (scopes[s] = samm_scope_open(h)) == NULL) abort();
        break;
      }
      case 1: { /* close: its blocks go */
        int s = arg % MAX_SCOPES;
        if (scopes[s] == NULL) break;
        for (size_t k = 0; k < count;) {
          if (blocks[k].scope == s) {
            check(&blocks[k]);
            blocks[k] = blocks[--count];
          } else {
            k++;
          }
        }
        if (samm_scope_close(scopes[s]) != SAMM_EOK) abort();
        scopes[s] = NULL;
        break;
      }
      case 2:
      case 3: { /* allocate, scope or heap */
        if (count == MAX_BLOCKS) break;
        size_t n = (size_t)arg * (arg & 1 ? 1 : 613) + (arg > 250 ? (100u << 10) : 0);
        int s = arg % MAX_SCOPES;
        blk b = {NULL, n, tag++ ? tag : ++tag, -1, 0};
        if (op == 2 && scopes[s] != NULL) {
          b.scope = s;
          b.p = samm_scope_alloc(scopes[s], n);
        } else {
          b.p = samm_alloc(h, arg & 2 ? SAMM_MEDIUM : SAMM_LONG, n);
        }
        if (b.p == NULL) {
          if (samm_heap_last_error(h) != SAMM_ELIMIT) abort();
          break;
        }
        if ((uintptr_t)b.p % SAMM_ALIGNMENT) abort();
        fill(&b);
        blocks[count++] = b;
        break;
      }
      case 4: { /* free, then the same pointer again */
        if (count == 0) break;
        size_t k = arg % count;
        blk b = blocks[k];
        check(&b);
        if (b.scope != -1) {
          if (samm_free(h, b.p) != SAMM_EWRONG_ARENA) abort();
          break;
        }
        if (samm_free(h, b.p) != SAMM_EOK) abort();
        blocks[k] = blocks[--count];
        int again = samm_free(h, b.p);
        if (again != SAMM_EDOUBLE_FREE && again != SAMM_EBAD_POINTER) abort();
        break;
      }
      case 5: { /* interior and foreign pointers */
        if (count > 0) {
          blk *b = &blocks[arg % count];
          if (b->n > 32 && b->scope < 0 && samm_free(h, b->p + 16) == SAMM_EOK) abort();
        }
        uint8_t local;
        if (samm_free(h, &local) != SAMM_EBAD_POINTER) abort();
        break;
      }
      case 6:
        samm_collect(h);
        break;
      case 7:
        samm_heap_set_limit(h, (uint64_t)(1 + arg % 16) << 20);
        break;
      case 8: { /* lend a chunk or a larger block, or return one (a stale ticket first) */
        if (arg & 1) {
          if (count == MAX_BLOCKS) break;
          blk b = {NULL, 0, tag++ ? tag : ++tag, -2, 0};
          size_t want = (arg & 2) ? (size_t)(arg >> 2) % (4 * cfg.chunk_size) : 0;
          b.p = samm_chunk_lend(h, want, &b.n, &b.ticket);
          if (b.p == NULL) {
            if (samm_heap_last_error(h) != SAMM_ELIMIT) abort();
            break;
          }
          if (want <= cfg.chunk_size ? b.n != cfg.chunk_size : b.n < want) abort();
          if (samm_chunk_ticket(h, b.p) != b.ticket) abort();
          fill(&b);
          blocks[count++] = b;
        } else {
          for (size_t k = 0; k < count; k++) {
            if (blocks[k].scope != -2) continue;
            blk b = blocks[k];
            check(&b);
            if (samm_chunk_return(h, b.p, b.ticket + 1) != SAMM_EBAD_POINTER) abort();
            if (samm_chunk_return(h, b.p, b.ticket) != SAMM_EOK) abort();
            if (samm_chunk_return(h, b.p, b.ticket) != SAMM_EBAD_POINTER) abort();
            blocks[k] = blocks[--count];
            break;
          }
        }
        break;
      }
      case 9: { /* free a medium/long block, then write all over it (a stale view);
                 * blocks of a mapping of their own are unmapped at once: not those */
        size_t k = count;
        for (size_t j = 0; j < count && k == count; j++)
          if (blocks[(arg + j) % count].scope == -1 && blocks[(arg + j) % count].n < (64u << 10))
            k = (arg + j) % count;
        if (k == count) break;
        blk b = blocks[k];
        check(&b);
        if (samm_free(h, b.p) != SAMM_EOK) abort();
        blocks[k] = blocks[--count];
        for (size_t j = 0; j < b.n; j++) b.p[j] = (uint8_t)(arg * 31 + j);
        if (b.n >= sizeof(void *)) memcpy(b.p, &data, sizeof(void *)); /* a pointer-like value */
        break;
      }
      default: { /* reads of a live block */
        if (count > 0) check(&blocks[arg % count]);
        break;
      }
    }
    if (samm_heap_check(h) != SAMM_EOK) abort();
  }
  for (size_t k = 0; k < count; k++) check(&blocks[k]);
  samm_stats st;
  samm_stats_get(h, &st);
  if (st.scopes_open != st.scopes_opened - st.scopes_closed) abort();
  samm_heap_destroy(h);
  return 0;
}
