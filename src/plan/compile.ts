// The plan compiler: PURE (spec, bundle, options, host facts) -> Plan. No file system, no clock,
// no process state: everything it needs about the host comes in through `HostFacts`, so golden
// tests pin the exact sequence of operations tsrunc-init will carry out.
//
// Ordering rule (the one place it lives), following what runc does:
//   1. cgroup namespace (unshared by the init once it sits in its cgroups), a new session
//      keyring, oom_score_adj
//   2. exec.fifo O_PATH handle (the state dir is unreachable after pivot_root)
//   3. "/" made rslave (or rootfsPropagation), the rootfs bind-mounted on itself
//   4. config mounts in config order (cgroup and sysfs-without-netns expanded)
//   5. default devices and /dev symlinks, then linux.devices
//   6. pivot_root (or MS_MOVE + chroot with --no-pivot)
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
import type { LinuxSeccomp, Mount, Spec } from '../spec/types';
import { CLONE, MS, type NamespacePlan, type Op, type Plan } from './ops';
import {
  CAPABILITIES, MOUNT_FLAGS, PROPAGATION_FLAGS, RLIMITS, UNSUPPORTED_MOUNT_OPTIONS, flagNames,
} from './tables';
import { actionName, checkSeccompSupported, seccompPlan } from './seccomp';

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

function unsupported(field: string, why: string): never {
  throw new TsruncError('E_UNSUPPORTED', `config.json: ${field}: ${why}`);
}

/** Refuse what this version of tsrunc cannot honour, naming the field; never run without it. */
export function checkSupported(spec: Spec): void {
  const p = spec.process;
  if (p?.terminal) {
    unsupported('/process/terminal', 'terminal: true needs the console socket support that is not implemented yet; set it to false');
  }
  const later = (f: string) => unsupported(f, 'not supported by this version of tsrunc');
  if (p?.apparmorProfile) later('/process/apparmorProfile');
  if (p?.selinuxLabel) later('/process/selinuxLabel');
  if (p?.ioPriority) later('/process/ioPriority');
  if (p?.scheduler) later('/process/scheduler');
  if (p?.execCPUAffinity) later('/process/execCPUAffinity');
  const l = spec.linux ?? {};
  (l.namespaces ?? []).forEach((ns, i) => {
    if (ns.path) unsupported(`/linux/namespaces/${i}/path`, 'joining an existing namespace is not supported yet');
    if (ns.type === 'user') unsupported(`/linux/namespaces/${i}`, 'user namespaces are not supported yet');
    if (ns.type === 'time') unsupported(`/linux/namespaces/${i}`, 'time namespaces are not supported yet');
  });
  if (!(l.namespaces ?? []).some((n) => n.type === 'mount')) {
    unsupported('/linux/namespaces', 'a mount namespace is required to set up the rootfs');
  }
  if (l.uidMappings?.length) later('/linux/uidMappings');
  if (l.gidMappings?.length) later('/linux/gidMappings');
  if (l.seccomp) checkSeccompSupported(l.seccomp as unknown as LinuxSeccomp);
  if (l.mountLabel) later('/linux/mountLabel');
  if (l.personality) later('/linux/personality');
  if (l.intelRdt) later('/linux/intelRdt');
  if (l.memoryPolicy) later('/linux/memoryPolicy');
  if (l.netDevices) later('/linux/netDevices');
  if (l.timeOffsets) later('/linux/timeOffsets');
  // linux.resources: every field is applied by the cgroup manager's mapping table (src/cgroup/
  // resources-v1.ts, resources-v2.ts) before the init is cloned. What one kind of host cannot do
  // (unified keys on v1, realtime cpu and net_cls/net_prio on v2) is refused there, naming the
  // field, because it depends on the host rather than on the config.
  (spec.mounts ?? []).forEach((m, i) => {
    for (const o of m.options ?? []) if (UNSUPPORTED_MOUNT_OPTIONS.includes(o)) later(`/mounts/${i}/options (${o})`);
    if (m.uidMappings || m.gidMappings) later(`/mounts/${i}/uidMappings`);
  });
}

interface ParsedMountOptions { flags: number; propagation: number; data: string[] }

export function parseMountOptions(options: string[] = []): ParsedMountOptions {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  for (const o of options) {
    const f = MOUNT_FLAGS[o];
    if (f) {
      if (f.set) flags |= f.set;
      if (f.clear) flags &= ~f.clear;
    } else if (PROPAGATION_FLAGS[o] !== undefined) {
      propagation |= PROPAGATION_FLAGS[o]!;
    } else {
      data.push(o);
    }
  }
  return { flags, propagation, data };
}

function capMask(names: string[] | undefined): bigint {
  let m = 0n;
  for (const n of names ?? []) {
    const bit = CAPABILITIES.indexOf(n);
    if (bit >= 0) m |= 1n << BigInt(bit); // unknown names: warned about by specWarnings, ignored
  }
  return m;
}

function rlimitValue(v: number): number {
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
  for (const t of ['mount', 'pid', 'network', 'ipc', 'uts', 'cgroup']) {
    if (!nsTypes.has(t as never)) continue;
    // The cgroup namespace must be made after the init has joined its cgroup, so that the
    // container's cgroup becomes its root: the init unshares it right after SYNC_GO.
    if (t === 'cgroup') namespaces.push({ type: t, how: 'unshare' });
    else {
      namespaces.push({ type: t, how: 'clone' });
      cloneFlags |= NS_FLAGS[t]!;
    }
  }

  const ops: Op[] = [];
  const add = (op: Op['op'], what: string, ints: (number | bigint)[] = [], strs: string[] = []) =>
    ops.push({ op, what, ints, strs });

  // 1.
  if (nsTypes.has('cgroup')) add('UNSHARE', 'unshare the cgroup namespace', [CLONE.NEWCGROUP]);
  if (o.sessionKeyring) add('SESSION_KEYRING', `join a new session keyring ${q(o.sessionKeyring)}`, [], [o.sessionKeyring]);
  if (proc.oomScoreAdj !== undefined) add('OOM_SCORE_ADJ', `set oom_score_adj to ${proc.oomScoreAdj}`, [proc.oomScoreAdj]);
  // 2.
  if (o.fifoPath) add('OPEN_FIFO', `open ${q(o.fifoPath)}`, [], [o.fifoPath]);

  // 3. A private (slave) view of the host's mounts, so nothing we mount propagates back. As in
  //    runc, a configured rootfsPropagation is applied to the whole tree first and to the new `/`
  //    after pivot_root; but an unbindable tree could not be bind-mounted from (runc fails with
  //    EINVAL there), so unbindable is only applied after pivot_root.
  const rootProp = linux.rootfsPropagation ? PROPAGATION_FLAGS[linux.rootfsPropagation] : undefined;
  const preProp = rootProp !== undefined && !(rootProp & MS.UNBINDABLE) ? rootProp : MS.SLAVE | MS.REC;
  add('ROOT_PROPAGATE', `make \`/\` ${flagNames(preProp)}`, [preProp]);
  add('BIND_ROOTFS', `bind-mount the rootfs ${q(o.rootfs)}`, [], [o.rootfs]);

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
  ];
  // A read-only mount that tsrunc still has to write into (a `ro` tmpfs on /dev that gets the
  // devices, /dev/pts, /dev/shm) is mounted writable and made read-only at step 8, as runc does.
  const delayedReadonly: string[] = [];
  mounts.forEach(({ m, dest }, i) => {
    const opts = parseMountOptions(m.options);
    if (isCgroup(m)) {
      compileCgroupMount(m, dest, opts, nsTypes.has('cgroup'), o.host, add);
      return;
    }
    const bind = isBind(m);
    const proc = procMountPolicy(m, dest, bind);
    if (opts.flags & MS.RDONLY && created.some((p, j) => p !== '' && p !== dest && isUnder(p, dest) && (j >= mounts.length || j > i))) {
      opts.flags &= ~MS.RDONLY;
      delayedReadonly.push(dest);
    }
    if (bind) {
      const src = path.resolve(o.bundle, m.source ?? '');
      add('MOUNT', `bind-mount ${q(src)} on ${q(dest)} (${flagNames(opts.flags | MS.BIND)})`,
        [opts.flags | MS.BIND, opts.propagation, 1, proc], [src, dest, '', '']);
      return;
    }
    const type = m.type ?? '';
    const data = opts.data.join(',');
    add('MOUNT', `mount ${q(m.source ?? type)} on ${q(dest)} (type ${type}, ${flagNames(opts.flags)}${data ? `, ${data}` : ''})`,
      [opts.flags, opts.propagation, 0, proc], [m.source ?? type, dest, type, data]);
  });

  // 5. The default devices every container gets (runtime-spec config-linux.md "Default Devices"),
  //    unless /dev is the host's (a bind mount), then linux.devices.
  if (!devIsBind) {
    for (const d of DEFAULT_DEVICES) {
      if ((linux.devices ?? []).some((x) => x.path === d.path)) continue;
      add('MKNOD', `create device ${q(d.path)} (c ${d.major}:${d.minor})`, [S_IFCHR | 0o666, d.major, d.minor, 0, 0], [d.path]);
    }
    for (const [target, link] of DEV_SYMLINKS) add('SYMLINK', `symlink ${q(link)} -> ${q(target)}`, [], [target, link]);
  }
  for (const d of linux.devices ?? []) {
    const kind = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
    const mode = kind | ((d.fileMode ?? 0o666) & 0o7777);
    add('MKNOD', `create device ${q(d.path)} (${d.type} ${d.major ?? 0}:${d.minor ?? 0})`,
      [mode, d.major ?? 0, d.minor ?? 0, d.uid ?? 0, d.gid ?? 0], [d.path]);
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
  add('PIVOT_ROOT', o.noPivot ? `move the rootfs to \`/\` and chroot (--no-pivot)` : `pivot_root to ${q(o.rootfs)}`,
    [o.noPivot ? 1 : 0], [o.rootfs]);

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
  for (const p of linux.readonlyPaths ?? []) add('READONLY', `make ${q(p)} read-only`, [], [p]);
  for (const p of linux.maskedPaths ?? []) add('MASK', `mask ${q(p)}`, [], [p]);
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
    `clone3 with ${namespaces.filter((n) => n.how === 'clone').map((n) => n.type).join(', ') || 'no'} namespaces; exec tsrunc-init from a sealed memfd`,
    'place the init in its cgroup, then release it (SYNC_GO)',
    ...(ops.some((x) => x.op === 'HOOK_SYNC') ? ['at HOOK_SYNC: run the prestart, then the createRuntime hooks (runtime namespace), then resume the init'] : []),
    'wait for READY, write state.json and the pid file',
    ...(hooks.poststart?.length ? ['`start`: the poststart hooks once the program runs (runtime namespace)'] : []),
    ...(hooks.poststop?.length ? ['`delete`: the poststop hooks once the container is gone (runtime namespace)'] : []),
  ];
  return { cloneFlags, namespaces, host, ops, ...(seccomp?.listener ? { seccompListener: seccomp.listener } : {}) };
}

type Add = (op: Op['op'], what: string, ints?: (number | bigint)[], strs?: string[]) => number;

// A `cgroup` mount, as runc does it: on cgroup v2, cgroup2 itself (with a cgroup namespace) or a
// bind of the container's own cgroup; on v1/hybrid hosts a tmpfs with one directory per v1
// hierarchy, each a cgroup mount (with a cgroup namespace) or a bind of the container's cgroup in
// that hierarchy, read-only as the options say. runc does not expose the hybrid `unified` tree.
function compileCgroupMount(m: Mount, dest: string, opts: ParsedMountOptions, cgroupNs: boolean, host: HostFacts, add: Add): void {
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
  add('MOUNT', `mount \`tmpfs\` on ${q(dest)} (type tmpfs, ${flagNames(tmpfsFlags)}, mode=755)`, [tmpfsFlags, opts.propagation, 0], ['tmpfs', dest, 'tmpfs', 'mode=755']);
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
