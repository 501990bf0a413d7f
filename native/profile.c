/* profile.c: the profile parser. Lines are checked one by one and added to
 * an aggregate keyed by (site, size_log2); every field is a count that adds
 * up, so the aggregate of concatenated profiles does not depend on their
 * order. Versions 1 and 2 are read: a header sets the version of the lines
 * after it, so files of both versions concatenate. Owned by one thread; the
 * profile is freed by samm_profile_free.
 */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#define COUNT_MAX ((uint64_t)1 << 53) /* per field and line: exact in a double */

static uint64_t hash_key(const char *name, size_t len, unsigned size_log2) {
  uint64_t h = UINT64_C(1469598103934665603);
  for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)name[i]) * UINT64_C(1099511628211);
  return (h ^ size_log2) * UINT64_C(1099511628211);
}

static samm__prof_site *find_or_add(samm_profile *p, const char *name, size_t len,
                                    unsigned size_log2) {
  if (p->count * 2 >= p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 64;
    samm__prof_site **slots = calloc(cap, sizeof *slots);
    if (slots == NULL) return NULL;
    for (size_t i = 0; i < p->cap; i++) {
      samm__prof_site *s = p->slots[i];
      if (s == NULL) continue;
      size_t j = hash_key(s->name, s->name_len, s->size_log2) & (cap - 1);
      while (slots[j] != NULL) j = (j + 1) & (cap - 1);
      slots[j] = s;
    }
    free(p->slots);
    p->slots = slots;
    p->cap = cap;
  }
  size_t j = hash_key(name, len, size_log2) & (p->cap - 1);
  for (samm__prof_site *s; (s = p->slots[j]) != NULL; j = (j + 1) & (p->cap - 1))
    if (s->size_log2 == size_log2 && s->name_len == len && memcmp(s->name, name, len) == 0)
      return s;
  samm__prof_site *s = calloc(1, sizeof *s + len + 1);
  if (s == NULL) return NULL;
  s->name = (char *)(s + 1);
  memcpy(s->name, name, len);
  s->name_len = len;
  s->size_log2 = (uint8_t)size_log2;
  p->slots[j] = s;
  p->count++;
  return s;
}

samm_profile *samm_profile_new(void) { return calloc(1, sizeof(samm_profile)); }

void samm_profile_free(samm_profile *p) {
  if (p == NULL) return;
  for (size_t i = 0; i < p->cap; i++) free(p->slots[i]);
  free(p->slots);
  free(p);
}

uint64_t samm_profile_allocs(const samm_profile *p) {
  uint64_t n = 0;
  for (size_t i = 0; i < p->cap; i++)
    if (p->slots[i] != NULL) n += p->slots[i]->allocs;
  return n;
}

/* ---- one line ---- */

typedef struct cursor {
  const char *p, *end;
} cursor;

/* The next space-separated field; false at the end of the line. */
static bool field(cursor *c, const char **start, size_t *len) {
  if (c->p >= c->end) return false;
  const char *s = c->p;
  while (c->p < c->end && *c->p != ' ') c->p++;
  *start = s;
  *len = (size_t)(c->p - s);
  if (c->p < c->end) c->p++; /* the separator */
  return *len > 0;
}

static bool parse_count(const char *s, size_t len, uint64_t max, uint64_t *out) {
  if (len == 0 || len > 16) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Percent-decodes s into out (at least len bytes; NULL: only check); the
 * decoded length, or -1 on a raw byte that must be escaped or a bad escape. */
static long decode(const char *s, size_t len, char *out) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '%') {
      if (i + 2 >= len) return -1;
      int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
      if (hi < 0 || lo < 0) return -1;
      if (out != NULL) out[n] = (char)(hi * 16 + lo);
      n++;
      i += 2;
    } else if (c <= 0x20 || c >= 0x7f) {
      return -1;
    } else {
      if (out != NULL) out[n] = (char)c;
      n++;
    }
  }
  return (long)n;
}

static int fail(samm_parse_error *err, const char *file, uint64_t line, const char *fmt, ...) {
  if (err != NULL) {
    snprintf(err->file, sizeof err->file, "%s", file ? file : "<profile>");
    err->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return SAMM_EINVALID_ARG;
}

#define LINE_FAIL(...) fail(err, file, lineno, __VA_ARGS__)

/* A site name field: percent-decoded into name (3 * SAMM_SITE_NAME_MAX
 * bytes); its length, or -1. */
static long site_name(const char *f, size_t n, char *name) {
  long len = n <= 3 * SAMM_SITE_NAME_MAX ? decode(f, n, name) : -1;
  return len <= 0 || len > SAMM_SITE_NAME_MAX ? -1 : len;
}

/* An s line: 7 fields in version 1, 8 in version 2 (which adds undecided
 * before the bins). */
static int site_line(samm_profile *p, cursor *c, unsigned version, const char *file,
                     uint64_t lineno, samm_parse_error *err) {
  const int nf = version >= 2 ? 7 : 6;
  const char *f[7];
  size_t n[7];
  for (int i = 0; i < nf; i++)
    if (!field(c, &f[i], &n[i])) return LINE_FAIL("a site line has %d fields in version %u", nf + 1, version);
  if (c->p < c->end) return LINE_FAIL("a site line has %d fields in version %u", nf + 1, version);
  char name[3 * SAMM_SITE_NAME_MAX];
  long len = site_name(f[0], n[0], name);
  if (len < 0) return LINE_FAIL("bad site name (percent-encoded, 1 to %d bytes)", SAMM_SITE_NAME_MAX);
  uint64_t size_log2, allocs, outlived, censored, undecided = 0;
  if (!parse_count(f[1], n[1], 63, &size_log2)) return LINE_FAIL("bad size_log2 (0..63)");
  if (!parse_count(f[2], n[2], COUNT_MAX, &allocs) || !parse_count(f[3], n[3], COUNT_MAX, &outlived) ||
      !parse_count(f[4], n[4], COUNT_MAX, &censored) ||
      (version >= 2 && !parse_count(f[5], n[5], COUNT_MAX, &undecided)))
    return LINE_FAIL("bad count (a whole number up to 2^53)");
  if (outlived > allocs || censored > allocs)
    return LINE_FAIL("outlived and censored cannot exceed allocs");
  if (outlived + undecided > allocs) return LINE_FAIL("outlived plus undecided cannot exceed allocs");
  const char *fb = f[nf - 1];
  size_t nb = n[nf - 1];
  uint64_t bins[SAMM_LIFETIME_BINS] = {0}, dead = 0;
  if (!(nb == 1 && fb[0] == '-')) {
    cursor b = {fb, fb + nb};
    long prev = -1;
    while (b.p < b.end) {
      const char *item = b.p;
      while (b.p < b.end && *b.p != ',') b.p++;
      const char *colon = memchr(item, ':', (size_t)(b.p - item));
      uint64_t bin, count;
      if (colon == NULL || !parse_count(item, (size_t)(colon - item), SAMM_LIFETIME_BINS - 1, &bin) ||
          !parse_count(colon + 1, (size_t)(b.p - colon - 1), COUNT_MAX, &count) || count == 0)
        return LINE_FAIL("bad lifetime bin (bin:count, bin below %d, count above 0)", SAMM_LIFETIME_BINS);
      if ((long)bin <= prev) return LINE_FAIL("lifetime bins must ascend");
      prev = (long)bin;
      bins[bin] = count;
      dead += count;
      if (b.p < b.end) {
        b.p++;
        if (b.p == b.end) return LINE_FAIL("trailing comma in lifetime bins");
      }
    }
  }
  if (dead + censored != allocs)
    return LINE_FAIL("lifetime bins (%llu) plus censored (%llu) must equal allocs (%llu)",
                     (unsigned long long)dead, (unsigned long long)censored,
                     (unsigned long long)allocs);
  samm__prof_site *s = find_or_add(p, name, (size_t)len, (unsigned)size_log2);
  if (s == NULL) return SAMM_ENOMEM;
  if (s->allocs + allocs > COUNT_MAX * 1024) return LINE_FAIL("counts overflow");
  s->allocs += allocs;
  s->outlived += outlived;
  s->censored += censored;
  s->undecided += undecided;
  for (int i = 0; i < SAMM_LIFETIME_BINS; i++) s->bins[i] += bins[i];
  return SAMM_EOK;
}

static int unmanaged_line(cursor *c, const char *file, uint64_t lineno, samm_parse_error *err) {
  const char *f[4];
  size_t n[4];
  for (int i = 0; i < 4; i++)
    if (!field(c, &f[i], &n[i])) return LINE_FAIL("an unmanaged line has 5 fields");
  if (c->p < c->end) return LINE_FAIL("an unmanaged line has 5 fields");
  if (decode(f[0], n[0], NULL) <= 0) return LINE_FAIL("bad location (percent-encoded)");
  uint64_t v;
  for (int i = 1; i < 4; i++)
    if (!parse_count(f[i], n[i], COUNT_MAX, &v)) return LINE_FAIL("bad count (a whole number up to 2^53)");
  return SAMM_EOK;
}

/* An r line (version 2): a retainer path of surviving allocations of a
 * site, for people; checked, not used by the bake. */
static int retainer_line(cursor *c, const char *file, uint64_t lineno, samm_parse_error *err) {
  const char *f[3];
  size_t n[3];
  for (int i = 0; i < 3; i++)
    if (!field(c, &f[i], &n[i])) return LINE_FAIL("a retainer line has 4 fields");
  if (c->p < c->end) return LINE_FAIL("a retainer line has 4 fields");
  char name[3 * SAMM_SITE_NAME_MAX];
  if (site_name(f[0], n[0], name) < 0)
    return LINE_FAIL("bad site name (percent-encoded, 1 to %d bytes)", SAMM_SITE_NAME_MAX);
  uint64_t count;
  if (!parse_count(f[1], n[1], COUNT_MAX, &count) || count == 0)
    return LINE_FAIL("bad count (a whole number from 1 to 2^53)");
  if (decode(f[2], n[2], NULL) <= 0) return LINE_FAIL("bad retainer path (percent-encoded)");
  return SAMM_EOK;
}

int samm_profile_add(samm_profile *p, const char *text, size_t len, const char *file,
                     samm_parse_error *err) {
  static const char header[] = "samm-profile ";
  const char *s = text, *end = text + len;
  uint64_t lineno = 0;
  unsigned version = 0; /* of the file being read: set by its header */
  while (s < end) {
    lineno++;
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    if (nl == NULL) return LINE_FAIL("truncated: the last line has no newline");
    const char *eol = nl;
    if (eol > s && eol[-1] == '\r') eol--;
    size_t n = (size_t)(eol - s);
    if (n > SAMM_PROFILE_MAX_LINE) return LINE_FAIL("line longer than %d bytes", SAMM_PROFILE_MAX_LINE);
    if (memchr(s, '\0', n) != NULL) return LINE_FAIL("NUL byte in line");
    cursor c = {s, eol};
    int rc = SAMM_EOK;
    if (n == 0 || s[0] == '#') {
      /* blank or comment */
    } else if (n > sizeof header - 1 && memcmp(s, header, sizeof header - 1) == 0) {
      uint64_t v;
      if (!parse_count(s + sizeof header - 1, n - (sizeof header - 1), 1000000, &v))
        return LINE_FAIL("bad header");
      if (v < 1 || v > SAMM_PROFILE_VERSION)
        return LINE_FAIL("unsupported profile version %llu (this build reads 1 to %d)",
                         (unsigned long long)v, SAMM_PROFILE_VERSION);
      version = (unsigned)v;
    } else if (version == 0) {
      return LINE_FAIL("not a SAMM profile: the first line must be 'samm-profile %d'",
                       SAMM_PROFILE_VERSION);
    } else if (n >= 2 && s[0] == 's' && s[1] == ' ') {
      c.p += 2;
      rc = site_line(p, &c, version, file, lineno, err);
    } else if (n >= 2 && s[0] == 'u' && s[1] == ' ') {
      c.p += 2;
      rc = unmanaged_line(&c, file, lineno, err);
    } else if (version >= 2 && n >= 2 && s[0] == 'r' && s[1] == ' ') {
      c.p += 2;
      rc = retainer_line(&c, file, lineno, err);
    } else {
      return LINE_FAIL("unknown line kind");
    }
    if (rc != SAMM_EOK) return rc;
    s = nl + 1;
  }
  return SAMM_EOK;
}

int samm_profile_add_file(samm_profile *p, const char *path, samm_parse_error *err) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return fail(err, path, 0, "cannot open: %s", strerror(errno));
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  for (size_t n; buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0;) {
    len += n;
    if (len == cap) {
      char *bigger = realloc(buf, cap * 2);
      if (bigger == NULL) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = bigger;
      cap *= 2;
    }
  }
  bool read_error = ferror(f);
  fclose(f);
  if (buf == NULL) return fail(err, path, 0, "out of memory"), SAMM_ENOMEM;
  int rc = read_error ? fail(err, path, 0, "read error") : samm_profile_add(p, buf, len, path, err);
  free(buf);
  return rc;
}
