#!/usr/bin/env bash
# `npm run setup`: everything a fresh Debian 12 machine (as root) needs, then the build.
#   - Debian packages: busybox-static (test rootfs), runc (differential tests), containerd (the
#     ecosystem test drives tsrunc through containerd's runc shim), docker.io, podman and conmon
#     (the Docker and Podman ecosystem tests; their daemons are started by the tests with private
#     dirs, never as services), libseccomp-dev
#     (seccomp, next issues), g++/make/python3 (node-gyp), time (/usr/bin/time for the benchmark),
#     qemu-system-x86, cpio and xz-utils (the cgroup v2 VM lane, `npm run test:vm`: QEMU boots
#     Debian's kernel, fetched and cached by scripts/vm-cgroup2/run.sh, with an initramfs it builds);
#   - npm dependencies from package-lock.json;
#   - the build: the addon and its three helper executables (node-gyp), TypeScript (tsc), the
#     standalone schema validators (ajv, at build time), and bin/tsrunc.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(busybox-static runc containerd docker.io podman conmon libseccomp-dev g++ make python3 time qemu-system-x86 cpio xz-utils)
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
  apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}"
fi

npm ci --no-audit --no-fund
npm run build
