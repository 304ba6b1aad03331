// The plan compiler: PURE (spec, bundle, options, host facts) -> Plan. No file system, no clock,
// no process state: everything it needs about the host comes in through `HostFacts`, so golden
// tests pin the exact sequence of operations tsrunc-init will carry out.
//
// Ordering rule (the one place it lives), following what runc does:
//   1. cgroup namespace (unshared by the init once it sits in its cgroups), a new session
//      keyring, oom_score_adj
//   2. exec.fifo O_PATH handle (the state dir is unreachable after pivot_root)
//   3. "/" made rslave (or rootfsPropagation), the rootfs bind-mounted on itself
//   4. config mounts in config order (cgroup and sysfs-without-netns expanded), each followed by
//      its recursive attributes and further propagation options (MOUNT_ATTRS)
//   5. default devices, linux.devices, then the /dev symlinks (runc's order)
//   6. pivot_root (or MS_MOVE + chroot with --no-pivot), then the console (process.terminal)
//   7. hostname, domainname, sysctls (through a private procfs)
//   8. the delayed read-only remounts of mounts that steps 4-5 wrote into (a `ro` /dev), then
//      readonlyPaths, maskedPaths, rootfsPropagation on the new `/`, then root.readonly
//   9. cwd, rlimits, executable lookup (so a missing binary fails at create, as in runc), HOME
//      from the image's /etc/passwd; every path the image or the config controls is resolved by
//      now, and only then does the init open anything outside the container (PROC_HANDLE: a
//      private procfs to reopen exec.fifo with after the user change)
//  10. seccomp (without noNewPrivileges: it needs CAP_SYS_ADMIN), bounding set, user (groups, gid, uid), remaining capability sets, no_new_privs
//  11. READY + wait for COMMIT and on exec.fifo, then (with noNewPrivileges) seccomp, then exec
import path = require('path');
import { TsruncError } from '../errors';
import type { IdMapping, Linux, LinuxSeccomp, Mount, Namespace, Spec } from '../spec/types';
import { CLONE, MS, type IdmapPlan, type NamespaceJoin, type NamespacePlan, type Op, type Plan, type SendFd } from './ops';
import {
  CAPABILITIES, EXTENSION_OPTIONS, MOUNT_ATTR, MOUNT_FLAGS, PROPAGATION_FLAGS, RECURSIVE_FLAGS, RLIMITS, flagNames,
} from './tables';
import { actionName, checkSeccompSupported, seccompPlan } from './seccomp';
import { formatProblem, type SpecProblem } from '../spec/checks';
import { limitProblems } from '../spec/validate';
import { processAttrOps } from './process';
import { netDeviceOps, type NetDeviceFacts } from './netdev';

/** The runtime-spec version in the state hooks get (as state.json's `ociVersion`). */
const OCI_VERSION = '1.3.0';

export interface CgroupV1Hierarchy {
  /** Directory name under /sys/fs/cgroup, e.g. `cpu`, `cpu,cpuacct`, `systemd`. */
  name: string;
  /** Mount data for a cgroup ns mount: `cpu`, `cpu,cpuacct`, `name=systemd`. */
  options: string;
  /** The container's cgroup directory in this hierarchy on the host (bound when no cgroupns). */
  containerDir: string;
}

export interface HostFacts {
  cgroup: {
    mode: 'v2' | 'hybrid' | 'v1';
    v1: CgroupV1Hierarchy[];
    /** The container's cgroup2 directory on the host (v2 hosts). */
    unifiedDir?: string;
  };
}

export interface CompileOptions {
  bundle: string; // absolute
  rootfs: string; // absolute, resolved
  fifoPath?: string; // exec.fifo on the host; absent: no create/start wait
  noPivot: boolean;
  /** fds 3..3+keepFds-1 are passed to the container (--preserve-fds plus LISTEN_FDS). */
  keepFds: number;
  /** Join a new session keyring of this name (`_ses.<id>`); absent with --no-new-keyring. */
  sessionKeyring?: string;
  /** Extra environment for the container process (LISTEN_FDS/LISTEN_PID). */
  extraEnv?: string[];
  /** linux.netDevices as found on the host (src/plan/netdev.ts). */
  netDevices?: NetDeviceFacts[];
  /** The container id, for the state that container-namespace hooks get on stdin. */
  id?: string;
  host: HostFacts;
}

const NS_FLAGS: Record<string, number> = {
  pid: CLONE.NEWPID, network: CLONE.NEWNET, mount: CLONE.NEWNS, ipc: CLONE.NEWIPC, uts: CLONE.NEWUTS,
  cgroup: CLONE.NEWCGROUP, user: CLONE.NEWUSER, time: CLONE.NEWTIME,
};

const DEFAULT_DEVICES: { path: string; major: number; minor: number }[] = [
  { path: '/dev/null', major: 1, minor: 3 },
  { path: '/dev/zero', major: 1, minor: 5 },
  { path: '/dev/full', major: 1, minor: 7 },
  { path: '/dev/random', major: 1, minor: 8 },
  { path: '/dev/urandom', major: 1, minor: 9 },
  { path: '/dev/tty', major: 5, minor: 0 },
];

const DEV_SYMLINKS: [string, string][] = [
  ['/proc/self/fd', '/dev/fd'],
  ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
  ['pts/ptmx', '/dev/ptmx'],
];

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const RLIM_INFINITY_THRESHOLD = 2 ** 63; // JSON numbers >= 2^63 mean RLIM_INFINITY (2^64-1)

/**
 * Every field this version of tsrunc cannot honour, one problem per field naming it (JSON path):
 * all of them are reported at once (with the schema and semantic problems, src/spec/load.ts).
 * One line per field, so that implementing a field is deleting its line.
 */
export function unsupportedProblems(spec: Spec): SpecProblem[] {
  const out: SpecProblem[] = [];
  const unsupported = (field: string, why: string): void => { out.push({ pointer: field, message: why }); };
  const p = spec.process;
  const later = (f: string) => unsupported(f, 'not supported by this version of tsrunc');
  if (p?.selinuxLabel) later('/process/selinuxLabel');
  const l = spec.linux ?? {};
  if (l.seccomp) out.push(...seccompUnsupported(l.seccomp as unknown as LinuxSeccomp));
  // linux.mountLabel: passed on as runc passes it (context= in compile); create refuses it on a host
  // with SELinux enabled, where file labels would be needed too (src/lifecycle/create.ts).
  if (l.intelRdt) later('/linux/intelRdt');
  if (l.netDevices && (l.namespaces ?? []).some((n) => n.type === 'network' && n.path)) later('/linux/netDevices (into a joined network namespace)');
  // linux.resources: every field is applied by the cgroup manager's mapping table (src/cgroup/
  // resources-v1.ts, resources-v2.ts) before the init is cloned. What one kind of host cannot do
  // (unified keys on v1, realtime cpu and net_cls/net_prio on v2) is refused there, naming the
  // field, because it depends on the host rather than on the config.
  return out;
}

/** Refuse what this version of tsrunc cannot honour (E_UNSUPPORTED listing every such field); never run without it. */
export function checkSupported(spec: Spec): void {
  const problems = unsupportedProblems(spec);
  if (problems.length > 0) throw new TsruncError('E_UNSUPPORTED', limitProblems(problems.map(formatProblem)));
}

/** checkSeccompSupported's refusal as a problem (it stops at the first one). */
function seccompUnsupported(sc: LinuxSeccomp): SpecProblem[] {
  try {
    checkSeccompSupported(sc);
    return [];
  } catch (e) {
    if (!(e instanceof TsruncError) || e.code !== 'E_UNSUPPORTED') throw e;
    const m = /^config\.json: (\S+): (.*)$/s.exec(e.message);
    return [m ? { pointer: m[1]!, message: m[2]! } : { pointer: '/linux/seccomp', message: e.message }];
  }
}

/**
 * The compiler's own refusals (a mount inside /proc, a sysctl key that is not the container's, a
 * host or domain name without a UTS namespace), every one of them, as problems: compile() stops
 * at the first, and create reports them all at once before compiling (src/spec/load.ts).
 */
export function planProblems(spec: Spec): SpecProblem[] {
  const out: SpecProblem[] = [];
  const nsTypes = new Set((spec.linux?.namespaces ?? []).map((n) => n.type));
  const collect = (pointer: string, f: () => void) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof TsruncError) || e.code !== 'E_CONFIG_INVALID') throw e;
      const msg = e.message.replace(/^config\.json: /, '');
      const m = /^(\/[^ ]*): (.*)$/s.exec(msg);
      out.push(m ? { pointer: m[1]!, message: m[2]! } : { pointer, message: msg });
    }
  };
  (spec.mounts ?? []).forEach((m, i) => {
    if (typeof m.destination !== 'string' || m.type === 'cgroup' || m.type === 'cgroup2') return;
    collect(`/mounts/${i}/destination`, () => procMountPolicy(m, path.posix.resolve('/', m.destination), isBind(m)));
  });
  for (const k of Object.keys(spec.linux?.sysctl ?? {})) collect('/linux/sysctl', () => sysctlPath(k, nsTypes));
  for (const f of ['hostname', 'domainname'] as const) {
    if (spec[f] && !nsTypes.has('uts')) out.push({ pointer: `/${f}`, message: `unable to set ${f} without a private UTS namespace` });
  }
  return out;
}

interface ParsedMountOptions {
  flags: number;
  /** The first propagation option (MS_SHARED|MS_REC, ...), 0 if none. */
  propagation: number;
  /** Every propagation option in order: each is applied in turn, as runc does (the first by MOUNT). */
  propagations: number[];
  /** The recursive options as mount_setattr(2) attributes (MOUNT_ATTR_*); `any` when one was given. */
  rec: { set: number; clear: number; any: boolean };
  copyUp: boolean;
  data: string[];
}

/**
 * The recursive options (`rro`, `rnoatime`, ...) of one mount, in order, as mount_setattr(2)
 * attributes. Each option sets or clears the MS_* flag it mirrors, later ones winning; the atime
 * options then become one atime mode as mount(2) decides it: strictatime, else noatime, else
 * relatime (mount_setattr takes the mode as an enum under MOUNT_ATTR__ATIME, never a single bit).
 * runc 1.1.5 passes `ratime`/`rnostrictatime` as a lone cleared bit, which the kernel refuses
 * (EINVAL); config.md defines them as the recursive `atime`/`nostrictatime`, which this does.
 */
export function recursiveAttrs(options: string[]): { set: number; clear: number; any: boolean } {
  let on = 0;
  let off = 0;
  let any = false;
  let atime = false;
  const ATIMES = MS.NOATIME | MS.RELATIME | MS.STRICTATIME;
  for (const o of options) {
    const f = RECURSIVE_FLAGS[o];
    if (!f) continue;
    any = true;
    const bit = (f.set ?? f.clear)!;
    if (bit & ATIMES) atime = true;
    if (f.set) { on |= bit; off &= ~bit; } else { off |= bit; on &= ~bit; }
  }
  const pairs: [number, number][] = [
    [MS.RDONLY, MOUNT_ATTR.RDONLY], [MS.NOSUID, MOUNT_ATTR.NOSUID], [MS.NODEV, MOUNT_ATTR.NODEV],
    [MS.NOEXEC, MOUNT_ATTR.NOEXEC], [MS.NODIRATIME, MOUNT_ATTR.NODIRATIME], [MS.NOSYMFOLLOW, MOUNT_ATTR.NOSYMFOLLOW],
  ];
  let set = 0;
  let clear = 0;
  for (const [ms, attr] of pairs) {
    if (on & ms) set |= attr;
    if (off & ms) clear |= attr;
  }
  if (atime) {
    clear |= MOUNT_ATTR.ATIME_MASK;
    set |= on & MS.STRICTATIME ? MOUNT_ATTR.STRICTATIME : on & MS.NOATIME ? MOUNT_ATTR.NOATIME : MOUNT_ATTR.RELATIME;
  }
  return { set, clear, any };
}

export function parseMountOptions(options: string[] = []): ParsedMountOptions {
  let flags = 0;
  const propagations: number[] = [];
  let copyUp = false;
  const data: string[] = [];
  for (const o of options) {
    const f = MOUNT_FLAGS[o];
    if (f) {
      if (f.set) flags |= f.set;
      if (f.clear) flags &= ~f.clear;
    } else if (PROPAGATION_FLAGS[o] !== undefined) {
      propagations.push(PROPAGATION_FLAGS[o]!);
    } else if (o === 'idmap' || o === 'ridmap') {
      // not for mount(2) (config.md): see idmapOf
    } else if (RECURSIVE_FLAGS[o] !== undefined) {
      // recursiveAttrs below
    } else if (EXTENSION_OPTIONS.includes(o)) {
      if (o === 'tmpcopyup') copyUp = true;
    } else {
      data.push(o);
    }
  }
  return { flags, propagation: propagations[0] ?? 0, propagations, rec: recursiveAttrs(options), copyUp, data };
}

/** mount_setattr attributes as option names, for plan dumps. */
function attrNames(set: number, clear: number): string {
  const names: string[] = [];
  const bits: [string, number][] = [
    ['ro', MOUNT_ATTR.RDONLY], ['nosuid', MOUNT_ATTR.NOSUID], ['nodev', MOUNT_ATTR.NODEV], ['noexec', MOUNT_ATTR.NOEXEC],
    ['nodiratime', MOUNT_ATTR.NODIRATIME], ['nosymfollow', MOUNT_ATTR.NOSYMFOLLOW],
  ];
  for (const [n, b] of bits) {
    if (set & b) names.push(n);
    else if (clear & b) names.push(n === 'ro' ? 'rw' : n.replace(/^no/, ''));
  }
  if (clear & MOUNT_ATTR.ATIME_MASK) {
    const mode = set & MOUNT_ATTR.ATIME_MASK;
    names.push(mode === MOUNT_ATTR.STRICTATIME ? 'strictatime' : mode === MOUNT_ATTR.NOATIME ? 'noatime' : 'relatime');
  }
  return names.join(',') || 'nothing';
}

export function capMask(names: string[] | undefined): bigint {
  let m = 0n;
  for (const n of names ?? []) {
    const bit = CAPABILITIES.indexOf(n);
    if (bit >= 0) m |= 1n << BigInt(bit); // unknown names: warned about by specWarnings, ignored
  }
  return m;
}

export function rlimitValue(v: number): number {
  return v >= RLIM_INFINITY_THRESHOLD ? -1 : v;
}

function isBind(m: Mount): boolean {
  return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

function q(s: string): string {
  return `\`${s}\``;
}

function invalid(message: string): never {
  throw new TsruncError('E_CONFIG_INVALID', `config.json: ${message}`);
}

/** True when `p` is `dir` or below it (both absolute and normalized). */
function isUnder(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);
}

// runc's list of files under /proc that may be mounted over (lxcfs emulates them).
const PROC_MOUNT_ALLOWED = [
  '/proc/cpuinfo', '/proc/diskstats', '/proc/meminfo', '/proc/stat', '/proc/swaps', '/proc/uptime',
  '/proc/loadavg', '/proc/slabinfo', '/proc/net/dev', '/proc/sys/kernel/ns_last_pid',
];

/**
 * Where a config mount may go relative to /proc (runc's checkProcMount): proc itself on /proc, a
 * bind of a procfs on /proc (checked by the init: 2), the lxcfs files (1); nothing else inside
 * /proc, where a mount would redirect what the runtime or the kernel reads and writes there
 * (CVE-2025-52881). 0: outside /proc (the init still refuses it if the target turns out to be on
 * procfs, through a symlink of the image).
 */
function procMountPolicy(m: Mount, dest: string, bind: boolean): number {
  if (!isUnder(dest, '/proc')) return 0;
  if (dest === '/proc') {
    if (bind) return 2;
    if (m.type === 'proc') return 1;
    invalid(`mount on \`/proc\`: "/proc" cannot be mounted because it is not of type proc`);
  }
  if (PROC_MOUNT_ALLOWED.includes(dest)) return 1;
  invalid(`mount on ${q(dest)}: "${dest}" cannot be mounted because it is inside /proc`);
}

// The sysctls runc allows with a new ipc namespace (besides fs.mqueue.*).
const IPC_SYSCTLS = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];

/**
 * A linux.sysctl key as the file under /proc it names (`sys/net/ipv4/ip_forward`), if the
 * container has the namespace the sysctl belongs to; otherwise runc's error. A key may use `/` as
 * its separator (for names that contain dots, like `net/ipv4/conf/eth0.100/forwarding`), else `.`.
 * Components are never empty, `.` or `..`: the file must be the sysctl the key names.
 */
export function sysctlPath(key: string, ns: ReadonlySet<string>): string {
  const parts = key.split(key.includes('/') ? '/' : '.');
  if (parts.some((c) => c === '' || c === '.' || c === '..' || c.includes('/'))) {
    invalid(`/linux/sysctl: sysctl ${JSON.stringify(key)}: not a valid sysctl name`);
  }
  const name = parts.join('.');
  const where = `/linux/sysctl: sysctl ${JSON.stringify(key)}`;
  if (IPC_SYSCTLS.includes(name) || name.startsWith('fs.mqueue.')) {
    if (!ns.has('ipc')) invalid(`${where} is not allowed in the hosts ipc namespace`);
  } else if (name.startsWith('net.')) {
    if (!ns.has('network')) invalid(`${where} not allowed in host network namespace`);
  } else if (ns.has('uts') && name === 'kernel.domainname') {
    // namespaced, and the spec's domainname field is the other way to set it
  } else if (ns.has('uts') && name === 'kernel.hostname') {
    invalid(`${where} is not allowed as it conflicts with the OCI "hostname" field`);
  } else {
    invalid(`${where} is not in a separate kernel namespace`);
  }
  return `sys/${parts.join('/')}`;
}

export function compile(spec: Spec, o: CompileOptions): Plan {
  checkSupported(spec);
  const proc = spec.process;
  if (!proc) throw new TsruncError('E_CONFIG_INVALID', 'process property must not be empty');
  const linux = spec.linux ?? {};
  const nsTypes = new Set((linux.namespaces ?? []).map((n) => n.type));

  const namespaces: NamespacePlan[] = [];
  let cloneFlags = 0;
  // linux.namespaces[].path: joined by the clone child (create opens and type-checks the paths),
  // in runc's order: user first, so that the others are joined with the capabilities it gives.
  const joins: NamespaceJoin[] = [];
  for (const t of JOIN_ORDER) {
    const i = (linux.namespaces ?? []).findIndex((n) => n.type === t && n.path);
    if (i < 0) continue;
    const p = linux.namespaces![i]!.path!;
    joins.push({ type: t, path: p, field: `/linux/namespaces/${i}/path`, nstype: NS_FLAGS[t]! });
    namespaces.push({ type: t, how: 'join', path: p });
  }
  const joined = new Set(joins.map((j) => j.type));
  const nsOf = (t: string) => (linux.namespaces ?? []).find((n) => n.type === t);
  // A new user namespace is made by the clone itself, so that every other new namespace is owned
  // by it; its uid/gid maps are written by `create` while the clone child waits (plan.idMappings).
  // A joined user namespace (path) also rules out mknod; only a new one gets maps from `create`.
  const userNs = nsTypes.has('user');
  const mountNs = nsTypes.has('mount');
  // Without a mount namespace the container shares the caller's: masking or remounting /proc and
  // /sys entries, or changing the propagation of `/`, would do it to the host (runc's words).
  if (!mountNs) {
    for (const k of ['maskedPaths', 'readonlyPaths'] as const) {
      if (linux[k]?.length) invalid(`/linux/${k}: unable to restrict sys entries without a private MNT namespace`);
    }
    if (linux.rootfsPropagation) invalid('/linux/rootfsPropagation: unable to set rootfs propagation without a private MNT namespace');
  }
  for (const t of ['user', 'mount', 'pid', 'network', 'ipc', 'uts', 'cgroup', 'time']) {
    if (!nsTypes.has(t as never) || joined.has(t)) continue;
    // The cgroup namespace must be made after the init has joined its cgroup, so that the
    // container's cgroup becomes its root: the init unshares it right after SYNC_GO.
    if (t === 'cgroup') namespaces.push({ type: t, how: 'unshare' });
    // A time namespace takes its offsets only before any process is in it (time_namespaces(7)):
    // the init unshares it, writes timens_offsets, then enters it (TIMENS), or joins one by path.
    else if (t === 'time') namespaces.push(nsOf(t)?.path ? { type: t, how: 'join', path: nsOf(t)!.path } : { type: t, how: 'unshare' });
    else {
      namespaces.push({ type: t, how: 'clone' });
      cloneFlags |= NS_FLAGS[t]!;
    }
  }

  const ops: Op[] = [];
  const add = (op: Op['op'], what: string, ints: (number | bigint)[] = [], strs: string[] = []) =>
    ops.push({ op, what, ints, strs });

  // 0. In a joined user namespace, the new namespaces must be made after joining it (they are
  //    then owned by it, and the container's root can mount in them): unshared by the init, not
  //    cloned. A pid namespace, joined or unshared, applies to children only: the init forks, and
  //    the child (tsrunc's, via CLONE_PARENT) is the container's process from then on.
  if (joined.has('user') && cloneFlags !== 0) {
    add('UNSHARE', `unshare the new ${namespaces.filter((n) => n.how === 'clone').map((n) => n.type).join(', ')} namespaces (inside the joined user namespace)`, [cloneFlags]);
    for (const n of namespaces) if (n.how === 'clone') n.how = 'unshare';
  }
  if (joined.has('pid') || (joined.has('user') && cloneFlags & CLONE.NEWPID)) {
    add('FORK', `fork: the ${joined.has('pid') ? 'joined' : 'new'} pid namespace applies to children only`, [1]);
  }
  if (joined.has('user')) cloneFlags = 0;

  // 1.
  timeNamespaceOps(linux, nsOf('time'), add);
  if (nsTypes.has('cgroup') && !joined.has('cgroup')) add('UNSHARE', 'unshare the cgroup namespace', [CLONE.NEWCGROUP]);
  if (o.sessionKeyring) add('SESSION_KEYRING', `join a new session keyring ${q(o.sessionKeyring)}`, [], [o.sessionKeyring]);
  if (proc.oomScoreAdj !== undefined) add('OOM_SCORE_ADJ', `set oom_score_adj to ${proc.oomScoreAdj}`, [proc.oomScoreAdj]);
  // 2.
  // A mapped root is not host root: it cannot walk the state directory (0700), so `create` opens
  // exec.fifo itself and passes the O_PATH fd over the sync socket (plan.sendFds).
  const sendFds: SendFd[] = [];
  if (o.fifoPath && userNs) {
    add('RECV_FIFO', `receive the exec.fifo handle ${q(o.fifoPath)} from \`create\``, [], [o.fifoPath]);
    sendFds.push({ kind: 'fifo', path: o.fifoPath });
  } else if (o.fifoPath) add('OPEN_FIFO', `open ${q(o.fifoPath)}`, [], [o.fifoPath]);

  // 3. A private (slave) view of the host's mounts, so nothing we mount propagates back. As in
  //    runc, a configured rootfsPropagation is applied to the whole tree first and to the new `/`
  //    after pivot_root; but an unbindable tree could not be bind-mounted from (runc fails with
  //    EINVAL there), so unbindable is only applied after pivot_root.
  const rootProp = linux.rootfsPropagation ? PROPAGATION_FLAGS[linux.rootfsPropagation] : undefined;
  const preProp = rootProp !== undefined && !(rootProp & MS.UNBINDABLE) ? rootProp : MS.SLAVE | MS.REC;
  //    Without a mount namespace of its own the container works in the caller's (config-linux.md
  //    "the runtime MUST use the ... namespace of the caller", runc: mounts land on the host,
  //    then chroot): the caller's propagation is left alone, and `delete` detaches the rootfs
  //    bind with everything mounted under it (state.json: hostMounts).
  if (mountNs) add('ROOT_PROPAGATE', `make \`/\` ${flagNames(preProp)}`, [preProp]);
  add('BIND_ROOTFS', `bind-mount the rootfs ${q(o.rootfs)}${mountNs ? '' : ' (in the caller\'s mount namespace, made private)'}`, mountNs ? [] : [1], [o.rootfs]);

  // 4.
  // Relative destinations are deprecated and mean relative to `/` (config.md).
  const mounts = (spec.mounts ?? []).map((m) => ({ m, dest: path.posix.resolve('/', m.destination) }));
  const devIsBind = mounts.some(({ m, dest }) => dest === '/dev' && isBind(m));
  // What steps 4-5 create inside earlier mounts: later mount points, devices, /dev symlinks.
  // (cgroup mount points are not: /sys/fs/cgroup exists in every sysfs.)
  const isCgroup = (m: Mount) => m.type === 'cgroup' || m.type === 'cgroup2';
  const created = [
    ...mounts.map((x) => (isCgroup(x.m) ? '' : x.dest)),
    ...(devIsBind ? [] : [...DEFAULT_DEVICES.map((d) => d.path), ...DEV_SYMLINKS.map(([, link]) => link)]),
    ...(linux.devices ?? []).map((d) => d.path),
    ...(proc.terminal ? ['/dev/console'] : []),
  ];
  // A read-only mount that tsrunc still has to write into (a `ro` tmpfs on /dev that gets the
  // devices, /dev/pts, /dev/shm) is mounted writable and made read-only at step 8, as runc does.
  const delayedReadonly: string[] = [];
  // Recursive attributes of such a mount (`rro`) wait with it: they are applied after pivot_root.
  const delayedAttrs: [number, number, string][] = [];
  const recAttrs = (dest: string, rec: ParsedMountOptions['rec'], delay: boolean) => {
    if (!rec.any) return;
    if (delay) delayedAttrs.push([rec.set, rec.clear, dest]);
    else add('MOUNT_ATTRS', `set ${attrNames(rec.set, rec.clear)} on ${q(dest)} and every mount below it`, [rec.set, rec.clear, 1, 0], [dest]);
  };
  // Propagation options after the first (which MOUNT applies), each in turn as runc does.
  const morePropagation = (dest: string, opts: ParsedMountOptions) => {
    for (const p of opts.propagations.slice(1)) {
      add('MOUNT_ATTRS', `make ${q(dest)} ${flagNames(p)}`, [0, 0, p & MS.REC ? 1 : 0, p & ~MS.REC], [dest]);
    }
  };
  const label = linux.mountLabel ? `context=${JSON.stringify(linux.mountLabel)}` : '';
  mounts.forEach(({ m, dest }, i) => {
    const opts = parseMountOptions(m.options);
    const idmap = idmapOf(m, i, isBind(m), userNs ? { uid: linux.uidMappings ?? [], gid: linux.gidMappings ?? [] } : undefined);
    if (label && !['proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2'].includes(m.type ?? '') && !isBind(m)) opts.data.push(label);
    if (opts.copyUp && (m.type !== 'tmpfs' || isBind(m))) {
      invalid(`/mounts/${i}/options: tmpcopyup is only for tmpfs mounts (type ${JSON.stringify(m.type ?? '')})`);
    }
    const delay = (opts.flags & MS.RDONLY || opts.rec.set & MOUNT_ATTR.RDONLY) &&
      created.some((p, j) => p !== '' && p !== dest && isUnder(p, dest) && (j >= mounts.length || j > i));
    if (isCgroup(m)) {
      compileCgroupMount(m, dest, opts, nsTypes.has('cgroup'), o.host, add, label);
      recAttrs(dest, opts.rec, false);
      morePropagation(dest, opts);
      return;
    }
    // sysfs needs a network namespace owned by the user namespace: without a new one, a mapped
    // root binds the host's /sys instead (what `runc spec --rootless` writes; runc 1.1.5 would
    // fail with EPERM).
    if (m.type === 'sysfs' && userNs && !nsTypes.has('network') && !isBind(m)) {
      add('MOUNT', `bind-mount \`/sys\` on ${q(dest)} (sysfs needs a new network namespace in a user namespace; ${flagNames(opts.flags | MS.BIND | MS.REC)})`,
        [opts.flags | MS.BIND | MS.REC, opts.propagation, 1, 0], ['/sys', dest, '', '']);
      return;
    }
    const bind = isBind(m);
    const proc = procMountPolicy(m, dest, bind);
    if (delay && opts.flags & MS.RDONLY) {
      opts.flags &= ~MS.RDONLY;
      delayedReadonly.push(dest);
    }
    if (idmap) {
      const src = path.resolve(o.bundle, m.source ?? '');
      if (proc !== 0) invalid(`/mounts/${i}: an idmapped mount cannot go inside /proc`);
      add('MOUNT_IDMAP', `bind-mount ${q(src)} on ${q(dest)} idmapped (${idmap.recursive ? 'ridmap' : 'idmap'}, ${flagNames(opts.flags | MS.BIND)})`,
        [opts.flags | MS.BIND, opts.propagation], [src, dest]);
      sendFds.push({ kind: 'idmap', path: src, ...idmap });
      return;
    }
    if (bind) {
      const src = path.resolve(o.bundle, m.source ?? '');
      add('MOUNT', `${opts.flags & MS.REMOUNT ? 'remount' : 'bind-mount'} ${q(src)} on ${q(dest)} (${flagNames(opts.flags | MS.BIND)})`,
        [opts.flags | MS.BIND, opts.propagation, 1, proc], [src, dest, '', '']);
    } else {
      const type = m.type ?? '';
      const data = opts.data.join(',');
      const what = `${q(m.source ?? type)} on ${q(dest)} (type ${type}, ${flagNames(opts.flags)}${data ? `, ${data}` : ''})`;
      if (opts.copyUp) {
        add('TMPCOPYUP', `mount ${what} with a copy of the image's ${q(dest)}`, [opts.flags, opts.propagation, 0, proc], [m.source ?? type, dest, type, data]);
      } else {
        add('MOUNT', `${opts.flags & MS.REMOUNT ? 'remount' : 'mount'} ${what}`, [opts.flags, opts.propagation, 0, proc], [m.source ?? type, dest, type, data]);
      }
    }
    morePropagation(dest, opts);
    recAttrs(dest, opts.rec, Boolean(delay));
  });

  // 5. The default devices every container gets (runtime-spec config-linux.md "Default Devices"),
  //    unless /dev is the host's (a bind mount), then linux.devices.
  //    A user namespace cannot mknod (CAP_MKNOD in the initial namespace only): the host's node
  //    of the same path is bind-mounted instead, as runc does; fifos need no privilege.
  const bindDevice = (p: string, kind: number, major: number, minor: number, what: string) =>
    add('BIND_DEVICE', `bind-mount the host's ${q(p)} on ${q(p)} (${what}: no mknod in a user namespace)`, [kind, major, minor], [p]);
  if (!devIsBind) {
    for (const d of DEFAULT_DEVICES) {
      if ((linux.devices ?? []).some((x) => x.path === d.path)) continue;
      if (userNs) {
        bindDevice(d.path, S_IFCHR, d.major, d.minor, `c ${d.major}:${d.minor}`);
        continue;
      }
      add('MKNOD', `create device ${q(d.path)} (c ${d.major}:${d.minor})`, [S_IFCHR | 0o666, d.major, d.minor, 0, 0], [d.path]);
    }
  }
  // linux.devices ('u', unbuffered, is a character device; 'p' a FIFO, with 0:0), before the /dev
  // symlinks as in runc. fileMode defaults to 0666 and uid/gid to 0 (runc); its file-type bits
  // are ignored (the type decides). An existing file at the path must be that very device
  // (config-linux.md: otherwise an error; runc 1.1.5 silently keeps whatever is there).
  for (const d of linux.devices ?? []) {
    const kind = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
    const mode = kind | ((d.fileMode ?? 0o666) & 0o7777);
    const [major, minor] = d.type === 'p' ? [0, 0] : [d.major ?? 0, d.minor ?? 0];
    if (userNs && d.type !== 'p') {
      bindDevice(d.path, kind, major, minor, `${d.type} ${major}:${minor}`);
      continue;
    }
    add('MKNOD', `create device ${q(d.path)} (${d.type} ${major}:${minor})`,
      [mode, major, minor, d.uid ?? 0, d.gid ?? 0, 1], [d.path]);
  }
  if (!devIsBind) {
    for (const [target, link] of DEV_SYMLINKS) add('SYMLINK', `symlink ${q(link)} -> ${q(target)}`, [], [target, link]);
  }

  // 5b. Hooks before pivot_root (config.md "POSIX-platform Hooks"): the init stops so that
  //     `create` runs prestart and createRuntime in the runtime namespace (the container's
  //     namespaces exist: a hook can setns through /proc/<pid>/ns/*), then the init runs the
  //     createContainer hooks itself, in the container's namespaces, their paths resolved in the
  //     runtime's mount view (the host's, before pivot_root), their cwd the rootfs (as runc).
  const hooks = spec.hooks ?? {};
  if ((hooks.prestart?.length ?? 0) + (hooks.createRuntime?.length ?? 0) > 0) {
    add('HOOK_SYNC', 'stop for the prestart and createRuntime hooks (run by `create` in the runtime namespace)');
  }
  const hookOp = (kind: 'createContainer' | 'startContainer') => (hooks[kind] ?? []).forEach((h, i) => {
    const args = h.args ?? [];
    const env = h.env ?? [];
    const head = JSON.stringify({ ociVersion: OCI_VERSION, id: o.id ?? '', status: kind === 'createContainer' ? 'creating' : 'created' });
    const tail = JSON.stringify({ bundle: o.bundle, ...(spec.annotations && Object.keys(spec.annotations).length ? { annotations: spec.annotations } : {}) });
    add('HOOK', `run the ${kind} hook #${i} ${q(h.path)}`,
      [kind === 'createContainer' ? 0 : 1, i, h.timeout !== undefined && h.timeout > 0 ? h.timeout * 1000 : 0, args.length, h.env ? 1 : 0],
      [h.path, `${head.slice(0, -1)},"pid":`, `,${tail.slice(1)}`, kind === 'createContainer' ? o.rootfs : '', ...args, ...env]);
  });
  hookOp('createContainer');

  // 6.
  // Without a mount namespace: chroot only (pivot_root or a move over `/` would change the
  // caller's root; runc also chroots there).
  if (!mountNs) add('PIVOT_ROOT', `chroot to ${q(o.rootfs)} (no mount namespace)`, [2], [o.rootfs]);
  else add('PIVOT_ROOT', o.noPivot ? `move the rootfs to \`/\` and chroot (--no-pivot)` : `pivot_root to ${q(o.rootfs)}`,
    [o.noPivot ? 1 : 0], [o.rootfs]);

  // 6b. The terminal: a pty of the container's own devpts, its slave bound on /dev/console and made
  //     the process's stdio and controlling terminal; the master goes to `create` (runc does this
  //     right after pivot_root, before the rootfs is finalized: a read-only /dev is remounted later).
  if (proc.terminal) {
    const size = proc.consoleSize && proc.consoleSize.height > 0 && proc.consoleSize.width > 0 ? proc.consoleSize : undefined;
    add('PTY', `make the console: a pty of \`/dev/pts\`, bound on \`/dev/console\`${size ? `, ${size.width}x${size.height}` : ''}; send its master to tsrunc`,
      [1, size?.height ?? 0, size?.width ?? 0, proc.user?.uid ?? 0]);
  }

  // 7.
  // Setting them without a UTS namespace would change the host's names: refuse (runc's text).
  for (const [field, value, op] of [['hostname', spec.hostname, 'HOSTNAME'], ['domainname', spec.domainname, 'DOMAINNAME']] as const) {
    if (value === undefined || value === '') continue;
    if (!nsTypes.has('uts')) {
      throw new TsruncError('E_CONFIG_INVALID', `config.json: /${field}: unable to set ${field} without a private UTS namespace`);
    }
    add(op, `set ${field} to ${q(value)}`, [], [value]);
  }
  for (const [k, v] of Object.entries(linux.sysctl ?? {})) {
    add('SYSCTL', `set sysctl ${q(k)} to ${q(v)}`, [], [sysctlPath(k, nsTypes), v]);
  }

  // 8. (process.cwd is created first, as runc does, so that a read-only root can still have it)
  add('MKDIR', `create process.cwd ${q(proc.cwd)} if missing`, [], [proc.cwd]);
  for (const d of delayedReadonly) add('REMOUNT', `remount ${q(d)} read-only (after it was populated)`, [MS.RDONLY], [d]);
  for (const [set, clear, d] of delayedAttrs) {
    add('MOUNT_ATTRS', `set ${attrNames(set, clear)} on ${q(d)} and every mount below it (after it was populated)`, [set, clear, 1, 0], [d]);
  }
  for (const p of linux.readonlyPaths ?? []) add('READONLY', `make ${q(p)} read-only`, [], [p]);
  for (const p of linux.maskedPaths ?? []) add('MASK', `mask ${q(p)}`, [], linux.mountLabel ? [p, linux.mountLabel] : [p]);
  // Last of the mount work: an unbindable tree would refuse the bind mounts just above.
  if (rootProp !== undefined) add('ROOT_PROPAGATE', `make \`/\` ${flagNames(rootProp)} (rootfsPropagation)`, [rootProp]);
  if (spec.root?.readonly) add('REMOUNT', 'remount `/` read-only', [MS.RDONLY], ['/']);

  // 9.
  add('CHDIR', `change to process.cwd ${q(proc.cwd)}`, [], [proc.cwd]);
  for (const r of proc.rlimits ?? []) {
    const res = RLIMITS[r.type];
    if (res === undefined) throw new TsruncError('E_CONFIG_INVALID', `config.json: unknown rlimit \`${r.type}\``);
    add('RLIMIT', `set ${r.type} to ${r.soft}/${r.hard}`, [res, rlimitValue(r.soft), rlimitValue(r.hard)], [r.type]);
  }
  const args = proc.args ?? [];
  if (args.length === 0) throw new TsruncError('E_CONFIG_INVALID', 'args must not be empty');
  const env = [...(proc.env ?? []), ...(o.extraEnv ?? [])];
  const pathEntry = [...env].reverse().find((e) => e.startsWith('PATH='));
  add('RESOLVE_EXEC', `find the executable ${q(args[0]!)}`, [pathEntry ? 1 : 0], [args[0]!, pathEntry ? pathEntry.slice(5) : '']);
  // A missing user means uid 0, gid 0, as in runc (Go's zero value).
  const user = proc.user ?? { uid: 0, gid: 0 };
  if (!env.some((e) => e.startsWith('HOME='))) add('LOOKUP_HOME', `find HOME for uid ${user.uid} in the image's \`/etc/passwd\``, [user.uid]);
  if (o.fifoPath) add('PROC_HANDLE', 'mount a private procfs (to reopen exec.fifo after the user change)');
  ops.push(...processAttrOps(spec));
  ops.push(...netDeviceOps(o.netDevices ?? []));

  // 10. Seccomp without no_new_privs needs CAP_SYS_ADMIN: installed before the capabilities are
  //     dropped (runc's order); with no_new_privs as late as possible, by EXEC right before execve.
  const seccomp = linux.seccomp ? seccompPlan(linux.seccomp as unknown as LinuxSeccomp) : undefined;
  const seccompOp = (late: boolean) => {
    if (!seccomp) return;
    const f = seccomp.filter;
    if (seccomp.listener) {
      // SCMP_ACT_NOTIFY: installed while the sync socket is still open, to hand the listener fd to
      // `create` (with noNewPrivileges right before READY instead of right before exec, as runc).
      add('SECCOMP_LISTENER', `install the seccomp filter (default ${actionName(f.defaultAction)}, ${f.rules.length} rules) with a notify listener; send its fd to ${q(seccomp.listener.path)}`,
        [seccomp.flags], [JSON.stringify(f)]);
      return;
    }
    add('SECCOMP', `install the seccomp filter (default ${actionName(f.defaultAction)}, ${f.rules.length} rules${late ? ', right before exec' : ''})`,
      [seccomp.flags, late ? 1 : 0], [JSON.stringify(f)]);
  };
  if (!proc.noNewPrivileges) seccompOp(false);
  const caps = proc.capabilities ?? {};
  const bounding = capMask(caps.bounding);
  add('CAPS', 'drop capabilities outside the bounding set', [0, bounding, 0n, 0n, 0n, 0n]);
  const umask = user.umask ?? 0o022;
  add('USER', `set user to ${user.uid}:${user.gid}${user.additionalGids?.length ? ` groups ${user.additionalGids.join(',')}` : ''}`,
    [user.uid, user.gid, umask, ...(user.additionalGids ?? [])]);
  add('CAPS', 'set capabilities', [1, bounding, capMask(caps.effective), capMask(caps.permitted), capMask(caps.inheritable), capMask(caps.ambient)]);
  if (proc.noNewPrivileges) add('NO_NEW_PRIVS', 'set no_new_privs');

  if (proc.noNewPrivileges && seccomp?.listener) seccompOp(false);

  // 11.
  add('WAIT_START', o.fifoPath ? 'report ready, wait until recorded, then wait for `start` on exec.fifo' : 'report ready and wait until recorded');
  // startContainer hooks: after `start`, before the program (as the container's user, in its
  // root, so their paths resolve in the container).
  hookOp('startContainer');
  if (proc.noNewPrivileges && !seccomp?.listener) seccompOp(true);
  add('EXEC', `exec ${q(args[0]!)}`, [o.keepFds, args.length], [...args, ...env]);

  const host = [
    'validate config.json and compile this plan',
    'create the state directory (exclusive) and exec.fifo',
    `create the cgroup and apply device rules`,
    ...(sendFds.some((f) => f.kind === 'idmap') ? ['make the idmapped trees (open_tree + mount_setattr MOUNT_ATTR_IDMAP, a helper process holds each user namespace)'] : []),
    `clone3 with ${namespaces.filter((n) => n.how === 'clone').map((n) => n.type).join(', ') || 'no'} namespaces; exec tsrunc-init from a sealed memfd`,
    ...(userNs ? [
      'place the init in its cgroup',
      'write the uid/gid maps of the new user namespace, then let the clone child become its root and exec (SYNC_IDMAPS)',
      'release the init (SYNC_GO)',
    ] : ['place the init in its cgroup, then release it (SYNC_GO)']),
    ...(sendFds.length ? [`send ${sendFds.map((f) => (f.kind === 'fifo' ? 'the exec.fifo handle' : `the idmapped tree of ${q(f.path)}`)).join(', ')} over the sync socket`] : []),
    ...(ops.some((x) => x.op === 'HOOK_SYNC') ? ['at HOOK_SYNC: run the prestart, then the createRuntime hooks (runtime namespace), then resume the init'] : []),
    'wait for READY, write state.json and the pid file',
    ...(hooks.poststart?.length ? ['`start`: the poststart hooks once the program runs (runtime namespace)'] : []),
    ...(hooks.poststop?.length ? ['`delete`: the poststop hooks once the container is gone (runtime namespace)'] : []),
  ];
  if (joins.length) host.splice(3, 0, `open the namespaces to join (${joins.map((j) => `${j.type} ${q(j.path)}`).join(', ')}); the clone child joins them`);
  const plan: Plan = { cloneFlags, namespaces, host, ops, joins };
  if (userNs && !joined.has('user')) plan.idMappings = { uid: linux.uidMappings ?? [], gid: linux.gidMappings ?? [] };
  if (sendFds.length) plan.sendFds = sendFds;
  if (!mountNs) plan.hostMounts = true;
  if (seccomp?.listener) plan.seccompListener = seccomp.listener;
  return plan;
}

/** runc's order for joining (orderNamespacePaths): user first, mount late. */
const JOIN_ORDER = ['user', 'ipc', 'uts', 'network', 'pid', 'mount', 'cgroup'];

type Add = (op: Op['op'], what: string, ints?: (number | bigint)[], strs?: string[]) => number;

// A `cgroup` mount, as runc does it: on cgroup v2, cgroup2 itself (with a cgroup namespace) or a
// bind of the container's own cgroup; on v1/hybrid hosts a tmpfs with one directory per v1
// hierarchy, each a cgroup mount (with a cgroup namespace) or a bind of the container's cgroup in
// that hierarchy, read-only as the options say. runc does not expose the hybrid `unified` tree.
function compileCgroupMount(m: Mount, dest: string, opts: ParsedMountOptions, cgroupNs: boolean, host: HostFacts, add: Add, label: string): void {
  if (host.cgroup.mode === 'v2') {
    if (cgroupNs || !host.cgroup.unifiedDir) {
      add('MOUNT', `mount \`cgroup2\` on ${q(dest)} (${flagNames(opts.flags)})`, [opts.flags, opts.propagation, 0], ['cgroup2', dest, 'cgroup2', '']);
    } else {
      add('MOUNT', `bind-mount ${q(host.cgroup.unifiedDir)} on ${q(dest)} (${flagNames(opts.flags | MS.BIND)})`,
        [opts.flags | MS.BIND, opts.propagation, 1], [host.cgroup.unifiedDir, dest, '', '']);
    }
    return;
  }
  const tmpfsFlags = opts.flags & ~MS.RDONLY;
  const tmpfsData = label ? `mode=755,${label}` : 'mode=755';
  add('MOUNT', `mount \`tmpfs\` on ${q(dest)} (type tmpfs, ${flagNames(tmpfsFlags)}, ${tmpfsData})`, [tmpfsFlags, opts.propagation, 0], ['tmpfs', dest, 'tmpfs', tmpfsData]);
  for (const h of host.cgroup.v1) {
    const sub = `${dest}/${h.name}`;
    if (cgroupNs) {
      // Named hierarchies show their name as the source (`systemd`), as on the host and in runc.
      const source = h.options.startsWith('name=') ? h.options.slice(5) : 'cgroup';
      add('MOUNT', `mount ${q(source)} on ${q(sub)} (type cgroup, ${flagNames(opts.flags)}, ${h.options})`, [opts.flags, 0, 0], [source, sub, 'cgroup', h.options]);
    } else {
      const flags = opts.flags | MS.BIND;
      add('MOUNT', `bind-mount ${q(h.containerDir)} on ${q(sub)} (${flagNames(flags)})`, [flags, 0, 1], [h.containerDir, sub, '', '']);
    }
    // Co-mounted controllers (`cpu,cpuacct`) are also reachable by each name, as on the host.
    if (h.name.includes(',')) {
      for (const c of h.name.split(',')) add('SYMLINK', `symlink ${q(`${dest}/${c}`)} -> ${q(h.name)}`, [], [h.name, `${dest}/${c}`]);
    }
  }
}

// linux.timeOffsets go to a new time namespace only (they are written before any process is in
// it); a namespace joined by path has its offsets already.
function timeNamespaceOps(linux: Linux, ns: Namespace | undefined, add: Add): void {
  const offsets = linux.timeOffsets ?? {};
  if (ns?.path) {
    add('JOIN_TIMENS', `join the time namespace ${q(ns.path)}`, [], [ns.path]);
    return;
  }
  if (!ns) return;
  const m = offsets.monotonic ?? {};
  const b = offsets.boottime ?? {};
  add('TIMENS', `unshare a time namespace (monotonic ${m.secs ?? 0}s ${m.nanosecs ?? 0}ns, boottime ${b.secs ?? 0}s ${b.nanosecs ?? 0}ns) and enter it`,
    [m.secs ?? 0, m.nanosecs ?? 0, b.secs ?? 0, b.nanosecs ?? 0]);
}

/**
 * The idmapping of a mount (options `idmap`/`ridmap`): its own uidMappings/gidMappings, or the
 * container's user namespace maps when it has none (config.md allows that); undefined for an
 * ordinary mount. Only bind mounts can be idmapped here: `create` clones the source tree and
 * idmaps it (mount_setattr needs privilege over the source's filesystem, which a mapped root
 * lacks), the init attaches it.
 */
function idmapOf(m: Mount, i: number, bind: boolean, container?: { uid: IdMapping[]; gid: IdMapping[] }): IdmapPlan | undefined {
  const opts = m.options ?? [];
  const on = opts.filter((x) => x === 'idmap' || x === 'ridmap');
  const own = m.uidMappings !== undefined || m.gidMappings !== undefined;
  if (on.length === 0) {
    if (own) invalid(`/mounts/${i}: uidMappings/gidMappings are set but the options have no \`idmap\` or \`ridmap\``);
    return undefined;
  }
  const opt = on[0]!;
  if (own && (!m.uidMappings?.length || !m.gidMappings?.length)) invalid(`/mounts/${i}: option \`${opt}\` needs both uidMappings and gidMappings`);
  if (!own && !container) invalid(`/mounts/${i}: option \`${opt}\` needs uidMappings and gidMappings (or a user namespace whose maps it can use)`);
  if (!bind) invalid(`/mounts/${i}: option \`${opt}\` is supported on bind mounts only, not on a mount of type ${q(m.type ?? '')}`);
  return {
    tree: opts.includes('rbind'),
    recursive: on.includes('ridmap'),
    uidMappings: own ? m.uidMappings! : container!.uid,
    gidMappings: own ? m.gidMappings! : container!.gid,
  };
}
