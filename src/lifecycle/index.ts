// Lifecycle entry points, one per command. The CLI (src/cli) calls exactly one of these.
// Heavy modules (validator, plan compiler, addon) are required lazily inside the functions that
// need them, so `state`, `list`, `kill`, `delete` and `start` stay lean (no validator outside
// create/run/explain).
import fs = require('fs');  // `import x = require` compiles to a plain require (no __importStar copy)
import path = require('path');
import { TsruncError, causeText, isErrnoLike } from '../errors';
import { StateStore, writePidFile, type StateRecord } from '../state/store';
import { validateId } from '../state/id';
import { pidStartTime } from '../sys/proc';
import { checkTransition, deriveStatus } from './status';
import { readFreezerState } from '../cgroup/freezer';
import type {
  CreateOptions, DeleteOptions, ExplainOptions, GlobalOptions, KillOptions, OciState, RunOptions, Status,
} from './api';
import type { CgroupManager } from '../cgroup/manager';
import type { Native } from '../sys/native';
import type { Plan } from '../plan/ops';
import type { Spec } from '../spec/types';

export type { CreateOptions, DeleteOptions, ExplainOptions, GlobalOptions, KillOptions, OciState, RunOptions };

/** The runtime-spec version tsrunc implements (state.json `ociVersion`). */
export const OCI_VERSION = '1.3.0';

const native = (): Native => (require('../sys/native') as typeof import('../sys/native')).loadNative();

/** The addon's eBPF functions, loaded only if a v2 device program is actually attached. */
const lazyBpf = {
  bpfAttachDeviceProgram: (dir: string, insns: Buffer) => native().bpfAttachDeviceProgram(dir, insns),
  bpfQueryDevicePrograms: (dir: string) => native().bpfQueryDevicePrograms(dir),
};

function cgroupOf(rec: StateRecord): CgroupManager {
  const { fromRecord } = require('../cgroup/manager') as typeof import('../cgroup/manager');
  return fromRecord(rec.cgroup, { native: lazyBpf });
}

function readTrimmed(p: string): string | undefined {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function statusOf(store: StateStore, rec: StateRecord): Status {
  return deriveStatus(rec.pid, rec.pidStartTime, {
    startTime: (pid) => pidStartTime(pid),
    fifoExists: () => fs.existsSync(store.fifoPath(rec.id)),
    frozen: () => {
      const paths = (rec.cgroup as { paths?: Record<string, string> } | undefined)?.paths ?? {};
      return readFreezerState(paths, readTrimmed) === 'frozen';
    },
  });
}

function ociState(rec: StateRecord, status: Status): OciState {
  const s: OciState = {
    ociVersion: rec.ociVersion,
    id: rec.id,
    pid: status === 'stopped' ? 0 : rec.pid,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: rec.owner,
  };
  if (rec.annotations && Object.keys(rec.annotations).length) {
    // runc's field order: annotations come before owner.
    return { ...s, annotations: rec.annotations, owner: rec.owner } as OciState;
  }
  return s;
}

/** RFC 3339 with nanoseconds, like runc's `created`. */
function rfc3339Nano(): string {
  const now = process.hrtime.bigint();
  const ms = Date.now();
  const iso = new Date(ms).toISOString(); // ...sss Z
  const nanos = String(ms % 1000).padStart(3, '0') + String(now % 1000000n).padStart(6, '0');
  return `${iso.slice(0, 19)}.${nanos}Z`;
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Take the per-id lock: a flock on the container's directory itself (nothing is created, so it
 * works on a read-only or full state root; a symlink in place of the directory is refused).
 * Serialises create (held until the container is recorded), start, kill and delete of one id.
 */
function lockId(store: StateStore, id: string): number {
  try {
    return native().lockDir(store.dir(id));
  } catch (e) {
    if (isErrnoLike(e) && e.code === 'ENOENT') throw new TsruncError('E_NOT_EXIST', 'container does not exist');
    if (isErrnoLike(e) && (e.code === 'ELOOP' || e.code === 'ENOTDIR')) {
      throw new TsruncError('E_STATE', `state directory \`${store.dir(id)}\` is not a directory (a symlink?): refusing to use it`);
    }
    throw new TsruncError('E_STATE', `lock state directory \`${store.dir(id)}\`: ${causeText(e)}`, { cause: e });
  }
}

/** Hold the per-id lock for the duration of fn. */
function withLock<T>(store: StateStore, id: string, fn: () => T): T {
  const fd = lockId(store, id);
  try {
    return fn();
  } finally {
    fs.closeSync(fd);
  }
}

// ---- create ------------------------------------------------------------------------------------

interface Prepared {
  spec: Spec;
  bundle: string;
  rootfs: string;
  plan: Plan;
  cgroup: CgroupManager;
  devices: import('../cgroup/devices').DevRule[];
  keepFds: number;
}

/** Validate and compile: everything create does before touching the system. */
function prepare(g: GlobalOptions, o: { id: string; bundle: string; noPivot: boolean; noNewKeyring?: boolean; preserveFds?: number }, fifoPath?: string): Prepared {
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
    bundle, rootfs, fifoPath, noPivot: o.noPivot, keepFds, extraEnv,
    sessionKeyring: o.noNewKeyring ? undefined : `_ses.${o.id}`,
    host: cgroupFacts(host, record.paths),
  });
  phase('compile plan');
  return { spec, bundle, rootfs, plan, cgroup, devices: cg.deviceRulesForSpec(spec.linux), keepFds };
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

interface Created { rec: StateRecord; pidfd: number; store: StateStore; cgroup: CgroupManager }

function doCreate(g: GlobalOptions, o: CreateOptions): Created {
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

  store.createDir(o.id);
  let cgroupMade = false;
  let pidfd = -1;
  let lock = -1;
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
    applyCpuShares(p);
    phase('cgroup');
    let rec: StateRecord;
    const child = spawnIntoCgroup(n, p, { initPath: initPath(), plan: encodeOps(p.plan.ops), cloneFlags: p.plan.cloneFlags, keepFds: p.keepFds });
    pidfd = child.pidfd;
    phase('clone');
    try {
      if (!child.inCgroup) p.cgroup.addPid(child.pid);
      n.syncGo(child.sock);
      const timeout = setupTimeoutMs();
      const r = n.syncWait(child.sock, timeout);
      phase('container setup');
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
    throw e;
  }
}

/**
 * `<dir>/creating.json`: the cgroup record of a container being created, so that a `delete --force`
 * after a killed create knows which cgroup to empty and remove. Our own fresh directory (made by an
 * exclusive mkdir), so O_EXCL is enough.
 */
const CREATING_FILE = 'creating.json';

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

/** containerd always sends cpu.shares (1024); apply it rather than refuse (see checkSupported). */
function applyCpuShares(p: Prepared): void {
  const shares = (p.spec.linux?.resources?.cpu as { shares?: number } | undefined)?.shares;
  if (shares === undefined || shares === null || shares === 0) return; // 0: unset, as in runc
  const rec = p.cgroup.toRecord();
  if (rec.paths.cpu) {
    writeCgroupFile(path.join(rec.paths.cpu, 'cpu.shares'), String(shares));
  } else if (p.cgroup.mode === 'v2' && rec.paths['']) {
    // runc's conversion from shares [2, 262144] to cpu.weight [1, 10000].
    const weight = shares === 0 ? 0 : 1 + Math.floor(((shares - 2) * 9999) / 262142);
    if (weight) writeCgroupFile(path.join(rec.paths[''], 'cpu.weight'), String(weight));
  }
}

function writeCgroupFile(file: string, value: string): void {
  try {
    fs.writeFileSync(file, value);
  } catch (e) {
    throw new TsruncError('E_CGROUP', `write \`${value}\` to \`${file}\`: ${isErrnoLike(e) ? e.code : String(e)}`, { cause: e });
  }
}

/** `create`: set the container up and leave its init waiting on exec.fifo. */
export function create(g: GlobalOptions, o: CreateOptions): void {
  const c = doCreate(g, o);
  fs.closeSync(c.pidfd);
}

// ---- start -------------------------------------------------------------------------------------

function startRec(store: StateStore, rec: StateRecord, pidfd?: number): void {
  checkTransition(rec.id, statusOf(store, rec), 'start');
  const n = native();
  const fifo = store.fifoPath(rec.id);
  let fd = pidfd;
  if (fd === undefined) {
    try {
      fd = n.pidfdOpen(rec.pid);
    } catch {
      throw new TsruncError('E_STATUS', 'cannot start a container that has stopped');
    }
  }
  try {
    // fifoStart removes the fifo as soon as it has opened it: the container is started then.
    const r = n.fifoStart(fifo, fd);
    if (r === 'dead') {
      throw new TsruncError('E_SETUP', 'container init exited before it could be started');
    }
  } finally {
    if (pidfd === undefined) fs.closeSync(fd);
  }
}

/** `start`: release a created container's init. */
export function start(g: GlobalOptions, id: string): void {
  validateId(id);
  const store = new StateStore(g.root);
  withLock(store, id, () => startRec(store, store.read(id)));
}

// ---- state / list ------------------------------------------------------------------------------

/** `state`: the OCI state of one container (status derived from the live world). */
export function state(g: GlobalOptions, id: string): OciState {
  validateId(id);
  const store = new StateStore(g.root);
  const rec = store.read(id);
  return ociState(rec, statusOf(store, rec));
}

/**
 * `list`: the states of every container under --root, sorted by id ([] when none or no root).
 * Entries that are not tsrunc containers are left out with a warning on the log: a directory with
 * no readable state.json (being created, or left by a killed create), a symlink (never followed),
 * a state.json another runtime wrote in the same root.
 */
export function list(g: GlobalOptions): OciState[] {
  const store = new StateStore(g.root);
  const out: OciState[] = [];
  for (const { id, kind } of store.entries()) {
    if (kind === 'notdir') {
      g.log('warning', `state entry \`${store.dir(id)}\` is not a directory (a symlink is never followed): skipped`);
      continue;
    }
    let rec: StateRecord;
    try {
      if (kind === 'nostate') throw new TsruncError('E_NOT_EXIST', 'container does not exist');
      rec = store.read(id);
    } catch (e) {
      if (e instanceof TsruncError && e.code === 'E_NOT_EXIST') {
        if (fs.existsSync(store.dir(id))) {
          g.log('warning', `container \`${id}\` has no readable state.json (being created, or left by a killed create: \`tsrunc delete --force ${id}\` removes it): skipped`);
        }
      } else {
        g.log('warning', `${e instanceof Error ? e.message : String(e)}: skipped`);
      }
      continue;
    }
    let owner = 'root';
    try {
      owner = userName(fs.lstatSync(store.dir(id)).uid);
    } catch { /* gone meanwhile */ }
    out.push({ ...ociState(rec, statusOf(store, rec)), owner });
  }
  return out;
}

/** runc's `list` owner: the user name of the state dir's uid, or `#<uid>` when it has none. */
function userName(uid: number): string {
  if (uid === 0) return 'root';
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 3 && Number(f[2]) === uid && f[2] !== '') return f[0]!;
    }
  } catch { /* no passwd */ }
  return `#${uid}`;
}

// ---- kill / delete -----------------------------------------------------------------------------

function signalInit(rec: StateRecord, sig: number): void {
  const n = native();
  let fd: number;
  try {
    fd = n.pidfdOpen(rec.pid);
  } catch {
    throw new TsruncError('E_STATUS', 'container not running');
  }
  try {
    // The pid could have been reused between the status check and pidfd_open: check again
    // through the pidfd-pinned process.
    if (pidStartTime(rec.pid) !== rec.pidStartTime) throw new TsruncError('E_STATUS', 'container not running');
    try {
      n.pidfdSendSignal(fd, sig);
    } catch (e) {
      if (isErrnoLike(e) && e.code === 'EINVAL') throw new TsruncError('E_SIGNAL', 'unable to signal init: invalid argument');
      if (isErrnoLike(e) && e.code === 'ESRCH') throw new TsruncError('E_STATUS', 'container not running');
      throw e;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** `kill`: send a signal to the init (or, with all, to every process of the container). */
export function kill(g: GlobalOptions, o: KillOptions): void {
  validateId(o.id);
  // 0 checks that the init exists (kill(2)), as `runc kill <id> 0` does.
  if (!Number.isInteger(o.signal) || o.signal < 0 || o.signal > 64) {
    throw new TsruncError('E_SIGNAL', 'unable to signal init: invalid argument');
  }
  const store = new StateStore(g.root);
  withLock(store, o.id, () => {
    const rec = store.read(o.id);
    const status = statusOf(store, rec);
    checkTransition(o.id, status, 'kill', { all: o.all });
    if (o.all) {
      // Every process of the cgroup, the init included: exactly one delivery each.
      cgroupOf(rec).killAll(o.signal);
      return;
    }
    signalInit(rec, o.signal);
  });
}

/** Wait (bounded) until the init is gone or a zombie. */
function waitGone(rec: StateRecord, ms: number): boolean {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (pidStartTime(rec.pid) !== rec.pidStartTime) return true;
    sleepMs(5);
  }
  return pidStartTime(rec.pid) !== rec.pidStartTime;
}

function destroy(g: GlobalOptions, store: StateStore, rec: StateRecord, status: Status): void {
  const cg = cgroupOf(rec);
  // Kill whatever is left in the cgroup even when the init is gone: without a private pid
  // namespace its children outlive it (runc's destroy does the same).
  if (status !== 'stopped' || cg.pids().length > 0) {
    try { cg.killAll(9); } catch (e) { g.log('warning', `kill container processes: ${(e as Error).message}`); }
  }
  if (status !== 'stopped') {
    try { signalInit(rec, 9); } catch { /* already gone */ }
    if (!waitGone(rec, 5000)) throw new TsruncError('E_STATUS', `container \`${rec.id}\` init did not exit after SIGKILL`);
  }
  cg.destroy();
  removeDir(store, rec.id);
}

function removeDir(store: StateStore, id: string): void {
  try {
    store.remove(id);
  } catch (e) {
    throw new TsruncError('E_STATE', `remove state directory \`${store.dir(id)}\`: ${causeText(e)}`, { cause: e });
  }
}

/**
 * `delete --force` of a directory without state.json: a create that was killed before it recorded
 * the container (we hold the lock, so none is running). Its init is gone (it dies with its
 * creator); empty and remove the cgroup creating.json names, then the directory.
 */
function removeUnrecorded(g: GlobalOptions, store: StateStore, id: string): void {
  const file = path.join(store.dir(id), CREATING_FILE);
  let cgroup: unknown;
  try {
    cgroup = (JSON.parse(fs.readFileSync(file, 'utf8')) as { cgroup?: unknown }).cgroup;
  } catch (e) {
    if (!(isErrnoLike(e) && e.code === 'ENOENT')) g.log('warning', `read \`${file}\`: ${causeText(e)}`);
  }
  if (cgroup !== undefined) {
    const { fromRecord } = require('../cgroup/manager') as typeof import('../cgroup/manager');
    const cg = fromRecord(cgroup, { native: lazyBpf });
    if (cg.pids().length > 0) cg.killAll(9);
    cg.destroy();
  }
  removeDir(store, id);
}

/** `delete`: remove a stopped container (with force: kill it first). */
export function del(g: GlobalOptions, o: DeleteOptions): void {
  validateId(o.id);
  const store = new StateStore(g.root);
  try {
    withLock(store, o.id, () => {
      let rec: StateRecord;
      try {
        rec = store.read(o.id);
      } catch (e) {
        if (o.force && e instanceof TsruncError && e.code === 'E_NOT_EXIST') return removeUnrecorded(g, store, o.id);
        throw e;
      }
      const status = statusOf(store, rec);
      // A created (never started) container is deleted like runc does: kill and remove.
      checkTransition(o.id, status, 'delete', { force: o.force || status === 'created' });
      destroy(g, store, rec, status);
    });
  } catch (e) {
    if (o.force && e instanceof TsruncError && e.code === 'E_NOT_EXIST') return; // runc: rc 0
    throw e;
  }
}

// ---- run ---------------------------------------------------------------------------------------

const FORWARDED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM'] as const;

/** `run`: create + start; in the foreground waits and resolves to the exit code (128+signal). */
export async function run(g: GlobalOptions, o: RunOptions): Promise<number> {
  const c = doCreate(g, o);
  const n = native();
  // Foreground: the container shares our stdio; relay signals to its init until it exits. The
  // relay is in place before the container starts, so a signal that comes as soon as it runs is
  // not lost (nor does it kill us and leave the container behind).
  const handlers: [string, () => void][] = [];
  if (!o.detach) {
    const os = require('os') as typeof import('os');
    for (const name of FORWARDED) {
      const num = os.constants.signals[name];
      const h = () => { try { n.pidfdSendSignal(c.pidfd, num); } catch { /* exited */ } };
      process.on(name, h);
      handlers.push([name, h]);
    }
  }
  try {
    startRec(c.store, c.rec, c.pidfd);
  } catch (e) {
    for (const [name, h] of handlers) process.removeListener(name, h);
    try { destroy(g, c.store, c.rec, 'running'); } catch { /* best effort */ }
    fs.closeSync(c.pidfd);
    throw e;
  }
  if (o.detach) {
    fs.closeSync(c.pidfd);
    return 0;
  }
  let status: import('../sys/native').ExitStatus;
  try {
    status = await n.waitPidfd(c.pidfd);
  } finally {
    for (const [name, h] of handlers) process.removeListener(name, h);
    fs.closeSync(c.pidfd);
  }
  if (!o.keep) {
    withLock(c.store, o.id, () => destroy(g, c.store, c.rec, 'stopped'));
  }
  return status.code !== null ? status.code : 128 + (status.signal ?? 0);
}

// ---- explain -----------------------------------------------------------------------------------

/** `explain`: validate the bundle and return the plan dump; json=true gives the JSON form. */
export function explain(g: GlobalOptions, o: ExplainOptions, json: boolean): string {
  const id = o.id ?? 'explain';
  validateId(id);
  const p = prepare(g, { id, bundle: o.bundle, noPivot: o.noPivot }, new StateStore(g.root).fifoPath(id));
  const dump = require('../plan/dump') as typeof import('../plan/dump');
  return json ? dump.dumpJson(p.plan) : dump.dumpText(p.plan);
}
