// Shared helpers for the integration tests (test/integration/*.test.ts): the tsrunc binary, temp
// dirs, reading logrus error lines, and "nothing left behind" checks (state entries, cgroup
// directories, processes, mounts) with a cleanup that also handles a buggy runtime.
//
// The tests run under build/Release/tsrunc-reaper (npm test), which is a child subreaper: an init
// that a failed `create` leaves alive is re-parented to it, so "processes that appeared under the
// reaper during a case" is exactly what a case leaked.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CallResult, RuntimeCli, sleepMs } from '../../conformance/lib/runtime';
import { repoRoot } from '../../conformance/lib/rootfs';

export const TSRUNC = path.join(repoRoot(), 'bin', 'tsrunc');
export const CGROUP_ROOT = '/sys/fs/cgroup';

/** A fresh private temp dir (removed by the caller's `after`). */
export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

export interface TsruncCall {
  /** Working directory of the runtime process. */
  cwd?: string;
  /** Extra fds for the runtime process: they become its fds 3, 4, ... */
  fds?: number[];
  /** Global flags to put before the command (after --root). */
  globals?: string[];
  /** fd for the runtime's stdin (default: /dev/null). */
  stdin?: number;
}

/**
 * tsrunc with a private --root. Every call's stdout and stderr go to files (read back into the
 * result), never to pipes: a container init inherits the runtime's stdio, and a pipe held by a
 * (leaked or detached) container would keep a synchronous call waiting until its timeout.
 */
export class Tsrunc {
  readonly rt: RuntimeCli;
  private n = 0;

  constructor(readonly root: string, readonly ioDir: string, timeoutMs = 20000) {
    this.rt = new RuntimeCli(TSRUNC, root, { timeoutMs });
  }

  /** `tsrunc --root ROOT [globals] ARGS...` */
  call(args: string[], o: TsruncCall = {}): CallResult {
    const base = path.join(this.ioDir, `io-${process.pid}-${++this.n}`);
    const out = fs.openSync(`${base}.out`, 'w+');
    const err = fs.openSync(`${base}.err`, 'w+');
    let r: CallResult;
    try {
      r = this.rt.call([...(o.globals ?? []), ...args], { stdio: [o.stdin ?? 'ignore', out, err, ...(o.fds ?? [])], cwd: o.cwd });
      r.stdout = fs.readFileSync(`${base}.out`, 'utf8');
      r.stderr = fs.readFileSync(`${base}.err`, 'utf8');
    } finally {
      fs.closeSync(out);
      fs.closeSync(err);
      fs.rmSync(`${base}.out`, { force: true });
      fs.rmSync(`${base}.err`, { force: true });
    }
    return r;
  }

  /** call() without blocking, so that independent calls can run side by side. */
  callAsync(args: string[], o: TsruncCall = {}): Promise<CallResult> {
    const base = path.join(this.ioDir, `io-${process.pid}-${++this.n}`);
    const out = fs.openSync(`${base}.out`, 'w+');
    const err = fs.openSync(`${base}.err`, 'w+');
    const argv = ['--root', this.root, ...(o.globals ?? []), ...args];
    return new Promise<CallResult>((resolve) => {
      let timedOut = false;
      let done = false;
      const finish = (status: number | null, signal: NodeJS.Signals | null, error?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        const r: CallResult = {
          argv: [TSRUNC, ...(o.globals ?? []), ...args],
          status,
          signal,
          stdout: fs.readFileSync(`${base}.out`, 'utf8'),
          stderr: fs.readFileSync(`${base}.err`, 'utf8'),
          timedOut,
          error,
        };
        fs.rmSync(`${base}.out`, { force: true });
        fs.rmSync(`${base}.err`, { force: true });
        resolve(r);
      };
      const child = spawn(TSRUNC, argv, { stdio: [o.stdin ?? 'ignore', out, err, ...(o.fds ?? [])], cwd: o.cwd });
      fs.closeSync(out);
      fs.closeSync(err);
      const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, this.rt.timeoutMs);
      child.on('error', (e) => finish(null, null, e));
      child.on('exit', (code, signal) => finish(code, signal));
    });
  }

  /** Parsed `state` output (throws with the call's description when it fails). */
  state(id: string): Record<string, unknown> {
    const r = this.call(['state', id]);
    if (r.status !== 0) throw new Error(`state ${id} failed: ${show(r)}`);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  /** Status from `state`, or `gone` when the call fails. */
  status(id: string): string {
    const r = this.call(['state', id]);
    if (r.status !== 0) return 'gone';
    return String((JSON.parse(r.stdout) as { status?: unknown }).status);
  }

  /** Poll `state` until the status is `want` (≤ ms); returns the last status seen. */
  waitStatus(id: string, want: string, ms = 2000): string {
    let last = '';
    pollUntil(() => (last = this.status(id)) === want, ms);
    return last;
  }
}

/**
 * The `msg` of the last logrus text line on stderr (`time=... level=error msg="..."`), unquoted;
 * the trimmed stderr when there is no such line.
 */
export function errMsg(r: CallResult): string {
  const lines = r.stderr.split('\n').filter((l) => l.includes('level=error'));
  const last = lines[lines.length - 1];
  if (last === undefined) return r.stderr.trim();
  const m = /\bmsg=("(?:[^"\\]|\\.)*"|\S*)/.exec(last);
  if (!m) return last;
  const v = m[1]!;
  if (!v.startsWith('"')) return v;
  try {
    return JSON.parse(v) as string;
  } catch {
    return v.slice(1, -1);
  }
}

/** One-line description of a call for assertion messages. */
export function show(r: CallResult): string {
  return `\`${r.argv.slice(1).join(' ')}\` → status ${r.status}${r.signal ? ` (${r.signal})` : ''}` +
    `${r.timedOut ? ' TIMED OUT' : ''}\nstdout: ${JSON.stringify(r.stdout.slice(0, 2000))}\nstderr: ${JSON.stringify(r.stderr.slice(0, 2000))}`;
}

/** Poll fn every ~20 ms until it returns a truthy value or `ms` pass; returns the last value. */
export function pollUntil<T>(fn: () => T, ms: number): T {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v || Date.now() > deadline) return v;
    sleepMs(20);
  }
}

export const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;

// ---- cgroups ------------------------------------------------------------------------------------

/** Every directory under /sys/fs/cgroup/<hierarchy>/ (any depth ≤ 8) whose name is `name`. */
export function cgroupDirsNamed(name: string): string[] {
  const out: string[] = [];
  if (name === '' || name.length > 255 || name.includes('/')) return out;
  const walk = (dir: string, depth: number) => {
    let ents: fs.Dirent[];
    try {
      ents = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      if (e.name === name && depth > 0) out.push(p);
      if (depth < 8) walk(p, depth + 1);
    }
  };
  walk(CGROUP_ROOT, 0);
  return out;
}

/** Pids listed in cgroup.procs of `dir` and of every cgroup below it. */
function cgroupPids(dir: string): number[] {
  const pids: number[] = [];
  try {
    for (const l of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (l) pids.push(Number(l));
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) pids.push(...cgroupPids(path.join(dir, e.name)));
  } catch {
    /* gone */
  }
  return pids;
}

/**
 * Remove every (empty) cgroup tree named `name` under the hierarchies, deepest first: the parents
 * a high-level runtime makes for its containers and its own helpers (Docker's cgroup parent,
 * conmon's `libpod_parent/conmon`), which outlive the daemon.
 */
export function removeCgroupTreesNamed(name: string): void {
  for (const d of cgroupDirsNamed(name)) rmCgroupTree(d);
}

/** rmdir a cgroup tree, deepest first (ignores errors). */
function rmCgroupTree(dir: string): void {
  try {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmCgroupTree(path.join(dir, e.name));
    fs.rmdirSync(dir);
  } catch {
    /* busy or gone */
  }
}

// ---- processes ----------------------------------------------------------------------------------

interface ProcInfo { pid: number; ppid: number; comm: string }

function readProc(pid: number): ProcInfo | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined; // exited, waiting for its reaper
    return { pid, ppid: Number(fields[1]), comm };
  } catch {
    return undefined;
  }
}

function allProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const n of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    const p = readProc(Number(n));
    if (p) out.push(p);
  }
  return out;
}

/** Our ancestors, nearest first. */
function ancestors(): number[] {
  const out: number[] = [];
  let pid = process.ppid;
  while (pid > 1) {
    out.push(pid);
    const p = readProc(pid);
    if (!p) break;
    pid = p.ppid;
  }
  return out;
}

/** The pid of the tsrunc-reaper we run under (the subreaper that adopts leaked inits), or 1. */
export function reaperPid(): number {
  for (const pid of ancestors()) if (readProc(pid)?.comm === 'tsrunc-reaper') return pid;
  return 1;
}

/**
 * Live processes that a container runtime started from this test could have left: descendants of
 * the reaper (or, without one, children of PID 1) other than our own ancestors and ourselves.
 */
export function strayProcesses(): Set<number> {
  const reaper = reaperPid();
  const procs = allProcs();
  const mine = new Set([process.pid, ...ancestors()]);
  const children = new Map<number, number[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const out = new Set<number>();
  if (reaper === 1) {
    for (const pid of children.get(1) ?? []) if (!mine.has(pid)) out.add(pid);
    return out;
  }
  const stack = [...(children.get(reaper) ?? [])];
  while (stack.length) {
    const pid = stack.pop()!;
    if (!mine.has(pid)) out.add(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Processes whose cgroup (in any hierarchy) is named `id`. */
export function processesInCgroupNamed(id: string): number[] {
  const out: number[] = [];
  if (id === '' || id.includes('\n')) return out;
  for (const n of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const cg = fs.readFileSync(`/proc/${n}/cgroup`, 'utf8');
      if (cg.split('\n').some((l) => l.endsWith(`/${id}`))) out.push(Number(n));
    } catch {
      /* gone */
    }
  }
  return out;
}

// ---- mounts -------------------------------------------------------------------------------------

/**
 * mountinfo lines (by mount id) whose mount point or root mentions `needle`; with `sources`, also
 * those whose source or super options do (an overlay's lowerdir/upperdir/workdir, a bind's source).
 */
export function mountsMentioning(needles: string[], o: { sources?: boolean } = {}): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (!l) continue;
    const f = l.split(' ');
    let text = `${f[3]} ${f[4]}`;
    if (o.sources) {
      // After the optional fields: "- fstype source super-options".
      const dash = f.indexOf('-', 6);
      if (dash > 0) text += ` ${f.slice(dash + 2).join(' ')}`;
    }
    text = text.replace(/\\040/g, ' ');
    if (needles.some((n) => n !== '' && text.includes(n))) out.set(f[0]!, l);
  }
  return out;
}

/** The mount point of a mountinfo line (octal escapes decoded). */
export function mountPoint(line: string): string {
  return line.split(' ')[4]!.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

// ---- nothing left behind ------------------------------------------------------------------------

export interface World {
  rootEntries: Set<string>;
  strays: Set<number>;
  mounts: Map<string, string>;
}

function rootEntries(root: string): Set<string> {
  try {
    return new Set(fs.readdirSync(root));
  } catch {
    return new Set();
  }
}

/** What exists now (take it before a case; compare with leftovers() after). */
export function snapshot(root: string, needles: string[]): World {
  return { rootEntries: rootEntries(root), strays: strayProcesses(), mounts: mountsMentioning(needles) };
}

/**
 * Everything a case left behind compared with `before`: new entries under the root, cgroup
 * directories named after `ids`, processes in such cgroups, new stray processes (leaked inits) and
 * new mounts mentioning `needles`. Leaked processes are killed (they are ours: they appeared under
 * our subreaper, or sit in a cgroup named after our unique ids) and leaked cgroups removed, so a
 * failing case does not also leave the machine dirty; the returned list says what was found.
 */
export function leftovers(root: string, before: World, ids: string[], needles: string[]): string[] {
  const found: string[] = [];
  // A killed init may take a moment to be reaped.
  pollUntil(() => [...strayProcesses()].every((p) => before.strays.has(p)), 300);
  for (const e of rootEntries(root)) if (!before.rootEntries.has(e)) found.push(`state entry ${path.join(root, e)}`);
  const kill: number[] = [];
  for (const pid of strayProcesses()) {
    if (before.strays.has(pid)) continue;
    let cmd = '';
    try { cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim(); } catch { /* gone */ }
    let cg = '';
    try {
      const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
      const id = ids.find((x) => x !== '' && lines.some((l) => l.endsWith(`/${x}`)));
      if (id !== undefined) cg = ` in cgroup \`${id}\``;
    } catch { /* gone */ }
    found.push(`process ${pid} (${cmd})${cg}`);
    kill.push(pid);
  }
  for (const id of ids) {
    for (const pid of processesInCgroupNamed(id)) {
      if (!kill.includes(pid)) { found.push(`process ${pid} in cgroup \`${id}\``); kill.push(pid); }
    }
  }
  for (const pid of kill) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  if (kill.length) pollUntil(() => kill.every((p) => readProc(p) === undefined), 2000);
  for (const id of ids) {
    for (const d of cgroupDirsNamed(id)) {
      found.push(`cgroup ${d}`);
      rmCgroupTree(d);
    }
  }
  for (const [mid, line] of mountsMentioning(needles)) if (!before.mounts.has(mid)) found.push(`mount ${line}`);
  return found;
}

/**
 * Cleanup for `after` hooks: kill whatever is in cgroups named after the ids, `delete --force`
 * the ids that still have state, remove the cgroups left, then remove the temp dirs.
 */
export function cleanup(t: Tsrunc | undefined, ids: Iterable<string>, dirs: string[] = []): void {
  const list = [...new Set(ids)];
  // 1. Kill what is in the ids' cgroups first (ours: the ids are unique), so that a runtime that
  //    cannot delete a container with processes left does not make the cleanup itself slow.
  const pids = list.flatMap((id) => cgroupDirsNamed(id).flatMap(cgroupPids));
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  if (pids.length) pollUntil(() => pids.every((p) => readProc(p) === undefined), 2000);
  // 2. delete --force, only for valid ids that still have a state entry (a bad id must never
  //    reach a delete).
  if (t) {
    for (const id of list) {
      if (/^[A-Za-z0-9_+,.-]+$/.test(id) && id !== '.' && id !== '..' && fs.existsSync(path.join(t.root, id))) {
        t.call(['delete', '--force', id]);
      }
    }
  }
  // 3. Whatever cgroups are left.
  for (const id of list) for (const d of cgroupDirsNamed(id)) rmCgroupTree(d);
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
}

/** Whether `pid` is a live process (not gone, not a zombie). */
export function isAlive(pid: number): boolean {
  return readProc(pid) !== undefined;
}

// ---- what a high-level runtime's suite left (docker, podman, containerd, CRI) --------------------

/** What one ecosystem suite (a daemon driving tsrunc) owns: where to look for its leftovers. */
export interface SuiteScope {
  /** The suite's temp dir: the daemon's dirs, sockets, bundles and images are under it. */
  dir: string;
  /** tsrunc --root dirs private to the suite: any entry left in them is a leftover. */
  roots: string[];
  /** tsrunc --root dirs shared with others (podman's /run/tsrunc): entries whose state.json mentions `dir`. */
  sharedRoots?: string[];
  /** Names of the cgroups the containers are made under (the daemon's cgroup parent). */
  cgroupParents: string[];
  /** Cgroups directly under a parent that are the daemon's own, not a container's (conmon's). */
  daemonCgroups?: string[];
}

/** The container cgroups (any depth) under the scope's parents, the daemon's own excepted. */
function suiteCgroups(s: SuiteScope): string[] {
  const out: string[] = [];
  const walk = (d: string, top: boolean) => {
    let ents: fs.Dirent[];
    try { ents = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of ents) {
      if (!e.isDirectory() || (top && (s.daemonCgroups ?? []).includes(e.name))) continue;
      out.push(path.join(d, e.name));
      walk(path.join(d, e.name), false);
    }
  };
  for (const p of s.cgroupParents) for (const d of cgroupDirsNamed(p)) walk(d, true);
  return out;
}

/** Entries of the scope's tsrunc roots (state dirs) that belong to the suite. */
function suiteStateEntries(s: SuiteScope): string[] {
  const out: string[] = [];
  for (const r of s.roots) for (const e of rootEntries(r)) out.push(path.join(r, e));
  for (const r of s.sharedRoots ?? []) {
    for (const e of rootEntries(r)) {
      let st = '';
      try { st = fs.readFileSync(path.join(r, e, 'state.json'), 'utf8'); } catch { /* no state (yet) */ }
      if (st.includes(s.dir)) out.push(path.join(r, e));
    }
  }
  return out;
}

/**
 * Live processes that belong to the suite: whose command line or cwd is under `dir` (the daemon,
 * its containerd, containerd-shim, conmon: their sockets, bundles and exit dirs are there) or whose
 * cgroup (in any hierarchy) lies under one of the cgroup parents (the containers' processes,
 * tsrunc's init waiting in `created`, conmon). Our own process and ancestors are left out.
 */
export function suiteProcesses(s: SuiteScope): Map<number, string> {
  const mine = new Set([process.pid, ...ancestors()]);
  const out = new Map<number, string>();
  for (const p of allProcs()) {
    if (mine.has(p.pid)) continue;
    let cmd = '';
    let cwd = '';
    let cg = '';
    try { cmd = fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim(); } catch { continue; }
    try { cwd = fs.readlinkSync(`/proc/${p.pid}/cwd`); } catch { /* gone or a kernel thread */ }
    try { cg = fs.readFileSync(`/proc/${p.pid}/cgroup`, 'utf8'); } catch { continue; }
    const inParent = s.cgroupParents.find((n) => cg.split('\n').some((l) => l.split(':').slice(2).join(':').split('/').includes(n)));
    const why = cmd.includes(s.dir) ? 'command line' : cwd === s.dir || cwd.startsWith(`${s.dir}/`) ? `cwd ${cwd}` : inParent ? `in cgroup ${inParent}/…` : '';
    if (why) out.set(p.pid, `process ${p.pid} (${p.comm}: ${cmd.slice(0, 300)}) [${why}]`);
  }
  return out;
}

/**
 * What a suite left once its daemon has stopped and its containers are gone: state entries under
 * tsrunc's roots, container cgroups under the parents, processes (see suiteProcesses) and mounts
 * mentioning `dir` (by mount point, root, source or options: the containers' overlay rootfs, shm,
 * bind mounts). Dockerd, containerd, its shims and podman remove all their host mounts by then,
 * with runc as with tsrunc (checked with both), so no mount is anyone's to keep. Nothing is
 * killed or removed here: cleanupSuite() does that.
 */
export function suiteLeftovers(s: SuiteScope): string[] {
  const found: string[] = [];
  for (const e of suiteStateEntries(s)) found.push(`state entry ${e}`);
  for (const d of suiteCgroups(s)) found.push(`cgroup ${d}`);
  for (const p of suiteProcesses(s).values()) found.push(p);
  for (const line of mountsMentioning([s.dir], { sources: true }).values()) found.push(`mount ${line}`);
  return found;
}

/**
 * Best-effort cleanup of a suite (for `after` hooks, whatever the tests found): kill the suite's
 * processes, unmount its mounts (deepest first), remove the cgroup trees named after the parents
 * (and `extraCgroups`, the daemon's own trees it made, e.g. Docker's `docker`), then the temp dir.
 */
export function cleanupSuite(s: SuiteScope, extraCgroups: string[] = []): void {
  if (!s.dir) return;
  const pids = [...suiteProcesses(s).keys()];
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  if (pids.length) pollUntil(() => pids.every((p) => readProc(p) === undefined), 5000);
  const mps = [...mountsMentioning([s.dir], { sources: true }).values()].map(mountPoint).sort((a, b) => b.length - a.length);
  for (const mp of mps) spawnSync('umount', ['-l', mp]);
  for (const n of [...s.cgroupParents, ...extraCgroups]) removeCgroupTreesNamed(n);
  fs.rmSync(s.dir, { recursive: true, force: true });
}

/**
 * Stop a daemon we spawned by its PID: SIGTERM, then SIGKILL after `ms`; resolves when it has
 * exited (and been reaped), with how it ended.
 */
export async function stopDaemon(child: ChildProcess, ms = 20000): Promise<string> {
  if (child.exitCode !== null || child.signalCode !== null) return `had already exited (${child.exitCode ?? child.signalCode})`;
  const exited = new Promise<string>((resolve) => child.once('exit', (code, sig) => resolve(`exited ${code ?? sig}`)));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => { timer = setTimeout(() => resolve('late'), ms); });
  let how = await Promise.race([exited, late]);
  if (how === 'late') {
    child.kill('SIGKILL');
    how = `did not exit within ${ms} ms of SIGTERM, killed: ${await exited}`;
  }
  clearTimeout(timer);
  return how;
}

// ---- checking failures (shared by bad-input, hardening and fuzz) --------------------------------

export type Want = string | RegExp | ((msg: string) => void);

/** A clean failure: exit `rc`, nothing on stdout, exactly one error line on stderr, whose msg is `want`. */
export function assertFails(r: CallResult, want: Want, rc = 1): void {
  assert.ok(!r.timedOut && r.signal === null, `runtime hung or crashed: ${show(r)}`);
  assert.equal(r.status, rc, show(r));
  assert.equal(r.stdout, '', `stdout: ${show(r)}`);
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `want exactly one error line: ${show(r)}`);
  assert.match(lines[0]!, /level=error/);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, 'no stack trace');
  const msg = errMsg(r);
  if (typeof want === 'string') assert.equal(msg, want);
  else if (want instanceof RegExp) assert.match(msg, want);
  else want(msg);
}

/** Run the jobs with at most `n` at a time (the machines have few CPUs); results in job order. */
export async function pool<T>(n: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, worker));
  return out;
}

