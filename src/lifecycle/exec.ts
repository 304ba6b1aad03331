// `exec`: run a new process in a created, running (or, with --ignore-paused, paused) container.
//
// The process that joins the container is tsrunc-init from its sealed memfd, never node: the clone
// child execs it in our own namespaces, placed in the container's cgroup (clone3
// CLONE_INTO_CGROUP on cgroup v2; cgroup.procs of each v1 hierarchy before it is released), and
// tsrunc-init joins every namespace of the container at once through a pidfd of its init before it
// looks at any path of the container (plan/exec.ts). A pid namespace applies only to children, so
// it forks; the child is ours (CLONE_PARENT): attached, we wait for its exit status; with -d we
// write its pid and return, and it re-parents to our caller's subreaper.
//
// With a terminal (-t, process.terminal) tsrunc-init makes a pty of the container's devpts once it
// has joined (plan/exec.ts, PTY) and sends the master here: with -d it goes on to --console-socket
// (connected before anything starts, as create does), attached it is proxied to our stdio
// (console.ts, as `run -t`).
import fs = require('fs');
import path = require('path');
import { TsruncError, causeText, isErrnoLike } from '../errors';
import { writePidFile } from '../state/store';
import { pidStartTime } from '../sys/proc';
import { checkTransition } from './status';
import { loadContainer, native } from './container';
import { adoptForked } from './create';
import { ConsoleProxy, checkTerminal, hostTerminalSize, connectConsoleSocket, forwardedSignals, sendConsoleMaster, signalNumber, syncWaitPty } from './console';
import { checkPassedFds, passedFds } from './fds';
import type { GlobalOptions } from './api';
import type { ExecDefaults } from '../plan/exec';
import type { Native } from '../sys/native';
import type { Process, Spec } from '../spec/types';

export interface ExecOptions {
  id: string;
  /** -p/--process: an OCI process JSON file (the trailing args and the other flags are ignored). */
  processFile?: string;
  /** The command (args after the id). */
  args: string[];
  cwd?: string;
  env: string[];
  tty: boolean;
  /** -u uid[:gid], as given. */
  user?: string;
  additionalGids: number[];
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  processLabel?: string;
  apparmor?: string;
  /** --no-new-privs, when given (true or false). */
  noNewPrivs?: boolean;
  caps: string[];
  preserveFds: number;
  /** --cgroup: `[<controller>[,<controller>]:]<sub-cgroup>`. */
  cgroup: string[];
  ignorePaused: boolean;
}

const NS_FILES: [string, number][] = [
  ['user', 0x10000000], ['mnt', 0x00020000], ['pid', 0x20000000], ['net', 0x40000000],
  ['ipc', 0x08000000], ['uts', 0x04000000], ['cgroup', 0x02000000], ['time', 0x00080],
];
const CLONE_NEWPID = 0x20000000;

function setupTimeoutMs(): number {
  const s = Number(process.env.TSRUNC_SETUP_TIMEOUT ?? '');
  return Number.isFinite(s) && s > 0 ? Math.round(s * 1000) : 120_000;
}

/** `exec`: resolves to the process's exit status (128+signal when killed), or 0 with -d. */
export async function exec(g: GlobalOptions, o: ExecOptions): Promise<number> {
  const c = loadContainer(g, o.id);
  const status = c.status();
  if (!(status === 'paused' && o.ignorePaused)) checkTransition(o.id, status, 'exec');
  if (!o.processFile && o.args.length === 0) throw new TsruncError('E_USAGE', 'process args cannot be empty');
  const proc = o.processFile ? readProcessFile(o.processFile) : processFromFlags(c.rec.bundle, o);
  validateProcess(proc);
  const { CAPABILITIES } = require('../plan/tables') as typeof import('../plan/tables');
  const unknownCaps = [...new Set(Object.values(proc.capabilities ?? {}).flat().filter((x) => !CAPABILITIES.includes(x)))];
  if (unknownCaps.length) g.log('warning', `ignoring unknown or unavailable capabilities: [${unknownCaps.join(' ')}]`);
  const terminal = proc.terminal === true;
  // runc treats an empty --console-socket as none.
  const consoleSocket = o.consoleSocket || undefined;
  checkTerminal(terminal, o.detach, consoleSocket);
  const subPaths = subCgroupPaths(o.cgroup);
  // --preserve-fds only: runc's exec does not take LISTEN_FDS (only create and run do).
  const fds = passedFds(o.preserveFds, {});
  checkPassedFds(fds);
  const defaults = execDefaults(c.rec);

  const n = native();
  if (terminal && !o.detach) {
    // Attached: the pty starts with our terminal's size (the proxy keeps it in step from then
    // on), so a process that asks at once does not see the configured size instead.
    const size = hostTerminalSize(n);
    if (size) proc.consoleSize = { height: size.rows, width: size.cols };
  }
  // A pidfd pins the init: its namespaces can be joined only while it lives, and it cannot be a
  // recycled pid (start time checked after opening it).
  let pidfd: number;
  try {
    pidfd = n.pidfdOpen(c.rec.pid);
  } catch {
    throw new TsruncError('E_STATUS', 'cannot exec in a stopped container');
  }
  let child: { pid: number; pidfd: number; sock: number } | undefined;
  let consoleSock = -1;
  let master = -1;
  try {
    // Dialled before anything starts (runc's setupIO): a bad path leaves nothing behind.
    if (consoleSocket !== undefined) consoleSock = connectConsoleSocket(n, consoleSocket);
    if (pidStartTime(c.rec.pid) !== c.rec.pidStartTime) throw new TsruncError('E_STATUS', 'cannot exec in a stopped container');
    const nsFlags = namespaceFlags(c.rec.pid);
    const { compileExec } = require('../plan/exec') as typeof import('../plan/exec');
    const { encodeOps } = require('../plan/encode') as typeof import('../plan/encode');
    const { linkSeccomp } = require('../plan/seccomp') as typeof import('../plan/seccomp');
    const { setupError } = require('../plan/messages') as typeof import('../plan/messages');
    const { initPath } = require('../sys/native') as typeof import('../sys/native');
    const plan = compileExec(proc, defaults, { id: o.id, pidfd, nsFlags, keepFds: fds.keepFds });
    const planBuf = encodeOps(linkSeccomp(plan.ops, (f) => n.seccompCompile(f), (m) => g.log('debug', m)));

    const dirs = cgroupDirs(c.rec.cgroup, subPaths);
    const spawn = { initPath: initPath(), plan: planBuf, cloneFlags: 0, keepFds: fds.keepFds, passFds: [pidfd] };
    let inCgroup = false;
    if (dirs.unified !== undefined && dirs.v1.length === 0) {
      const cfd = openCgroupDir(dirs.unified);
      try {
        child = n.spawnInit({ ...spawn, cgroupFd: cfd });
        inCgroup = true;
      } catch (e) {
        if (!(isErrnoLike(e) && ['EINVAL', 'ENOSYS', 'E2BIG', 'EOPNOTSUPP', 'EBUSY'].includes(e.code))) throw e;
      } finally {
        fs.closeSync(cfd);
      }
    }
    child ??= n.spawnInit(spawn);
    fs.closeSync(pidfd);
    pidfd = -1;
    if (!inCgroup) {
      for (const d of [...dirs.v1, ...(dirs.unified !== undefined ? [dirs.unified] : [])]) {
        try {
          fs.writeFileSync(path.join(d, 'cgroup.procs'), String(child.pid));
        } catch (e) {
          throw new TsruncError('E_CGROUP', `error adding pid ${child.pid} to cgroups: write \`${path.join(d, 'cgroup.procs')}\`: ${causeText(e)}`);
        }
      }
    }
    n.syncGo(child.sock);
    const timeout = setupTimeoutMs();
    const onPty = (fd: number) => {
      // The PTY op's master: on to the console socket at once (-d), or kept to proxy it.
      if (consoleSock >= 0) {
        const sock = consoleSock;
        consoleSock = -1;
        sendConsoleMaster(n, sock, fd, consoleSocket!);
      } else if (master < 0 && terminal && !o.detach) {
        master = fd;
      } else {
        fs.closeSync(fd);
        throw new TsruncError('E_INTERNAL', 'tsrunc-init sent a terminal that nothing asked for');
      }
    };
    for (;;) {
      const r = syncWaitPty(n, child.sock, timeout, onPty);
      if (r.type === 'pid') {
        const next = adoptForked(n, child.pidfd, r.pid);
        child.pid = next.pid;
        child.pidfd = next.pidfd;
        continue;
      }
      if (r.type === 'eof') break; // its own program runs (or it died: its status tells)
      if (r.type === 'error') throw setupError(plan, r.step, r.errno, r.detail);
      if (r.type === 'timeout') throw new TsruncError('E_SETUP', `exec setup did not finish within ${timeout / 1000} s (TSRUNC_SETUP_TIMEOUT)`);
      throw new TsruncError('E_INTERNAL', `exec: unexpected message ${r.type} from tsrunc-init`);
    }
    fs.closeSync(child.sock);
    child.sock = -1;
    if (terminal && consoleSock >= 0) throw new TsruncError('E_INTERNAL', 'tsrunc-init did not send the terminal');
    if (terminal && !o.detach && master < 0) throw new TsruncError('E_INTERNAL', 'tsrunc-init did not send the terminal');
    if (o.pidFile) writePidFile(o.pidFile, child.pid);
  } catch (e) {
    if (pidfd >= 0) fs.closeSync(pidfd);
    if (consoleSock >= 0) fs.closeSync(consoleSock);
    if (master >= 0) fs.closeSync(master);
    if (child) {
      try { n.pidfdSendSignal(child.pidfd, 9); } catch { /* gone */ }
      try { n.waitPidfdSync(child.pidfd, 5000); } catch { /* reaped */ }
      fs.closeSync(child.pidfd);
      if (child.sock >= 0) fs.closeSync(child.sock);
    }
    throw e;
  }
  if (o.detach) {
    fs.closeSync(child.pidfd);
    return 0;
  }
  return waitForwarding(n, child.pidfd, master >= 0 ? master : undefined);
}

/**
 * Attached: relay signals to the process until it exits (with a terminal, its pty to our stdio as
 * `run -t` does, SIGWINCH resizing it); its code, or 128+signal.
 */
async function waitForwarding(n: Native, pidfd: number, master: number | undefined): Promise<number> {
  const handlers: [string, () => void][] = [];
  let proxy: ConsoleProxy | undefined;
  try {
    if (master !== undefined) proxy = new ConsoleProxy(n, master);
  } catch (e) {
    fs.closeSync(master!);
    try { n.pidfdSendSignal(pidfd, 9); } catch { /* gone */ }
    try { n.waitPidfdSync(pidfd, 5000); } catch { /* reaped */ }
    fs.closeSync(pidfd);
    throw e;
  }
  for (const name of forwardedSignals(proxy !== undefined)) {
    const h = () => { try { n.pidfdSendSignal(pidfd, signalNumber(name)); } catch { /* exited */ } };
    process.on(name, h);
    handlers.push([name, h]);
  }
  try {
    proxy?.start();
    const st = await n.waitPidfd(pidfd);
    await proxy?.finish();
    return st.code !== null ? st.code : 128 + (st.signal ?? 0);
  } finally {
    for (const [name, h] of handlers) process.removeListener(name, h);
    proxy?.restore();
    fs.closeSync(pidfd);
  }
}

/** The namespaces of the init that differ from ours: what tsrunc-init joins. */
function namespaceFlags(pid: number): number {
  let flags = 0;
  for (const [name, flag] of NS_FILES) {
    let theirs: string;
    try {
      theirs = fs.readlinkSync(`/proc/${pid}/ns/${name}`);
    } catch (e) {
      if (isErrnoLike(e) && e.code === 'ENOENT' && (name === 'time' || name === 'cgroup')) continue; // kernel without it
      throw new TsruncError('E_STATUS', 'cannot exec in a stopped container');
    }
    if (theirs !== fs.readlinkSync(`/proc/self/ns/${name}`)) flags |= flag;
  }
  return flags;
}

/** The container's config at create time (state.json), or its bundle's config.json for older records. */
function execDefaults(rec: import('../state/store').StateRecord): ExecDefaults {
  if (rec.execDefaults) return rec.execDefaults as ExecDefaults;
  let spec: Spec;
  try {
    spec = (require('../spec/load') as typeof import('../spec/load')).loadSpec(rec.bundle);
  } catch {
    return {};
  }
  return { capabilities: spec.process?.capabilities, rlimits: spec.process?.rlimits, seccomp: spec.linux?.seccomp };
}

// ---- the process -------------------------------------------------------------------------------

function readProcessFile(file: string): Process {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new TsruncError('E_CONFIG_MISSING', `open ${file}: ${isErrnoLike(e) && e.code === 'ENOENT' ? 'no such file or directory' : causeText(e)}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new TsruncError('E_CONFIG_PARSE', `${file}: invalid JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TsruncError('E_CONFIG_INVALID', `${file}: must be an object (an OCI process)`);
  checkProcessShape(v as Record<string, unknown>, file);
  return v as Process;
}

/** The JSON types of the fields exec uses, each named with its JSON path. */
function checkProcessShape(p: Record<string, unknown>, file: string): void {
  const bad = (field: string, why: string): never => { throw new TsruncError('E_CONFIG_INVALID', `${file}: /${field}: ${why}`); };
  const strings = (field: string, v: unknown) => {
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) bad(field, 'must be an array of strings');
  };
  const uint32 = (field: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) bad(field, 'must be an integer from 0 to 4294967295');
  };
  strings('args', p.args);
  strings('env', p.env);
  if (p.cwd !== undefined && typeof p.cwd !== 'string') bad('cwd', 'must be a string');
  if (p.terminal !== undefined && typeof p.terminal !== 'boolean') bad('terminal', 'must be a boolean');
  if (p.noNewPrivileges !== undefined && typeof p.noNewPrivileges !== 'boolean') bad('noNewPrivileges', 'must be a boolean');
  const u = p.user as Record<string, unknown> | undefined;
  if (u === undefined || u === null) p.user = { uid: 0, gid: 0 }; // Go's zero value, as runc
  else if (typeof u !== 'object' || Array.isArray(u)) bad('user', 'must be an object');
  else {
    uint32('user/uid', u.uid ?? 0);
    uint32('user/gid', u.gid ?? 0);
    u.uid ??= 0;
    u.gid ??= 0;
    if (u.umask !== undefined) uint32('user/umask', u.umask);
    if (u.additionalGids !== undefined) {
      if (!Array.isArray(u.additionalGids)) bad('user/additionalGids', 'must be an array');
      (u.additionalGids as unknown[]).forEach((x, i) => uint32(`user/additionalGids/${i}`, x));
    }
  }
  const caps = p.capabilities as Record<string, unknown> | undefined;
  if (caps !== undefined && caps !== null) {
    if (typeof caps !== 'object' || Array.isArray(caps)) bad('capabilities', 'must be an object');
    for (const k of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient']) strings(`capabilities/${k}`, caps[k]);
  }
  if (p.rlimits !== undefined && p.rlimits !== null) {
    if (!Array.isArray(p.rlimits)) bad('rlimits', 'must be an array');
    (p.rlimits as unknown[]).forEach((r, i) => {
      const x = r as Record<string, unknown>;
      if (typeof x !== 'object' || x === null || typeof x.type !== 'string') bad(`rlimits/${i}/type`, 'must be a string');
      for (const k of ['soft', 'hard']) {
        if (typeof x[k] !== 'number' || !Number.isInteger(x[k]) || (x[k] as number) < 0) bad(`rlimits/${i}/${k}`, 'must be a non-negative integer');
      }
    });
  }
}

/** The container's config.json process with the flags applied (runc's getProcess). */
function processFromFlags(bundle: string, o: ExecOptions): Process {
  const { loadSpec } = require('../spec/load') as typeof import('../spec/load');
  const spec = loadSpec(bundle);
  if (!spec.process) throw new TsruncError('E_CONFIG_INVALID', 'process property must not be empty');
  const p: Process = JSON.parse(JSON.stringify(spec.process)) as Process;
  p.args = [...o.args];
  if (o.cwd) p.cwd = o.cwd;
  if (o.apparmor) p.apparmorProfile = o.apparmor;
  if (o.processLabel) p.selinuxLabel = o.processLabel;
  if (o.caps.length) {
    const c = (p.capabilities ??= {});
    for (const k of ['bounding', 'effective', 'permitted', 'ambient'] as const) c[k] = [...(c[k] ?? []), ...o.caps];
  }
  p.env = [...(p.env ?? []), ...o.env];
  p.terminal = o.tty;
  if (o.noNewPrivs !== undefined) p.noNewPrivileges = o.noNewPrivs;
  p.user = { ...(p.user ?? { uid: 0, gid: 0 }) };
  if (o.user) {
    const [uid, gid] = splitN(o.user, ':', 2);
    if (gid !== undefined) p.user.gid = goAtoi(gid, 'gid');
    p.user.uid = goAtoi(uid!, 'uid');
  }
  for (const gid of o.additionalGids) {
    if (gid < 0) throw new TsruncError('E_USAGE', `additional-gids must be a positive number ${gid}`);
    p.user.additionalGids = [...(p.user.additionalGids ?? []), gid];
  }
  return p;
}

function splitN(s: string, sep: string, n: number): string[] {
  const parts = s.split(sep);
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

/** Go strconv.Atoi, then runc's uint32 conversion. */
function goAtoi(s: string, what: string): number {
  if (!/^[+-]?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) {
    throw new TsruncError('E_USAGE', `parsing ${s} as int for ${what} failed: strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  }
  return Number(BigInt.asUintN(32, BigInt(s)));
}

/** runc's validateProcessSpec, then what tsrunc cannot do for an exec'd process. */
function validateProcess(p: Process): void {
  if (!p.cwd) throw new TsruncError('E_CONFIG_INVALID', 'Cwd property must not be empty');
  if (!path.isAbsolute(p.cwd)) throw new TsruncError('E_CONFIG_INVALID', 'Cwd must be an absolute path');
  if (!p.args?.length) throw new TsruncError('E_CONFIG_INVALID', 'args must not be empty');
  if (p.selinuxLabel) throw new TsruncError('E_UNSUPPORTED', 'selinux label is specified in config, but selinux is disabled or not supported');
  const later = (field: string) => { throw new TsruncError('E_UNSUPPORTED', `process: ${field}: not supported by this version of tsrunc`); };
  if (p.apparmorProfile) later('apparmorProfile (--apparmor)');
  if (p.ioPriority) later('ioPriority');
  if (p.scheduler) later('scheduler');
  if (p.execCPUAffinity) later('execCPUAffinity');
}

// ---- cgroups -------------------------------------------------------------------------------------

/** runc's getSubCgroupPaths: `sub` for every hierarchy, or `ctrl[,ctrl]:sub` per controller. */
function subCgroupPaths(args: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const a of args) {
    const cs = splitN(a, ':', 3);
    if (cs.length > 2) throw new TsruncError('E_USAGE', `invalid --cgroup argument: ${a}`);
    if (cs.length === 1) {
      if (args.length !== 1) throw new TsruncError('E_USAGE', `invalid --cgroup argument: ${a} (missing <controller>: prefix)`);
      m.set('', a);
    } else {
      for (const ctrl of cs[0]!.split(',')) m.set(ctrl, cs[1]!);
    }
  }
  return m;
}

/** The directories the process joins: the container's cgroup, or the --cgroup sub-cgroups of it. */
function cgroupDirs(record: unknown, sub: Map<string, string>): { unified?: string; v1: string[] } {
  const { checkRecord } = require('../cgroup/manager') as typeof import('../cgroup/manager');
  const paths = { ...checkRecord(record).paths };
  const join = (base: string, add: string) => {
    const p = path.posix.join(base, add);
    if (p !== base && !p.startsWith(`${base}/`)) throw new TsruncError('E_USAGE', `${add} is not a sub cgroup path`);
    return p;
  };
  if (sub.has('')) {
    for (const k of Object.keys(paths)) paths[k] = join(paths[k]!, sub.get('')!);
  } else {
    for (const [ctrl, add] of sub) {
      if (paths[ctrl] === undefined) throw new TsruncError('E_USAGE', `unknown controller ${ctrl} in SubCgroupPaths`);
      paths[ctrl] = join(paths[ctrl]!, add);
    }
  }
  const unified = paths[''];
  const v1 = [...new Set(Object.entries(paths).filter(([k]) => k !== '').map(([, d]) => d))];
  return { unified, v1 };
}

function openCgroupDir(dir: string): number {
  try {
    return fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch (e) {
    throw new TsruncError('E_CGROUP', `error adding process to cgroup \`${dir}\`: ${causeText(e)}`);
  }
}
