/* The profile parser: what it accepts, how it sums, and that garbage,
 * truncation and huge lines are refused with a file and a line. */
#include "helpers.h"

#include <stdio.h>

static int add(samm_profile *p, const char *text, samm_parse_error *err) {
  return samm_profile_add(p, text, strlen(text), "test.profile", err);
}

static void valid_lines_add_up(void **state) {
  (void)state;
  samm_profile *p = samm_profile_new();
  samm_parse_error err;
  const char *text =
      "samm-profile 1\n"
      "# a comment\n"
      "\n"
      "s render.body 14 10 1 2 40:5,44:3\n"
      "u app.js%3A12 10 1000 500\r\n"
      "samm-profile 1\n" /* a concatenated second file */
      "s render.body 14 5 0 0 40:5\n"
      "s odd%20name%25 3 1 1 1 -\n";
  assert_int_equal(add(p, text, &err), SAMM_EOK);
  assert_int_equal(samm_profile_allocs(p), 16);
  samm_profile_free(p);
}

typedef struct bad_case {
  const char *text;
  uint64_t line;
  const char *message_part;
} bad_case;

static void bad_input_names_file_and_line(void **state) {
  (void)state;
  static const bad_case cases[] = {
      {"s x 3 1 0 0 5:1\n", 1, "first line must be"},
      {"samm-profile 3\n", 1, "unsupported profile version 3"},
      {"samm-profile 0\n", 1, "unsupported profile version 0"},
      {"samm-profile 2\ns x 3 1 0 0 5:1\n", 2, "8 fields in version 2"},
      {"samm-profile 1\ns x 3 1 0 0 0 5:1\n", 2, "7 fields in version 1"},
      {"samm-profile 2\ns x 3 2 1 0 2 5:1,6:1\n", 2, "outlived plus undecided"},
      {"samm-profile 2\ns x 3 1 0 0 x 5:1\n", 2, "bad count"},
      {"samm-profile 1\nr x 1 Map\n", 2, "unknown line kind"},
      {"samm-profile 2\nr x 1\n", 2, "4 fields"},
      {"samm-profile 2\nr x 1 Map extra\n", 2, "4 fields"},
      {"samm-profile 2\nr x 0 Map\n", 2, "bad count"},
      {"samm-profile 2\nr bad%2 1 Map\n", 2, "site name"},
      {"samm-profile 2\nr x 1 bad%g0\n", 2, "retainer path"},
      {"samm-profile x\n", 1, "bad header"},
      {"samm-profile 1\ns x 3 1 0 0 5:1", 2, "truncated"},
      {"samm-profile 1\ns x 3 1 0 0\n", 2, "7 fields"},
      {"samm-profile 1\ns x 3 1 0 0 5:1 9 9\n", 2, "7 fields"},
      {"samm-profile 1\ns x 64 1 0 0 5:1\n", 2, "size_log2"},
      {"samm-profile 1\ns x 3 -1 0 0 5:1\n", 2, "bad count"},
      {"samm-profile 1\ns x 3 99999999999999999 0 0 5:1\n", 2, "bad count"},
      {"samm-profile 1\ns x 3 1 2 0 5:1\n", 2, "cannot exceed"},
      {"samm-profile 1\ns x 3 2 0 0 5:1\n", 2, "must equal allocs"},
      {"samm-profile 1\ns x 3 2 0 0 5:1,5:1\n", 2, "ascend"},
      {"samm-profile 1\ns x 3 1 0 0 160:1\n", 2, "lifetime bin"},
      {"samm-profile 1\ns x 3 1 0 0 5:0\n", 2, "lifetime bin"},
      {"samm-profile 1\ns x 3 1 0 0 5:1,\n", 2, "trailing comma"},
      {"samm-profile 1\ns bad%2 3 1 0 0 5:1\n", 2, "site name"},
      {"samm-profile 1\ns bad%zz 3 1 0 0 5:1\n", 2, "site name"},
      {"samm-profile 1\ns b\x01 3 1 0 0 5:1\n", 2, "site name"},
      {"samm-profile 1\ns b\xc3\xa9 3 1 0 0 5:1\n", 2, "site name"},
      {"samm-profile 1\nx what\n", 2, "unknown line kind"},
      {"samm-profile 1\nu loc 1 2\n", 2, "5 fields"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    samm_profile *p = samm_profile_new();
    samm_parse_error err;
    memset(&err, 0, sizeof err);
    int rc = add(p, cases[i].text, &err);
    if (rc != SAMM_EINVALID_ARG || err.line != cases[i].line || !strstr(err.message, cases[i].message_part))
      fail_msg("case %zu: rc %d line %llu message '%s'", i, rc, (unsigned long long)err.line, err.message);
    assert_string_equal(err.file, "test.profile");
    samm_profile_free(p);
  }
}

static void long_names_and_huge_lines_are_refused(void **state) {
  (void)state;
  samm_parse_error err;
  samm_profile *p = samm_profile_new();
  char name[256];
  memset(name, 'n', 201);
  name[201] = '\0';
  char line[512];
  snprintf(line, sizeof line, "samm-profile 1\ns %s 3 1 0 0 5:1\n", name);
  assert_int_equal(add(p, line, &err), SAMM_EINVALID_ARG);
  assert_non_null(strstr(err.message, "site name"));
  size_t big = SAMM_PROFILE_MAX_LINE + 100;
  char *huge = malloc(big + 32);
  strcpy(huge, "samm-profile 1\ns ");
  memset(huge + 17, 'a', big);
  strcpy(huge + 17 + big, " 3 1 0 0 5:1\n");
  assert_int_equal(add(p, huge, &err), SAMM_EINVALID_ARG);
  assert_int_equal(err.line, 2);
  assert_non_null(strstr(err.message, "longer than"));
  free(huge);
  /* A 200-byte name is fine. */
  name[200] = '\0';
  snprintf(line, sizeof line, "samm-profile 1\ns %s 3 1 0 0 5:1\n", name);
  assert_int_equal(add(p, line, &err), SAMM_EOK);
  samm_profile_free(p);
}

/* Version 2 adds undecided allocations and retainer lines; version 1 files
 * still parse, and files of both versions concatenate. */
static void version_2_and_1_concatenate(void **state) {
  (void)state;
  samm_profile *p = samm_profile_new();
  samm_parse_error err;
  const char *text =
      "samm-profile 2\n"
      "# sampled 1 in 100\n"
      "s render.body 14 10 1 2 6 40:5,44:3\n"
      "r render.body 2 Array%20(forever)%20%E2%86%90%20module%20server.js\n"
      "u app.js%3A12 10 1000 500\n"
      "samm-profile 1\n"
      "s render.body 14 5 0 0 40:5\n"
      "samm-profile 2\n"
      "s render.body 14 1 1 1 0 -\n";
  assert_int_equal(add(p, text, &err), SAMM_EOK);
  assert_int_equal(samm_profile_allocs(p), 16);
  int berr;
  char msg[128];
  samm_bake *b = samm_bake_run(p, NULL, &berr, msg, sizeof msg);
  assert_non_null(b);
  char *json = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&json, &len);
  assert_int_equal(samm_bake_write_json(b, f), 0);
  fclose(f);
  if (strstr(json, "\"allocs\":16,\"outlived\":2,\"censored\":3,\"undecided\":6,") == NULL)
    fail_msg("merged counts missing in %s", json);
  free(json);
  samm_bake_free(b);
  samm_profile_free(p);
}

static void missing_file_is_reported(void **state) {
  (void)state;
  samm_parse_error err;
  samm_profile *p = samm_profile_new();
  assert_int_equal(samm_profile_add_file(p, "/nonexistent/x.profile", &err), SAMM_EINVALID_ARG);
  assert_int_equal(err.line, 0);
  assert_non_null(strstr(err.message, "cannot open"));
  samm_profile_free(p);
}

/* Mutations of a valid profile: every outcome is a clean accept or a
 * refusal with a line number; never a crash (ASan and valgrind watch). */
static void mutated_profiles_never_crash(void **state) {
  (void)state;
  const char *seed =
      "samm-profile 1\n"
      "s render.body 14 10 1 2 40:5,44:3\n"
      "s cache%20entry 10 100 100 100 -\n"
      "u app.js%3A12 10 1000 500\n"
      "samm-profile 2\n"
      "s render.body 14 10 1 2 3 40:5,44:3\n"
      "r render.body 1 Map%20(cache)\n";
  size_t n = strlen(seed);
  uint64_t rng = 0xC0FFEE;
  uint64_t rounds = env_scale("SAMM_STRESS_OPS", 200000) / 10;
  char *buf = malloc(n * 2 + 16);
  for (uint64_t r = 0; r < rounds; r++) {
    memcpy(buf, seed, n + 1);
    size_t len = n;
    int edits = 1 + (int)(r % 4);
    for (int e = 0; e < edits; e++) {
      rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
      size_t at = (size_t)(rng >> 8) % len;
      switch (rng % 4) {
        case 0: buf[at] = (char)(rng >> 40); break;                  /* flip */
        case 1: len = at; break;                                       /* truncate */
        case 2: if (len < n * 2) { memmove(buf + at + 1, buf + at, len - at); buf[at] = (char)(rng >> 32); len++; } break;
        default: memmove(buf + at, buf + at + 1, len - at - 1); len--; break; /* delete */
      }
      if (len == 0) break;
    }
    samm_profile *p = samm_profile_new();
    samm_parse_error err;
    int rc = samm_profile_add(p, buf, len, "fuzz", &err);
    if (rc != SAMM_EOK) assert_true(err.line >= 1 && err.message[0] != '\0');
    samm_profile_free(p);
  }
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(valid_lines_add_up),
      cmocka_unit_test(bad_input_names_file_and_line),
      cmocka_unit_test(long_names_and_huge_lines_are_refused),
      cmocka_unit_test(version_2_and_1_concatenate),
      cmocka_unit_test(missing_file_is_reported),
      cmocka_unit_test(mutated_profiles_never_crash),
  };
  return cmocka_run_group_tests_name("profile", tests, NULL, NULL);
}
