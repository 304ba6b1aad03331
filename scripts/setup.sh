#!/usr/bin/env bash
# `npm run setup`: everything a fresh Debian 12 machine (as root) needs, then the build.
#   - Debian packages: busybox-static (test rootfs), runc (differential tests), containerd (the
#     ecosystem test drives tsrunc through containerd's runc shim), libseccomp-dev
#     (seccomp, next issues), g++/make/python3 (node-gyp), time (/usr/bin/time for the benchmark);
#   - npm dependencies from package-lock.json;
#   - the build: the addon and its three helper executables (node-gyp), TypeScript (tsc), the
#     standalone schema validators (ajv, at build time), and bin/tsrunc.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(busybox-static runc containerd libseccomp-dev g++ make python3 time)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: run as root to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

npm ci --no-audit --no-fund
npm run build
