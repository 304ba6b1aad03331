// The benchmark's shared machinery: options, statistics, timed calls, the two runtimes and their
// containers, the load gate, rows, and the Section interface that bench.ts runs. It lives apart
// from bench.ts (which runs main() when loaded) so that a section in another file (e.g.
// bench/ecosystem.ts) can import it; registering such a section is one entry in bench.ts SECTIONS.
// See bench/README.md.
import { spawn, spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

// ---- options -----------------------------------------------------------------------------------

export interface Options {
  runs: number;
  warmup: number;
  json: boolean;
  /** Names of the sections to run. */
  only: Set<string>;
  breakdown: number;
  tsrunc: string;
  runc: string;
  reaper: boolean;
  /** Remove NODE_ENV_VARS from the measured processes' environment (default; --keep-node-env). */
  scrubNodeEnv: boolean;
  /** Give verdicts also for rows measured under load (marked). */
  allowLoad: boolean;
  /** A row's verdict is withheld when the others' 1-min load exceeded this during the row. */
  loadLimit: number;
  /** Containers per `create` series (the `series` section). */
  createSeries: number;
  /** Parent of the --root dirs (default: /dev/shm when it is a tmpfs, else the temp dir). */
  stateDir?: string;
}

/** Environment variables that change what every node process does at start-up. */
export const NODE_ENV_VARS = ['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'NODE_USE_SYSTEM_CA', 'NODE_COMPILE_CACHE', 'NODE_V8_COVERAGE'];

export class UsageError extends Error {}
export class BenchError extends Error {}

// ---- statistics --------------------------------------------------------------------------------

export function median(xs: readonly number[] | undefined): number {
  if (!xs || xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function mean(xs: readonly number[] | undefined): number {
  if (!xs || xs.length === 0) return NaN;
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

export const r2 = (x: number): number => Math.round(x * 100) / 100;

export function pairedMedian(a: number[] | undefined, b: number[] | undefined): number | undefined {
  if (!a || !b || a.length !== b.length || a.length === 0) return undefined;
  return r2(median(a.map((x, i) => x / b[i])));
}

// ---- load gate ---------------------------------------------------------------------------------

/** The load during one row (section): the kernel's 1-min load average and the others' share. */
export interface LoadReport {
  /** /proc/loadavg 1-min average when the row started and ended, and the highest seen in between. */
  before: number;
  after: number;
  max: number;
  /**
   * The others' 1-min load: the same exponential average as the kernel's (60 s time constant), but
   * fed with the runnable tasks that are not the benchmark's, sampled between the measured calls.
   * Highest value during the row. This is what the gate uses; see LoadMonitor.
   */
  othersMax: number;
  samples: number;
}

/**
 * Reads /proc/loadavg between calls. The kernel's 1-min load average counts the benchmark too: it
 * runs one CPU-bound process after another, which alone drives the 1-min average towards ~1 within
 * a minute or two. A gate on that number would withhold nearly every verdict on a quiet machine.
 * So the gate uses an estimate of the *others'* load: at every sample (taken between calls, when
 * none of the benchmark's children is alive and the benchmark itself is the one task of ours that
 * runs), the 4th field's runnable count minus 1 feeds an exponential average with the kernel's
 * 1-min time constant, seeded with the kernel's 1-min average at start-up (before any of our work).
 * Tasks in uninterruptible sleep, which the kernel counts too, are missed; that is the price of
 * leaving our own out. Both numbers are reported.
 */
export class LoadMonitor {
  private others: number;
  private last: number;
  private win: { before: number; max: number; othersMax: number; samples: number } | null = null;

  constructor() {
    const l = readLoad();
    this.others = l.load1;
    this.last = Date.now();
  }

  sample(): { load1: number; others: number } {
    const l = readLoad();
    const now = Date.now();
    const a = Math.exp(-Math.max(0, now - this.last) / 60_000);
    this.others = this.others * a + Math.max(0, l.running - 1) * (1 - a);
    this.last = now;
    if (this.win) {
      this.win.max = Math.max(this.win.max, l.load1);
      this.win.othersMax = Math.max(this.win.othersMax, this.others);
      this.win.samples++;
    }
    return { load1: l.load1, others: this.others };
  }

  begin(): void {
    this.win = null;
    const s = this.sample();
    this.win = { before: s.load1, max: s.load1, othersMax: s.others, samples: 1 };
  }

  end(): LoadReport {
    const s = this.sample();
    const w = this.win ?? { before: s.load1, max: s.load1, othersMax: s.others, samples: 1 };
    this.win = null;
    return { before: w.before, after: s.load1, max: w.max, othersMax: r2(w.othersMax), samples: w.samples };
  }
}

function readLoad(): { load1: number; running: number } {
  // "0.52 0.58 0.59 2/345 12345": 1, 5, 15-min averages; runnable/all tasks; last pid.
  const f = fs.readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/);
  return { load1: Number(f[0]), running: Number(f[3].split('/')[0]) };
}

export const loadMonitor = new LoadMonitor();

// ---- interruption ------------------------------------------------------------------------------

let interrupted: NodeJS.Signals | null = null;
let firstSignalAt = 0;

/** Install SIGINT/SIGTERM/SIGHUP handlers: the first one stops the benchmark at the next tick(). */
export function handleSignals(): void {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      // A Ctrl-C arrives twice at once (from the terminal, and forwarded by tsrunc-reaper): only a
      // signal a second or more after the first gives up on cleanup.
      if (interrupted && Date.now() - firstSignalAt >= 1000) process.exit(130);
      if (!interrupted) firstSignalAt = Date.now();
      interrupted = sig;
    });
  }
}

/** Let signal handlers run between (never during) measured calls; sample the load. */
export async function tick(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  loadMonitor.sample();
  if (interrupted) throw new BenchError(`interrupted by ${interrupted}`);
}

// ---- processes ---------------------------------------------------------------------------------

let clkTck = 100;

export function setClockTicks(n: number): void {
  clkTck = n;
}

/** user+sys CPU ms of this process's waited-for children (clock-tick resolution). */
function childrenCpuMs(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  return ((Number(f[13]) + Number(f[14])) * 1000) / clkTck; // fields 16 cutime, 17 cstime
}

export interface Call {
  argv: string[];
  ms: number;
  /** user+sys of the call and its waited-for children; NaN for concurrent calls (not separable). */
  cpuMs: number;
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

const CALL_TIMEOUT_MS = 60_000;

/**
 * Run argv with stdin /dev/null and stdout/stderr to files (never pipes: a created container
 * inherits them and would keep a pipe open), timing only the spawn-to-exit.
 */
export class Runner {
  private readonly outFd: number;
  private readonly errFd: number;
  private asyncSeq = 0;

  constructor(private readonly dir: string, private readonly env: NodeJS.ProcessEnv) {
    this.outFd = fs.openSync(path.join(dir, 'stdout.log'), 'a+');
    this.errFd = fs.openSync(path.join(dir, 'stderr.log'), 'a+');
  }

  exec(argv: string[], extraEnv?: NodeJS.ProcessEnv): Call {
    fs.ftruncateSync(this.outFd, 0);
    fs.ftruncateSync(this.errFd, 0);
    const env = extraEnv ? { ...this.env, ...extraEnv } : this.env;
    const cpu0 = childrenCpuMs();
    const t0 = process.hrtime.bigint();
    const r: SpawnSyncReturns<Buffer> = spawnSync(argv[0], argv.slice(1), {
      stdio: ['ignore', this.outFd, this.errFd],
      env,
      timeout: CALL_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpuMs = childrenCpuMs() - cpu0;
    return {
      argv, ms, cpuMs, status: r.status, signal: r.signal, error: r.error,
      stdout: readTail(this.outFd), stderr: readTail(this.errFd),
    };
  }

  /** exec, and throw unless it exited 0. */
  ok(argv: string[], extraEnv?: NodeJS.ProcessEnv): Call {
    const c = this.exec(argv, extraEnv);
    if (c.error || c.status !== 0) throw new BenchError(describe(c));
    return c;
  }

  /**
   * Run argv without blocking, for calls that must overlap (child_process.spawn, not spawnSync),
   * each with its own output files; ms is spawn to exit. Never rejects: check the Call.
   */
  async execAsync(argv: string[]): Promise<Call> {
    const n = ++this.asyncSeq;
    const outPath = path.join(this.dir, `async-${n}.out`);
    const errPath = path.join(this.dir, `async-${n}.err`);
    const outFd = fs.openSync(outPath, 'w+');
    const errFd = fs.openSync(errPath, 'w+');
    try {
      const t0 = process.hrtime.bigint();
      const r = await new Promise<{ status: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
        const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', outFd, errFd], env: this.env });
        const timer = setTimeout(() => child.kill('SIGKILL'), CALL_TIMEOUT_MS);
        child.on('error', (error) => { clearTimeout(timer); resolve({ status: null, signal: null, error }); });
        child.on('exit', (status, signal) => { clearTimeout(timer); resolve({ status, signal }); });
      });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      return { argv, ms, cpuMs: NaN, ...r, stdout: readTail(outFd), stderr: readTail(errFd) };
    } finally {
      for (const fd of [outFd, errFd]) fs.closeSync(fd);
      for (const p of [outPath, errPath]) fs.rmSync(p, { force: true });
    }
  }

  close(): void {
    for (const fd of [this.outFd, this.errFd]) {
      try { fs.closeSync(fd); } catch { /* ignore */ }
    }
  }
}

function readTail(fd: number): string {
  const size = fs.fstatSync(fd).size;
  if (size === 0) return '';
  const n = Math.min(size, 64 * 1024);
  const b = Buffer.alloc(n);
  fs.readSync(fd, b, 0, n, size - n);
  return b.toString('utf8');
}

export function describe(c: Call): string {
  const how = c.error ? `could not run: ${c.error.message}` : c.signal ? `killed by ${c.signal}` : `exit ${c.status}`;
  const err = c.stderr.trim().split('\n').slice(-3).join(' | ');
  return `\`${c.argv.join(' ')}\`: ${how}${err ? `: ${err}` : ''}`;
}

// ---- runtimes and containers -------------------------------------------------------------------

export type Side = 'tsrunc' | 'runc';

export class Runtime {
  /** Ids that may exist under this runtime's root: force-deleted by cleanup(). */
  readonly live = new Set<string>();

  constructor(readonly side: Side, readonly bin: string, readonly root: string) {}

  argv(...args: string[]): string[] {
    return [this.bin, '--root', this.root, ...args];
  }

  /** Untimed `delete --force` of each id; forgets the ones that are gone. Returns failures. */
  forceDelete(x: Runner, ids: Iterable<string>): string[] {
    const failures: string[] = [];
    for (const id of [...ids]) {
      const c = x.exec(this.argv('delete', '--force', id));
      // Already gone is fine; anything else is reported (and the id stays registered).
      if (!c.error && (c.status === 0 || /does not exist/.test(c.stderr))) this.live.delete(id);
      else failures.push(describe(c));
    }
    return failures;
  }

  /** Best effort: force-delete every container this runtime may still have. Returns failures. */
  cleanup(x: Runner): string[] {
    const ids = new Set(this.live);
    const l = x.exec(this.argv('list', '-q'));
    if (!l.error && l.status === 0) for (const id of l.stdout.split('\n').map((s) => s.trim()).filter(Boolean)) ids.add(id);
    return this.forceDelete(x, ids);
  }
}

let idSeq = 0;
const ID_PREFIX = `tsb${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;

/** A unique container id, registered for cleanup before anything creates it. */
export function newId(rt: Runtime, what: string): string {
  const id = `${ID_PREFIX}-${rt.side === 'tsrunc' ? 't' : 'r'}-${what}-${++idSeq}`;
  rt.live.add(id);
  return id;
}

export function readPid(file: string): number {
  const pid = Number(fs.readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new BenchError(`bad pid file ${file}`);
  return pid;
}

export interface ProcMem { comm: string; vmRssKiB: number; rssAnonKiB: number; rssFileKiB: number; rssShmemKiB: number }

export function procMem(pid: number): ProcMem {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string): number => {
    const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) : NaN;
  };
  const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  return { comm, vmRssKiB: kib('VmRSS'), rssAnonKiB: kib('RssAnon'), rssFileKiB: kib('RssFile'), rssShmemKiB: kib('RssShmem') };
}

/** Poll every 0.2 ms until pid has exited (gone, or a zombie: both runtimes call that `stopped`). */
export function waitStopped(pid: number, timeoutMs = 10_000): void {
  const deadline = Date.now() + timeoutMs;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return;
    }
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return;
    if (Date.now() > deadline) throw new BenchError(`container process ${pid} still running after ${timeoutMs} ms`);
    Atomics.wait(sleeper, 0, 0, 0.2);
  }
}

// ---- sections ----------------------------------------------------------------------------------

export interface Ctx {
  o: Options;
  x: Runner;
  ts: Runtime;
  rc: Runtime;
  /** runc spec's config running /bin/true. */
  bundle: string;
  /** The same running `sleep` for a long time (made on first use): a container to exec into. */
  sleepBundle: () => string;
  nodeEmpty: string[];
  tmp: string;
  /** The measured processes' environment (scrubbed of NODE_EXTRA_CA_CERTS etc. by default). */
  env: NodeJS.ProcessEnv;
}

export type Samples = Record<string, number[]>;

export function push(s: Samples, k: string, v: number): void {
  (s[k] ??= []).push(v);
}

/** Interleave: for each of warmup+runs iterations, run every step in order; keep measured ones. */
export async function interleave(o: { warmup: number; runs: number }, steps: Array<(measured: boolean) => void>): Promise<void> {
  for (let i = 0; i < o.warmup + o.runs; i++) {
    for (const step of steps) {
      await tick();
      step(i >= o.warmup);
    }
  }
}

/** A step that runs `node empty.js` and records it under `node`. */
export function nodeStep(c: Ctx, ms: Samples, cpu?: Samples): (measured: boolean) => void {
  return (measured) => {
    const r = c.x.ok(c.nodeEmpty);
    if (measured) { push(ms, 'node', r.ms); if (cpu) push(cpu, 'node', r.cpuMs); }
  };
}

export interface Row {
  operation: string;
  unit: 'ms' | 'MiB';
  tsrunc: number;
  runc: number;
  node: number | null;
  /** The node column is `nodeCalls` × `node empty.js` (three-call cycle) */
  nodeCalls?: number;
  ratioRunc: number;
  ratioNode: number | null;
  /** Median of the per-iteration ratios (pairs measured next to each other). */
  pairedRatioRunc?: number;
  pairedRatioNode?: number;
  /** met: the ratio or value is within the target; verdict: what is printed (set by the load gate). */
  target?: { text: string; met: boolean; verdict?: string };
  indent?: boolean;
  cpuMs?: { tsrunc: number; runc: number; node: number | null };
  /** Set by main: the section that measured the row, and the load meanwhile. */
  section?: string;
  load?: LoadReport;
}

export function timeRow(operation: string, ms: Samples, cpu: Samples | null, tsKey: string, rcKey: string, nodeKey: string | null): Row {
  const t = median(ms[tsKey]);
  const r = median(ms[rcKey]);
  const n = nodeKey ? median(ms[nodeKey]) : null;
  return {
    operation,
    unit: 'ms',
    tsrunc: r2(t),
    runc: r2(r),
    node: n === null ? null : r2(n),
    ratioRunc: r2(t / r),
    ratioNode: n === null ? null : r2(t / n),
    pairedRatioRunc: pairedMedian(ms[tsKey], ms[rcKey]),
    pairedRatioNode: nodeKey ? pairedMedian(ms[tsKey], ms[nodeKey]) : undefined,
    cpuMs: cpu ? { tsrunc: r2(mean(cpu[tsKey])), runc: r2(mean(cpu[rcKey])), node: nodeKey ? r2(mean(cpu[nodeKey])) : null } : undefined,
  };
}

/** Target "≤ k × runc" on a row. */
export function vsRunc(row: Row, k: number): Row {
  row.target = { text: `<= ${k}x runc`, met: row.ratioRunc <= k };
  return row;
}

/** Target "≤ k × node empty.js" on a row. */
export function vsNode(row: Row, k: number): Row {
  row.target = { text: `<= ${k.toFixed(2)}x node empty.js`, met: row.ratioNode !== null && row.ratioNode <= k };
  return row;
}

/** What a section hands back: its rows (in order), raw samples for --json, notes for the table. */
export interface SectionOut {
  rows: Row[];
  samples: Record<string, unknown>;
  notes: string[];
}

/**
 * One benchmark section: `--only <name>` selects it. run() must register every container it makes
 * (newId) and should delete them itself (untimed) in a finally; main's cleanup catches the rest.
 * The load gate covers the whole run(): every row it returns gets the same load report.
 */
export interface Section {
  name: string;
  /** One line for --help. */
  about: string;
  run(c: Ctx, out: SectionOut): Promise<void>;
}
