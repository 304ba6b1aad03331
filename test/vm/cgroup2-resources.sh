#!/usr/bin/env bash
# linux.resources and `update` on a pure cgroup v2 host (resources-v2.ts), with real containers:
# a memory hog OOM-killed at memory.max, a fork bomb stopped at pids.max, cpu.max throttling seen
# in cpu.stat, `update` of live limits (flags and --resources - on stdin), unified keys written raw
# and a bad one refused with runc's text. Meant to run inside the throwaway VM, from the repo root:
#
#   bash scripts/vm-cgroup2/run.sh bash test/vm/cgroup2-resources.sh
#
# Prints PASS/FAIL lines and `N passed, N failed`; exits 1 if anything failed, 2 if not on a pure
# cgroup v2 host. 12 tsrunc invocations (node is ~3 s a start under emulation).
set -u

. "$(dirname "$0")/lib.sh" cgroup2-resources tsrunc-vm-res
val() { cat "$1" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }
key() { sed -n "s/^$2 //p" "$1" 2>/dev/null; }   # key FILE NAME: the value of a "name value" line
is() { [ "$(val "$1")" = "$2" ]; }
ge1() { [ "$(key "$1" "$2")" -ge 1 ] 2>/dev/null; }

echo "== cgroup2 resources: kernel $(uname -r), controllers: $(cat $CG/cgroup.subtree_control)"
mkdir -p "$W/rootfs/bin" "$W/rootfs/proc" "$W/rootfs/sys" "$W/rootfs/dev" "$W/rootfs/tmp" "$W/base"
BUSYBOX=$(command -v busybox)
cp "$BUSYBOX" "$W/rootfs/bin/busybox"
for a in $("$BUSYBOX" --list); do [ "$a" = busybox ] || ln -s busybox "$W/rootfs/bin/$a"; done
ts spec --bundle "$W/base" || vm_abort "tsrunc spec"
node - "$W" <<'JS'
const fs = require('fs');
const W = process.argv[2];
const base = JSON.parse(fs.readFileSync(`${W}/base/config.json`, 'utf8'));
const MiB = 1024 * 1024;
function make(name, args, resources) {
  const c = JSON.parse(JSON.stringify(base));
  c.root = { path: `${W}/rootfs`, readonly: false };
  c.process.terminal = false;
  c.process.args = args;
  c.linux.cgroupsPath = `/tsrunc-vm-res/${name}`;
  c.linux.resources = { devices: [{ allow: false, access: 'rwm' }], ...resources };
  fs.mkdirSync(`${W}/${name}`, { recursive: true });
  fs.writeFileSync(`${W}/${name}/config.json`, JSON.stringify(c, null, 2));
}
// What Docker sends on every run, plus a 32 MiB limit without swap.
make('r1', ['tail', '/dev/zero'], { memory: { limit: 32 * MiB, swap: 32 * MiB, disableOOMKiller: false }, blockIO: { weight: 0 } });
// The inner shell dies when a fork fails; the outer one then execs (no fork), so what was started stays.
make('r2', ['sh', '-c', 'sh -c "i=0; while [ \\$i -lt 40 ]; do sleep 100 & i=\\$((i+1)); done; wait" 2>/dev/null; exec sleep 100'], { pids: { limit: 10 } });
make('r3', ['sh', '-c', 'while :; do :; done'], { cpu: { shares: 1024, quota: 20000, period: 100000 }, memory: { limit: 64 * MiB }, pids: { limit: 20 } });
make('r4', ['sleep', '100'], { unified: { 'memory.high': '50000000', 'pids.max': '7' } });
make('r5', ['true'], { unified: { 'nosuch.key': '1' } });
fs.writeFileSync(`${W}/upd.json`, JSON.stringify({ cpu: { quota: 50000 }, memory: { limit: 80 * MiB, swap: 160 * MiB } }) + '\n');
JS
[ -f "$W/r5/config.json" ] || vm_abort "write the bundles (node)"

# ---- r1: memory hog ------------------------------------------------------------------------------
R1="$PARENT/r1"
echo "== r1: tail /dev/zero under memory.limit 32 MiB (swap = limit: memory.swap.max 0)"
if ts run -d --bundle "$W/r1" --pid-file "$W/r1.pid" r1 >"$W/r1.out" 2>&1; then pass "run -d r1 (Docker's no-op values accepted)"; else fail "run -d r1"; show "$W/r1.out"; fi
check "r1: memory.max is 33554432 (got: $(val $R1/memory.max))" is "$R1/memory.max" 33554432
check "r1: memory.swap.max is 0 (got: $(val $R1/memory.swap.max))" is "$R1/memory.swap.max" 0
wait_for 60 gone "$(cat "$W/r1.pid" 2>/dev/null || echo 0)"
check "r1: the hog was OOM-killed (memory.events: $(val $R1/memory.events))" ge1 "$R1/memory.events" oom_kill
if ts delete r1 >"$W/r1.del" 2>&1; then pass "delete r1"; else fail "delete r1"; show "$W/r1.del"; fi
check "delete: $R1 is removed" no_dir "$R1"

# ---- r2: fork bomb -----------------------------------------------------------------------------
R2="$PARENT/r2"
echo "== r2: 40 background sleeps under pids.limit 10"
if ts run -d --bundle "$W/r2" r2 >"$W/r2.out" 2>&1; then pass "run -d r2"; else fail "run -d r2"; show "$W/r2.out"; fi
check "r2: pids.max is 10" is "$R2/pids.max" 10
wait_for 30 ge1 "$R2/pids.events" max
check "r2: forks were refused at pids.max (pids.events: $(val $R2/pids.events))" ge1 "$R2/pids.events" max
check "r2: 8 ≤ pids.current ≤ 10: the bomb's processes live, capped (got: $(val $R2/pids.current))" \
  bash -c '[ "$1" -ge 8 ] && [ "$1" -le 10 ]' _ "$(val $R2/pids.current)"
if ts delete --force r2 >"$W/r2.del" 2>&1; then pass "delete --force r2"; else fail "delete --force r2"; show "$W/r2.del"; fi

# ---- r3: cpu.max throttling, then update ------------------------------------------------------
R3="$PARENT/r3"
echo "== r3: a busy loop under cpu quota 20000/100000; update"
if ts run -d --bundle "$W/r3" r3 >"$W/r3.out" 2>&1; then pass "run -d r3"; else fail "run -d r3"; show "$W/r3.out"; fi
check "r3: cpu.max is '20000 100000' (got: $(val $R3/cpu.max))" is "$R3/cpu.max" "20000 100000"
check "r3: cpu.weight is 39 for shares 1024 (runc's conversion; got: $(val $R3/cpu.weight))" is "$R3/cpu.weight" 39
wait_for 20 ge1 "$R3/cpu.stat" nr_throttled
check "r3: throttled (cpu.stat nr_throttled $(key $R3/cpu.stat nr_throttled), throttled_usec $(key $R3/cpu.stat throttled_usec))" ge1 "$R3/cpu.stat" nr_throttled
if ts update --memory 100m --pids-limit 30 r3 >"$W/r3.upd" 2>&1; then pass "update --memory 100m --pids-limit 30 r3"; else fail "update r3 (flags)"; show "$W/r3.upd"; fi
check "update: memory.max is 104857600 (got: $(val $R3/memory.max))" is "$R3/memory.max" 104857600
check "update: pids.max is 30 (got: $(val $R3/pids.max))" is "$R3/pids.max" 30
if ts update --resources - r3 <"$W/upd.json" >"$W/r3.upd2" 2>&1; then pass "update --resources - r3 (stdin)"; else fail "update --resources - r3"; show "$W/r3.upd2"; fi
check "update: cpu.max is '50000 100000' (period kept; got: $(val $R3/cpu.max))" is "$R3/cpu.max" "50000 100000"
check "update: memory.max is 83886080 (got: $(val $R3/memory.max))" is "$R3/memory.max" 83886080
if [ -e "$R3/memory.swap.max" ]; then
  check "update: memory.swap.max is 83886080 (swap - limit; got: $(val $R3/memory.swap.max))" is "$R3/memory.swap.max" 83886080
fi
check "update: state.json keeps the merged values" \
  grep -q '"cpu":{"shares":1024,"quota":50000,"period":100000}' "$ROOT/r3/state.json"
if ts delete --force r3 >"$W/r3.del" 2>&1; then pass "delete --force r3"; else fail "delete --force r3"; show "$W/r3.del"; fi

# ---- r4/r5: unified keys -------------------------------------------------------------------------
R4="$PARENT/r4"
echo "== r4: unified memory.high and pids.max written raw; r5: an unknown controller refused"
if ts create --bundle "$W/r4" r4 >"$W/r4.out" 2>&1; then pass "create r4"; else fail "create r4"; show "$W/r4.out"; fi
check "r4: memory.high is 49999872 or 50000000 (got: $(val $R4/memory.high))" \
  bash -c '[ "$1" = 50000000 ] || [ "$1" = 49999872 ]' _ "$(val $R4/memory.high)"
check "r4: pids.max is 7" is "$R4/pids.max" 7
if ts delete --force r4 >"$W/r4.del" 2>&1; then pass "delete --force r4"; else fail "delete --force r4"; show "$W/r4.del"; fi
if ts create --bundle "$W/r5" r5 >"$W/r5.out" 2>&1; then
  fail "create r5 with unified nosuch.key is refused (it succeeded)"; ts delete --force r5 >/dev/null 2>&1
else
  check "r5: runc's text: unified resource \"nosuch.key\" can't be set: controller \"nosuch\" not available" \
    grep -q "unified resource .*nosuch.key.* can't be set: controller .*nosuch.* not available" "$W/r5.out"
fi
show "$W/r5.out"
check "r5: no cgroup left" no_dir "$PARENT/r5"

# ---- nothing left behind ----------------------------------------------------------------------
vm_finish
