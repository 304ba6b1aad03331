# The prelude every cgroup v2 VM test shares (test/vm/cgroup2-*.sh), sourced first thing:
#
#   . "$(dirname "$0")/lib.sh" NAME PARENT [FILE...]
#
# NAME names the test in messages; the containers' cgroups go under /sys/fs/cgroup/PARENT; FILE...
# are built files (relative to the repo) the test needs besides bin/tsrunc and the reaper. It refuses a host that is not
# pure cgroup v2 (exit 2: these run in the VM, scripts/vm-cgroup2/run.sh), re-executes the test under
# the project's subreaper (orphans, such as a killed container's init, are reaped promptly, as under
# containerd's shim and in `npm test`), and sets REPO TSRUNC REAPER CG PARENT W (a private work dir
# under /var/tmp: the VM's /tmp is a fresh tmpfs) ROOT (--root) PASSED FAILED, and the helpers
# pass fail check ts show gone. The test defines its own cleanup and prints `N passed, N failed`.
VM_TEST=$1
REPO=$(cd "$(dirname "$0")/../.." && pwd)
TSRUNC="$REPO/bin/tsrunc"
REAPER="$REPO/build/Release/tsrunc-reaper"
CG=/sys/fs/cgroup
PARENT="$CG/$2"
shift 2

if [ "$(stat -f -c %T "$CG" 2>/dev/null)" != cgroup2fs ]; then
  echo "$VM_TEST: $CG is not a cgroup2 mount (a hybrid or v1 host): run it in the VM:" >&2
  echo "  bash scripts/vm-cgroup2/run.sh bash ${0#"$REPO/"}" >&2
  exit 2
fi
for f in "$TSRUNC" "$REAPER" "${@/#/$REPO/}"; do
  [ -e "$f" ] || { echo "$VM_TEST: $f is missing: build first (npm run build)" >&2; exit 2; }
done
if [ -z "${TSRUNC_VM_REAPED:-}" ]; then
  TSRUNC_VM_REAPED=1 exec "$REAPER" bash "$0"
fi

W=$(mktemp -d "/var/tmp/tsrunc-$VM_TEST.XXXXXX")
ROOT="$W/state"
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
check() { # check DESCRIPTION COMMAND...
  local d=$1; shift
  if "$@"; then pass "$d"; else fail "$d"; fi
}
ts() { "$TSRUNC" --root "$ROOT" "$@"; }
show() { sed 's/^/    | /' "$@"; }
# /proc/PID is gone or a zombie.
gone() { local s; s=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null); [ -z "$s" ] || [ "$s" = Z ] || [ "$s" = X ]; }
# wait_for SECONDS COMMAND...: poll every 0.2 s until COMMAND succeeds (its last status otherwise).
wait_for() {
  local n=$(( $1 * 5 )); shift
  while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.2; n=$((n - 1)); done
  "$@"
}
procs() { cat "$1/cgroup.procs" 2>/dev/null | sort -n | tr '\n' ' ' | sed 's/ $//'; }   # a cgroup's pids, sorted
nprocs() { [ -e "$1/cgroup.procs" ] && [ "$(cat "$1/cgroup.procs" 2>/dev/null | wc -l)" -eq "$2" ]; }
no_dir() { [ ! -e "$1" ]; }
# On exit, whatever a failed check left behind: thaw and kill through the kernel (not through
# tsrunc) every cgroup under PARENT, remove them and PARENT, then the work dir. A test with more to
# undo sets its own EXIT trap and calls vm_cleanup from it.
vm_cleanup() {
  local d
  for d in "$PARENT"/*/; do
    [ -d "$d" ] || continue  # no match: the glob itself
    echo 0 >"${d}cgroup.freeze" 2>/dev/null
    echo 1 >"${d}cgroup.kill" 2>/dev/null
  done
  sleep 0.5
  for d in "$PARENT"/*/; do [ -d "$d" ] && rmdir "${d%/}" 2>/dev/null; done
  rmdir "$PARENT" 2>/dev/null
  rm -rf "$W"
}
trap vm_cleanup EXIT
# The last checks of every test, then its closing line and status: no container listed, no cgroup
# left under PARENT. `vm_abort WHAT` ends a test whose set-up failed.
vm_finish() {
  ts list >"$W/list.out" 2>&1
  check "list: no container left (got: $(tail -n +2 "$W/list.out" | tr '\n' ' '))" test "$(wc -l <"$W/list.out")" -le 1
  local left
  left=$(find "$PARENT" -mindepth 1 -type d 2>/dev/null | tr '\n' ' ')
  check "no cgroup left under $PARENT (found: ${left:-none})" test -z "$left"
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
vm_abort() { fail "$1"; echo "$PASSED passed, $FAILED failed"; exit 1; }
