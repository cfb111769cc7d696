#!/usr/bin/env bash
# Installs the Debian 12 packages nudge builds with, if any is missing. Run as root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  tao-pegtl-dev libfmt-dev libboost-date-time-dev nlohmann-json3-dev libcli11-dev
  libsqlite3-dev catch2 libbenchmark-dev time
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "nudge: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
