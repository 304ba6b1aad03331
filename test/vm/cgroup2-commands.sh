#!/usr/bin/env bash
# tsrunc's cgroup commands on a pure cgroup v2 host: pause/resume (cgroup.freeze), ps, events
# --stats (runc's JSON shape from the v2 files), an OOM event from memory.events, delete --force of
# a paused container. Meant to run inside the throwaway VM, from the repo root:
#
#   bash scripts/vm-cgroup2/run.sh bash test/vm/cgroup2-commands.sh
#
# Prints PASS/FAIL lines and a final `N passed, N failed` line; exits 1 if anything failed, 2 if it
# is not on a pure cgroup v2 host. Node is slow under emulation (~3 s a start): 15 tsrunc
# invocations; JSON is checked with python3. Bundles and state live under /var/tmp.
set -u

. "$(dirname "$0")/lib.sh" cgroup2-commands tsrunc-vm-cmd
EVPID=""

cleanup() { [ -n "$EVPID" ] && kill "$EVPID" 2>/dev/null; vm_cleanup; }
trap cleanup EXIT
has_line() { grep -q "$2" "$1"; }

echo "== cgroup2 commands: kernel $(uname -r), controllers: $(cat $CG/cgroup.subtree_control)"

# ---- bundles ------------------------------------------------------------------------------------
mkdir -p "$W/rootfs/bin" "$W/rootfs/proc" "$W/rootfs/sys" "$W/rootfs/dev" "$W/rootfs/tmp" "$W/rootfs/etc" "$W/base"
BUSYBOX=$(command -v busybox)
cp "$BUSYBOX" "$W/rootfs/bin/busybox"
for a in $("$BUSYBOX" --list); do [ "$a" = busybox ] || ln -s busybox "$W/rootfs/bin/$a"; done
ts spec --bundle "$W/base" || vm_abort "tsrunc spec"
python3 - "$W" <<'PY'
import json, os, sys
W = sys.argv[1]
base = json.load(open(f"{W}/base/config.json"))
def make(name, args):
    c = json.loads(json.dumps(base))
    c["root"] = {"path": f"{W}/rootfs", "readonly": False}
    c["process"]["terminal"] = False
    c["process"]["args"] = args
    c["linux"]["cgroupsPath"] = f"/tsrunc-vm-cmd/{name}"
    os.makedirs(f"{W}/{name}", exist_ok=True)
    json.dump(c, open(f"{W}/{name}/config.json", "w"), indent=2)
make("c1", ["sh", "-c", "sleep 1000 & sleep 1000 & wait"])
make("c2", ["sh", "-c", "sleep 2; a=xxxxxxxxxxxxxxxx; while :; do a=$a$a; done"])
PY
[ -f "$W/c2/config.json" ] || vm_abort "write the bundles (python3)"

# ---- c1: pause, state, ps, events --stats, resume, pause, delete --force ------------------------
C1="$PARENT/c1"
echo "== c1: run -d, pause"
if ts run -d --bundle "$W/c1" --pid-file "$W/c1.pid" c1 >"$W/c1.out" 2>&1; then
  pass "run -d c1"; wait_for 30 nprocs "$C1" 3
else
  fail "run -d c1"; show "$W/c1.out"
fi
ALL1=$(procs "$C1")
check "c1: the cgroup holds the init and two sleeps (found: $ALL1)" nprocs "$C1" 3
if ts pause c1 >"$W/c1.pause" 2>&1; then pass "pause c1"; else fail "pause c1"; show "$W/c1.pause"; fi
check "pause: cgroup.freeze is 1 and cgroup.events says frozen 1" \
  test "$(cat "$C1/cgroup.freeze" 2>&1)-$(grep -c '^frozen 1$' "$C1/cgroup.events" 2>&1)" = "1-1"
ts state c1 >"$W/c1.state" 2>&1
check "state c1 says paused" has_line "$W/c1.state" '"status": "paused"'

ts ps --format json c1 >"$W/c1.ps" 2>&1
check "ps --format json c1 (paused) lists the cgroup's pids ($ALL1; got: $(cat "$W/c1.ps"))" \
  python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); sys.exit(0 if sorted(a)==sorted(map(int,sys.argv[2].split())) else 1)' "$W/c1.ps" "$ALL1"
ts ps c1 -o pid,comm >"$W/c1.pstab" 2>&1
echo "    ps c1 -o pid,comm:"; show "$W/c1.pstab"
check "ps c1 -o pid,comm: the header and one row per process" \
  python3 -c 'import sys; l=open(sys.argv[1]).read().splitlines(); sys.exit(0 if l[0].split()==["PID","COMMAND"] and sorted(int(x.split()[0]) for x in l[1:])==sorted(map(int,sys.argv[2].split())) else 1)' "$W/c1.pstab" "$ALL1"

ts events --stats c1 >"$W/c1.stats" 2>"$W/c1.stats.err"
echo "    events --stats c1: $(cut -c1-300 "$W/c1.stats")..."
python3 - "$W/c1.stats" >"$W/c1.stats.check" 2>&1 <<'PY'
import json, sys
text = open(sys.argv[1]).read()
assert text.endswith("\n") and text.count("\n") == 1, "one line"
e = json.loads(text)
assert list(e) == ["type", "id", "data"] and e["type"] == "stats" and e["id"] == "c1", list(e)
d = e["data"]
assert list(d) == ["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt", "network_interfaces"], list(d)
u = d["cpu"]["usage"]
assert u["total"] > 0 and "kernel" in u and "user" in u, u
assert "percpu" not in u, "v2 has no per-cpu usage"
m = d["memory"]
assert m["usage"]["usage"] > 0 and m["usage"]["limit"] == 2**64 - 1, m["usage"]
assert m["swap"]["usage"] >= m["usage"]["usage"], "swap is reported as mem+swap"
assert "anon" in m["raw"] and "file" in m["raw"], sorted(m["raw"])[:5]
assert d["pids"] == {"current": 3}, d["pids"]
assert d["network_interfaces"] is None and d["intel_rdt"] == {}
print("ok")
PY
check "events --stats c1: one line in runc's shape from the v2 files ($(tail -1 "$W/c1.stats.check"))" grep -qx ok "$W/c1.stats.check"
check "events --stats c1: nothing on stderr" test ! -s "$W/c1.stats.err"

if ts resume c1 >"$W/c1.resume" 2>&1; then pass "resume c1"; else fail "resume c1"; show "$W/c1.resume"; fi
check "resume: cgroup.freeze is 0 and the processes are the same" \
  test "$(cat "$C1/cgroup.freeze" 2>&1)-$(procs "$C1")" = "0-$ALL1"
ts pause c1 >/dev/null 2>&1 || fail "pause c1 again"
if ts delete --force c1 >"$W/c1.del" 2>&1; then pass "delete --force c1 (paused)"; else fail "delete --force c1 (paused)"; show "$W/c1.del"; fi
all_gone() { local p; for p in $ALL1; do gone "$p" || return 1; done; }
wait_for 10 all_gone
alive=""; for p in $ALL1; do gone "$p" || alive="$alive $p"; done
check "delete --force of a paused container: every process is dead (alive:${alive:- none})" test -z "$alive"
check "delete --force: $C1 is removed" no_dir "$C1"

# ---- c2: a memory hog at memory.max: the OOM event in the events stream ----------------------------
C2="$PARENT/c2"
echo "== c2: create, memory.max 32M (written into its cgroup), events --interval 1s, start"
if ts create --bundle "$W/c2" c2 >"$W/c2.out" 2>&1; then pass "create c2"; else fail "create c2"; show "$W/c2.out"; fi
echo $((32 << 20)) >"$C2/memory.max" 2>/dev/null
echo 0 >"$C2/memory.swap.max" 2>/dev/null
ts events --interval 1s c2 >"$W/c2.events" 2>"$W/c2.events.err" &
EVPID=$!
sleep 4 # node under emulation: the stream is up before the hog starts
if ts start c2 >"$W/c2.start" 2>&1; then pass "start c2"; else fail "start c2"; show "$W/c2.start"; fi
oom_killed() { grep -q '^oom_kill [1-9]' "$C2/memory.events" 2>/dev/null; }
wait_for 60 oom_killed
check "c2: memory.events counts an oom_kill ($(tr '\n' ' ' <"$C2/memory.events" 2>&1))" oom_killed
# The init was the hog: the cgroup becomes unpopulated and the stream ends by itself, as runc's.
ev_done() { ! kill -0 "$EVPID" 2>/dev/null; }
wait_for 30 ev_done
check "events: the stream ended when the cgroup was no longer populated" ev_done
if ev_done; then EVPID=""; fi
echo "    events stream: $(cut -c1-120 "$W/c2.events" | head -5)"
check "events: an oom event {\"type\":\"oom\",\"id\":\"c2\"}" grep -qx '{"type":"oom","id":"c2"}' "$W/c2.events"
check "events: stats events in the stream" grep -q '^{"type":"stats","id":"c2","data":{"cpu"' "$W/c2.events"
if ts delete c2 >"$W/c2.del" 2>&1; then pass "delete c2"; else fail "delete c2"; show "$W/c2.del"; fi
check "delete: $C2 is removed" no_dir "$C2"

# ---- nothing left behind ----------------------------------------------------------------------
vm_finish
