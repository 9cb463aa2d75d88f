#!/usr/bin/env bash
# Installs the Debian packages breakwatch needs to build, test and benchmark, skipping those
# already present. Uses sudo when not root. Safe to run repeatedly.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang clang-format
  libmicrohttpd-dev libsqlite3-dev libyaml-dev libcjson-dev zlib1g-dev libcmocka-dev libpcre2-dev
  libcurl4-openssl-dev
  prometheus curl sqlite3 wrk python3 python3-prometheus-client
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
