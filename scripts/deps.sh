#!/usr/bin/env bash
# Installs the Debian packages breakwatch needs to build, test and benchmark, skipping those
# already present, then the web page's npm packages (web/package-lock.json, npm ci). Uses sudo
# when not root. Safe to run repeatedly.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang clang-format
  libmicrohttpd-dev libsqlite3-dev libyaml-dev libcjson-dev zlib1g-dev libcmocka-dev libpcre2-dev
  libcurl4-openssl-dev libssl-dev libsnappy-dev
  prometheus prometheus-alertmanager docker-compose curl sqlite3 wrk python3 python3-prometheus-client python3-yaml
  chromium valgrind
)

# Node.js builds the web page; keep one that is already installed (it may not be Debian's).
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The web page's packages, exactly as locked; again only when the lock file changed.
web="$(dirname "$0")/../web"
if [ -f "$web/package-lock.json" ] &&
   ! cmp -s "$web/package-lock.json" "$web/node_modules/.breakwatch-lock"; then
  echo "installing the web page's npm packages (npm ci)" >&2
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error &&
   cp package-lock.json node_modules/.breakwatch-lock)
fi
