// `create`: validate and compile (prepare), make the state directory and the cgroup, clone the
// init into its namespaces, wait for it to report READY, record the container, then COMMIT
// (addon/protocol.h). `run` and `explain` reuse prepare/doCreate.
import fs = require('fs');
import path = require('path');
import { TsruncError, causeText, isErrnoLike } from '../errors';
import { StateStore, unlinkIfExists, writePidFile, type StateRecord } from '../state/store';
import { validateId } from '../state/id';
import { pidStartTime } from '../sys/proc';
import { CREATING_FILE, OCI_VERSION, lazyBpf, lockId, native, rfc3339Nano } from './container';
import type { CreateOptions, GlobalOptions } from './api';
import type { CgroupManager } from '../cgroup/manager';
import type { Native } from '../sys/native';
import type { Plan } from '../plan/ops';
import type { Spec } from '../spec/types';
import { checkPassedFds, passedFds, type PassedFds } from './fds';
import { checkTerminal, connectConsoleSocket, sendConsoleMaster, syncWaitPty } from './console';
import { addNotifyToSpec, makeNotifyDir, notifySetup, type NotifySetup } from './notify';

interface Prepared {
  spec: Spec;
  bundle: string;
  rootfs: string;
  plan: Plan;
  cgroup: CgroupManager;
  devices: import('../cgroup/devices').DevRule[];
  /** linux.resources without devices: applied by the manager, kept in state.json for `update`. */
  resources: import('../cgroup/resources').Resources;
  keepFds: number;
  netDevices: import('../plan/netdev').NetDeviceFacts[];
  /** LISTEN_FDS and --preserve-fds (keepFds = their sum). */
  fds: PassedFds;
}

/** Validate and compile: everything create does before touching the system. */
export function prepare(
  g: GlobalOptions,
  o: { id: string; bundle: string; noPivot: boolean; noNewKeyring?: boolean; preserveFds?: number },
  fifoPath?: string,
  notify?: NotifySetup,
): Prepared {
  const t0 = process.hrtime.bigint();
  const phase = (name: string) => g.log('debug', `${name}: ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(2)} ms`);
  const { loadCheckedSpec } = require('../spec/load') as typeof import('../spec/load');
  const { formatProblem, resolveRootfs, specWarnings } = require('../spec/checks') as typeof import('../spec/checks');
  const { compile } = require('../plan/compile') as typeof import('../plan/compile');
  const cg = require('../cgroup') as typeof import('../cgroup');
  const bundle = path.resolve(o.bundle);
  const { readHostSecurity } = require('../plan/process') as typeof import('../plan/process');
  const spec = loadCheckedSpec(bundle, { needProcess: true }, { host: readHostSecurity() });
  for (const w of specWarnings(spec)) g.log('warning', formatProblem(w));
  phase('validate config.json');
  const rootfs = resolveRootfs(spec, bundle);
  if (g.systemdCgroup) {
    // runc's text where there is no systemd (the CLI checks that first); on a systemd host the
    // systemd cgroup driver is simply not implemented yet.
    const hasSystemd = fs.existsSync('/run/systemd/system');
    throw new TsruncError('E_UNSUPPORTED', hasSystemd
      ? '--systemd-cgroup: the systemd cgroup manager is not supported by this version of tsrunc'
      : 'systemd not running on this host, cannot use systemd cgroups manager');
  }
  if (spec.linux?.mountLabel) {
    // The compiler passes it on as runc 1.1.5 does, as the `context="..."` option of the mounts
    // runc labels, whether or not SELinux is enabled (go-selinux's FormatMountLabel does not ask).
    // With SELinux, runc also labels files (mqueue, setfilecon), which tsrunc does not: refuse.
    if (selinuxEnabled()) {
      throw new TsruncError('E_UNSUPPORTED', 'config.json: /linux/mountLabel: SELinux is enabled on this host and mount labels are not supported by this version of tsrunc');
    }
  }
  const host = cg.readCgroupHost();
  const record = cg.resolveCgroupPaths(host, cg.readOwnCgroups(), spec.linux?.cgroupsPath, o.id);
  const cgroup = new cg.CgroupManager(record, { native: lazyBpf });
  const fds = passedFds(o.preserveFds ?? 0);
  const { keepFds, extraEnv } = fds;
  // NOTIFY_SOCKET: the relay's directory bound into the container, NOTIFY_SOCKET set for it.
  if (notify) addNotifyToSpec(spec, notify);
  const { netDeviceFacts } = require('../plan/netdev') as typeof import('../plan/netdev');
  const netDevices = netDeviceFacts(spec, (name) => native().netdevInfo(name));
  const plan = compile(spec, {
    bundle, rootfs, fifoPath, noPivot: o.noPivot, keepFds, extraEnv, netDevices, id: o.id,
    sessionKeyring: o.noNewKeyring ? undefined : `_ses.${o.id}`,
    host: cgroupFacts(host, record.paths),
  });
  phase('compile plan');
  return {
    spec, bundle, rootfs, plan, cgroup, devices: cg.deviceRulesForSpec(spec.linux),
    resources: cg.resourcesOf(spec.linux?.resources), keepFds, fds, netDevices,
  };
}

/** SELinux is enabled when selinuxfs is mounted where the kernel puts it (go-selinux's test). */
export function selinuxEnabled(): boolean {
  return fs.existsSync('/sys/fs/selinux/enforce');
}

function cgroupFacts(host: import('../cgroup').CgroupHost, paths: Record<string, string>): import('../plan/compile').HostFacts {
  if (host.mode === 'v2') return { cgroup: { mode: 'v2', v1: [], unifiedDir: paths[''] } };
  // Group controllers by mountpoint, in mountinfo order: `cpu,cpuacct` is one hierarchy.
  const byMount = new Map<string, { keys: string[]; dir: string }>();
  for (const [key, mnt] of host.v1) {
    const dir = paths[key];
    if (dir === undefined) continue;
    const e = byMount.get(mnt) ?? { keys: [], dir };
    e.keys.push(key);
    byMount.set(mnt, e);
  }
  return {
    cgroup: {
      mode: host.mode,
      v1: [...byMount].map(([mnt, e]) => ({ name: path.basename(mnt), options: e.keys.join(','), containerDir: e.dir })),
    },
  };
}

export interface Created {
  rec: StateRecord;
  pidfd: number;
  store: StateStore;
  cgroup: CgroupManager;
  /** The pty master when the container has a terminal and no console socket (`run -t`). */
  console?: number;
  /** The NOTIFY_SOCKET relay, bound (run) or to be bound by `start` (create). */
  notify?: NotifySetup;
}

/**
 * create, and the create half of run. `detach` is runc's: true for create and `run -d`, false for
 * `run` in the foreground, which keeps the pty master (Created.console) to proxy it.
 */
export function doCreate(g: GlobalOptions, o: CreateOptions, detach = true): Created {
  validateId(o.id);
  const store = new StateStore(g.root);
  if (store.exists(o.id)) throw new TsruncError('E_EXISTS', 'container with given ID already exists');
  const fifo = store.fifoPath(o.id);
  const notify = notifySetup(store, o.id);
  const p = prepare(g, o, fifo, notify);
  const terminal = p.spec.process?.terminal === true;
  checkTerminal(terminal, detach, o.consoleSocket);
  const n = native();
  checkPassedFds(p.fds);
  const { encodeOps } = require('../plan/encode') as typeof import('../plan/encode');
  const { setupError } = require('../plan/messages') as typeof import('../plan/messages');
  const { initPath } = require('../sys/native') as typeof import('../sys/native');
  const t0 = process.hrtime.bigint();
  const phase = (name: string) => g.log('debug', `${name}: ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(2)} ms`);
  // linux.seccomp: compiled by libseccomp here, before anything is made (a bad filter leaves nothing).
  const { linkSeccomp } = require('../plan/seccomp') as typeof import('../plan/seccomp');
  const planBuf = encodeOps(linkSeccomp(p.plan.ops, (f) => n.seccompCompile(f), (m) => g.log('debug', m)));

  // Connected before anything is made (runc dials in setupIO): a bad path leaves nothing behind.
  let consoleSock = o.consoleSocket !== undefined ? connectConsoleSocket(n, o.consoleSocket) : -1;
  let master = -1;
  // linux.namespaces[].path: opened and type-checked now (a wrong path leaves nothing behind);
  // the clone child joins them.
  let joins: ReturnType<typeof openNamespaces> = [];
  try {
    joins = openNamespaces(n, p.plan.joins ?? []);
    checkHostNetSysctls(p.spec, p.plan.joins ?? [], joins);
    store.createDir(o.id);
  } catch (e) {
    for (const j of joins) fs.closeSync(j.fd);
    if (consoleSock >= 0) fs.closeSync(consoleSock);
    throw e;
  }
  let cgroupMade = false;
  let pidfd = -1;
  let lock = -1;
  const { detachHostMounts, mountsAt } = require('./hostmounts') as typeof import('./hostmounts');
  const hostMounts = p.plan.hostMounts ? { rootfs: p.rootfs, below: mountsAt(p.rootfs) } : undefined;
  const sendFds: number[] = [];
  // A failed prestart/createRuntime/createContainer hook: the lifecycle goes on at "destroy", then
  // the poststop hooks run (runtime.md steps 3-5, 12, 13), as runc does.
  let hookFailed = false;
  try {
    if (notify) makeNotifyDir(notify);
    // Held until the container is recorded: a `delete --force` of this id waits for us, and finds
    // the directory without state.json only if we died (then it cleans up after us).
    lock = lockId(store, o.id);
    // Where the cgroup will be, for that cleanup: written before the cgroup exists.
    writeCreating(store, o.id, p.cgroup.toRecord(), hostMounts);
    n.mkfifo(fifo, 0o622);
    // Fds the init receives over the sync socket (plan.sendFds), made before anything runs: a
    // source that refuses idmapping fails here.
    for (const f of p.plan.sendFds ?? []) sendFds.push(openSendFd(n, f, fifo));
    // As runc (1.2 and later): never start a container in a cgroup that is in use or frozen.
    const busy = p.cgroup.pids().length;
    if (busy > 0) throw new TsruncError('E_CGROUP', `container's cgroup is not empty: ${busy} process(es) found`);
    if (p.cgroup.freezerState() !== 'thawed') throw new TsruncError('E_CGROUP', "container's cgroup unexpectedly frozen");
    p.cgroup.create();
    cgroupMade = true;
    p.cgroup.setDevices(p.devices);
    // Every linux.resources limit, before the init exists (so it never runs unlimited).
    p.cgroup.setResources(p.resources, { warn: (m) => g.log('warning', m) });
    phase('cgroup');
    let rec: StateRecord;
    let child: ReturnType<typeof spawnIntoCgroup>;
    try {
      child = spawnIntoCgroup(n, p, { initPath: initPath(), plan: planBuf, cloneFlags: p.plan.cloneFlags, keepFds: p.keepFds, joins });
    } finally {
      for (const j of joins.splice(0)) fs.closeSync(j.fd);
    }
    pidfd = child.pidfd;
    phase('clone');
    try {
      if (!child.inCgroup) p.cgroup.addPid(child.pid);
      // linux.netDevices: into the init's new network namespace before it runs its plan.
      for (const d of p.netDevices) {
        try {
          n.netdevMove(d.index, child.pid, d.name === d.hostName ? '' : d.name);
        } catch (e) {
          throw new TsruncError('E_SETUP', `move network device \`${d.hostName}\` into the container's network namespace${d.name === d.hostName ? '' : ` as \`${d.name}\``}: ${causeText(e)}`, { cause: e });
        }
      }
      if (p.plan.idMappings) writeIdMaps(child.pid, p.plan.idMappings, () => n.syncIdMaps(child.sock));
      n.syncGo(child.sock);
      for (const fd of sendFds.splice(0)) {
        n.sendFd(child.sock, fd, 'F'); // SYNC_FD (addon/protocol.h)
        fs.closeSync(fd);
      }
      const timeout = setupTimeoutMs();
      const onPty = (fd: number) => {
        // The PTY op's master: to the console socket at once (the receiver may accept only after
        // we exit), or kept for `run -t`.
        if (consoleSock >= 0) {
          const sock = consoleSock;
          consoleSock = -1;
          sendConsoleMaster(n, sock, fd, o.consoleSocket!);
        } else if (master < 0 && terminal && !detach) {
          master = fd;
        } else {
          fs.closeSync(fd);
          throw new TsruncError('E_INTERNAL', 'container init sent a terminal that nothing asked for');
        }
      };
      let r = syncWaitPty(n, child.sock, timeout, onPty);
      for (;;) {
        if (r.type === 'pid') {
          // A joined pid namespace: the init forked (FORK op) and its child, ours through
          // CLONE_PARENT, is the container's process from now on (no resume: it goes on).
          const next = adoptForked(n, pidfd, r.pid);
          pidfd = next.pidfd;
          child.pid = next.pid;
          r = syncWaitPty(n, child.sock, timeout, onPty);
          continue;
        }
        if (r.type === 'hooks') {
          // The init stopped before pivot_root (HOOK_SYNC): prestart, then createRuntime, in the
          // runtime namespace, with the init's host pid (runtime.md "State").
          phase('container setup up to the hooks');
          const { hookState, runHooks } = require('./hooks') as typeof import('./hooks');
          const st = hookState(o.id, p.bundle, 'creating', child.pid, p.spec.annotations);
          hookFailed = true;
          runHooks(n, 'prestart', p.spec.hooks?.prestart, st);
          runHooks(n, 'createRuntime', p.spec.hooks?.createRuntime, st);
          hookFailed = false;
          phase('prestart and createRuntime hooks');
        } else if (r.type === 'seccompFd') {
          sendSeccompListener(n, p, o.id, child.pid, r.fd);
          phase('seccomp listener fd sent to the agent');
        } else {
          break;
        }
        n.syncResume(child.sock);
        r = syncWaitPty(n, child.sock, timeout, onPty);
      }
      phase('container setup');
      if (r.type === 'error' && p.plan.ops[r.step]?.op === 'HOOK') hookFailed = true;
      if (r.type === 'error') throw setupError(p.plan, r.step, r.errno, r.detail);
      if (r.type === 'eof') {
        throw new TsruncError('E_SETUP', 'container init exited during setup without reporting an error');
      }
      if (r.type === 'timeout') {
        throw new TsruncError('E_SETUP', `container setup did not finish within ${timeout / 1000} s (TSRUNC_SETUP_TIMEOUT)`);
      }
      if (terminal && consoleSock >= 0) throw new TsruncError('E_INTERNAL', 'container init did not send its terminal');
      const start = pidStartTime(child.pid);
      if (start === null) throw new TsruncError('E_SETUP', 'container init exited right after setup');
      rec = record(o, p, child.pid, start);
      if (hostMounts) rec.hostMounts = hostMounts;
      store.write(rec);
      if (o.pidFile) writePidFile(o.pidFile, child.pid);
      // Recorded: the init may now outlive us (it exits by itself if this never arrives).
      try {
        n.syncCommit(child.sock);
      } catch {
        throw new TsruncError('E_SETUP', 'container init exited right after setup');
      }
      // Recorded: state.json now says where the cgroup is.
      unlinkIfExists(path.join(store.dir(o.id), CREATING_FILE));
    } finally {
      fs.closeSync(child.sock);
    }
    phase('state');
    fs.closeSync(lock);
    const created: Created = { rec, pidfd, store, cgroup: p.cgroup };
    if (master >= 0) created.console = master;
    if (notify) created.notify = notify;
    return created;
  } catch (e) {
    if (consoleSock >= 0) fs.closeSync(consoleSock);
    if (master >= 0) fs.closeSync(master);
    // Bad input or a failed setup leaves nothing behind: no process, cgroup or state dir. The
    // init is our child until we exit: kill it and reap it before removing its cgroup.
    if (pidfd >= 0) {
      let gone = true;
      try { n.pidfdSendSignal(pidfd, 9); } catch { /* already gone */ }
      try { gone = n.waitPidfdSync(pidfd, 5000) !== null; } catch { /* reaped */ }
      fs.closeSync(pidfd);
      if (!gone) {
        // Frozen (a frozen parent cgroup): it dies once thawed. Keep the directory and
        // creating.json, so that `delete --force` can remove the rest then.
        if (lock >= 0) fs.closeSync(lock);
        const msg = e instanceof Error ? e.message : String(e);
        throw new TsruncError('E_SETUP', `${msg}; the container init did not exit after SIGKILL (is its cgroup frozen?): \`tsrunc delete --force ${o.id}\` removes it once it can be killed`, { cause: e });
      }
    }
    if (hostMounts) detachHostMounts(n, hostMounts, (m) => g.log('warning', m));
    if (cgroupMade) {
      try { p.cgroup.destroy(); } catch (ce) { g.log('warning', `remove cgroup: ${(ce as Error).message}`); }
    }
    store.remove(o.id);
    if (lock >= 0) fs.closeSync(lock);
    for (const j of joins) fs.closeSync(j.fd);
    if (hookFailed && p.spec.hooks?.poststop?.length) {
      const { hookState, runPoststop } = require('./hooks') as typeof import('./hooks');
      runPoststop(n, p.spec.hooks.poststop, hookState(o.id, p.bundle, 'stopped', undefined, p.spec.annotations), (m) => g.log('warning', m));
    }
    throw e;
  } finally {
    for (const fd of sendFds) fs.closeSync(fd);
  }
}

/** O_PATH (x86_64 and arm64 value; Node's fs.constants has no O_PATH). */
const O_PATH = 0o10000000;

/** The uid_map/gid_map text of a list of mappings. */
export function idMapText(maps: import('../plan/ops').IdMap[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

function openSendFd(n: Native, f: import('../plan/ops').SendFd, fifo: string): number {
  if (f.kind === 'fifo') return fs.openSync(fifo, O_PATH | fs.constants.O_NOFOLLOW);
  try {
    return n.idmapTree(f.path, f.tree, f.recursive, idMapText(f.uidMappings), idMapText(f.gidMappings));
  } catch (e) {
    const c = isErrnoLike(e) ? e.code : '';
    if (isErrnoLike(e) && (e as { syscall?: string }).syscall?.startsWith('mount_setattr') && (c === 'EINVAL' || c === 'EPERM' || c === 'EOPNOTSUPP')) {
      throw new TsruncError('E_SETUP', `idmapped mount of \`${f.path}\`: its filesystem does not support idmapped mounts (mount_setattr MOUNT_ATTR_IDMAP: ${c})`, { cause: e });
    }
    throw new TsruncError('E_SETUP', `idmapped mount of \`${f.path}\`: ${causeText(e)}`, { cause: e });
  }
}

/**
 * The new user namespace's maps, written by us (host root) while the clone child waits: it only
 * becomes root of the namespace and execs tsrunc-init after `release`. Each file takes one
 * write(2). setgroups stays "allow": a writer with CAP_SETGID in the parent namespace may write
 * gid_map without denying setgroups (user_namespaces(7)), and the container's USER step needs it.
 */
function writeIdMaps(pid: number, maps: { uid: import('../plan/ops').IdMap[]; gid: import('../plan/ops').IdMap[] }, release: () => void): void {
  for (const [file, list] of [['uid_map', maps.uid], ['gid_map', maps.gid]] as const) {
    const p = `/proc/${pid}/${file}`;
    try {
      fs.writeFileSync(p, idMapText(list));
    } catch (e) {
      throw new TsruncError('E_SETUP', `write the user namespace's ${file} \`${p}\`: ${causeText(e)}`, { cause: e });
    }
  }
  release();
}

/**
 * After a FORK op: reap the process that forked (it exits right after reporting) and take a pidfd
 * of its child, which is ours (CLONE_PARENT) and not reaped, so its pid cannot have been reused.
 */
export function adoptForked(n: Native, oldPidfd: number, pid: number): { pid: number; pidfd: number } {
  try { n.waitPidfdSync(oldPidfd, 5000); } catch { /* reaped already */ }
  fs.closeSync(oldPidfd);
  return { pid, pidfd: n.pidfdOpen(pid) };
}

/**
 * runc's rule for a joined network namespace: `net.*` sysctls are refused when it is the host's
 * own (`sysctl "net..." not allowed in host network namespace`), since they would change the host.
 */
function checkHostNetSysctls(spec: Spec, joins: readonly import('../plan/ops').NamespaceJoin[], fds: readonly { fd: number }[]): void {
  const i = joins.findIndex((j) => j.type === 'network');
  if (i < 0) return;
  const net = Object.keys(spec.linux?.sysctl ?? {}).find((k) => k.startsWith('net.') || k.startsWith('net/'));
  if (net === undefined) return;
  const joined = fs.fstatSync(fds[i]!.fd);
  const host = fs.statSync('/proc/self/ns/net');
  if (joined.ino === host.ino && joined.dev === host.dev) {
    throw new TsruncError('E_CONFIG_INVALID', `config.json: /linux/sysctl: sysctl ${JSON.stringify(net)} not allowed in host network namespace`);
  }
}

const NS_NAMES: Record<number, string> = {
  0x00000080: 'time', 0x00020000: 'mount', 0x02000000: 'cgroup', 0x04000000: 'uts', 0x08000000: 'ipc',
  0x10000000: 'user', 0x20000000: 'pid', 0x40000000: 'network',
};

/**
 * Open each namespace to join (O_NONBLOCK: a FIFO named as a path must not hang create) and check
 * that it is a namespace of the type the field names (ioctl NS_GET_NSTYPE). Errors name the field.
 */
export function openNamespaces(n: Native, joins: readonly import('../plan/ops').NamespaceJoin[]): { fd: number; nstype: number }[] {
  const out: { fd: number; nstype: number }[] = [];
  const c = fs.constants;
  try {
    for (const j of joins) {
      const bad = (why: string) => new TsruncError('E_CONFIG_INVALID', `config.json: ${j.field}: ${why}`);
      let fd: number;
      try {
        fd = fs.openSync(j.path, c.O_RDONLY | c.O_NONBLOCK | c.O_NOCTTY);
      } catch (e) {
        throw bad(`open \`${j.path}\`: ${causeText(e)}`);
      }
      out.push({ fd, nstype: j.nstype });
      let t: number;
      try {
        t = n.nsType(fd);
      } catch (e) {
        throw bad(`\`${j.path}\` is not a namespace (${causeText(e)})`);
      }
      if (t !== j.nstype) throw bad(`\`${j.path}\` is a ${NS_NAMES[t] ?? `0x${t.toString(16)}`} namespace, not a ${j.type} namespace`);
    }
  } catch (e) {
    for (const x of out) fs.closeSync(x.fd);
    throw e;
  }
  return out;
}

/**
 * SCMP_ACT_NOTIFY: the listener fd and the container process state (config-linux.md "The Container
 * Process State") to the seccomp agent at listenerPath; our copy of the fd is closed either way.
 * Failing to reach the agent fails create (the spec: "MUST generate an error").
 */
function sendSeccompListener(n: Native, p: Prepared, id: string, pid: number, fd: number): void {
  const l = p.plan.seccompListener;
  try {
    if (!l) throw new TsruncError('E_INTERNAL', 'container init sent a seccomp listener fd the plan has no listenerPath for');
    const { hookState } = require('./hooks') as typeof import('./hooks');
    const state = {
      ociVersion: OCI_VERSION,
      fds: ['seccompFd'],
      pid,
      ...(l.metadata !== undefined ? { metadata: l.metadata } : {}),
      state: hookState(id, p.bundle, 'creating', pid, p.spec.annotations),
    };
    try {
      n.seccompSendListener(path.resolve(l.path), fd, JSON.stringify(state));
    } catch (e) {
      throw new TsruncError('E_SETUP', `send the seccomp listener fd to \`${l.path}\` (linux.seccomp.listenerPath): ${causeText(e)}`, { cause: e });
    }
  } finally {
    fs.closeSync(fd);
  }
}


function writeCreating(store: StateStore, id: string, cgroup: unknown, hostMounts?: import('./hostmounts').HostMounts): void {
  const file = path.join(store.dir(id), CREATING_FILE);
  try {
    fs.writeFileSync(file, JSON.stringify({ cgroup, hostMounts }), { flag: 'wx', mode: 0o600 });
  } catch (e) {
    throw new TsruncError('E_STATE', `write \`${file}\`: ${causeText(e)}`, { cause: e });
  }
}

/** The setup timeout: TSRUNC_SETUP_TIMEOUT seconds, 120 by default (a slow network mount). */
function setupTimeoutMs(): number {
  const s = Number(process.env.TSRUNC_SETUP_TIMEOUT ?? '');
  return Number.isFinite(s) && s > 0 ? Math.round(s * 1000) : 120_000;
}

function record(o: CreateOptions, p: Prepared, pid: number, start: string): StateRecord {
  const rec: StateRecord = {
    ociVersion: OCI_VERSION,
    id: o.id,
    pid,
    pidStartTime: start,
    bundle: p.bundle,
    rootfs: p.rootfs,
    created: rfc3339Nano(),
    owner: '',
    cgroup: p.cgroup.toRecord(),
    namespaces: p.plan.namespaces.map((x) => x.type),
  };
  if (p.spec.annotations) rec.annotations = p.spec.annotations;
  if (Object.keys(p.resources).length) rec.resources = p.resources;
  // What `exec` takes from the container when its process does not say (runc's newInitConfig).
  const proc = p.spec.process;
  rec.execDefaults = {
    ...(proc?.capabilities ? { capabilities: proc.capabilities } : {}),
    ...(proc?.rlimits?.length ? { rlimits: proc.rlimits } : {}),
    ...(p.spec.linux?.seccomp ? { seccomp: p.spec.linux.seccomp } : {}),
    ...(o.noNewKeyring ? { noNewKeyring: true } : {}),
  };
  // What `start` and `delete` run later, as config.json said at create (runtime.md: later edits
  // of config.json must not affect the container).
  const hooks = p.spec.hooks ?? {};
  if (hooks.poststart?.length || hooks.poststop?.length) {
    rec.hooks = {};
    if (hooks.poststart?.length) rec.hooks.poststart = hooks.poststart;
    if (hooks.poststop?.length) rec.hooks.poststop = hooks.poststop;
  }
  return rec;
}

/**
 * On cgroup v2 hosts the init is cloned straight into its cgroup (clone3 CLONE_INTO_CGROUP): it
 * never runs a single instruction elsewhere, and there is no cgroup.procs write. Kernels or
 * cgroups that refuse it (older than 5.7, threaded, ...) fall back to the write before SYNC_GO,
 * which is what v1 and hybrid hosts always do.
 */
function spawnIntoCgroup(n: Native, p: Prepared, o: Parameters<Native['spawnInit']>[0]): ReturnType<Native['spawnInit']> & { inCgroup: boolean } {
  const dir = p.cgroup.mode === 'v2' ? p.cgroup.toRecord().paths[''] : undefined;
  if (dir !== undefined) {
    const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      return { ...n.spawnInit({ ...o, cgroupFd: fd }), inCgroup: true };
    } catch (e) {
      if (!(isErrnoLike(e) && ['EINVAL', 'ENOSYS', 'E2BIG', 'EOPNOTSUPP', 'EBUSY'].includes(e.code))) throw e;
    } finally {
      fs.closeSync(fd);
    }
  }
  return { ...n.spawnInit(o), inCgroup: false };
}

/** `create`: set the container up and leave its init waiting on exec.fifo. */
export function create(g: GlobalOptions, o: CreateOptions): void {
  const c = doCreate(g, o);
  fs.closeSync(c.pidfd);
}
