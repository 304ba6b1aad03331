#!/usr/bin/env bash
# `npm run test:vm`: the cgroup v2 VM lane. Runs every test/vm/cgroup2-*.sh (sorted by name) in ONE
# boot of the throwaway cgroup v2 VM (scripts/vm-cgroup2/run.sh), one after the other, each under
# its own timeout, and prints one summary line per test and a total. Exit status: 0 if every test
# passed, 1 if one failed (or timed out), 2 for setup errors, 124/125 from run.sh (VM timeout / the
# VM never reported an exit code).
#
#   bash scripts/vm-cgroup2/test-all.sh [PATTERN]    (as root, from anywhere, after `npm run build`)
#
# PATTERN (optional) keeps only the tests whose file name contains it. New test/vm/cgroup2-*.sh
# files are picked up without changing this script. Environment: TSRUNC_VM_TEST_TIMEOUT seconds per
# test inside the VM (default 600); TSRUNC_VM_TIMEOUT for the whole VM (default: 300 + the sum of
# the per-test timeouts); every TSRUNC_VM_* knob of run.sh.
set -euo pipefail
# All in a function that is read whole before it runs: editing or replacing this file (a rebuild, a
# git checkout) while a lane runs cannot change what the running copy does next.
main() {
  REPO=$(cd "$(dirname "$0")/../.." && pwd)
  PER_TEST=${TSRUNC_VM_TEST_TIMEOUT:-600}
  case "$PER_TEST" in ''|*[!0-9]*) echo "test-all: TSRUNC_VM_TEST_TIMEOUT must be a number of seconds" >&2; exit 2 ;; esac

  if [ "${1:-}" = "--in-vm" ]; then
    # ---- inside the VM: run the tests ----------------------------------------------------------------
    shift
    cd "$REPO"
    tests=()
    for t in test/vm/cgroup2-*.sh; do # glob order is sorted; no process substitution (see run.sh's /dev/fd)
      [ -f "$t" ] && [[ "$t" == *"${1:-}"* ]] && tests+=("$t")
    done
    [ "${#tests[@]}" -gt 0 ] || { echo "test-all: no test/vm/cgroup2-*.sh${1:+ matching $1}"; exit 2; }
    summary=()
    failed=0
    for t in "${tests[@]}"; do
      echo "==== $t"
      s=$(date +%s)
      rc=0
      timeout -k 10 "$PER_TEST" bash "$t" || rc=$?
      d=$(( $(date +%s) - s ))
      case "$rc" in
        0) r="ok" ;;
        124) r="FAILED (timed out after ${PER_TEST}s)"; failed=$((failed + 1)) ;;
        *) r="FAILED (exit $rc)"; failed=$((failed + 1)) ;;
      esac
      summary+=("$(printf '%-40s %-32s %4ss' "$t" "$r" "$d")")
    done
    echo "==== summary (cgroup v2 VM, kernel $(uname -r))"
    printf '%s\n' "${summary[@]}"
    echo "${#tests[@]} test files, $failed failed"
    [ "$failed" -eq 0 ] || exit 1
    exit 0
  fi

  # ---- on the host: one VM boot for all of them -------------------------------------------------------
  if [ "$(id -u)" -ne 0 ]; then echo "test-all: must run as root" >&2; exit 2; fi
  for f in dist/src/cli/main.js bin/tsrunc build/Release/tsrunc-reaper; do
    [ -e "$REPO/$f" ] || { echo "test-all: $REPO/$f is missing: run npm run build first" >&2; exit 2; }
  done
  n=$(ls -1 "$REPO"/test/vm/cgroup2-*.sh 2>/dev/null | grep -cF -- "${1:-}" || true)
  [ "$n" -gt 0 ] || { echo "test-all: no test/vm/cgroup2-*.sh${1:+ matching $1}" >&2; exit 2; }
  export TSRUNC_VM_TIMEOUT=${TSRUNC_VM_TIMEOUT:-$((300 + n * PER_TEST))}
  cd "$REPO"
  start=$(date +%s)
  rc=0
  # The VM starts with a fresh environment: hand the per-test timeout over explicitly.
  # 125: the VM never reported an exit code (seen once: a kernel panic at boot under emulation,
  # "IO-APIC + timer doesn't work"): the tests did not run, so boot once more. A test failure
  # (1) or a timeout (124) is never retried.
  for attempt in 1 2; do
    rc=0
    bash scripts/vm-cgroup2/run.sh env TSRUNC_VM_TEST_TIMEOUT="$PER_TEST" \
      bash scripts/vm-cgroup2/test-all.sh --in-vm "${1:-}" || rc=$?
    [ "$rc" -eq 125 ] && [ "$attempt" -eq 1 ] || break
    echo "test-all: the VM did not report an exit code (boot failure?): booting it once more" >&2
  done
  echo "test-all: cgroup v2 VM lane: exit $rc after $(( $(date +%s) - start ))s" >&2
  exit "$rc"
}
main "$@"
exit
