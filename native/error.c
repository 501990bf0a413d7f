/* error.c: the texts of the error list declared in samm.h. */
#include "internal.h"

static const char *const err_messages[] = {
#define SAMM__ERR_MSG(name, code, msg) msg,
    SAMM_ERRORS(SAMM__ERR_MSG)
#undef SAMM__ERR_MSG
};

static const char *const err_codes[] = {
#define SAMM__ERR_CODE(name, code, msg) code,
    SAMM_ERRORS(SAMM__ERR_CODE)
#undef SAMM__ERR_CODE
};

const char *samm_strerror(int err) {
  if (err < 0 || err >= SAMM_ERR_COUNT) return "unknown error";
  return err_messages[err];
}

const char *samm_err_name(int err) {
  if (err < 0 || err >= SAMM_ERR_COUNT) return "ERR_SAMM_UNKNOWN";
  return err_codes[err];
}

static const char *const class_names[] = {"heap", "short", "medium", "long"};

const char *samm_class_name(int cls) {
  if (cls < SAMM_HEAP || cls > SAMM_LONG) return NULL;
  return class_names[cls];
}

int samm_class_parse(const char *name) {
  if (name == NULL) return -1;
  for (int i = SAMM_HEAP; i <= SAMM_LONG; i++)
    if (strcmp(name, class_names[i]) == 0) return i;
  return -1;
}
