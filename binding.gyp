{
  "targets": [
    {
      "target_name": "samm",
      "sources": [
        "src/binding.c",
        "native/bump.c",
        "native/error.c",
        "native/heap.c",
        "native/options.c",
        "native/os.c",
        "native/region.c",
        "native/segmap.c",
        "native/segment.c",
        "native/slab.c",
        "native/stats.c",
        "native/table.c",
        "native/table/default_table.c"
      ],
      "include_dirs": ["native/include"],
      "cflags_c": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
