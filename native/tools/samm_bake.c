/* samm_bake: profiles in, table out.
 *
 *   samm_bake [--short-min-in-request F] [--min-short-allocs N] [--seed N]
 *             --c OUT.c --json OUT.json PROFILE...
 *
 * Writes both outputs only when every profile parsed and the bake
 * succeeded (each through a temporary file renamed into place), so a failed
 * bake leaves the previous table untouched. Exit 0, 1 on bad input, 2 on
 * bad usage. Errors name the file and line. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "samm.h"

static int usage(void) {
  fprintf(stderr, "usage: samm_bake [--short-min-in-request F] [--min-short-allocs N] [--seed N] "
                  "--c OUT.c --json OUT.json PROFILE...\n");
  return 2;
}

static int write_atomically(const char *path, int (*write)(const samm_bake *, FILE *),
                            const samm_bake *bake) {
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return ENAMETOOLONG;
  FILE *f = fopen(tmp, "wb");
  if (f == NULL) return errno;
  int rc = write(bake, f);
  if (fclose(f) != 0 && rc == 0) rc = errno;
  if (rc == 0 && rename(tmp, path) != 0) rc = errno;
  if (rc != 0) remove(tmp);
  return rc;
}

int main(int argc, char **argv) {
  samm_bake_options opts;
  samm_bake_options_init(&opts);
  const char *c_out = NULL, *json_out = NULL;
  int i = 1;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    }
    if (i + 1 >= argc) return usage();
    char *end;
    if (strcmp(argv[i], "--c") == 0) {
      c_out = argv[++i];
    } else if (strcmp(argv[i], "--json") == 0) {
      json_out = argv[++i];
    } else if (strcmp(argv[i], "--short-min-in-request") == 0) {
      opts.short_min_in_request = strtod(argv[++i], &end);
      if (*end || !(opts.short_min_in_request > 0 && opts.short_min_in_request <= 1)) {
        fprintf(stderr, "samm_bake: --short-min-in-request takes a number in (0, 1]\n");
        return 2;
      }
    } else if (strcmp(argv[i], "--min-short-allocs") == 0) {
      const char *v = argv[++i];
      errno = 0;
      unsigned long long n = strtoull(v, &end, 10);
      if (*v < '1' || *v > '9' || *end || errno != 0 || n > (1ULL << 53)) {
        fprintf(stderr, "samm_bake: --min-short-allocs takes a whole number from 1 to 2^53\n");
        return 2;
      }
      opts.min_short_allocs = n;
    } else if (strcmp(argv[i], "--seed") == 0) {
      opts.seed = strtoull(argv[++i], &end, 10);
      if (*end) return usage();
    } else {
      return usage();
    }
  }
  if (c_out == NULL || json_out == NULL) return usage();
  samm_profile *profile = samm_profile_new();
  if (profile == NULL) return 1;
  for (; i < argc; i++) {
    samm_parse_error err;
    if (samm_profile_add_file(profile, argv[i], &err) != SAMM_EOK) {
      if (err.line)
        fprintf(stderr, "samm_bake: %s:%llu: %s\n", err.file, (unsigned long long)err.line, err.message);
      else
        fprintf(stderr, "samm_bake: %s: %s\n", err.file, err.message);
      samm_profile_free(profile);
      return 1;
    }
  }
  int err;
  char message[512];
  samm_bake *bake = samm_bake_run(profile, &opts, &err, message, sizeof message);
  samm_profile_free(profile);
  if (bake == NULL) {
    fprintf(stderr, "samm_bake: %s\n", message);
    return 1;
  }
  int rc = write_atomically(json_out, samm_bake_write_json, bake);
  if (rc == 0) rc = write_atomically(c_out, samm_bake_write_c, bake);
  samm_bake_free(bake);
  if (rc != 0) {
    fprintf(stderr, "samm_bake: cannot write the table: %s\n", strerror(rc));
    return 1;
  }
  return 0;
}
