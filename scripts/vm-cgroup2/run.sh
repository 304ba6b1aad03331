#!/usr/bin/env bash
# Run one command on a real, pure cgroup v2 host: a throwaway Debian kernel under QEMU (TCG, no
# KVM) whose root filesystem is this machine's own, shared read-only over virtio-9p with a tmpfs
# overlay on top (writes inside the VM never reach the host). See shared/vm-cgroup2.md.
#
#   bash scripts/vm-cgroup2/run.sh CMD [ARG...]
#
# CMD runs as root in the VM, in the host's current directory, with cgroup2 mounted at
# /sys/fs/cgroup and cpu, memory, pids, io, cpuset and hugetlb enabled in its root. Its output is
# printed as it comes and this script exits with its exit code. Note: /tmp, /run and /dev/shm are
# fresh tmpfs mounts inside the VM; put bundles and state elsewhere (e.g. /var/tmp).
#
# Environment:
#   TSRUNC_VM_CACHE    where the kernel and initramfs are cached (default /var/tmp/tsrunc-vm-cache)
#   TSRUNC_VM_TIMEOUT  seconds before QEMU is killed (default 900); the exit code is then 124
#   TSRUNC_VM_MEM      guest memory (default 3G);  TSRUNC_VM_SMP  guest CPUs (default 2)
#   TSRUNC_VM_VERBOSE  1: also print the boot console (kernel and init messages) to stderr
#   TSRUNC_VM_SNAPSHOT 1 (default): the VM sees a copy of the checkout taken at launch, bound at the
#                      checkout's own path (others may rebuild it meanwhile: overlayfs over a
#                      changing 9p lower gives torn files); 0: the live tree
#   TSRUNC_VM_9P_CACHE 9p cache mode of the host share (default loose; mmap or none are slower)
# Exit codes besides CMD's own: 124 timeout, 125 the VM did not report an exit code (the console
# log is printed to stderr), 2 usage or setup error.
set -euo pipefail

if [ "$#" -eq 0 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'
  [ "$#" -eq 0 ] && exit 2 || exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "vm-cgroup2: must run as root (apt-get, and the 9p share of / needs to read every file)" >&2
  exit 2
fi

CACHE=${TSRUNC_VM_CACHE:-/var/tmp/tsrunc-vm-cache}
TIMEOUT=${TSRUNC_VM_TIMEOUT:-900}
MEM=${TSRUNC_VM_MEM:-3G}
SMP=${TSRUNC_VM_SMP:-2}
VERBOSE=${TSRUNC_VM_VERBOSE:-0}
P9CACHE=${TSRUNC_VM_9P_CACHE:-loose}
SNAPSHOT=${TSRUNC_VM_SNAPSHOT:-1}
case "$TIMEOUT" in ''|*[!0-9]*) echo "vm-cgroup2: TSRUNC_VM_TIMEOUT must be a number of seconds" >&2; exit 2 ;; esac

log() { echo "vm-cgroup2: $*" >&2; }

# ---- host packages ------------------------------------------------------------------------------
APT_UPDATED=0
apt_update_once() {
  if [ "$APT_UPDATED" -eq 0 ]; then
    apt-get update -qq >&2
    APT_UPDATED=1
  fi
}

ensure_pkgs() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "installing ${missing[*]}"
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

ensure_pkgs qemu-system-x86 cpio busybox-static

# The standard-flavour kernel package that linux-image-amd64 depends on (e.g. linux-image-6.1.0-56-amd64).
kernel_pkg() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | grep -v -- '-cloud-' | head -n1
}

# Modules the initramfs loads (their dependencies are added, and everything ordered, below).
WANTED_MODULES=(virtio_pci 9pnet_virtio 9p overlay)

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # one builder at a time; concurrent runs then share the result

KPKG=$(kernel_pkg || true)
if [ -z "$KPKG" ]; then
  apt_update_once
  KPKG=$(kernel_pkg || true)
fi
if [ -z "$KPKG" ]; then
  # No package lists (offline?): fall back to the newest kernel already in the cache.
  KPKG=$(ls -1 "$CACHE" 2>/dev/null | grep '^linux-image-' | sort -V | tail -n1 || true)
  [ -n "$KPKG" ] || { log "cannot resolve linux-image-amd64's kernel package (apt-get update?)"; exit 2; }
  log "using cached $KPKG (could not resolve linux-image-amd64)"
fi
KDIR="$CACHE/$KPKG"

# ---- kernel: vmlinuz + the few modules needed, cached per package ---------------------------------
fetch_kernel() { # fetch_kernel PKG DEST: download PKG, keep vmlinuz and the modules we load
  # Called in an `if`, where errexit does not apply: every step is checked.
  local pkg=$1 dest=$2 kver mdir f b m
  FK_WORK=$(mktemp -d "$CACHE/.build.XXXXXX") || return 1
  trap 'rm -rf "$FK_WORK"' EXIT
  local work=$FK_WORK
  ( cd "$work" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2 ) || {
    apt_update_once
    ( cd "$work" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2 )
  } || return 1
  dpkg -x "$work"/*.deb "$work/x" || return 1
  kver=$(ls -1 "$work/x/lib/modules" | head -n1)
  mdir="$work/x/lib/modules/$kver"
  mkdir -p "$work/out/modules" || return 1
  cp "$work/x/boot/vmlinuz-$kver" "$work/out/vmlinuz" || return 1
  # The package has no modules.dep (depmod runs at install time): read each module's `depends=`
  # from its .modinfo section and visit depth-first, dependencies before dependants, each once.
  declare -A where=() seen=()
  while IFS= read -r f; do
    b=$(basename "$f"); b=${b%%.ko*}; where[${b//-/_}]=$f
  done < <(cd "$mdir" && find kernel -name '*.ko*')
  local order=()
  visit() {
    local name=$1 rel ko d
    [ -n "${seen[$name]:-}" ] && return 0
    seen[$name]=1
    rel=${where[$name]:-}
    if [ -z "$rel" ]; then
      grep -qE "/${name//_/[-_]}\.ko\$" "$mdir/modules.builtin" && return 0
      log "module $name: neither a module nor built in"; return 1
    fi
    ko="$work/out/modules/$name.ko"
    case "$rel" in
      *.ko) cp "$mdir/$rel" "$ko" || return 1 ;;
      *.ko.xz) xz -dc "$mdir/$rel" >"$ko" || return 1 ;;
      *.ko.zst) zstd -qdc "$mdir/$rel" >"$ko" || return 1 ;;
      *) log "module $name: unknown format $rel"; return 1 ;;
    esac
    for d in $(grep -a -o 'depends=[A-Za-z0-9_,-]*' "$ko" | head -n1 | sed 's/^depends=//; s/,/ /g'); do
      visit "${d//-/_}" || return 1
    done
    order+=("$name")
  }
  for m in "${WANTED_MODULES[@]}"; do visit "$m" || return 1; done
  printf '%s\n' "${order[@]}" >"$work/out/modules.order" || return 1
  echo "$kver" >"$work/out/version" || return 1
  rm -rf "$dest"
  mv "$work/out" "$dest" || return 1
  rm -rf "$work"
  trap - EXIT
}

if [ ! -f "$KDIR/vmlinuz" ] || [ ! -f "$KDIR/modules.order" ]; then
  log "fetching $KPKG (once; cached in $KDIR)"
  if fetch_kernel "$KPKG" "$KDIR"; then
    # A newer kernel replaces the older ones in the cache.
    for old in "$CACHE"/linux-image-*; do [ "$old" = "$KDIR" ] || rm -rf "$old"; done
  else
    rm -rf "$FK_WORK"; trap - EXIT
    old=$(ls -1d "$CACHE"/linux-image-* 2>/dev/null | sort -V | tail -n1 || true)
    [ -n "$old" ] && [ -f "$old/vmlinuz" ] || { log "could not fetch $KPKG"; exit 2; }
    log "could not fetch $KPKG: using the cached $(basename "$old")"
    KDIR=$old
  fi
fi

# ---- initramfs: busybox + modules + /init, cached per kernel and per /init text ------------------
INIT_SCRIPT=$(cat <<'INIT'
#!/bin/busybox sh
# Stage 1 (initramfs): load the 9p/overlay modules, mount the host's / read-only with a tmpfs
# overlay, write stage 2 into it and switch_root.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /lower /upper /newroot
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "vm-cgroup2 init: $*"; echo o >/proc/sysrq-trigger; sleep 60; }
for m in $(cat /modules.order); do
  insmod "/modules/$m.ko" || fail "insmod $m failed"
done
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | head -n1; }
cache=$(arg tsrunc_vm_9p_cache)
mount -t 9p -o "trans=virtio,version=9p2000.L,ro,msize=524288,cache=${cache:-loose}" hostroot /lower || fail "9p mount failed"
mount -t tmpfs -o mode=0755 tmpfs /upper
mkdir -p /upper/u /upper/w
mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w overlay /newroot || fail "overlay mount failed"
mkdir -p /newroot/.tsrunc-vm
arg tsrunc_vm_cmd | base64 -d >/newroot/.tsrunc-vm/cmd
arg tsrunc_vm_cwd | base64 -d >/newroot/.tsrunc-vm/cwd
arg tsrunc_vm_nonce >/newroot/.tsrunc-vm/nonce
arg tsrunc_vm_snap | base64 -d >/newroot/.tsrunc-vm/snap
arg tsrunc_vm_top | base64 -d >/newroot/.tsrunc-vm/top
cp /stage2 /newroot/.tsrunc-vm/stage2
chmod 755 /newroot/.tsrunc-vm/stage2
umount /proc /sys /dev
exec switch_root /newroot /bin/sh /.tsrunc-vm/stage2
INIT
)
STAGE2_SCRIPT=$(cat <<'STAGE2'
#!/bin/sh
# Stage 2 (the host's tree, through the overlay): a pure cgroup v2 host, then the command.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts
ln -sf pts/ptmx /dev/ptmx 2>/dev/null || true
# devtmpfs has no /dev/fd and /dev/std* (udev makes them on a real host): bash's process
# substitution `<(...)` needs /dev/fd.
ln -sfn /proc/self/fd /dev/fd 2>/dev/null || true
ln -sf /proc/self/fd/0 /dev/stdin 2>/dev/null || true
ln -sf /proc/self/fd/1 /dev/stdout 2>/dev/null || true
ln -sf /proc/self/fd/2 /dev/stderr 2>/dev/null || true
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# The checkout as it was at launch (a host-side copy), at its own path: overlayfs does not support
# a lower layer that changes under it, and others rebuild the checkout while a VM runs.
# Bound after the tmpfs mounts on /run and /tmp, so that a checkout under /tmp (a CI clone) is not
# hidden by them (its directory is made in the tmpfs).
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
snap=$(cat /.tsrunc-vm/snap)
top=$(cat /.tsrunc-vm/top)
if [ -n "$snap" ]; then
  mkdir -p "$top" 2>/dev/null || true
  mount --bind "$snap" "$top" || echo "vm-cgroup2: could not bind the snapshot $snap on $top"
fi
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true
for c in cpu memory pids io cpuset hugetlb; do
  echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || echo "vm-cgroup2: could not enable $c"
done
hostname tsrunc-vm 2>/dev/null || true
nonce=$(cat /.tsrunc-vm/nonce)
cd "$(cat /.tsrunc-vm/cwd)" || cd /
echo "==tsrunc-vm-begin-$nonce=="
bash -c "$(cat /.tsrunc-vm/cmd)" </dev/null 2>&1
rc=$?
echo "==tsrunc-vm-exit-$nonce=$rc=="
sleep 1 # let the UART drain: the power-off printk would overtake the marker still in the tty buffer
echo o >/proc/sysrq-trigger
sleep 60
STAGE2
)
IHASH=$( { printf '%s\n%s\n' "$INIT_SCRIPT" "$STAGE2_SCRIPT"; cat "$KDIR/modules.order"; sha256sum /bin/busybox; } | sha256sum | cut -c1-16)
INITRD="$KDIR/initrd-$IHASH.gz"
if [ ! -f "$INITRD" ]; then
  log "building initramfs $INITRD"
  work=$(mktemp -d "$CACHE/.initrd.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/root/bin" "$work/root/modules"
  cp /bin/busybox "$work/root/bin/busybox"
  cp "$KDIR"/modules/*.ko "$work/root/modules/"
  cp "$KDIR/modules.order" "$work/root/modules.order"
  printf '%s\n' "$INIT_SCRIPT" >"$work/root/init"
  printf '%s\n' "$STAGE2_SCRIPT" >"$work/root/stage2"
  chmod 755 "$work/root/init" "$work/root/stage2"
  ( cd "$work/root" && find . -print0 | cpio --null -o -H newc --quiet ) | gzip -1 >"$work/initrd.gz"
  rm -f "$KDIR"/initrd-*.gz
  mv "$work/initrd.gz" "$INITRD"
  rm -rf "$work"
  trap - EXIT
fi
flock -u 9

# ---- boot ---------------------------------------------------------------------------------------
# Under /var/tmp, not /tmp: the VM mounts a tmpfs over /tmp, and it must see the snapshot.
RUN=$(mktemp -d /var/tmp/tsrunc-vm-run.XXXXXX)
QPID=
TPID=
cleanup() {
  local rc=$?
  if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
    kill "$QPID" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$QPID" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$QPID" 2>/dev/null || true
    wait "$QPID" 2>/dev/null || true
  fi
  if [ -n "$TPID" ] && kill -0 "$TPID" 2>/dev/null; then kill "$TPID" 2>/dev/null || true; fi
  rm -rf "$RUN"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

CMD=$(printf '%q ' "$@")
NONCE=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
B64CMD=$(printf '%s' "$CMD" | base64 -w0)
B64CWD=$(printf '%s' "$PWD" | base64 -w0)
SNAP_ARGS=
if [ "$SNAPSHOT" = 1 ]; then
  # A copy of the checkout (git top level of $PWD, else $PWD itself; ~50 MB, ~2 s), bound over it
  # in the VM, so a rebuild on the host during the run cannot change what the VM sees.
  TOP=$(git -C "$PWD" rev-parse --show-toplevel 2>/dev/null || pwd)
  if [ "$TOP" = / ]; then log "refusing to snapshot /: run from a checkout, or TSRUNC_VM_SNAPSHOT=0"; exit 2; fi
  cp -a --reflink=auto "$TOP" "$RUN/snap"
  SNAP_ARGS="tsrunc_vm_snap=$(printf '%s' "$RUN/snap" | base64 -w0) tsrunc_vm_top=$(printf '%s' "$TOP" | base64 -w0)"
fi
APPEND="console=ttyS0 quiet panic=-1 rdinit=/init tsrunc_vm_cmd=$B64CMD tsrunc_vm_cwd=$B64CWD tsrunc_vm_nonce=$NONCE tsrunc_vm_9p_cache=$P9CACHE $SNAP_ARGS"
if [ "${#APPEND}" -gt 1900 ]; then
  log "command too long for the kernel command line (${#APPEND} bytes); put it in a script"
  exit 2
fi

CONSOLE="$RUN/console.log"
: >"$CONSOLE"
start=$(date +%s)
qemu-system-x86_64 -accel tcg -m "$MEM" -smp "$SMP" -display none -no-reboot \
  -monitor none -serial "file:$CONSOLE" \
  -kernel "$KDIR/vmlinuz" -initrd "$INITRD" -append "$APPEND" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -nic none </dev/null >"$RUN/qemu.out" 2>&1 &
QPID=$!

# Stream the console: lines between the begin and exit markers go to stdout (as they arrive), the
# rest (boot messages) to stderr when verbose. The exit code is written to $RUN/rc.
tail -n +1 -s 0.2 --pid="$QPID" -f "$CONSOLE" 2>/dev/null | awk -v nonce="$NONCE" -v verbose="$VERBOSE" -v rcfile="$RUN/rc" '
  { sub(/\r+$/, "") }
  state == 0 && $0 == "==tsrunc-vm-begin-" nonce "==" { state = 1; next }
  state == 1 && index($0, "==tsrunc-vm-exit-" nonce "=") {
    i = index($0, "==tsrunc-vm-exit-" nonce "=")
    rest = substr($0, i + length("==tsrunc-vm-exit-" nonce "="))
    sub(/==.*/, "", rest)
    if (i > 1) print substr($0, 1, i - 1)
    print rest > rcfile; close(rcfile)
    state = 2; fflush(); next
  }
  state == 1 { print; fflush(); next }
  verbose == "1" { print > "/dev/stderr"; fflush("/dev/stderr") }
' &
TPID=$!

timed_out=0
while kill -0 "$QPID" 2>/dev/null; do
  if [ $(( $(date +%s) - start )) -ge "$TIMEOUT" ]; then
    timed_out=1
    log "timed out after ${TIMEOUT}s: killing qemu (pid $QPID)"
    kill "$QPID" 2>/dev/null || true
    sleep 2
    kill -9 "$QPID" 2>/dev/null || true
    break
  fi
  sleep 1
done
wait "$QPID" 2>/dev/null || true
QPID=
# tail follows qemu's pid: it reads the rest of the console and ends, then awk sees EOF.
wait "$TPID" 2>/dev/null || true
TPID=
elapsed=$(( $(date +%s) - start ))

if [ "$timed_out" -eq 1 ]; then
  log "console log (last 40 lines):"; tr -d '\r' <"$CONSOLE" | tail -n 40 >&2
  exit 124
fi
if [ ! -s "$RUN/rc" ]; then
  log "the VM exited after ${elapsed}s without reporting an exit code; console log:"
  tr -d '\r' <"$CONSOLE" | tail -n 60 >&2
  [ -s "$RUN/qemu.out" ] && { log "qemu said:"; cat "$RUN/qemu.out" >&2; }
  exit 125
fi
rc=$(cat "$RUN/rc")
log "command exited with $rc (VM ran ${elapsed}s)"
exit "$rc"
