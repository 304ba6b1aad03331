#!/usr/bin/env bash
# tsrunc on a pure cgroup v2 host: cgroup creation, the eBPF device program, cgroup.kill, removal.
# Meant to run inside the throwaway VM, from the repo root:
#
#   bash scripts/vm-cgroup2/run.sh bash test/vm/cgroup2-smoke.sh
#
# Prints PASS/FAIL lines and a final `N passed, N failed` line; exits 1 if anything failed, 2 if it
# is not on a pure cgroup v2 host (it refuses to run on the hybrid host: it would create cgroups
# there). Node is slow under emulation (~3 s a start), so it uses few tsrunc invocations (16).
# Bundles and state live under /var/tmp (the VM's /tmp is a fresh tmpfs, and /var/tmp is the VM's
# overlay: nothing reaches the host).
set -u

. "$(dirname "$0")/lib.sh" cgroup2-smoke tsrunc-vm build/Release/tsrunc_native.node

empty_cgroup() { [ -z "$(cat "$1/cgroup.procs" 2>/dev/null)" ]; }

echo "== cgroup2 smoke: kernel $(uname -r), controllers: $(cat $CG/cgroup.subtree_control)"

# ---- bundles --------------------------------------------------------------------------------------
mkdir -p "$W/rootfs/bin" "$W/rootfs/proc" "$W/rootfs/sys" "$W/rootfs/dev" "$W/rootfs/tmp" "$W/rootfs/etc"
BUSYBOX=$(command -v busybox)
cp "$BUSYBOX" "$W/rootfs/bin/busybox"
for a in $("$BUSYBOX" --list); do [ "$a" = busybox ] || ln -s busybox "$W/rootfs/bin/$a"; done
mkdir -p "$W/base"
ts spec --bundle "$W/base" || vm_abort "tsrunc spec"

# One node start for all configs: runc's default spec, terminal off, CAP_MKNOD (as ctr gives),
# deny-all device rules (+ runc's defaults, which tsrunc adds), /dev/kmsgx (c 1:11, a device with
# no allow rule) in linux.devices, one cgroupsPath per container.
node - "$W" <<'JS'
const fs = require('fs');
const W = process.argv[2];
const base = JSON.parse(fs.readFileSync(`${W}/base/config.json`, 'utf8'));
fs.writeFileSync(`${W}/base/namespaces`, base.linux.namespaces.map((n) => n.type).join(' ') + '\n');
function make(name, args, edit) {
  const c = JSON.parse(JSON.stringify(base));
  c.root = { path: `${W}/rootfs`, readonly: false };
  c.process.terminal = false;
  c.process.args = args;
  for (const set of ['bounding', 'effective', 'permitted']) {
    const caps = c.process.capabilities[set];
    if (!caps.includes('CAP_MKNOD')) caps.push('CAP_MKNOD');
  }
  c.linux.cgroupsPath = `/tsrunc-vm/${name}`;
  c.linux.resources = { devices: [{ allow: false, access: 'rwm' }] };
  c.linux.devices = [{ path: '/dev/kmsgx', type: 'c', major: 1, minor: 11, fileMode: 0o666, uid: 0, gid: 0 }];
  if (edit) edit(c);
  fs.mkdirSync(`${W}/${name}`, { recursive: true });
  fs.writeFileSync(`${W}/${name}/config.json`, JSON.stringify(c, null, 2));
}
// c1: device checks, then exit.
make('c1', ['sh', '-c', [
  'if echo x > /dev/null; then echo "null: ok"; else echo "null: failed"; fi',
  'if head -c 4 /dev/zero | od -An -tx1 | grep -q "00 00 00 00"; then echo "zero: ok"; else echo "zero: failed"; fi',
  'if (echo x > /dev/kmsgx) 2>/tmp/err; then echo "kmsgx: opened"; else echo "kmsgx: $(cat /tmp/err)"; fi',
  'if mknod /dev/kmsg2 c 1 11; then echo "mknod: ok"; else echo "mknod: failed"; fi',
  'if (echo x > /dev/kmsg2) 2>/tmp/err; then echo "kmsg2: opened"; else echo "kmsg2: $(cat /tmp/err)"; fi',
  'if mknod /dev/null2 c 1 3 && echo x > /dev/null2; then echo "null2: ok"; else echo "null2: failed"; fi',
  'echo "cgroup: $(cat /proc/self/cgroup)"',
].join('; ')]);
// c2: no pid namespace, so the sleeps outlive a killed init: only kill --all reaches them. The init
// prints a line per SIGWINCH it gets (the sleeps ignore WINCH).
make('c2', ['sh', '-c', 'trap "echo got WINCH" WINCH; sleep 1000 & sleep 1000 & while :; do wait; done'], (c) => {
  c.linux.namespaces = c.linux.namespaces.filter((n) => n.type !== 'pid');
});
// c3: a running container for delete --force.
make('c3', ['sh', '-c', 'sleep 1000 & sleep 1000 & wait']);
// c5: no pid namespace either: the init is killed alone, its children stay in the cgroup.
make('c5', ['sh', '-c', 'sleep 1000 & sleep 1000 & wait'], (c) => {
  c.linux.namespaces = c.linux.namespaces.filter((n) => n.type !== 'pid');
});
// c4: a memory limit: written to memory.max at create (the rest: test/vm/cgroup2-resources.sh).
make('c4', ['true'], (c) => { c.linux.resources.memory = { limit: 64 * 1024 * 1024 }; });
JS
[ -f "$W/c4/config.json" ] || vm_abort "write the bundles' config.json (node)"

# runc's spec adds a cgroup namespace on cgroup v2 hosts.
NS=$(cat "$W/base/namespaces")
check "tsrunc spec on a cgroup v2 host includes a cgroup namespace (namespaces: $NS)" grep -qw cgroup "$W/base/namespaces"

# ---- c1: create → cgroup, init placed, device program attached; start → device checks ---------
C1="$PARENT/c1"
echo "== c1: create (device rules: deny all + runc's defaults)"
if ts create --bundle "$W/c1" --pid-file "$W/c1.pid" c1 >"$W/c1.out" 2>&1; then
  pass "create c1"
else
  fail "create c1"; show "$W/c1.out"
fi
PID1=$(cat "$W/c1.pid" 2>/dev/null || echo none)
check "create: cgroup $C1 exists" test -d "$C1"
check "create: $C1/cgroup.procs holds exactly the init pid ($PID1; found: $(procs "$C1"))" test "$(procs "$C1")" = "$PID1"
check "create: /proc/$PID1/cgroup is 0::/tsrunc-vm/c1" test "$(cat "/proc/$PID1/cgroup" 2>/dev/null)" = "0::/tsrunc-vm/c1"
# runc enables every available controller in the ancestors' subtree_control.
ctl=$(cat "$C1/cgroup.controllers" 2>/dev/null)
check "create: controllers available in c1: '$ctl' include memory, pids, cpu, io" \
  bash -c 'for c in memory pids cpu io; do [[ " $1 " == *" $c "* ]] || exit 1; done' _ "$ctl"

# The device program is attached at create, before start: a shell moved into the container's
# cgroup can use /dev/null but not /dev/kmsg (c 1:11, not allowed), which works outside of it.
probe() { # probe CGROUP-DIR: try /dev/null and /dev/kmsg (write) from a process in that cgroup
  sh -c 'if [ -n "$1" ]; then echo $$ > "$1/cgroup.procs" || exit 9; fi
         if echo x >/dev/null; then echo "null ok"; else echo "null denied"; fi
         if (echo "<7>tsrunc-vm: device probe" >/dev/kmsg) 2>/dev/null; then echo "kmsg ok"; else echo "kmsg denied"; fi' _ "$1" 2>&1
}
out=$(probe "")
check "control: outside the container's cgroup /dev/kmsg opens for writing (got: $(echo $out))" test "$out" = "$(printf 'null ok\nkmsg ok')"
out=$(probe "$C1")
check "create: device program attached: in c1's cgroup /dev/null works, /dev/kmsg is denied (got: $(echo $out))" \
  test "$out" = "$(printf 'null ok\nkmsg denied')"
# The addon can list the programs attached to the cgroup (one node start): exactly one.
# (through loadNative: the addon registers its bpf functions on first use, src/sys/native.ts)
nprog=$(node -e 'const n = require(process.argv[1]).loadNative(); console.log(n.bpfQueryDevicePrograms(process.argv[2]).length)' \
  "$REPO/dist/src/sys/native.js" "$C1" 2>&1)
check "create: exactly one device program attached to $C1 (got: $nprog)" test "$nprog" = 1

echo "== c1: start (the container tries its devices)"
if ts start c1 >"$W/c1.start" 2>&1; then pass "start c1"; else fail "start c1"; show "$W/c1.start"; fi
wait_for 30 gone "$PID1"
check "c1: the container ran to its end (init $PID1 gone)" gone "$PID1"
echo "    container output:"; show "$W/c1.out"
has() { grep -qxF -- "$2" "$1"; }
check "c1: 'echo x > /dev/null' works inside the container" has "$W/c1.out" "null: ok"
check "c1: reading /dev/zero works inside the container" has "$W/c1.out" "zero: ok"
check "c1: /dev/kmsgx (linux.devices c 1:11, no allow rule) is created but opening it fails with EPERM" \
  grep -qE '^kmsgx: .*(Operation not permitted|EPERM)' "$W/c1.out"
check "c1: mknod c 1:11 works (CAP_MKNOD, rule 'c *:* m')" has "$W/c1.out" "mknod: ok"
check "c1: opening the mknod'ed c 1:11 fails with EPERM" grep -qE '^kmsg2: .*(Operation not permitted|EPERM)' "$W/c1.out"
check "c1: a mknod'ed c 1:3 (allowed major:minor, other name) works" has "$W/c1.out" "null2: ok"
if grep -qw cgroup "$W/base/namespaces"; then
  check "c1: inside its cgroup namespace the container's cgroup is the root (cgroup: 0::/)" has "$W/c1.out" "cgroup: 0::/"
else
  check "c1: without a cgroup namespace the container sees 0::/tsrunc-vm/c1" has "$W/c1.out" "cgroup: 0::/tsrunc-vm/c1"
fi

echo "== c1: delete"
if ts delete c1 >"$W/c1.del" 2>&1; then pass "delete c1"; else fail "delete c1"; show "$W/c1.del"; fi
check "delete: $C1 is removed" no_dir "$C1"
check "delete: state dir of c1 is removed" no_dir "$ROOT/c1"

# ---- c2: kill --all KILL reaches every process (no pid namespace: they outlive the init) -------
C2="$PARENT/c2"
echo "== c2: run -d 'sleep 1000 & sleep 1000 & ...' (no pid namespace), kill --all WINCH, kill --all KILL"
if ts run -d --bundle "$W/c2" --pid-file "$W/c2.pid" c2 >"$W/c2.out" 2>&1; then
  pass "run -d c2"; wait_for 30 nprocs "$C2" 3
else
  fail "run -d c2"; show "$W/c2.out"
fi
ALL2=$(procs "$C2")
check "c2: cgroup holds the init and both sleeps (found: $ALL2)" nprocs "$C2" 3
# A signal other than KILL goes through freeze / signal each pid / thaw: each process gets it once
# (runc: one kill(2) per pid).
if ts kill --all c2 WINCH >"$W/c2.winch" 2>&1; then pass "kill --all c2 WINCH"; else fail "kill --all c2 WINCH"; show "$W/c2.winch"; fi
winch() { [ "$(grep -c '^got WINCH$' "$W/c2.out")" -ge 1 ]; }
wait_for 10 winch; sleep 1
n=$(grep -c '^got WINCH$' "$W/c2.out")
check "kill --all WINCH: the init got the signal exactly once (got it $n times)" test "$n" -eq 1
check "kill --all WINCH: c2 still runs, thawed (cgroup.freeze: $(cat "$C2/cgroup.freeze" 2>&1))" \
  test "$(cat "$C2/cgroup.freeze" 2>/dev/null)-$(procs "$C2")" = "0-$ALL2"
if ts kill --all c2 KILL >"$W/c2.kill" 2>&1; then pass "kill --all c2 KILL"; else fail "kill --all c2 KILL"; show "$W/c2.kill"; fi
all_gone() { local p; for p in $ALL2; do gone "$p" || return 1; done; }
wait_for 10 all_gone
alive=""; for p in $ALL2; do gone "$p" || alive="$alive $p"; done
check "kill --all: every process of c2 is dead (alive:${alive:- none})" test -z "$alive"
check "kill --all: c2's cgroup.procs is empty" wait_for 5 empty_cgroup "$C2"
ts state c2 >"$W/c2.state" 2>&1
if grep -q '"status": "stopped"' "$W/c2.state"; then pass "state c2 says stopped"; else fail "state c2 says stopped"; show "$W/c2.state"; fi
if ts delete c2 >"$W/c2.del" 2>&1; then pass "delete c2"; else fail "delete c2"; show "$W/c2.del"; fi
check "delete: $C2 is removed" no_dir "$C2"

# ---- c3: delete --force of a running container ---------------------------------------------------
C3="$PARENT/c3"
echo "== c3: run -d, delete --force while running"
if ts run -d --bundle "$W/c3" --pid-file "$W/c3.pid" c3 >"$W/c3.out" 2>&1; then
  pass "run -d c3"; wait_for 30 nprocs "$C3" 3
else
  fail "run -d c3"; show "$W/c3.out"
fi
ALL3=$(procs "$C3")
check "c3: running, cgroup holds the init and both sleeps (found: $ALL3)" nprocs "$C3" 3
if ts delete --force c3 >"$W/c3.del" 2>&1; then pass "delete --force c3"; else fail "delete --force c3"; show "$W/c3.del"; fi
alive=""; for p in $ALL3; do gone "$p" || alive="$alive $p"; done
check "delete --force: every process of c3 is dead (alive:${alive:- none})" test -z "$alive"
check "delete --force: $C3 is removed" no_dir "$C3"
check "delete --force: state dir of c3 is removed" no_dir "$ROOT/c3"

# ---- c5: delete of a stopped container whose processes outlived its init -----------------------
# No pid namespace of its own: killing the init leaves its children running in the cgroup. runc's
# destroy() SIGKILLs what is left in the cgroup of such a container (libcontainer/state_linux.go:
# "if !c.config.Namespaces.Contains(configs.NEWPID) ... signalAllProcesses(SIGKILL)") and then
# removes the cgroup.
C5="$PARENT/c5"
echo "== c5: run -d (no pid namespace), kill the init only, delete"
if ts run -d --bundle "$W/c5" --pid-file "$W/c5.pid" c5 >"$W/c5.out" 2>&1; then
  pass "run -d c5"; wait_for 30 nprocs "$C5" 3
else
  fail "run -d c5"; show "$W/c5.out"
fi
PID5=$(cat "$W/c5.pid" 2>/dev/null || echo none)
ALL5=$(procs "$C5")
ts kill c5 KILL >"$W/c5.kill" 2>&1 || { fail "kill c5 KILL"; show "$W/c5.kill"; }
wait_for 10 gone "$PID5"
check "c5: init $PID5 is dead, its two children still run in the cgroup (found: $(procs "$C5"))" nprocs "$C5" 2
if ts delete c5 >"$W/c5.del" 2>&1; then pass "delete c5 (stopped, processes left in its cgroup)"; else fail "delete c5 (stopped, processes left in its cgroup)"; show "$W/c5.del"; fi
alive=""; for p in $ALL5; do gone "$p" || alive="$alive $p"; done
check "delete: the processes left in c5's cgroup are killed, as runc does (alive:${alive:- none})" test -z "$alive"
check "delete: $C5 is removed" no_dir "$C5"
check "delete: state dir of c5 is removed" no_dir "$ROOT/c5"
if [ -e "$ROOT/c5" ] || [ -d "$C5" ]; then
  # Not to count the same failure again below: kill what is left through the kernel, delete again.
  echo 1 >"$C5/cgroup.kill" 2>/dev/null
  wait_for 5 empty_cgroup "$C5"
  ts delete --force c5 >"$W/c5.del2" 2>&1
  echo "    (c5 cleaned up by hand: cgroup.kill, then delete --force: rc $?)"
fi

# ---- c4: a memory limit is applied at create -----------------------------------------------------
echo "== c4: create with linux.resources.memory.limit"
if ts create --bundle "$W/c4" c4 >"$W/c4.out" 2>&1; then pass "create c4 with linux.resources.memory.limit"; else fail "create c4"; show "$W/c4.out"; fi
check "c4: memory.max is 67108864 (got: $(cat "$PARENT/c4/memory.max" 2>&1))" test "$(cat "$PARENT/c4/memory.max" 2>/dev/null)" = 67108864
if ts delete --force c4 >"$W/c4.del" 2>&1; then pass "delete --force c4"; else fail "delete --force c4"; show "$W/c4.del"; fi
check "delete: no cgroup $PARENT/c4" no_dir "$PARENT/c4"
check "delete: no state dir for c4" no_dir "$ROOT/c4"

# ---- nothing left behind ----------------------------------------------------------------------
vm_finish
