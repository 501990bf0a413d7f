/* Clustering and the bake: known clusters come back, k is chosen from the
 * data, classes follow the rules, and the output depends on the profile's
 * content only. */
#include "helpers.h"

#include <math.h>
#include <stdio.h>

/* Appends one site line whose lifetimes are log-normal around mu_us
 * (sigma 0.4 octaves), n allocations, `outlived` of them outliving their
 * request; deterministic in seed. */
static void site_line(char **buf, size_t *len, const char *name, int size_log2, double mu_us,
                      uint64_t n, uint64_t outlived, uint64_t censored, uint64_t seed) {
  uint64_t bins[SAMM_LIFETIME_BINS] = {0};
  uint64_t rng = seed * 2654435761u + 1;
  for (uint64_t i = 0; i < n - censored; i++) {
    /* Box-Muller from two uniforms. */
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    double u1 = ((double)(rng >> 11) + 1) / 9007199254740993.0;
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    double u2 = (double)(rng >> 11) / 9007199254740992.0;
    double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
    double lg = log2(mu_us) + 0.4 * z;
    int b = (int)floor(4 * lg);
    if (b < 0) b = 0;
    if (b >= SAMM_LIFETIME_BINS) b = SAMM_LIFETIME_BINS - 1;
    bins[b]++;
  }
  size_t cap = *len + 4096;
  *buf = realloc(*buf, cap + 1);
  int w = snprintf(*buf + *len, cap - *len, "s %s %d %llu %llu %llu ", name, size_log2,
                   (unsigned long long)n, (unsigned long long)outlived, (unsigned long long)censored);
  *len += (size_t)w;
  bool any = false;
  for (int b = 0; b < SAMM_LIFETIME_BINS; b++)
    if (bins[b]) {
      *len += (size_t)snprintf(*buf + *len, cap - *len, "%s%d:%llu", any ? "," : "", b, (unsigned long long)bins[b]);
      any = true;
    }
  if (!any) *len += (size_t)snprintf(*buf + *len, cap - *len, "-");
  *len += (size_t)snprintf(*buf + *len, cap - *len, "\n");
}

static samm_bake *bake_text(const char *text, size_t len) {
  samm_profile *p = samm_profile_new();
  samm_parse_error perr;
  assert_int_equal(samm_profile_add(p, text, len, "synthetic", &perr), SAMM_EOK);
  int err;
  char msg[256];
  samm_bake *b = samm_bake_run(p, NULL, &err, msg, sizeof msg);
  samm_profile_free(p);
  assert_non_null(b);
  return b;
}

static void known_clusters_come_back(void **state) {
  (void)state;
  static const double groups[5] = {500, 40000, 2e6, 9e7, 4e9}; /* µs */
  for (int k = 3; k <= 5; k++) {
    char *text = strdup("samm-profile 1\n");
    size_t len = strlen(text);
    for (int g = 0; g < k; g++)
      for (int s = 0; s < 3; s++) {
        char name[32];
        snprintf(name, sizeof name, "g%d.s%d", g, s);
        site_line(&text, &len, name, 13, groups[g], 20000, 20000, 0, (uint64_t)(g * 10 + s + k * 100));
      }
    samm_bake *b = bake_text(text, len);
    double c[5];
    int lo, hi;
    int got = samm_bake_size_class(b, 2, &lo, &hi, c);
    assert_int_equal(lo, 12);
    assert_int_equal(hi, 15);
    if (got != k) fail_msg("%d groups: k = %d", k, got);
    for (int g = 0; g < k; g++) {
      double ratio = c[g] / groups[g];
      if (ratio < 0.95 || ratio > 1.05) fail_msg("k=%d group %d: centroid %.1f µs vs %.1f", k, g, c[g], groups[g]);
    }
    samm_bake_free(b);
    free(text);
  }
}

static void classes_follow_lifetimes_and_the_request_rule(void **state) {
  (void)state;
  char *text = strdup("samm-profile 1\n");
  size_t len = strlen(text);
  site_line(&text, &len, "req", 14, 3000, 10000, 0, 0, 1);            /* dies in request */
  site_line(&text, &len, "two.s", 14, 2e6, 10000, 10000, 0, 2);       /* kept ~2 s */
  site_line(&text, &len, "forever", 14, 2e6, 10000, 10000, 10000, 3); /* never died */
  site_line(&text, &len, "leaky", 14, 3000, 10000, 30, 0, 4);         /* 0.3% outlive */
  site_line(&text, &len, "bg", 14, 2000, 10000, 10000, 0, 5);         /* short-lived, no request */
  samm_bake *b = bake_text(text, len);
  assert_int_equal(samm_bake_class_of(b, "req", 20000), SAMM_SHORT);
  assert_int_equal(samm_bake_class_of(b, "two.s", 20000), SAMM_MEDIUM);
  assert_int_equal(samm_bake_class_of(b, "forever", 20000), SAMM_LONG);
  assert_int_equal(samm_bake_class_of(b, "leaky", 20000), SAMM_MEDIUM);
  assert_int_equal(samm_bake_class_of(b, "bg", 20000), SAMM_MEDIUM);
  assert_int_equal(samm_bake_class_of(b, "req", 10), SAMM_SHORT);   /* rows cover all sizes */
  assert_int_equal(samm_bake_class_of(b, "unknown", 10), SAMM_HEAP);
  samm_bake_free(b);

  /* One outliving allocation in 10,000 rules short out by default. */
  free(text);
  text = strdup("samm-profile 1\n");
  len = strlen(text);
  site_line(&text, &len, "req", 14, 3000, 10000, 0, 0, 1);
  site_line(&text, &len, "one.kept", 14, 3000, 10000, 1, 1, 6);
  site_line(&text, &len, "leaky", 14, 3000, 10000, 30, 0, 4);
  b = bake_text(text, len);
  assert_int_equal(samm_bake_class_of(b, "req", 20000), SAMM_SHORT);
  assert_int_equal(samm_bake_class_of(b, "one.kept", 20000), SAMM_MEDIUM);
  samm_bake_free(b);

  /* The rule is configurable: at 99% the 0.3% site is short. */
  samm_profile *p = samm_profile_new();
  samm_parse_error perr;
  assert_int_equal(samm_profile_add(p, text, len, "x", &perr), SAMM_EOK);
  samm_bake_options o;
  samm_bake_options_init(&o);
  o.short_min_in_request = 0.99;
  int err;
  char msg[128];
  b = samm_bake_run(p, &o, &err, msg, sizeof msg);
  assert_int_equal(samm_bake_class_of(b, "leaky", 20000), SAMM_SHORT);
  samm_bake_free(b);
  samm_profile_free(p);
  free(text);
}

static samm_bake *bake_with(const char *text, size_t len, double min_in_request, uint64_t min_allocs) {
  samm_profile *p = samm_profile_new();
  samm_parse_error perr;
  assert_int_equal(samm_profile_add(p, text, len, "x", &perr), SAMM_EOK);
  samm_bake_options o;
  samm_bake_options_init(&o);
  if (min_in_request > 0) o.short_min_in_request = min_in_request;
  if (min_allocs > 0) o.min_short_allocs = min_allocs;
  int err;
  char msg[128];
  samm_bake *b = samm_bake_run(p, &o, &err, msg, sizeof msg);
  samm_profile_free(p);
  assert_non_null(b);
  return b;
}

static char *render(samm_bake *b, bool c_source, size_t *len);

/* A short verdict needs min_short_allocs decided allocations per size
 * class; undecided ones (sampled profiles) count neither way. */
static void a_short_verdict_needs_enough_decided_allocations(void **state) {
  (void)state;
  const char *text =
      "samm-profile 2\n"
      "s few 12 999 0 0 0 40:999\n"            /* all in request, one short of 1000 */
      "s enough 12 1000 0 0 0 40:1000\n"
      "s sampled 12 50000 0 0 49000 40:50000\n" /* 1000 decided, all in request */
      "s thin 12 50000 0 0 49001 40:50000\n"    /* 999 decided */
      "s mixed 12 50000 1 0 20000 40:49999,100:1\n"
      "s spread 12 600 0 0 0 40:600\n"
      "s spread 16 600 0 0 0 40:600\n"         /* 600 per size class: too few in each */
      "s undecided 12 5000 0 0 5000 40:5000\n"; /* nothing decided: too few */
  samm_bake *b = bake_with(text, strlen(text), 0, 0);
  assert_int_equal(samm_bake_class_of(b, "few", 4096), SAMM_MEDIUM);
  assert_int_equal(samm_bake_class_of(b, "enough", 4096), SAMM_SHORT);
  assert_int_equal(samm_bake_class_of(b, "sampled", 4096), SAMM_SHORT);
  assert_int_equal(samm_bake_class_of(b, "thin", 4096), SAMM_MEDIUM);
  assert_int_equal(samm_bake_class_of(b, "mixed", 4096), SAMM_MEDIUM);
  assert_int_equal(samm_bake_class_of(b, "spread", 4096), SAMM_MEDIUM);
  size_t len;
  char *json = render(b, false, &len);
  assert_non_null(strstr(json, "\"minShortAllocs\":1000,"));
  assert_non_null(strstr(json, "\"name\":\"few\",\"id\""));
  assert_non_null(strstr(strstr(json, "\"name\":\"few\""), "\"tooFew\":true"));
  const char *enough = strstr(json, "\"name\":\"enough\"");
  const char *next = strstr(enough, "\n{");
  const char *flag = strstr(enough, "tooFew");
  assert_true(flag == NULL || (next != NULL && flag > next));
  const char *mixed = strstr(json, "\"name\":\"mixed\"");
  next = strstr(mixed, "\n{");
  flag = strstr(mixed, "tooFew");
  assert_true(flag == NULL || (next != NULL && flag > next)); /* refused for outliving, not for its count */
  assert_non_null(strstr(mixed, "\"undecided\":20000"));
  assert_int_equal(samm_bake_class_of(b, "undecided", 4096), SAMM_MEDIUM);
  assert_non_null(strstr(strstr(json, "\"name\":\"undecided\""), "\"tooFew\":true"));
  free(json);
  samm_bake_free(b);
  /* The minimum is an option. */
  b = bake_with(text, strlen(text), 0, 500);
  assert_int_equal(samm_bake_class_of(b, "few", 4096), SAMM_SHORT);
  assert_int_equal(samm_bake_class_of(b, "spread", 70000), SAMM_SHORT);
  assert_int_equal(samm_bake_class_of(b, "mixed", 4096), SAMM_MEDIUM);
  samm_bake_free(b);
}

static char *render(samm_bake *b, bool c_source, size_t *len) {
  char *out = NULL;
  FILE *f = open_memstream(&out, len);
  assert_int_equal(c_source ? samm_bake_write_c(b, f) : samm_bake_write_json(b, f), 0);
  fclose(f);
  return out;
}

static void output_depends_on_content_only(void **state) {
  (void)state;
  /* Three "files"; baked whole, in another order, and line by line. */
  char *parts[3];
  size_t lens[3];
  for (int i = 0; i < 3; i++) {
    parts[i] = strdup("samm-profile 1\n");
    lens[i] = strlen(parts[i]);
    for (int s = 0; s < 4; s++) {
      char name[32];
      snprintf(name, sizeof name, "site.%d", s);
      site_line(&parts[i], &lens[i], name, 10 + s, 1000.0 * (s + 1) * (i + 1), 500, (uint64_t)(s * 100), 0,
                (uint64_t)(i * 7 + s));
    }
  }
  static const int orders[3][3] = {{0, 1, 2}, {2, 0, 1}, {1, 2, 0}};
  char *first_json = NULL, *first_c = NULL;
  size_t first_json_len = 0, first_c_len = 0;
  for (int o = 0; o < 3; o++) {
    samm_profile *p = samm_profile_new();
    samm_parse_error perr;
    for (int i = 0; i < 3; i++) {
      int f = orders[o][i];
      assert_int_equal(samm_profile_add(p, parts[f], lens[f], "part", &perr), SAMM_EOK);
    }
    int err;
    char msg[128];
    samm_bake *b = samm_bake_run(p, NULL, &err, msg, sizeof msg);
    size_t jl, cl;
    char *json = render(b, false, &jl), *c = render(b, true, &cl);
    if (o == 0) {
      first_json = json, first_c = c, first_json_len = jl, first_c_len = cl;
    } else {
      assert_int_equal(jl, first_json_len);
      assert_memory_equal(json, first_json, jl);
      assert_int_equal(cl, first_c_len);
      assert_memory_equal(c, first_c, cl);
      free(json);
      free(c);
    }
    samm_bake_free(b);
    samm_profile_free(p);
  }
  assert_non_null(strstr(first_c, "const samm_table samm__baked_table"));
  assert_non_null(strstr(first_json, "\"name\":\"site.3\""));
  free(first_json);
  free(first_c);
  for (int i = 0; i < 3; i++) free(parts[i]);
}

static void colliding_site_ids_are_refused(void **state) {
  (void)state;
  /* Find two names with the same 32-bit id. */
  enum { SLOTS = 1 << 20 };
  uint32_t *seen_id = calloc(SLOTS, sizeof *seen_id);
  uint32_t *seen_n = calloc(SLOTS, sizeof *seen_n);
  char a[32] = "", b[32] = "";
  for (uint32_t n = 1; n < 2000000 && a[0] == '\0'; n++) {
    char name[32];
    int len = snprintf(name, sizeof name, "s%u", n);
    uint32_t id = samm_site_id(name, (size_t)len);
    for (uint32_t slot = id & (SLOTS - 1);; slot = (slot + 1) & (SLOTS - 1)) {
      if (seen_n[slot] == 0) {
        seen_n[slot] = n;
        seen_id[slot] = id;
        break;
      }
      if (seen_id[slot] == id) {
        snprintf(a, sizeof a, "s%u", seen_n[slot]);
        snprintf(b, sizeof b, "%s", name);
        break;
      }
    }
  }
  free(seen_id);
  free(seen_n);
  assert_true(a[0] != '\0');
  char text[256];
  int len = snprintf(text, sizeof text, "samm-profile 1\ns %s 3 1 0 0 5:1\ns %s 3 1 0 0 5:1\n", a, b);
  samm_profile *p = samm_profile_new();
  samm_parse_error perr;
  assert_int_equal(samm_profile_add(p, text, (size_t)len, "x", &perr), SAMM_EOK);
  int err;
  char msg[256];
  assert_null(samm_bake_run(p, NULL, &err, msg, sizeof msg));
  assert_int_equal(err, SAMM_EINVALID_ARG);
  assert_non_null(strstr(msg, "same id"));
  samm_profile_free(p);
}

static void an_empty_profile_bakes_an_empty_table(void **state) {
  (void)state;
  samm_bake *b = bake_text("samm-profile 1\n", 15);
  size_t len;
  char *json = render(b, false, &len);
  assert_non_null(strstr(json, "\"sites\":[]"));
  free(json);
  char *c = render(b, true, &len);
  assert_non_null(strstr(c, "rows, 0, sites, 0"));
  free(c);
  samm_bake_free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(known_clusters_come_back),
      cmocka_unit_test(classes_follow_lifetimes_and_the_request_rule),
      cmocka_unit_test(a_short_verdict_needs_enough_decided_allocations),
      cmocka_unit_test(output_depends_on_content_only),
      cmocka_unit_test(colliding_site_ids_are_refused),
      cmocka_unit_test(an_empty_profile_bakes_an_empty_table),
  };
  return cmocka_run_group_tests_name("bake", tests, NULL, NULL);
}
