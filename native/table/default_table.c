/* The default baked table: no site is known, so every allocation stays on
 * the V8 heap and installing SAMM changes nothing until a service is
 * profiled and baked. */
#include "samm.h"

const samm_table samm__baked_table = {
    .rows = NULL,
    .row_count = 0,
    .sites = NULL,
    .site_count = 0,
    .digest = "",
    .json = "{\"version\":1,\"digest\":\"\",\"sites\":[]}\n",
};
