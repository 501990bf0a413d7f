/* bake.c: from a profile to a table. For each of four size classes, the
 * lifetimes of all sites (a weighted histogram of log2 lifetimes; censored
 * allocations, still alive when profiling ended, sit at +infinity) are
 * clustered with weighted one-dimensional K-Means: k-means++ seeding from a
 * fixed seed, Lloyd iterations, k in 3..5: from 3, one more cluster is
 * kept while it at least halves the within-cluster sum of squares.
 * Clusters map to classes by rank: the lowest short, the highest long, the
 * rest medium (with fewer than three distinct lifetimes, by absolute bounds:
 * below 1 s short, below 60 s medium, else long). A site's class per size class is that of the cluster holding
 * most of its allocations, then the request rule decides: a site is short,
 * whatever its cluster (its scope releases it), when at least
 * min_short_allocs of its allocations were decided (known to have died in
 * their request or to have outlived it; sampled profiles leave some
 * undecided) and at least short_min_in_request of those died in their
 * request - by default every one. Any other site is never short. Everything is computed from the aggregated counts in
 * sorted order, so the output depends on the profile's content only.
 */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#define SIZE_CLASSES 4
#define K_MIN 3
#define K_MAX 5
#define CENSORED_X 60.0 /* log2 µs of "never died": beyond any bin */
#define POINTS (SAMM_LIFETIME_BINS + 1)
#define SSE_GAIN 0.5    /* a further cluster must leave at most this share of the SSE */
#define SHORT_BELOW 19.93 /* log2 µs of 1 s */
#define LONG_FROM 25.84   /* log2 µs of 60 s */

static const uint8_t sc_lo[SIZE_CLASSES] = {0, 8, 12, 16};
static const uint8_t sc_hi[SIZE_CLASSES] = {7, 11, 15, 63};

static unsigned size_class_of(unsigned size_log2) {
  unsigned c = 0;
  while (c + 1 < SIZE_CLASSES && size_log2 >= sc_lo[c + 1]) c++;
  return c;
}

typedef struct clustering {
  int k;
  double centroid[K_MAX];      /* log2 µs, ascending */
  int cls[K_MAX];              /* samm_class of each cluster */
  int assign[POINTS];          /* cluster of each point */
  uint64_t samples;
} clustering;

typedef struct baked_site {
  samm__prof_site merged[SIZE_CLASSES]; /* counts per size class (name unused) */
  bool present[SIZE_CLASSES];
  int cls[SIZE_CLASSES];
  int overall;
  bool too_few;      /* a size class passed the request rule on too few allocations */
  const char *name;  /* owned copy */
  size_t name_len;
  uint32_t id;
} baked_site;

struct samm_bake {
  samm_bake_options opts;
  char digest[17];
  clustering sc[SIZE_CLASSES];
  baked_site *sites; /* sorted by name */
  size_t site_count;
};

void samm_bake_options_init(samm_bake_options *o) {
  /* A single allocation seen outliving its request rules short out: a short
   * buffer kept past its request reads as length 0 from then on. */
  o->short_min_in_request = 1.0;
  /* With no outliving allocation among n decided ones, the outliving share
   * is below 3/n at 95% confidence (the rule of three): below 0.3% at 1000.
   * A site that keeps 1 buffer in 1000 shows one with 63% probability in
   * 1000 allocations, 95% in 3000; what slips through, the run-time escape
   * watch catches. */
  o->min_short_allocs = 1000;
  o->seed = UINT64_C(0x5A4D4D);
}

static double point_x(int p) { return p == SAMM_LIFETIME_BINS ? CENSORED_X : (p + 0.5) / 4.0; }

static uint64_t next_rand(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* Weighted pick: index i with probability w[i] / total. */
static int pick(const double *w, int n, double total, uint64_t *rng) {
  double r = (double)(next_rand(rng) >> 11) / 9007199254740992.0 * total, acc = 0;
  int last = -1;
  for (int i = 0; i < n; i++) {
    if (w[i] <= 0) continue;
    acc += w[i];
    last = i;
    if (r < acc) return i;
  }
  return last;
}

/* One k-means run over points with weights w; returns the SSE. */
static double kmeans(const double *w, int k, uint64_t seed, clustering *out) {
  uint64_t rng = seed ? seed : 1;
  double total = 0;
  for (int p = 0; p < POINTS; p++) total += w[p];
  double c[K_MAX];
  c[0] = point_x(pick(w, POINTS, total, &rng));
  for (int j = 1; j < k; j++) {
    double d2[POINTS], sum = 0;
    for (int p = 0; p < POINTS; p++) {
      double best = INFINITY;
      for (int i = 0; i < j; i++) {
        double d = point_x(p) - c[i];
        if (d * d < best) best = d * d;
      }
      d2[p] = w[p] * best;
      sum += d2[p];
    }
    c[j] = sum > 0 ? point_x(pick(d2, POINTS, sum, &rng)) : c[j - 1];
  }
  int assign[POINTS];
  for (int iter = 0; iter < 100; iter++) {
    bool changed = false;
    for (int p = 0; p < POINTS; p++) {
      int best = 0;
      for (int i = 1; i < k; i++)
        if (fabs(point_x(p) - c[i]) < fabs(point_x(p) - c[best])) best = i;
      if (iter == 0 || assign[p] != best) changed = true;
      assign[p] = best;
    }
    if (!changed) break;
    for (int i = 0; i < k; i++) {
      double sw = 0, sx = 0;
      for (int p = 0; p < POINTS; p++)
        if (assign[p] == i) {
          sw += w[p];
          sx += w[p] * point_x(p);
        }
      if (sw > 0) c[i] = sx / sw;
    }
  }
  /* Ascending centroids, assignments renumbered to match. */
  int order[K_MAX];
  for (int i = 0; i < k; i++) order[i] = i;
  for (int i = 1; i < k; i++)
    for (int j = i; j > 0 && c[order[j]] < c[order[j - 1]]; j--) {
      int t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
  int rank[K_MAX];
  for (int i = 0; i < k; i++) {
    out->centroid[i] = c[order[i]];
    rank[order[i]] = i;
  }
  double sse = 0;
  for (int p = 0; p < POINTS; p++) {
    out->assign[p] = rank[assign[p]];
    double d = point_x(p) - c[assign[p]];
    sse += w[p] * d * d;
  }
  out->k = k;
  return sse;
}

static void cluster_size_class(const double *w, uint64_t seed, clustering *out) {
  int distinct = 0;
  double n = 0;
  for (int p = 0; p < POINTS; p++)
    if (w[p] > 0) {
      distinct++;
      n += w[p];
    }
  memset(out, 0, sizeof *out);
  if (distinct == 0) return;
  int kmax = distinct < K_MAX ? distinct : K_MAX;
  int kmin = distinct < K_MIN ? distinct : K_MIN;
  /* k grows from 3 while one more cluster at least halves the
   * within-cluster sum of squares (a real group left merged does; splitting
   * a group that is one bump of lifetimes removes about a third). */
  double sse = kmeans(w, kmin, seed + (uint64_t)kmin, out);
  for (int k = kmin + 1; k <= kmax; k++) {
    clustering trial;
    double next = kmeans(w, k, seed + (uint64_t)k, &trial);
    if (!(next < SSE_GAIN * sse)) break;
    *out = trial;
    sse = next;
  }
  for (int i = 0; i < out->k; i++) {
    if (out->k >= K_MIN) {
      out->cls[i] = i == 0 ? SAMM_SHORT : i == out->k - 1 ? SAMM_LONG : SAMM_MEDIUM;
    } else {
      /* Too few distinct lifetimes to rank: absolute bounds of 1 s and 60 s. */
      double x = out->centroid[i];
      out->cls[i] = x < SHORT_BELOW ? SAMM_SHORT : x < LONG_FROM ? SAMM_MEDIUM : SAMM_LONG;
    }
  }
  out->samples = (uint64_t)n;
}

/* ---- digest: FNV-1a 64 over the sorted aggregate ---- */

static void fnv(uint64_t *h, const void *data, size_t len) {
  const uint8_t *b = data;
  for (size_t i = 0; i < len; i++) *h = (*h ^ b[i]) * UINT64_C(1099511628211);
}

static int by_name_size(const void *x, const void *y) {
  const samm__prof_site *a = *(samm__prof_site *const *)x, *b = *(samm__prof_site *const *)y;
  size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
  int c = memcmp(a->name, b->name, n);
  if (c != 0) return c;
  if (a->name_len != b->name_len) return a->name_len < b->name_len ? -1 : 1;
  return (int)a->size_log2 - (int)b->size_log2;
}

static bool same_name(const samm__prof_site *a, const samm__prof_site *b) {
  return a->name_len == b->name_len && memcmp(a->name, b->name, a->name_len) == 0;
}

static int by_id(const void *x, const void *y) {
  const baked_site *a = *(baked_site *const *)x, *b = *(baked_site *const *)y;
  return a->id < b->id ? -1 : a->id > b->id;
}

samm_bake *samm_bake_run(const samm_profile *profile, const samm_bake_options *opts,
                         int *err, char *message, size_t message_len) {
  *err = SAMM_ENOMEM;
  samm_bake *bake = calloc(1, sizeof *bake);
  samm__prof_site **all = calloc(profile->count ? profile->count : 1, sizeof *all);
  if (bake == NULL || all == NULL) goto fail;
  if (opts != NULL)
    bake->opts = *opts;
  else
    samm_bake_options_init(&bake->opts);
  size_t n = 0;
  for (size_t i = 0; i < profile->cap; i++)
    if (profile->slots[i] != NULL) all[n++] = profile->slots[i];
  qsort(all, n, sizeof *all, by_name_size);

  uint64_t h = UINT64_C(1469598103934665603);
  double weights[SIZE_CLASSES][POINTS] = {{0}};
  size_t sites = 0;
  for (size_t i = 0; i < n; i++) {
    const samm__prof_site *s = all[i];
    fnv(&h, s->name, s->name_len + 1);
    fnv(&h, &s->size_log2, 1);
    fnv(&h, &s->allocs, sizeof s->allocs);
    fnv(&h, &s->outlived, sizeof s->outlived);
    fnv(&h, &s->censored, sizeof s->censored);
    if (s->undecided) fnv(&h, &s->undecided, sizeof s->undecided);
    fnv(&h, s->bins, sizeof s->bins);
    unsigned c = size_class_of(s->size_log2);
    for (int b = 0; b < SAMM_LIFETIME_BINS; b++) weights[c][b] += (double)s->bins[b];
    weights[c][SAMM_LIFETIME_BINS] += (double)s->censored;
    if (i == 0 || !same_name(all[i - 1], s)) sites++;
  }
  snprintf(bake->digest, sizeof bake->digest, "%016llx", (unsigned long long)h);
  for (unsigned c = 0; c < SIZE_CLASSES; c++)
    cluster_size_class(weights[c], bake->opts.seed, &bake->sc[c]);

  bake->sites = calloc(sites ? sites : 1, sizeof *bake->sites);
  if (bake->sites == NULL) goto fail;
  baked_site *cur = NULL;
  for (size_t i = 0; i < n; i++) {
    const samm__prof_site *s = all[i];
    if (i == 0 || !same_name(all[i - 1], s)) {
      cur = &bake->sites[bake->site_count];
      char *name = malloc(s->name_len + 1);
      if (name == NULL) goto fail;
      memcpy(name, s->name, s->name_len + 1);
      bake->site_count++;
      cur->name = name;
      cur->name_len = s->name_len;
      cur->id = samm_site_id(s->name, s->name_len);
    }
    unsigned c = size_class_of(s->size_log2);
    samm__prof_site *m = &cur->merged[c];
    cur->present[c] = true;
    m->allocs += s->allocs;
    m->outlived += s->outlived;
    m->censored += s->censored;
    m->undecided += s->undecided;
    for (int b = 0; b < SAMM_LIFETIME_BINS; b++) m->bins[b] += s->bins[b];
  }
  for (size_t i = 0; i < bake->site_count; i++) {
    baked_site *b = &bake->sites[i];
    uint64_t most = 0;
    for (unsigned c = 0; c < SIZE_CLASSES; c++) {
      if (!b->present[c]) continue;
      const samm__prof_site *m = &b->merged[c];
      const clustering *cl = &bake->sc[c];
      double mass[K_MAX] = {0};
      for (int p = 0; p < POINTS; p++) {
        double w = p == SAMM_LIFETIME_BINS ? (double)m->censored : (double)m->bins[p];
        if (cl->k > 0) mass[cl->assign[p]] += w;
      }
      int top = 0;
      for (int j = 1; j < cl->k; j++)
        if (mass[j] > mass[top]) top = j;
      int cls = cl->k > 0 ? cl->cls[top] : SAMM_MEDIUM;
      uint64_t decided = m->allocs - m->undecided;
      double in_request = decided ? 1.0 - (double)m->outlived / (double)decided : 0;
      bool passes = decided > 0 && in_request >= bake->opts.short_min_in_request;
      if (passes && decided >= bake->opts.min_short_allocs) {
        cls = SAMM_SHORT;
      } else {
        if (cls == SAMM_SHORT) cls = SAMM_MEDIUM;
        /* Too few: it passed on fewer than the minimum, or nothing was
         * decided at all (a sampled profile) - no evidence against it. */
        if (passes || decided == 0) b->too_few = true;
      }
      b->cls[c] = cls;
      if (m->allocs > most || most == 0) {
        most = m->allocs;
        b->overall = cls;
      }
    }
  }
  /* Distinct names must have distinct ids. */
  baked_site **ids = calloc(bake->site_count ? bake->site_count : 1, sizeof *ids);
  if (ids == NULL) goto fail;
  for (size_t i = 0; i < bake->site_count; i++) ids[i] = &bake->sites[i];
  qsort(ids, bake->site_count, sizeof *ids, by_id);
  for (size_t i = 1; i < bake->site_count; i++)
    if (ids[i]->id == ids[i - 1]->id) {
      snprintf(message, message_len, "sites '%s' and '%s' have the same id %u: rename one",
               ids[i - 1]->name, ids[i]->name, ids[i]->id);
      free(ids);
      *err = SAMM_EINVALID_ARG;
      free(all);
      samm_bake_free(bake);
      return NULL;
    }
  free(ids);
  free(all);
  *err = SAMM_EOK;
  return bake;
fail:
  snprintf(message, message_len, "out of memory");
  free(all);
  samm_bake_free(bake);
  return NULL;
}

const char *samm_bake_digest(const samm_bake *bake) { return bake->digest; }

void samm_bake_free(samm_bake *bake) {
  if (bake == NULL) return;
  for (size_t i = 0; i < bake->site_count; i++) free((char *)bake->sites[i].name);
  free(bake->sites);
  free(bake);
}

/* ---- output ---- */

/* The rows of a site: every size class gets the class of its own counts, or
 * of the nearest smaller observed size class (the smallest observed one for
 * those below it); equal neighbours merge. Covers size_log2 0..63. */
static int site_rows(const baked_site *b, samm_table_row rows[SIZE_CLASSES]) {
  int first = -1;
  for (int c = 0; c < SIZE_CLASSES && first < 0; c++)
    if (b->present[c]) first = c;
  int n = 0, cls = first >= 0 ? b->cls[first] : SAMM_HEAP;
  for (int c = 0; c < SIZE_CLASSES; c++) {
    if (b->present[c]) cls = b->cls[c];
    if (n > 0 && rows[n - 1].cls == cls) {
      rows[n - 1].size_log2_max = sc_hi[c];
    } else {
      rows[n] = (samm_table_row){b->id, sc_lo[c], sc_hi[c], (uint8_t)cls};
      n++;
    }
  }
  return n;
}

static void json_string(FILE *out, const char *s, size_t len) {
  fputc('"', out);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\')
      fprintf(out, "\\%c", c);
    else if (c < 0x20 || c == 0x7f)
      fprintf(out, "\\u%04x", c);
    else
      fputc(c, out);
  }
  fputc('"', out);
}

int samm_bake_write_json(const samm_bake *bake, FILE *out) {
  fprintf(out, "{\"version\":1,\"digest\":\"%s\",\"shortMinInRequest\":%.6g,\"minShortAllocs\":%llu,"
          "\"sizeClasses\":[", bake->digest, bake->opts.short_min_in_request,
          (unsigned long long)bake->opts.min_short_allocs);
  for (int c = 0; c < SIZE_CLASSES; c++) {
    const clustering *cl = &bake->sc[c];
    fprintf(out, "%s{\"log2Min\":%d,\"log2Max\":%d,\"samples\":%llu,\"k\":%d,\"centroidsUs\":[",
            c ? "," : "", sc_lo[c], sc_hi[c], (unsigned long long)cl->samples, cl->k);
    for (int i = 0; i < cl->k; i++) fprintf(out, "%s%.6g", i ? "," : "", exp2(cl->centroid[i]));
    fprintf(out, "],\"boundariesUs\":[");
    for (int i = 0; i + 1 < cl->k; i++)
      fprintf(out, "%s%.6g", i ? "," : "", exp2((cl->centroid[i] + cl->centroid[i + 1]) / 2));
    fprintf(out, "],\"classes\":[");
    for (int i = 0; i < cl->k; i++) fprintf(out, "%s\"%s\"", i ? "," : "", samm_class_name(cl->cls[i]));
    fprintf(out, "]}");
  }
  fprintf(out, "],\"sites\":[");
  for (size_t i = 0; i < bake->site_count; i++) {
    const baked_site *b = &bake->sites[i];
    uint64_t allocs = 0, outlived = 0, censored = 0, undecided = 0;
    for (int c = 0; c < SIZE_CLASSES; c++) {
      allocs += b->merged[c].allocs;
      outlived += b->merged[c].outlived;
      censored += b->merged[c].censored;
      undecided += b->merged[c].undecided;
    }
    fprintf(out, "%s\n{\"name\":", i ? "," : "");
    json_string(out, b->name, b->name_len);
    fprintf(out, ",\"id\":%u,\"class\":\"%s\",\"allocs\":%llu,\"outlived\":%llu,\"censored\":%llu,",
            b->id, samm_class_name(b->overall), (unsigned long long)allocs,
            (unsigned long long)outlived, (unsigned long long)censored);
    if (undecided) fprintf(out, "\"undecided\":%llu,", (unsigned long long)undecided);
    if (b->too_few) fprintf(out, "\"tooFew\":true,");
    fprintf(out, "\"sizes\":[");
    samm_table_row rows[SIZE_CLASSES];
    int n = site_rows(b, rows);
    for (int r = 0; r < n; r++)
      fprintf(out, "%s{\"log2Min\":%d,\"log2Max\":%d,\"class\":\"%s\"}", r ? "," : "",
              rows[r].size_log2_min, rows[r].size_log2_max, samm_class_name(rows[r].cls));
    fprintf(out, "]}");
  }
  fprintf(out, "]}\n");
  return ferror(out) ? EIO : 0;
}

/* A C string literal of s: printable ASCII as is, the rest octal. */
static void c_string(FILE *out, const char *s, size_t len) {
  fputc('"', out);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\' || c == '?')
      fprintf(out, "\\%03o", c);
    else if (c >= 0x20 && c < 0x7f)
      fputc(c, out);
    else
      fprintf(out, "\\%03o", c);
    if (i % 96 == 95 && i + 1 < len) fprintf(out, "\"\n    \"");
  }
  fputc('"', out);
}

int samm_bake_write_c(const samm_bake *bake, FILE *out) {
  fprintf(out, "/* Generated by samm bake from a profile with digest %s: do not edit. */\n"
               "#include \"samm.h\"\n\n", bake->digest);
  baked_site **ids = calloc(bake->site_count ? bake->site_count : 1, sizeof *ids);
  if (ids == NULL) return ENOMEM;
  for (size_t i = 0; i < bake->site_count; i++) ids[i] = &bake->sites[i];
  qsort(ids, bake->site_count, sizeof *ids, by_id);
  size_t row_count = 0;
  fprintf(out, "static const samm_table_row rows[] = {\n");
  for (size_t i = 0; i < bake->site_count; i++) {
    samm_table_row rows[SIZE_CLASSES];
    int n = site_rows(ids[i], rows);
    for (int r = 0; r < n; r++, row_count++)
      fprintf(out, "    {%uu, %d, %d, %d},\n", rows[r].site_id, rows[r].size_log2_min,
              rows[r].size_log2_max, rows[r].cls);
  }
  if (row_count == 0) fprintf(out, "    {0, 0, 0, 0},\n");
  fprintf(out, "};\n\nstatic const samm_table_site sites[] = {\n");
  for (size_t i = 0; i < bake->site_count; i++) {
    fprintf(out, "    {%uu, ", ids[i]->id);
    c_string(out, ids[i]->name, ids[i]->name_len);
    fprintf(out, "},\n");
  }
  if (bake->site_count == 0) fprintf(out, "    {0, \"\"},\n");
  free(ids);
  /* The readable table, embedded for samm.table(). */
  char *json = NULL;
  size_t json_len = 0;
  FILE *mem = open_memstream(&json, &json_len);
  if (mem == NULL) return ENOMEM;
  int rc = samm_bake_write_json(bake, mem);
  fclose(mem);
  if (rc != 0 || json == NULL) {
    free(json);
    return rc ? rc : ENOMEM;
  }
  fprintf(out, "};\n\nconst samm_table samm__baked_table = {\n    rows, %zu, sites, %zu,\n    \"%s\",\n    ",
          row_count, bake->site_count, bake->digest);
  c_string(out, json, json_len);
  fprintf(out, ",\n};\n");
  free(json);
  return ferror(out) ? EIO : 0;
}

int samm_bake_size_class(const samm_bake *bake, int index, int *log2_min, int *log2_max,
                         double centroids_us[5]) {
  if (index < 0 || index >= SIZE_CLASSES) return -1;
  const clustering *cl = &bake->sc[index];
  *log2_min = sc_lo[index];
  *log2_max = sc_hi[index];
  for (int i = 0; i < cl->k; i++) centroids_us[i] = exp2(cl->centroid[i]);
  return cl->k;
}

int samm_bake_class_of(const samm_bake *bake, const char *name, size_t size) {
  size_t len = strlen(name);
  for (size_t i = 0; i < bake->site_count; i++) {
    const baked_site *b = &bake->sites[i];
    if (b->name_len != len || memcmp(b->name, name, len) != 0) continue;
    samm_table_row rows[SIZE_CLASSES];
    int n = site_rows(b, rows);
    samm_table t = {rows, (size_t)n, NULL, 0, "", ""};
    return samm_table_select(&t, b->id, size);
  }
  return SAMM_HEAP;
}
