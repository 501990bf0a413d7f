/* options.c: the option table declared in samm.h: defaults, ranges and
 * the SAMM_* environment variables. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>

static const samm_option_desc options[SAMM_OPT_COUNT] = {
#define SAMM__OPT_DESC(field, js, env, def, lo, hi, mult) \
  {#field, js, env, (uint64_t)(def), (uint64_t)(lo), (uint64_t)(hi), (uint64_t)(mult)},
    SAMM_OPTIONS(SAMM__OPT_DESC)
#undef SAMM__OPT_DESC
};

const samm_option_desc *samm_option_get(int opt) {
  if (opt < 0 || opt >= SAMM_OPT_COUNT) return NULL;
  return &options[opt];
}

static uint64_t *option_field(const samm_config *cfg, int opt) {
  switch (opt) {
#define SAMM__OPT_CASE(field, js, env, def, lo, hi, mult) \
  case SAMM_OPT_##field:                           \
    return (uint64_t *)&cfg->field;
    SAMM_OPTIONS(SAMM__OPT_CASE)
#undef SAMM__OPT_CASE
  default:
    return NULL;
  }
}

void samm_config_init(samm_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  for (int i = 0; i < SAMM_OPT_COUNT; i++) *option_field(cfg, i) = options[i].def;
}

uint64_t samm_config_get(const samm_config *cfg, int opt) {
  const uint64_t *field = option_field(cfg, opt);
  return field != NULL ? *field : 0;
}

int samm_config_set(samm_config *cfg, int opt, uint64_t value) {
  const samm_option_desc *d = samm_option_get(opt);
  if (cfg == NULL || d == NULL || value < d->min || value > d->max || value % d->multiple != 0)
    return SAMM_EINVALID_ARG;
  *option_field(cfg, opt) = value;
  return SAMM_EOK;
}

/* Parses a whole decimal number with an optional k, m or g suffix (powers
 * of 1024). false on anything else. */
static bool parse_size(const char *s, uint64_t *out) {
  if (*s < '0' || *s > '9') return false;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0) return false;
  unsigned shift = 0;
  switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: break;
  }
  if (*end != '\0' || (shift && v > (UINT64_MAX >> shift))) return false;
  *out = (uint64_t)v << shift;
  return true;
}

int samm_config_from_env(samm_config *cfg, const char **bad_env) {
  int rc = SAMM_EOK;
  for (int i = 0; i < SAMM_OPT_COUNT; i++) {
    const char *s = getenv(options[i].env);
    if (s == NULL || *s == '\0') continue;
    uint64_t v;
    if (!parse_size(s, &v) || samm_config_set(cfg, i, v) != SAMM_EOK) {
      if (rc == SAMM_EOK && bad_env != NULL) *bad_env = options[i].env;
      rc = SAMM_EINVALID_ARG;
    }
  }
  return rc;
}

bool samm__config_in_range(const samm_config *cfg) {
  for (int i = 0; i < SAMM_OPT_COUNT; i++) {
    uint64_t v = *option_field(cfg, i);
    if (v < options[i].min || v > options[i].max || v % options[i].multiple != 0) return false;
  }
  return true;
}
