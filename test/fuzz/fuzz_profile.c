/* libFuzzer target: the profile parser, and the bake over whatever parsed.
 * Any input must end in a clean accept or a refusal naming a line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "samm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  samm_profile *p = samm_profile_new();
  samm_parse_error err;
  int rc = samm_profile_add(p, (const char *)data, size, "fuzz", &err);
  if (rc != SAMM_EOK && (err.line == 0 || err.message[0] == '\0')) abort();
  int berr;
  char msg[256];
  samm_bake *b = samm_bake_run(p, NULL, &berr, msg, sizeof msg);
  if (b != NULL) {
    FILE *null = fopen("/dev/null", "w");
    if (samm_bake_write_json(b, null) != 0 || samm_bake_write_c(b, null) != 0) abort();
    fclose(null);
    samm_bake_free(b);
  }
  samm_profile_free(p);
  return 0;
}
