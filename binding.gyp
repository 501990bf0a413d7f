{
  "targets": [
    {
      "target_name": "samm_bake",
      "type": "executable",
      "sources": [
        "native/tools/samm_bake.c",
        "native/bake.c",
        "native/profile.c",
        "native/error.c",
        "native/table.c",
        "native/table/default_table.c"
      ],
      "include_dirs": ["native/include"],
      "cflags_c": ["-std=gnu11", "-O2", "-Wall", "-Wextra"],
      "libraries": ["-lm"]
    },
    {
      "target_name": "samm",
      "dependencies": ["samm_bake"],
      "actions": [
        {
          "action_name": "bake_table",
          "inputs": ["<(PRODUCT_DIR)/samm_bake", "scripts/bake-table.js"],
          "outputs": ["<(SHARED_INTERMEDIATE_DIR)/samm_table.c"],
          "action": ["node", "scripts/bake-table.js", "<(PRODUCT_DIR)/samm_bake", "<(SHARED_INTERMEDIATE_DIR)/samm_table.c"]
        }
      ],
      "sources": [
        "src/binding.c",
        "src/napi_error.c",
        "src/weak_ref.c",
        "native/bake.c",
        "native/bump.c",
        "native/error.c",
        "native/heap.c",
        "native/large.c",
        "native/options.c",
        "native/os.c",
        "native/profile.c",
        "native/region.c",
        "native/segmap.c",
        "native/segment.c",
        "native/slab.c",
        "native/stats.c",
        "native/table.c",
        "<(SHARED_INTERMEDIATE_DIR)/samm_table.c"
      ],
      "include_dirs": ["native/include"],
      "cflags_c": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-lm"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
