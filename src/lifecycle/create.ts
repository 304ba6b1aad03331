// `create`: validate and compile (prepare), make the state directory and the cgroup, clone the
// init into its namespaces, wait for it to report READY, record the container, then COMMIT
// (addon/protocol.h). `run` and `explain` reuse prepare/doCreate.
import fs = require('fs');
import path = require('path');
import { TsruncError, causeText, isErrnoLike } from '../errors';
import { StateStore, writePidFile, type StateRecord } from '../state/store';
import { validateId } from '../state/id';
import { pidStartTime } from '../sys/proc';
import { OCI_VERSION, lazyBpf, lockId, native, rfc3339Nano } from './container';
import type { CreateOptions, GlobalOptions } from './api';
import type { CgroupManager } from '../cgroup/manager';
import type { Native } from '../sys/native';
import type { Plan } from '../plan/ops';
import type { Spec } from '../spec/types';

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
}

/** Validate and compile: everything create does before touching the system. */
export function prepare(g: GlobalOptions, o: { id: string; bundle: string; noPivot: boolean; noNewKeyring?: boolean; preserveFds?: number }, fifoPath?: string): Prepared {
  const t0 = process.hrtime.bigint();
  const phase = (name: string) => g.log('debug', `${name}: ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(2)} ms`);
  const { loadCheckedSpec } = require('../spec/load') as typeof import('../spec/load');
  const { formatProblem, resolveRootfs, specWarnings } = require('../spec/checks') as typeof import('../spec/checks');
  const { compile } = require('../plan/compile') as typeof import('../plan/compile');
  const cg = require('../cgroup') as typeof import('../cgroup');
  const bundle = path.resolve(o.bundle);
  const spec = loadCheckedSpec(bundle, { needProcess: true });
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
  const host = cg.readCgroupHost();
  const record = cg.resolveCgroupPaths(host, cg.readOwnCgroups(), spec.linux?.cgroupsPath, o.id);
  const cgroup = new cg.CgroupManager(record, { native: lazyBpf });
  const { keepFds, extraEnv } = listenFds(o.preserveFds ?? 0);
  const plan = compile(spec, {
    bundle, rootfs, fifoPath, noPivot: o.noPivot, keepFds, extraEnv, id: o.id,
    sessionKeyring: o.noNewKeyring ? undefined : `_ses.${o.id}`,
    host: cgroupFacts(host, record.paths),
  });
  phase('compile plan');
  return {
    spec, bundle, rootfs, plan, cgroup, devices: cg.deviceRulesForSpec(spec.linux),
    resources: cg.resourcesOf(spec.linux?.resources), keepFds,
  };
}

/** systemd socket activation: LISTEN_FDS is honoured only when LISTEN_PID is us (as runc). */
function listenFds(preserve: number): { keepFds: number; extraEnv: string[] } {
  const n = Number(process.env.LISTEN_FDS ?? '');
  if (process.env.LISTEN_PID === String(process.pid) && Number.isInteger(n) && n > 0) {
    return { keepFds: n + preserve, extraEnv: [`LISTEN_FDS=${n}`, 'LISTEN_PID=1'] };
  }
  return { keepFds: preserve, extraEnv: [] };
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

export interface Created { rec: StateRecord; pidfd: number; store: StateStore; cgroup: CgroupManager }

export function doCreate(g: GlobalOptions, o: CreateOptions): Created {
  validateId(o.id);
  if (o.consoleSocket) {
    throw new TsruncError('E_USAGE', 'cannot use console socket if runc will not detach or allocate tty');
  }
  const store = new StateStore(g.root);
  if (store.exists(o.id)) throw new TsruncError('E_EXISTS', 'container with given ID already exists');
  const fifo = store.fifoPath(o.id);
  const p = prepare(g, o, fifo);
  const n = native();
  const { encodeOps } = require('../plan/encode') as typeof import('../plan/encode');
  const { setupError } = require('../plan/messages') as typeof import('../plan/messages');
  const { initPath } = require('../sys/native') as typeof import('../sys/native');
  const t0 = process.hrtime.bigint();
  const phase = (name: string) => g.log('debug', `${name}: ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(2)} ms`);
  // linux.seccomp: compiled by libseccomp here, before anything is made (a bad filter leaves nothing).
  const { linkSeccomp } = require('../plan/seccomp') as typeof import('../plan/seccomp');
  const planBuf = encodeOps(linkSeccomp(p.plan.ops, (f) => n.seccompCompile(f), (m) => g.log('debug', m)));

  store.createDir(o.id);
  let cgroupMade = false;
  let pidfd = -1;
  let lock = -1;
  // A failed prestart/createRuntime/createContainer hook: the lifecycle goes on at "destroy", then
  // the poststop hooks run (runtime.md steps 3-5, 12, 13), as runc does.
  let hookFailed = false;
  try {
    // Held until the container is recorded: a `delete --force` of this id waits for us, and finds
    // the directory without state.json only if we died (then it cleans up after us).
    lock = lockId(store, o.id);
    // Where the cgroup will be, for that cleanup: written before the cgroup exists.
    writeCreating(store, o.id, p.cgroup.toRecord());
    n.mkfifo(fifo, 0o622);
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
    const child = spawnIntoCgroup(n, p, { initPath: initPath(), plan: planBuf, cloneFlags: p.plan.cloneFlags, keepFds: p.keepFds });
    pidfd = child.pidfd;
    phase('clone');
    try {
      if (!child.inCgroup) p.cgroup.addPid(child.pid);
      n.syncGo(child.sock);
      const timeout = setupTimeoutMs();
      let r = n.syncWait(child.sock, timeout);
      for (;;) {
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
        r = n.syncWait(child.sock, timeout);
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
      const start = pidStartTime(child.pid);
      if (start === null) throw new TsruncError('E_SETUP', 'container init exited right after setup');
      rec = record(o, p, child.pid, start);
      store.write(rec);
      if (o.pidFile) writePidFile(o.pidFile, child.pid);
      // Recorded: the init may now outlive us (it exits by itself if this never arrives).
      try {
        n.syncCommit(child.sock);
      } catch {
        throw new TsruncError('E_SETUP', 'container init exited right after setup');
      }
      // Recorded: state.json now says where the cgroup is.
      fs.rmSync(path.join(store.dir(o.id), CREATING_FILE), { force: true });
    } finally {
      fs.closeSync(child.sock);
    }
    phase('state');
    fs.closeSync(lock);
    return { rec, pidfd, store, cgroup: p.cgroup };
  } catch (e) {
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
    if (cgroupMade) {
      try { p.cgroup.destroy(); } catch (ce) { g.log('warning', `remove cgroup: ${(ce as Error).message}`); }
    }
    store.remove(o.id);
    if (lock >= 0) fs.closeSync(lock);
    if (hookFailed && p.spec.hooks?.poststop?.length) {
      const { hookState, runPoststop } = require('./hooks') as typeof import('./hooks');
      runPoststop(n, p.spec.hooks.poststop, hookState(o.id, p.bundle, 'stopped', undefined, p.spec.annotations), (m) => g.log('warning', m));
    }
    throw e;
  }
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

/**
 * `<dir>/creating.json`: the cgroup record of a container being created, so that a `delete --force`
 * after a killed create knows which cgroup to empty and remove. Our own fresh directory (made by an
 * exclusive mkdir), so O_EXCL is enough.
 */
export const CREATING_FILE = 'creating.json';

function writeCreating(store: StateStore, id: string, cgroup: unknown): void {
  const file = path.join(store.dir(id), CREATING_FILE);
  try {
    fs.writeFileSync(file, JSON.stringify({ cgroup }), { flag: 'wx', mode: 0o600 });
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
