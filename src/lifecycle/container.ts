// What every lifecycle command shares: the addon and cgroup loaders, the per-id lock, the status
// derived from the world, and the container handle (record + status + cgroup) that the command
// modules (create.ts, start.ts, state.ts, kill.ts, delete.ts, run.ts, explain.ts) work on.
// Heavy modules (validator, plan compiler, addon, cgroup manager) are required lazily, so that
// `state`, `list`, `kill`, `delete` and `start` stay lean.
import fs = require('fs');  // `import x = require` compiles to a plain require (no __importStar copy)
import { TsruncError, causeText, isErrnoLike } from '../errors';
import { StateStore, type StateRecord } from '../state/store';
import { validateId } from '../state/id';
import { pidStartTime } from '../sys/proc';
import { deriveStatus } from './status';
import { readFreezerState } from '../cgroup/freezer';
import type { GlobalOptions, OciState, Status } from './api';
import type { CgroupManager } from '../cgroup/manager';
import type { LeanNative, Native } from '../sys/native';

/** The runtime-spec version tsrunc implements (state.json `ociVersion`). */
export const OCI_VERSION = '1.3.0';

/**
 * `<dir>/creating.json`: the cgroup record of a container being created, so that a `delete --force`
 * after a killed create knows which cgroup to empty and remove. Written by create in its own fresh
 * directory (made by an exclusive mkdir), so O_EXCL is enough.
 */
export const CREATING_FILE = 'creating.json';

export const native = (): Native => (require('../sys/native') as typeof import('../sys/native')).loadNative();
/** The part of the addon registered at load: the lock, pidfds and exec.fifo (see sys/native.ts). */
export const lean = (): LeanNative => (require('../sys/native') as typeof import('../sys/native')).loadLean();

/** The addon's eBPF functions, loaded only if a v2 device program is actually attached. */
export const lazyBpf = {
  bpfAttachDeviceProgram: (dir: string, insns: Buffer) => native().bpfAttachDeviceProgram(dir, insns),
  bpfQueryDevicePrograms: (dir: string) => native().bpfQueryDevicePrograms(dir),
};

/** The cgroup manager of a recorded cgroup (state.json or creating.json). */
export function cgroupFrom(record: unknown): CgroupManager {
  const { fromRecord } = require('../cgroup/manager') as typeof import('../cgroup/manager');
  return fromRecord(record, { native: lazyBpf });
}

function readTrimmed(p: string): string | undefined {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function statusOf(store: StateStore, rec: StateRecord): Status {
  return deriveStatus(rec.pid, rec.pidStartTime, {
    startTime: (pid) => pidStartTime(pid),
    fifoExists: () => fs.existsSync(store.fifoPath(rec.id)),
    frozen: () => {
      const paths = (rec.cgroup as { paths?: Record<string, string> } | undefined)?.paths ?? {};
      return readFreezerState(paths, readTrimmed) === 'frozen';
    },
  });
}

export function ociState(rec: StateRecord, status: Status): OciState {
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
export function rfc3339Nano(): string {
  const now = process.hrtime.bigint();
  const ms = Date.now();
  const iso = new Date(ms).toISOString(); // ...sss Z
  const nanos = String(ms % 1000).padStart(3, '0') + String(now % 1000000n).padStart(6, '0');
  return `${iso.slice(0, 19)}.${nanos}Z`;
}

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Take the per-id lock: a flock on the container's directory itself (nothing is created, so it
 * works on a read-only or full state root; a symlink in place of the directory is refused).
 * Serialises create (held until the container is recorded), start, kill and delete of one id.
 */
export function lockId(store: StateStore, id: string): number {
  try {
    return lean().lockDir(store.dir(id));
  } catch (e) {
    if (isErrnoLike(e) && e.code === 'ENOENT') throw new TsruncError('E_NOT_EXIST', 'container does not exist');
    if (isErrnoLike(e) && (e.code === 'ELOOP' || e.code === 'ENOTDIR')) {
      throw new TsruncError('E_STATE', `state directory \`${store.dir(id)}\` is not a directory (a symlink?): refusing to use it`);
    }
    throw new TsruncError('E_STATE', `lock state directory \`${store.dir(id)}\`: ${causeText(e)}`, { cause: e });
  }
}

/** Hold the per-id lock for the duration of fn. */
export function withLock<T>(store: StateStore, id: string, fn: () => T): T {
  const fd = lockId(store, id);
  try {
    return fn();
  } finally {
    fs.closeSync(fd);
  }
}

/** One recorded container as a command sees it: its state record, its status now, its cgroup. */
export class Container {
  constructor(readonly g: GlobalOptions, readonly store: StateStore, readonly rec: StateRecord) {}

  get id(): string {
    return this.rec.id;
  }

  /** Derived from the world every time (design §4): never stored. */
  status(): Status {
    return statusOf(this.store, this.rec);
  }

  cgroup(): CgroupManager {
    return cgroupFrom(this.rec.cgroup);
  }

  state(): OciState {
    return ociState(this.rec, this.status());
  }
}

/** The container `id` (id rules checked), without the lock: for read-only commands. */
export function loadContainer(g: GlobalOptions, id: string): Container {
  validateId(id);
  const store = new StateStore(g.root);
  return new Container(g, store, store.read(id));
}

/** Run fn on the container `id` while holding its lock (start, kill, delete, pause, ...). */
export function withContainer<T>(g: GlobalOptions, id: string, fn: (c: Container) => T): T {
  validateId(id);
  const store = new StateStore(g.root);
  return withLock(store, id, () => fn(new Container(g, store, store.read(id))));
}

// ---- signals and teardown ----------------------------------------------------------------------

export function signalInit(rec: StateRecord, sig: number): void {
  const n = lean();
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

/** Wait (bounded) until the init is gone or a zombie. */
function waitGone(rec: StateRecord, ms: number): boolean {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (pidStartTime(rec.pid) !== rec.pidStartTime) return true;
    sleepMs(5);
  }
  return pidStartTime(rec.pid) !== rec.pidStartTime;
}

/** Kill what is left of the container, remove its cgroup and its state directory. */
export function destroy(g: GlobalOptions, store: StateStore, rec: StateRecord, status: Status): void {
  const cg = cgroupFrom(rec.cgroup);
  // Kill whatever is left in the cgroup even when the init is gone: without a private pid
  // namespace its children outlive it (runc's destroy does the same).
  if (status !== 'stopped' || cg.pids().length > 0) {
    try { cg.killAll(9); } catch (e) { g.log('warning', `kill container processes: ${(e as Error).message}`); }
  }
  if (status !== 'stopped') {
    try { signalInit(rec, 9); } catch { /* already gone */ }
    if (!waitGone(rec, 5000)) throw new TsruncError('E_STATUS', `container \`${rec.id}\` init did not exit after SIGKILL`);
  }
  if (rec.hostMounts) {
    const { detachHostMounts } = require('./hostmounts') as typeof import('./hostmounts');
    detachHostMounts(native(), rec.hostMounts, (m) => g.log('warning', m));
  }
  cg.destroy();
  removeDir(store, rec.id);
  // After the container is gone (runtime.md, lifecycle step 13): a failure is a warning.
  if (rec.hooks?.poststop?.length) {
    const { hookState, runPoststop } = require('./hooks') as typeof import('./hooks');
    runPoststop(native(), rec.hooks.poststop, hookState(rec.id, rec.bundle, 'stopped', undefined, rec.annotations), (m) => g.log('warning', m));
  }
}

export function removeDir(store: StateStore, id: string): void {
  try {
    store.remove(id);
  } catch (e) {
    throw new TsruncError('E_STATE', `remove state directory \`${store.dir(id)}\`: ${causeText(e)}`, { cause: e });
  }
}
