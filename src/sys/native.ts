// Typed loader for the native addon (build/Release/tsrunc_native.node) and the paths of the
// helper executables built next to it. The addon throws errors shaped {errno, syscall, path};
// `code` (the errno name) is added here so the rest of the code never sees a bare number.
import fs = require('fs');
import path = require('path');
import { TsruncError } from '../errors';

export interface SpawnResult { pid: number; pidfd: number; sock: number }
export type SyncResult =
  | { type: 'ready' }
  | { type: 'hooks' }
  | { type: 'seccompFd'; fd: number }
  | { type: 'eof' }
  | { type: 'error'; step: number; errno: number; detail: string }
  | { type: 'timeout' }
  /** The pty master from the PTY op (O_CLOEXEC, ours to close); READY/ERROR follow. */
  | { type: 'pty'; fd: number }
  /** FORK of a joined pid namespace: the host pid of the process that carries on. */
  | { type: 'pid'; pid: number };
export interface ExitStatus { code: number | null; signal: number | null }

export interface Native {
  spawnInit(o: {
    initPath: string; plan: Buffer; cloneFlags: number; keepFds?: number; cgroupFd?: number;
    /** Namespaces the clone child joins (setns), in order. */
    joins?: { fd: number; nstype: number }[];
    /** fds tsrunc-init inherits besides the plan and the sync socket. */
    passFds?: number[];
  }): SpawnResult;
  syncGo(sock: number): void;
  syncWait(sock: number, timeoutMs?: number): SyncResult;
  syncCommit(sock: number): void;
  /** The prestart/createRuntime hooks succeeded: the init goes on (protocol.h, step h'). */
  syncResume(sock: number): void;
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, sig: number): void;
  waitPidfdSync(pidfd: number, timeoutMs?: number): ExitStatus | null;
  waitPidfd(pidfd: number): Promise<ExitStatus>;
  mkfifo(path: string, mode: number): void;
  /** The CLONE_NEW* flag of the namespace an fd refers to (ioctl NS_GET_NSTYPE). */
  nsType(fd: number): number;
  lockDir(path: string): number;
  /** 'started' once the container's program runs (EOF after the byte); 'failed': a startContainer hook's error. */
  fifoStart(path: string, pidfd: number): { result: 'started' | 'dead' | 'failed'; message: string };
  /** One runtime-namespace hook (addon/hookrun.h); `error` is runc's text, "" on success. */
  /** SCMP_ACT_NOTIFY: the listener fd and the container process state to the agent at `path`. */
  seccompSendListener(path: string, fd: number, json: string): void;
  runHook(o: { path: string; args: string[]; env?: string[]; timeoutMs: number; input: string }): { error: string };
  bpfAttachDeviceProgram(cgroupDir: string, insns: Buffer): void;
  bpfQueryDevicePrograms(cgroupDir: string): number[];
  /** linux.seccomp compiled by libseccomp (addon/seccomp.cc): struct sock_filter[], skipped names. */
  seccompCompile(filter: import('../plan/seccomp').SeccompFilter): { bpf: Buffer; skipped: string[] };
  /** A network device of our namespace and its permanent global addresses (addon/netdev.cc). */
  netdevInfo(name: string): { index: number; addrs: { family: number; prefixlen: number; scope: number; flags: number; address: Buffer }[] };
  /** Move device `index` into the network namespace of `pid`, renamed to `name` (if not empty). */
  netdevMove(index: number, pid: number, name: string): void;
  /** addon/userns.cc: a detached, idmapped clone of `source` (maps in uid_map format). */
  idmapTree(source: string, tree: boolean, recursive: boolean, uidMap: string, gidMap: string): number;
  /** The uid/gid maps are written: the clone child may become root of its user namespace. */
  syncIdMaps(sock: number): void;
  /** umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW). */
  detachMount(path: string): void;
  // addon/console.cc: AF_UNIX sockets, terminal settings, sd_notify.
  /** A connected AF_UNIX socket (O_CLOEXEC); `@name` is abstract. */
  unixConnect(path: string, type?: 'stream' | 'dgram'): number;
  /** A SOCK_DGRAM socket bound at path (O_CLOEXEC). */
  unixDgramBind(path: string): number;
  /** One message: `payload` (non-empty) plus exactly one SCM_RIGHTS fd. */
  sendFd(sock: number, fd: number, payload: string): void;
  sendData(sock: number, data: string): void;
  getWinsize(fd: number): { rows: number; cols: number } | null;
  setWinsize(fd: number, rows: number, cols: number): void;
  clearOnlcr(fd: number): void;
  /** The first `READY=` line sent to the notify socket, or null once the pidfd's process is gone. */
  notifyWaitSync(sock: number, pidfd: number): string | null;
  notifyWait(sock: number, pidfd: number): Promise<string | null>;
}

/** The package root: dist/src/sys/native.js -> ../../.. */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..', '..');
const BUILD_DIRS = ['build/Release', 'build/Debug'];

function findBuilt(name: string): { found?: string; tried: string[] } {
  const tried: string[] = [];
  for (const d of BUILD_DIRS) {
    const p = path.join(PACKAGE_ROOT, d, name);
    tried.push(p);
    if (fs.existsSync(p)) return { found: p, tried };
  }
  return { tried };
}

/** errno number -> name, from Node's own table (no strerror in C++). */
export function errnoName(errno: number): string {
  // `os` only here, on an error: the lean commands that load the addon need it for nothing else.
  const { errno: names } = (require('os') as typeof import('os')).constants;
  for (const [name, num] of Object.entries(names)) if (num === errno) return name;
  return `errno ${errno}`;
}

function wrap<T extends (...a: never[]) => unknown>(fn: T): T {
  return ((...args: never[]) => {
    try {
      const r = fn(...args);
      if (r instanceof Promise) return r.catch((e) => { throw addCode(e); });
      return r;
    } catch (e) {
      throw addCode(e);
    }
  }) as T;
}

function addCode(e: unknown): unknown {
  // An error that has its code already (addon/bpf.cc's, with the verifier log) is kept as it is.
  if (e && typeof e === 'object' && typeof (e as { errno?: unknown }).errno === 'number' && (e as { code?: unknown }).code === undefined) {
    const err = e as Error & { errno: number; code?: string; syscall?: string; path?: string };
    err.code = errnoName(err.errno);
    err.message = `${err.syscall ?? 'syscall'}${err.path ? ` \`${err.path}\`` : ''}: ${err.code}`;
  }
  return e;
}

/** What the addon registers when it loads (addon/module.cc): all that start, kill and delete call. */
export type LeanNative = Pick<Native, 'lockDir' | 'fifoStart' | 'pidfdOpen' | 'pidfdSendSignal'>;

let raw: (Record<string, unknown> & { registerAll?: (o: object) => void }) | undefined;
let lean: LeanNative | undefined;
let full: Native | undefined;

function dlopenAddon(): NonNullable<typeof raw> {
  if (raw) return raw;
  const { found, tried } = findBuilt('tsrunc_native.node');
  if (!found) {
    throw new TsruncError('E_INTERNAL', `load native addon: not built (tried ${tried.join(', ')}); run \`npm run setup\``);
  }
  // process.dlopen, not require: the path is known, and require's resolution of it costs ~1 ms on
  // the project's VMs (every start/kill/delete loads the addon). `raw` keeps it to one load.
  const mod = { exports: {} as NonNullable<typeof raw> };
  process.dlopen(mod, found);
  raw = mod.exports;
  return raw;
}

function wrapAll(from: Record<string, unknown>): Record<string, unknown> {
  const n: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(from)) if (k !== 'registerAll') n[k] = typeof v === 'function' ? wrap(v as (...a: never[]) => unknown) : v;
  return n;
}

/**
 * The addon's lean part: what it registers at load. Registering all ~30 functions costs ~0.3 ms
 * (10 us each), a tenth of what the lean commands add to Node's start-up.
 */
export function loadLean(): LeanNative {
  lean ??= (full ?? wrapAll(dlopenAddon())) as unknown as LeanNative;
  return lean;
}

/** The whole addon (its other functions registered on first use). */
export function loadNative(): Native {
  if (full) return full;
  const r = dlopenAddon();
  if (typeof r.registerAll === 'function') {
    r.registerAll(r);
    delete r.registerAll;
  }
  full = wrapAll(r) as unknown as Native;
  return full;
}

/** Path of the tsrunc-init executable (copied into a sealed memfd at every create). */
export function initPath(): string {
  const { found, tried } = findBuilt('tsrunc-init');
  if (!found) throw new TsruncError('E_INTERNAL', `find tsrunc-init: not built (tried ${tried.join(', ')})`);
  return found;
}
